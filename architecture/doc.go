// Package architecture enforces the import rules that keep Switchyard's modules
// extractable (see ARCHITECTURE.md, "Rules that keep modules extractable"). Nothing in
// the binary imports it: it exists for its tests, and Check is exported so that other
// tooling can run the same rules.
//
// Check parses only the import clauses of every Go file (go/parser, ImportsOnly), so it
// works on a tree that does not compile and does not need the go tool. Test files,
// external _test packages and files behind build tags are all checked. Directories named
// testdata or vendor, hidden and _-prefixed directories, and the top-level sdk/ folder are
// skipped: sdk/ is becoming its own Go module with its own go.mod and will get its own
// rules there.
//
// The rules, by stable ID (module path github.com/switchyardhq/switchyard; imports of the
// standard library and of third-party packages are always allowed):
//
//   - module-isolation: a package under modules/<m>/ imports only contracts/...,
//     platform/... and its own subtree modules/<m>/...; never another module, cmd/ or
//     migrations.
//   - platform-isolation: platform/... imports only platform/... and contracts/...;
//     never modules/, cmd/ or migrations.
//   - contracts-isolation: contracts/... imports only contracts/...; contracts are what
//     extracted services and the SDK share, so they stay free of the server.
//   - migrations-isolation: migrations imports nothing from the repository outside
//     migrations/ itself, so that anyone (cmd/, tests) can import it.
//   - module-importers: only the composition root cmd/... (and a module's own subtree)
//     imports packages under modules/.
//   - unknown-layer: Go packages live only in the known top-level folders: cmd, modules,
//     platform, contracts, migrations, architecture, e2e and tools. A Go package anywhere
//     else, including a top-level internal/ or utils/ and the repository root, is
//     reported, so that nobody adds a grab-bag layer silently. Shared technical code
//     belongs in platform/, shared types in contracts/.
//
// An import breaks at most one rule: rules are tried in table order (the layer rules
// first, module-importers last), so a platform package importing a module is reported as
// platform-isolation only.
//
// The exceptions, all in one table in rules.go:
//
//   - e2e/ may import modules (module-importers): end-to-end tests drive the wired modules
//     from outside, as cmd/ does.
//   - a module's _test.go files may import migrations (module-isolation): tests apply the
//     module's schema from the embedded migrations; test code is not linked into the binary.
//
// The rules test themselves: each has a fixture tree under testdata/<rule-id>/ that breaks
// exactly that rule, and testdata/clean/ breaks none.
package architecture
