# Kubernetes manifests (deploy/k8s, see deploy/k8s/README.md). Included by the root Makefile.
#   k8s-render-test  render both overlays, decode every object strictly, check the project's
#                    rules and the broken fixtures (seconds; no cluster, no build)
#   k8s-dry-run      build (once, cached) kube-apiserver v1.36.3, etcd and kubectl, start them on
#                    loopback and apply both overlays with --server-side --dry-run=server, plus
#                    fixtures the server must refuse
#   k8s-rollout      the same control plane with kube-controller-manager, kube-scheduler and kwok
#                    (simulated nodes, no container runs): rollouts, HPA minimum, a refused drain
# Binaries live in $(HOME)/.cache/switchyard-tools/, outside the checkout, so a second run on
# the same machine builds nothing. Each tool is pinned by its own Go module (never the app's):
# deploy/k8s/apiserver-tool (k8s.io/kubernetes v1.36.3, etcd v3.6.8) and deploy/k8s/kwok-tool.

K8S_TOOLS_CACHE       := $(HOME)/.cache/switchyard-tools
K8S_VERSION           := v1.36.3
K8S_BIN               := $(K8S_TOOLS_CACHE)/kube-apiserver-$(K8S_VERSION)
K8S_KWOK_DIR          := $(K8S_TOOLS_CACHE)/kwok-v0.8.0
K8S_KUSTOMIZE_VERSION := v5.8.2
K8S_KUSTOMIZE_DIR     := $(K8S_TOOLS_CACHE)/kustomize-$(K8S_KUSTOMIZE_VERSION)
K8S_BUILD_TOOLS       := deploy/k8s/scripts/build-tools.sh
# The manifests are read by kustomize in a subprocess, which Go's test cache cannot see:
# -count=1. The control-plane tests render with the kubectl built beside the API server.
K8S_TEST              := cd deploy && PATH="$(K8S_BIN):$$PATH" SWITCHYARD_K8S_BIN=$(K8S_BIN) \
	SWITCHYARD_KWOK=$(K8S_KWOK_DIR)/kwok $(GO) test -count=1

.PHONY: k8s-render-test k8s-dry-run k8s-rollout k8s-tools k8s-kustomize

## k8s-render-test: render every overlay (kubectl kustomize, or the pinned kustomize when
## kubectl is missing), strict decoding into the Kubernetes API types, the project's rules
k8s-render-test:
	@if command -v kubectl >/dev/null; then kustomize=; else $(MAKE) --no-print-directory k8s-kustomize; kustomize=$(K8S_KUSTOMIZE_DIR)/kustomize; fi; \
	cd deploy && $(GO) vet ./k8s/ && SWITCHYARD_KUSTOMIZE=$$kustomize $(GO) test -count=1 ./k8s/

k8s-kustomize:
	@test -x $(K8S_KUSTOMIZE_DIR)/kustomize || GOBIN=$(K8S_KUSTOMIZE_DIR) $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(K8S_KUSTOMIZE_VERSION)

## k8s-tools: build the control-plane binaries into the cache (several minutes the first time)
k8s-tools:
	$(K8S_BUILD_TOOLS) $(K8S_BIN) kube-apiserver etcd kubectl kube-controller-manager kube-scheduler
	$(K8S_BUILD_TOOLS) $(K8S_KWOK_DIR) kwok

## k8s-dry-run: both overlays applied to a real kube-apiserver with a server-side dry run
k8s-dry-run:
	$(K8S_BUILD_TOOLS) $(K8S_BIN) kube-apiserver etcd kubectl
	$(K8S_TEST) -run '^TestServerDryRun$$' -v ./k8s/ 2>&1 | grep -Ev '^=== (RUN|PAUSE|CONT|NAME)'


## k8s-rollout: the split overlay deployed to a simulated cluster (kwok: no container runs)
k8s-rollout:
	$(K8S_BUILD_TOOLS) $(K8S_BIN) kube-apiserver etcd kubectl kube-controller-manager kube-scheduler
	$(K8S_BUILD_TOOLS) $(K8S_KWOK_DIR) kwok
	$(K8S_TEST) -run '^TestSimulatedRollout$$' -v ./k8s/ 2>&1 | grep -Ev '^=== (RUN|PAUSE|CONT|NAME)'

