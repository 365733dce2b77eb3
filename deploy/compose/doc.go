// Package compose checks deploy/compose.yaml without a Docker engine: the file is loaded
// with compose-go (the library docker compose itself uses), which validates it against the
// Compose specification's JSON schema, interpolates ${VAR:-default} values and resolves
// paths; then the project's own rules are applied to the loaded model: each application
// service builds deploy/Dockerfile with the GO_TAGS of its side and carries the environment
// its binary needs (and none meant for modules it does not link), it runs read-only as
// uid 65532 with /tmp and /data writable, it waits for healthy backing services, and no
// image floats on a "latest" tag.
//
// `make compose-check` runs the tests; each rule is shown to fail on a broken variant of the
// file (compose_test.go) and on the fixtures in testdata/.
package compose
