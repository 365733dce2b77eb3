# The fan-in pipeline's make targets (.github/workflows/ci.yaml runs them; deploy/README.md
# explains the order). Each side's job builds, tests and contract-tests what its binary links;
# the contracts gate verifies every pact; images and the two deploys follow.

.PHONY: workflow-lint test-pipeline image-refs release-kustomization deploy-read deploy-command

PIPELINE_TOOLS_CACHE        ?= $(HOME)/.cache/switchyard-tools
PIPELINE_ACTIONLINT_VERSION := v1.7.12
PIPELINE_ACTIONLINT         := $(PIPELINE_TOOLS_CACHE)/actionlint-$(PIPELINE_ACTIONLINT_VERSION)/actionlint

## workflow-lint: actionlint (pinned, cached in ~/.cache/switchyard-tools) with shellcheck on every workflow
workflow-lint: $(PIPELINE_ACTIONLINT)
	@command -v shellcheck >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get install -y -q shellcheck >/dev/null || { apt-get update -q && apt-get install -y -q shellcheck; }; \
	  else echo "shellcheck is required (actionlint checks every run: script with it): install it"; exit 1; fi; }
	$(PIPELINE_ACTIONLINT) -no-color .github/workflows/*.yaml

$(PIPELINE_ACTIONLINT):
	mkdir -p $(@D)
	GOBIN=$(@D) $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(PIPELINE_ACTIONLINT_VERSION)

## test-pipeline: the workflow's structure (fan-in, deploy order, make targets, pinned actions) and the
## release kustomization, as Go tests in deploy/pipeline
test-pipeline:
	cd deploy && $(GO) test -count=1 ./pipeline/...

## image-refs: the command and read images by digest in IMAGES_REGISTRY, as lines for $GITHUB_OUTPUT
## (command-image=<registry>/switchyard-command@sha256:...), read from the OCI layouts that
## `make images` wrote and `make images-push` uploaded (a push keeps the manifest, so its digest)
image-refs:
	@test -n "$${IMAGES_REGISTRY:-}" || { echo "set IMAGES_REGISTRY, e.g. ghcr.io/switchyardhq" >&2; exit 1; }
	@for side in command read; do \
	  index="$(IMAGES_DIR)/switchyard-$$side/index.json"; \
	  digests="$$(grep -o 'sha256:[0-9a-f]\{64\}' "$$index")" || { echo "$$index: no image (run make images)" >&2; exit 1; }; \
	  if [ "$$(echo "$$digests" | wc -l)" != 1 ]; then echo "$$index: want one manifest, found: $$digests" >&2; exit 1; fi; \
	  echo "$$side-image=$${IMAGES_REGISTRY}/switchyard-$$side@$$digests"; \
	done

## deploy-read / deploy-command: roll one side of deploy/k8s/overlays/split out to the cluster in
## $KUBECONFIG, with the images of this run (COMMAND_IMAGE, READ_IMAGE: repository@sha256:digest).
## Read first (deploy/README.md): deploy-read applies every object but the command side's and waits
## for the read rollout; deploy-command then applies the whole overlay (read objects unchanged).
PIPELINE_RELEASE_DIR    ?= bin/release
PIPELINE_NAMESPACE      := switchyard
PIPELINE_READ_SELECTOR  := app.kubernetes.io/component!=command
PIPELINE_ROLLOUT_TIMEOUT ?= 10m
PIPELINE_KUBECTL        ?= kubectl

release-kustomization:
	@test -n "$(COMMAND_IMAGE)" && test -n "$(READ_IMAGE)" || { echo "set COMMAND_IMAGE and READ_IMAGE (repository@sha256:digest)"; exit 1; }
	deploy/pipeline/release-kustomization.sh $(PIPELINE_RELEASE_DIR) $(COMMAND_IMAGE) $(READ_IMAGE)

deploy-read: release-kustomization
	$(PIPELINE_KUBECTL) apply --server-side --field-manager=switchyard-pipeline -k $(PIPELINE_RELEASE_DIR) -l '$(PIPELINE_READ_SELECTOR)'
	$(PIPELINE_KUBECTL) -n $(PIPELINE_NAMESPACE) rollout status deployment/switchyard-read --timeout=$(PIPELINE_ROLLOUT_TIMEOUT)

deploy-command: release-kustomization
	$(PIPELINE_KUBECTL) apply --server-side --field-manager=switchyard-pipeline -k $(PIPELINE_RELEASE_DIR)
	$(PIPELINE_KUBECTL) -n $(PIPELINE_NAMESPACE) rollout status deployment/switchyard-command --timeout=$(PIPELINE_ROLLOUT_TIMEOUT)
