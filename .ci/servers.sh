#!/usr/bin/env bash
# servers.sh installs the real servers that realservers/ tests occ against:
# apt packages (lighttpd + mod_webdav, etcd-server, radicale), npm packages
# (PouchDB in memory, Azurite) and Go binaries (MinIO, fake-gcs-server) into
# $OCC_SERVERS_DIR (default realservers/.servers, ignored by git and by go
# ./...). The slow parts run in parallel; a part already installed at the
# pinned version is skipped, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${OCC_SERVERS_DIR:-$PWD/realservers/.servers}"
mkdir -p "$dir/bin" "$dir/log"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

MINIO=github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c
FAKEGCS=github.com/fsouza/fake-gcs-server@v1.56.1
POUCH="express-pouchdb@4.2.0 pouchdb-core@9.0.0 pouchdb-adapter-memory@9.0.0 pouchdb-adapter-http@9.0.0 pouchdb-mapreduce@9.0.0 pouchdb-replication@9.0.0"
AZURITE="azurite@3.37.0"

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_part() {
  local want=(lighttpd lighttpd-mod-webdav etcd-server radicale) missing=()
  for p in "${want[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# go_part installs one Go binary under $dir/bin, with a stamp of the pinned
# version so that a changed pin rebuilds; Go's build cache makes a rebuild
# of unchanged packages cheap.
go_part() {
  local name=$1 pkg=$2 stamp="$dir/bin/.$1.version"
  if [ -x "$dir/bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$pkg" ]; then return 0; fi
  # No symbol table or DWARF: a smaller binary and a shorter link.
  GOBIN="$dir/bin" go install -trimpath -ldflags='-s -w' "$pkg"
  echo "$pkg" > "$stamp"
}

npm_part() {
  local name=$1; shift
  local stamp="$dir/$name/.version"
  if [ -d "$dir/$name/node_modules" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$*" ]; then return 0; fi
  mkdir -p "$dir/$name"
  (cd "$dir/$name" && { [ -f package.json ] || echo '{"private":true}' > package.json; } &&
    npm install --no-audit --no-fund --loglevel=error "$@")
  echo "$*" > "$stamp"
}

timed() {
  local name=$1; shift
  local t0=$SECONDS
  if "$@" >"$dir/log/$name.log" 2>&1; then
    echo "servers.sh: $name ok in $((SECONDS - t0)) s"
  else
    echo "servers.sh: $name FAILED after $((SECONDS - t0)) s:"; tail -30 "$dir/log/$name.log"; return 1
  fi
}

pids=()
timed minio go_part minio "$MINIO" & pids+=($!)
timed fake-gcs-server go_part fake-gcs-server "$FAKEGCS" & pids+=($!)
timed apt apt_part & pids+=($!)
# shellcheck disable=SC2086
timed pouchdb npm_part pouchdb $POUCH & pids+=($!)
timed azurite npm_part azurite $AZURITE & pids+=($!)
fail=0
for p in "${pids[@]}"; do wait "$p" || fail=1; done
exit $fail
