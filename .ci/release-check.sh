#!/usr/bin/env bash
# release-check simulates a release of this tree and proves that each public
# module can be fetched on its own by a consumer, as a user would after the
# tags are pushed: no replace directive of ours applies there.
#
# It exports the committed tree (HEAD, as a tag would), serves the root
# module (github.com/occ-go/occ) and the otel module at the version that
# otel/go.mod requires of the root (the next release, vX.Y.Z: the tags to
# push are vX.Y.Z and otel/vX.Y.Z) from a file GOPROXY built with
# golang.org/x/mod/zip (.ci/modproxy), then, in an empty module, with a fresh
# module cache and no network (the other dependencies come from the local
# module cache, read as a second file proxy), runs `go get` of each module
# at that version and builds a program that imports both.
#
# Usage: .ci/release-check.sh   (called by .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(awk '$1 == "github.com/occ-go/occ" { print $2 }' otel/go.mod)
case "$version" in
v[0-9]*.[0-9]*.[0-9]*) ;;
*) echo "otel/go.mod must require a released version of github.com/occ-go/occ, not '$version'"; exit 1 ;;
esac
for m in benchmarks; do
  got=$(awk '$1 == "github.com/occ-go/occ" { print $2 }' "$m/go.mod")
  if [ "$got" != "$version" ]; then echo "$m/go.mod requires occ $got, otel/go.mod $version"; exit 1; fi
done

for m in otel benchmarks .ci/modproxy; do (cd "$m" && go mod tidy -diff); done

cache=$(go env GOMODCACHE)
work=$(mktemp -d)
cleanup() { chmod -R u+w "$work" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

mkdir "$work/src"
git archive HEAD | tar -x -C "$work/src"
when=$(git log -1 --format=%cI HEAD)
(cd .ci/modproxy && go run . -out "$work/proxy" -version "$version" -time "$when" \
  github.com/occ-go/occ="$work/src" github.com/occ-go/occ/otel="$work/src/otel")

mkdir "$work/consumer"
cd "$work/consumer"
export GOMODCACHE="$work/modcache" GOFLAGS="-mod=mod -modcacherw" GOWORK=off GOTOOLCHAIN=local
export GOPROXY="file://$work/proxy,file://$cache/cache/download" GOSUMDB=off GONOSUMDB= GOPRIVATE=
go mod init example.com/consumer >/dev/null 2>&1
cat >main.go <<'GO'
package main

import (
	"fmt"

	"github.com/occ-go/occ"
	occotel "github.com/occ-go/occ/otel"
)

func main() {
	c, err := occ.New(occotel.WithTelemetry(nil, nil))
	fmt.Println(c != nil, err)
}
GO
go get "github.com/occ-go/occ/otel@$version"
go get "github.com/occ-go/occ@$version"
go build -o /dev/null .
for m in github.com/occ-go/occ github.com/occ-go/occ/otel; do
  got=$(go list -m -f '{{.Version}}' "$m")
  if [ "$got" != "$version" ]; then echo "$m resolved to $got, want $version"; exit 1; fi
done
echo "release $version: go get of github.com/occ-go/occ and github.com/occ-go/occ/otel work from a proxy"
