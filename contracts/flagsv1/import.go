package flagsv1

// ImportPlan is the flags admin API's answer to an import of a flagd flag file: what the
// import did, or on a dry run would do. The server encodes it; the CLI decodes it.
type ImportPlan struct {
	DryRun          bool             `json:"dryRun"`
	Changes         []PlannedChange  `json:"changes"`
	Evaluators      EvaluatorChanges `json:"evaluators"`
	MetadataChanged bool             `json:"metadataChanged"`
}

// Import actions of one flag.
const (
	ActionCreate    = "create"
	ActionUpdate    = "update"
	ActionArchive   = "archive"
	ActionUnchanged = "unchanged"
)

// PlannedChange is what an import does to one flag. FromVersion is absent for a flag
// that never existed.
type PlannedChange struct {
	Flag        string `json:"flag"`
	Action      string `json:"action"`
	FromVersion int64  `json:"fromVersion,omitempty"`
	ToVersion   int64  `json:"toVersion"`
}

// EvaluatorChanges names the shared rules ($evaluators) an import adds, changes and removes.
type EvaluatorChanges struct {
	Added   []string `json:"added"`
	Changed []string `json:"changed"`
	Removed []string `json:"removed"`
}
