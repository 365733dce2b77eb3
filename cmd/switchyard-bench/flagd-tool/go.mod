// Module flagd-tool builds flagd (github.com/open-feature/flagd/flagd), the server that
// `make bench` compares Switchyard's read path with (cmd/switchyard-bench, -flagd). It is
// a module of its own so that flagd's dependencies never enter the service's go.mod.
// build.sh beside it builds the release pinned here into
// $HOME/.cache/switchyard-tools/flagd-<version>/flagd.
//
// go.sum is missing: the Go module proxy this project reaches answers 403 for
// github.com/open-feature/flagd/flagd (every version asked) and for some of its
// dependencies, so the module graph cannot be resolved yet. build.sh resolves it
// (go mod tidy) on the first build the proxy allows; commit the go.mod and go.sum it
// writes then.
module github.com/switchyardhq/switchyard/cmd/switchyard-bench/flagd-tool

go 1.26.0

tool github.com/open-feature/flagd/flagd

require github.com/open-feature/flagd/flagd v0.16.1
