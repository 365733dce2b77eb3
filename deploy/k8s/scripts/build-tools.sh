#!/usr/bin/env bash
# build-tools.sh DIR COMPONENT...: builds pinned Kubernetes tools into DIR, a cache that
# outlives the checkout (under $HOME/.cache/switchyard-tools/), so that a second CI run on
# the same machine builds nothing.
#
#   kube-apiserver kube-controller-manager kube-scheduler kubectl etcd
#       from deploy/k8s/apiserver-tool (k8s.io/kubernetes v1.36.3; etcd at the version
#       Kubernetes pins, v3.6.8)
#   kwok
#       from deploy/k8s/kwok-tool (sigs.k8s.io/kwok v0.8.0)
#
# Each binary is stamped with a hash of its tools module's go.mod and go.sum: when those
# change, the binary is rebuilt. A binary is written under a temporary name and renamed
# when complete, so an interrupted build never leaves one that later runs would trust.
# kube-apiserver from nothing takes several minutes of two CPU cores.
set -euo pipefail

dir=${1:?usage: build-tools.sh DIR COMPONENT...}
shift
[ $# -gt 0 ] || { echo "build-tools.sh: no component given" >&2; exit 2; }
here="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$dir"

for c in "$@"; do
  case "$c" in
    kube-apiserver|kube-controller-manager|kube-scheduler|kubectl)
      module="$here/apiserver-tool"; pkg="k8s.io/kubernetes/cmd/$c" ;;
    etcd) module="$here/apiserver-tool"; pkg=go.etcd.io/etcd/server/v3 ;;
    kwok) module="$here/kwok-tool"; pkg=sigs.k8s.io/kwok/cmd/kwok ;;
    *) echo "build-tools.sh: unknown component $c" >&2; exit 2 ;;
  esac
  stamp=$(cat "$module/go.mod" "$module/go.sum" | sha256sum | cut -d' ' -f1)
  if [ -x "$dir/$c" ] && [ "$(cat "$dir/$c.stamp" 2>/dev/null)" = "$stamp" ]; then
    continue
  fi
  ldflags="-s -w"
  if [[ $pkg == k8s.io/kubernetes/* ]]; then
    # The version stamps of a Kubernetes release build (hack/lib/version.sh), so that
    # /version and kubectl report v1.36.3 rather than v0.0.0-master.
    version=$(cd "$module" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
    minor=${version#v*.}
    minor=${minor%%.*}
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X $p.gitVersion=$version -X $p.gitMajor=1 -X $p.gitMinor=$minor"
      ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
    done
  fi
  echo "building $c ($pkg) into $dir"
  start=$(date +%s)
  (cd "$module" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$dir/$c.partial" "$pkg")
  mv "$dir/$c.partial" "$dir/$c"
  echo "$stamp" > "$dir/$c.stamp"
  echo "built $c in $(( $(date +%s) - start ))s"
done
