package architecture

// Rule IDs. They are stable: violations carry them, each has a violating fixture under
// testdata/<id>/, and people grep for them. Renaming one is a change to the rules.
const (
	RuleModuleIsolation     = "module-isolation"
	RulePlatformIsolation   = "platform-isolation"
	RuleContractsIsolation  = "contracts-isolation"
	RuleMigrationsIsolation = "migrations-isolation"
	RuleModuleImporters     = "module-importers"
	RuleUnknownLayer        = "unknown-layer"
)

// Layers: the first path segment of a package inside the repository.
const (
	layerCmd          = "cmd"
	layerModules      = "modules"
	layerPlatform     = "platform"
	layerContracts    = "contracts"
	layerMigrations   = "migrations"
	layerArchitecture = "architecture"
	layerE2E          = "e2e"
	layerTools        = "tools"
)

// layers are the top-level folders that may hold Go packages of this module, and why.
// A Go package anywhere else (utils/, a top-level internal/, the repository root) breaks
// RuleUnknownLayer: adding a layer is a decision made here, not a folder created in passing.
var layers = map[string]string{
	layerCmd:          "composition root: wires config, stores, bus and modules by hand",
	layerModules:      "one folder per module; internals under modules/<m>/internal/",
	layerPlatform:     "technical kernel shared by modules: db, bus, outbox/inbox, httpx, ...",
	layerContracts:    "versioned events and DTOs shared with extracted services and the SDK",
	layerMigrations:   "embedded SQL migrations, one folder per module",
	layerArchitecture: "these architecture tests",
	layerE2E:          "end-to-end tests of the wired binary",
	layerTools:        "build-time tools (go:generate programs, tool dependencies)",
}

// skippedTopLevel are top-level folders the checker does not enter: sdk/ and deploy/ are Go
// modules of their own (own go.mod), not packages of this module.
var skippedTopLevel = map[string]bool{"sdk": true, "deploy": true}

// rule is one import rule: for an importer it applies to, every import of a package of
// this repository must be allowed. Imports of the standard library and of third-party
// packages never break a rule. Rules are tried in table order and an import breaks at
// most one rule, the first that forbids it, so the most specific message wins.
type rule struct {
	id      string
	text    string
	applies func(from importer) bool
	allows  func(from importer, to location) bool
}

// importRules is the table of import rules. RuleUnknownLayer is about packages, not
// imports, and is checked separately.
var importRules = []rule{
	{
		id: RuleModuleIsolation,
		text: "a package under modules/<m>/ imports only contracts/..., platform/... and modules/<m>/... " +
			"from this repository: never another module, cmd/ or migrations",
		applies: inLayer(layerModules),
		allows: func(from importer, to location) bool {
			return to.layer == layerContracts || to.layer == layerPlatform || sameModule(from.location, to)
		},
	},
	{
		id:      RulePlatformIsolation,
		text:    "platform/ is the technical kernel: it imports only platform/... and contracts/..., never modules/, cmd/ or migrations",
		applies: inLayer(layerPlatform),
		allows: func(_ importer, to location) bool {
			return to.layer == layerPlatform || to.layer == layerContracts
		},
	},
	{
		id:      RuleContractsIsolation,
		text:    "contracts/ is shared with extracted services and the SDK: it imports only contracts/..., never modules/, platform/ or cmd/",
		applies: inLayer(layerContracts),
		allows: func(_ importer, to location) bool {
			return to.layer == layerContracts
		},
	},
	{
		id:      RuleMigrationsIsolation,
		text:    "migrations is a leaf everyone may import: it imports nothing from this repository outside migrations/",
		applies: inLayer(layerMigrations),
		allows: func(_ importer, to location) bool {
			return to.layer == layerMigrations
		},
	},
	{
		id:   RuleModuleImporters,
		text: "only the composition root cmd/... (and a module's own subtree) imports packages under modules/",
		applies: func(from importer) bool {
			return from.layer != layerCmd
		},
		allows: func(from importer, to location) bool {
			return to.layer != layerModules || sameModule(from.location, to)
		},
	},
}

// unknownLayerText explains RuleUnknownLayer.
const unknownLayerText = "Go code lives only in the known top-level folders " +
	"(cmd, modules, platform, contracts, migrations, architecture, e2e, tools); " +
	"add a layer to the table in architecture/rules.go on purpose, not a folder in passing"

// exception allows imports that a rule would forbid. Every exception to the rules is in
// this one table, with its reason.
type exception struct {
	rule    string
	why     string
	matches func(from importer, to location) bool
}

var exceptions = []exception{
	{
		rule: RuleModuleImporters,
		why:  "end-to-end tests under e2e/ drive the wired modules from outside, as cmd/ does",
		matches: func(from importer, _ location) bool {
			return from.layer == layerE2E
		},
	},
	{
		rule: RuleModuleIsolation,
		why: "a module's tests apply its schema from the embedded migrations package; " +
			"test files are not linked into the binary, so the module stays extractable",
		matches: func(from importer, to location) bool {
			return from.test && to.layer == layerMigrations
		},
	},
}

// ruleIDs lists every rule, import rules in table order then RuleUnknownLayer.
func ruleIDs() []string {
	ids := make([]string, 0, len(importRules)+1)
	for _, r := range importRules {
		ids = append(ids, r.id)
	}
	return append(ids, RuleUnknownLayer)
}

func inLayer(layer string) func(importer) bool {
	return func(from importer) bool { return from.layer == layer }
}

// sameModule reports whether to is in from's own module subtree modules/<m>/....
func sameModule(from, to location) bool {
	return from.layer == layerModules && to.layer == layerModules && from.module == to.module
}

// excepted reports whether an exception allows the import that rule id forbids.
func excepted(id string, from importer, to location) bool {
	for _, e := range exceptions {
		if e.rule == id && e.matches(from, to) {
			return true
		}
	}
	return false
}
