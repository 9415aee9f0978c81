#!/bin/sh
# Regenerates test/expr/golden-v1.15.5.json and golden-v1.17.7.json from the real expr library.
# Usage: EXPR_REPO=<git dir of github.com/expr-lang/expr> tools/expr-golden/run.sh
# Offline: the library is unpacked from the git dir, the Go module proxy is not used.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
repo=${EXPR_REPO:?set EXPR_REPO to a git dir (or clone) of github.com/expr-lang/expr holding tags v1.15.5 and v1.17.7}
go=${GO:-$(command -v go || echo /usr/lib/go-1.19/bin/go)}

[ -n "${KEEP_WORK:-}" ] || rm -rf "$here/.work"
for tag in v1.15.5 v1.17.7; do
  mkdir -p "$here/.work/$tag"
  git -C "$repo" archive "$tag" | tar -x -C "$here/.work/$tag"
done
# v1.15.5's go.mod requires testify for the library's own tests only; the generator compiles no test
# of the library, so the requirement is dropped instead of downloaded.
sed -i '/^require/,$d' "$here/.work/v1.15.5/go.mod"

cd "$here"
GOFLAGS=-mod=mod GOPROXY=off GOSUMDB=off GONOSUMDB='*' GOTOOLCHAIN=local \
  "$go" run . \
  -v1.15.5 "$here/.work/v1.15.5" -commit-v1.15.5 "$(git -C "$repo" rev-parse 'v1.15.5^{commit}')" \
  -v1.17.7 "$here/.work/v1.17.7" -commit-v1.17.7 "$(git -C "$repo" rev-parse 'v1.17.7^{commit}')" \
  -out "$root/test/expr"
[ -n "${KEEP_WORK:-}" ] || rm -rf "$here/.work"
