#!/usr/bin/env bash
# build.sh DIR: builds flagd, at the release this folder's go.mod pins, into DIR/flagd.
# DIR is $HOME/.cache/switchyard-tools/flagd-<version> (make flagd-tool, make bench): a
# cache that outlives the checkout, so that a second run on the same machine builds
# nothing. The pattern is deploy/k8s/scripts/build-tools.sh's.
#
# The binary is stamped with a hash of go.mod and go.sum: when they change, it is
# rebuilt. It is written under a temporary name and renamed when complete, so an
# interrupted build never leaves one that later runs would trust.
#
# When the build fails, DIR/flagd.build-error says why in one line (switchyard-bench
# quotes it in its report), DIR/flagd.build-log has the whole output, and the script
# exits 1: `make bench` then measures without flagd.
#
# While go.sum is missing (see go.mod), the module graph is resolved first with
# `go mod tidy`, which writes go.mod's indirect requirements and go.sum into this folder:
# commit both, so that later builds are pinned to the same graph.
set -euo pipefail

dir=${1:?usage: build.sh DIR (e.g. \$HOME/.cache/switchyard-tools/flagd-v0.16.1)}
here="$(cd "$(dirname "$0")" && pwd)"
module=github.com/open-feature/flagd/flagd
version=$(awk -v m="$module" '$1 == "require" && $2 == m { print $3 } $1 == m { print $2 }' "$here/go.mod")
[ -n "$version" ] || { echo "build.sh: $here/go.mod does not require $module" >&2; exit 2; }
if [ "$(basename "$dir")" != "flagd-$version" ]; then
  echo "build.sh: $dir should end in flagd-$version, the version $here/go.mod pins" >&2
  exit 2
fi
mkdir -p "$dir"

stamp() { cat "$here/go.mod" "$here/go.sum" 2>/dev/null | sha256sum | cut -d' ' -f1; }
if [ -x "$dir/flagd" ] && [ "$(cat "$dir/flagd.stamp" 2>/dev/null)" = "$(stamp)" ]; then
  exit 0
fi

log="$dir/flagd.build-log"
fail() { # fail STEP: record why STEP failed, show it, exit 1
  local why
  why=$(grep -v '^go: downloading' "$log" | grep -m1 -E '403|404|Forbidden|not available|missing go.sum|cannot find|no required module|^go: ' ||
    tail -n 1 "$log")
  echo "$module@$version: $1 failed: ${why#"${why%%[![:space:]]*}"}" > "$dir/flagd.build-error"
  rm -f "$dir/flagd.partial"
  {
    echo "flagd $version could not be built ($1 failed); the last lines of $log:"
    tail -n 15 "$log"
    echo "recorded in $dir/flagd.build-error"
  } >&2
  exit 1
}

echo "building flagd $version ($module) into $dir" >&2
start=$(date +%s)
: > "$log"
if [ ! -f "$here/go.sum" ]; then
  (cd "$here" && go mod tidy) >>"$log" 2>&1 || fail "go mod tidy (resolving the module graph)"
  echo "resolved flagd's module graph: commit $here/go.mod and $here/go.sum" >&2
fi
(cd "$here" && CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X main.version=$version -X main.commit=go-module-proxy -X main.date=unknown" \
  -o "$dir/flagd.partial" "$module") >>"$log" 2>&1 || fail "go build"
mv "$dir/flagd.partial" "$dir/flagd"
stamp > "$dir/flagd.stamp"
rm -f "$dir/flagd.build-error"
echo "built flagd $version in $(( $(date +%s) - start ))s: $dir/flagd" >&2
