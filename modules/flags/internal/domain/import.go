package domain

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
)

// Environment is an environment as an import sees it.
type Environment struct {
	Name   string
	Exists bool            // the environment ever had a flag or a flag set
	Flags  map[string]Flag // every flag it ever had, archived ones included
	Set    FlagSet
}

// What an import does to one flag.
const (
	ActionCreate    = flagsv1.ActionCreate
	ActionUpdate    = flagsv1.ActionUpdate
	ActionArchive   = flagsv1.ActionArchive
	ActionUnchanged = flagsv1.ActionUnchanged
)

// PlannedFlag is what an import does to one flag. FromVersion is 0 for a flag that never
// existed; for an unchanged flag both versions are its current one.
type PlannedFlag struct {
	Key         string
	Action      string
	FromVersion int64
	ToVersion   int64
}

// ImportPlan is everything one import changes, decided before anything is written.
type ImportPlan struct {
	Flags             []PlannedFlag // the file's flags and the environment's live flags, in key order
	Changes           []*Change     // one per changed flag, in key order
	Set               FlagSet       // the environment's flag set after the import
	EvaluatorsAdded   []string
	EvaluatorsChanged []string
	EvaluatorsRemoved []string
	MetadataChanged   bool
	Meta              Meta
}

// SetChanged reports whether the import changes the flag set (evaluators or metadata).
func (p *ImportPlan) SetChanged() bool {
	return p.MetadataChanged || len(p.EvaluatorsAdded)+len(p.EvaluatorsChanged)+len(p.EvaluatorsRemoved) > 0
}

// ImportOptions tune an import.
type ImportOptions struct {
	// Prune makes the environment exactly the file: live flags absent from it are
	// archived, evaluators absent from it are removed, and a file without metadata clears
	// the flag-set metadata. Without Prune, what the file does not mention is kept.
	Prune bool
}

// PlanImport validates file as a whole against env (every problem, by JSON path into the
// file) and decides every change: each flag of the file is created, updated, restored or
// left alone; each live flag whose shared rules or flag-set metadata change gets a new
// version; with Prune, live flags absent from the file are archived.
func PlanImport(env Environment, file FlagFile, opts ImportOptions, m Meta) (*ImportPlan, error) {
	valid, errs := ValidateFlagFile(file)
	next := nextFlagSet(env.Set, valid, opts.Prune)
	for _, name := range sortedKeys(valid.Evaluators) {
		if err := checkEvaluator(name, next.Evaluators); err != nil {
			errs.AddErr("", "", err)
		}
	}
	for _, key := range valid.Keys() {
		if err := CheckTargeting(valid.Flags[key], next.Evaluators); err != nil {
			errs.AddErr("flags."+key+".", "flag "+strconv.Quote(key)+": ", err)
		}
	}
	if !opts.Prune {
		errs = append(errs, checkKeptFlags(env, valid, next)...)
	}
	if len(errs) > 0 {
		return nil, errs
	}

	plan := &ImportPlan{Set: next, MetadataChanged: !SameMetadata(env.Set.Metadata, next.Metadata), Meta: m}
	plan.EvaluatorsAdded, plan.EvaluatorsChanged, plan.EvaluatorsRemoved = evaluatorDiff(env.Set.Evaluators, next.Evaluators)
	for _, key := range planKeys(env, valid) {
		var current *Flag
		if f, ok := env.Flags[key]; ok {
			current = &f
		}
		change, err := planFlag(env, current, valid, next, key, opts, plan.MetadataChanged, m)
		if err != nil {
			errs.AddErr("flags."+key+".", "flag "+strconv.Quote(key)+": ", err)
			continue
		}
		plan.Flags = append(plan.Flags, planned(current, key, change))
		if change != nil {
			plan.Changes = append(plan.Changes, change)
		}
	}
	return plan, errs.orNil()
}

func planFlag(env Environment, current *Flag, file FlagFile, next FlagSet, key string, opts ImportOptions, metadataChanged bool, m Meta) (*Change, error) {
	def, inFile := file.Flags[key]
	switch {
	case inFile:
		change, err := Put(current, next, env.Name, key, def, m)
		if change != nil || err != nil {
			return change, err
		}
	case opts.Prune:
		return Archive(current, next, env.Name, key, m)
	}
	causes := sharedChanges(env.Set, next, current.Definition.Targeting, metadataChanged)
	if len(causes) == 0 {
		return nil, nil
	}
	if m.Reason == "" {
		m.Reason = strings.Join(causes, ", ")
	} else {
		m.Reason += ": " + strings.Join(causes, ", ")
	}
	return Refresh(current, next, m)
}

func planned(current *Flag, key string, c *Change) PlannedFlag {
	p := PlannedFlag{Key: key, Action: ActionUnchanged}
	if current != nil {
		p.FromVersion, p.ToVersion = current.Version, current.Version
	}
	if c == nil {
		return p
	}
	p.ToVersion = c.Next.Version
	switch {
	case c.Next.Archived:
		p.Action = ActionArchive
	case c.Event.Before == nil:
		p.Action = ActionCreate
	default:
		p.Action = ActionUpdate
	}
	return p
}

// planKeys are the flags an import looks at: the file's and the environment's live ones.
func planKeys(env Environment, file FlagFile) []string {
	keys := file.Keys()
	for key, f := range env.Flags {
		if _, inFile := file.Flags[key]; !inFile && !f.Archived {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	return keys
}

// nextFlagSet is the environment's flag set after importing file.
func nextFlagSet(current FlagSet, file FlagFile, prune bool) FlagSet {
	next := FlagSet{Evaluators: map[string]json.RawMessage{}, Metadata: current.Metadata}
	if !prune {
		for name, rule := range current.Evaluators {
			next.Evaluators[name] = rule
		}
	}
	for name, rule := range file.Evaluators {
		next.Evaluators[name] = rule
	}
	if file.Metadata != nil || prune {
		next.Metadata = file.Metadata
	}
	return next
}

// checkKeptFlags finds live flags the file leaves alone that the file's evaluators break.
func checkKeptFlags(env Environment, file FlagFile, next FlagSet) FieldErrors {
	var errs FieldErrors
	for _, key := range sortedKeys(env.Flags) {
		f := env.Flags[key]
		if _, inFile := file.Flags[key]; inFile || f.Archived {
			continue
		}
		names := changedRefs(env.Set, next, f.Definition.Targeting)
		if len(names) == 0 {
			continue
		}
		if err := CheckTargeting(f.Definition, next.Evaluators); err != nil {
			errs.Add("$evaluators."+names[0], "this import changes or removes evaluator(s) %s, which live flag %q (not in the file) references: %v",
				strings.Join(names, ", "), key, err)
		}
	}
	return errs
}

// changedRefs names the evaluators a rule references, before or after, that differ.
func changedRefs(before, after FlagSet, rule json.RawMessage) []string {
	old, updated := before.Referenced(rule), after.Referenced(rule)
	var names []string
	for name, r := range old {
		if nr, ok := updated[name]; !ok || !bytes.Equal(r, nr) {
			names = append(names, name)
		}
	}
	for name := range updated {
		if _, ok := old[name]; !ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// sharedChanges says why a flag whose definition did not change needs a new version.
func sharedChanges(before, after FlagSet, rule json.RawMessage, metadataChanged bool) []string {
	old, updated := before.Referenced(rule), after.Referenced(rule)
	var causes []string
	for _, name := range changedRefs(before, after, rule) {
		_, had := old[name]
		_, has := updated[name]
		switch {
		case !had:
			causes = append(causes, "evaluator "+name+" added")
		case !has:
			causes = append(causes, "evaluator "+name+" removed")
		default:
			causes = append(causes, "evaluator "+name+" changed")
		}
	}
	if metadataChanged {
		causes = append(causes, "flag-set metadata changed")
	}
	return causes
}
