# Container images without a Docker engine (deploy/images, deploy/Dockerfile).
.PHONY: images test-images images-push

IMAGES_DIR      ?= $(CURDIR)/bin/images
IMAGES_VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGES_REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
IMAGES_CREATED  ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
IMAGES_TAG      ?= $(IMAGES_VERSION)
IMAGES_CLI      := cd deploy && $(GO) run ./images/cmd/switchyard-images

## images: the switchyard, switchyard-command and switchyard-read images (linux/amd64) as OCI
## layouts in bin/images/<name>, from deploy/Dockerfile's final stage around the binaries that
## `make build build-command build-read` writes (static, for linux/amd64); no Docker engine needed
images:
	$(MAKE) --no-print-directory build build-command build-read GOOS=linux GOARCH=amd64 CGO_ENABLED=0
	$(IMAGES_CLI) build -root $(CURDIR) -images $(IMAGES_DIR) -tag $(IMAGES_TAG) \
	  -version $(IMAGES_VERSION) -revision $(IMAGES_REVISION) -created $(IMAGES_CREATED)

## test-images: the Dockerfile (lint, pinned bases, the Makefile's go build line), its build
## context (.dockerignore), and each image: config, user, platform, filesystem, the binary's
## tags and linked modules, a push and pull through a loopback registry, and each image run
## as its user on a read-only root filesystem (root needed: chroot and mounts)
test-images: images
	cd deploy && SWITCHYARD_IMAGES_DIR=$(IMAGES_DIR) SWITCHYARD_REPO_ROOT=$(CURDIR) \
	  $(GO) test -count=1 ./images/...

## images-push: push the images to IMAGES_REGISTRY (e.g. ghcr.io/switchyardhq) as IMAGES_TAG,
## with the credentials of `docker login` (or a credential helper)
images-push:
	@test -n "$${IMAGES_REGISTRY:-}" || { echo "set IMAGES_REGISTRY, e.g. ghcr.io/switchyardhq"; exit 1; }
	$(IMAGES_CLI) push -images $(IMAGES_DIR) -registry $(IMAGES_REGISTRY) -tag $(IMAGES_TAG)
