#!/usr/bin/env bash
# servers.sh installs the real servers that realservers/ tests occ against:
# apt packages (lighttpd + mod_webdav, etcd-server, radicale), npm packages
# (PouchDB in memory, Azurite) and Go binaries (MinIO, fake-gcs-server,
# kube-apiserver and the etcd it needs) into
# $OCC_SERVERS_DIR (default realservers/.servers, ignored by git and by go
# ./...). The slow parts run in parallel; a part already installed at the
# pinned version is skipped, so a second run takes seconds. Arguments name
# the parts to run (minio fake-gcs-server kube apt pouchdb azurite); none
# means all.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${OCC_SERVERS_DIR:-$PWD/realservers/.servers}"
mkdir -p "$dir/bin" "$dir/log"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

MINIO=github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c
FAKEGCS=github.com/fsouza/fake-gcs-server@v1.56.1
POUCH="express-pouchdb@4.2.0 pouchdb-core@9.0.0 pouchdb-adapter-memory@9.0.0 pouchdb-adapter-http@9.0.0 pouchdb-mapreduce@9.0.0 pouchdb-replication@9.0.0"
AZURITE="azurite@3.37.0"
KUBE=v1.37.2 KUBE_STAGING=v0.37.2 KUBE_ETCD=v3.7.0

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

# kube_part builds kube-apiserver and etcd (as kube-etcd: Debian's etcd
# 3.4, which the etcd v2 test runs, is too old for it) from the module proxy in a wrapper
# module generated under $dir/kube: k8s.io/kubernetes requires each of its
# staging modules at v0.0.0 and replaces it with a folder of its repository,
# so the wrapper replaces each with the matching tagged release. About 11
# minutes and 2.8 GB of memory on 2 cores the first time.
kube_part() {
  local stamp="$dir/bin/.kube.version" want="kubernetes $KUBE etcd $KUBE_ETCD"
  if [ -x "$dir/bin/kube-apiserver" ] && [ -x "$dir/bin/kube-etcd" ] &&
    [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  local w="$dir/kube" mod
  rm -rf "$w" && mkdir -p "$w"
  mod=$(go mod download -json "k8s.io/kubernetes@$KUBE" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
  {
    echo "module occservers/kube"
    echo "go 1.26"
    echo "require k8s.io/kubernetes $KUBE"
    echo "require go.etcd.io/etcd/server/v3 $KUBE_ETCD"
    sed -n 's/^[[:space:]]*\(k8s\.io\/[^[:space:]]*\) v0\.0\.0$/replace \1 => \1 '"$KUBE_STAGING"'/p' "$mod"
  } > "$w/go.mod"
  printf '//go:build tools\n\npackage kube\n\nimport (\n\t_ "go.etcd.io/etcd/server/v3"\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver"\n)\n' > "$w/tools.go"
  (cd "$w" && go mod tidy &&
    go build -trimpath -ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE" \
      -o "$dir/bin/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver &&
    go build -trimpath -ldflags='-s -w' -o "$dir/bin/kube-etcd" go.etcd.io/etcd/server/v3)
  echo "$want" > "$stamp"
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

want() { [ ${#parts[@]} -eq 0 ] || [[ " ${parts[*]} " == *" $1 "* ]]; }
parts=("$@")
pids=()
if want minio; then timed minio go_part minio "$MINIO" & pids+=($!); fi
if want fake-gcs-server; then timed fake-gcs-server go_part fake-gcs-server "$FAKEGCS" & pids+=($!); fi
if want kube; then timed kube kube_part & pids+=($!); fi
if want apt; then timed apt apt_part & pids+=($!); fi
# shellcheck disable=SC2086
if want pouchdb; then timed pouchdb npm_part pouchdb $POUCH & pids+=($!); fi
if want azurite; then timed azurite npm_part azurite $AZURITE & pids+=($!); fi
fail=0
for p in "${pids[@]}"; do wait "$p" || fail=1; done
exit $fail
