//go:build contract

package pacttest

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// Pacticipants: the names that pact files, provider states and a broker know us by.
const (
	Flags       = "switchyard-flags"        // command module: publishes flag events
	Evaluation  = "switchyard-evaluation"   // read module: consumes flag events, serves OFREP
	Audit       = "switchyard-audit"        // audit module: consumes flag events
	OFREPClient = "switchyard-ofrep-client" // the HTTP transport SDKs use against OFREP
)

// The flag-event pacts (switchyard-flags -> switchyard-evaluation, -> switchyard-audit):
// the provider states and message descriptions both consumers name, so that the flags
// provider sets each state up and produces each message once.
const (
	FlagEventsStateAbsent = "flag new-checkout does not exist in development"
	FlagEventsStateV1     = "flag new-checkout exists in development at version 1, enabled, serving on"

	FlagEventsCreated  = "flag_created: new-checkout is created in development, enabled, serving on"
	FlagEventsUpdated  = "flag_updated: new-checkout in development gets a targeting rule and serves off by default"
	FlagEventsDisabled = "flag_state_changed: new-checkout in development is disabled"
	FlagEventsArchived = "flag_archived: new-checkout in development is archived"
)

// Formats events carry, as regexes for pact's matcher; anchored, since it is not.
const (
	RegexUUID    = `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`
	RegexRFC3339 = `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$`
)

// Dir is the absolute path of the committed pact files (contracts/pacts).
func Dir(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("pacttest: cannot locate the pact directory")
	}
	return filepath.Join(filepath.Dir(file), "..", "pacts")
}

// FilesFor returns the pact files whose provider is provider, and fails the test when there
// are none: a provider verification with nothing to verify must not pass silently.
func FilesFor(tb testing.TB, provider string) []string {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(Dir(tb), "*-"+provider+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	var files []string
	for _, p := range paths {
		if readPact(tb, p).Provider.Name == provider {
			files = append(files, p)
		}
	}
	if len(files) == 0 {
		tb.Fatalf("no pact in %s names %s as its provider: run the consumer tests first (make contracts)", Dir(tb), provider)
	}
	return files
}

type pactFile struct {
	Consumer     struct{ Name string } `json:"consumer"`
	Provider     struct{ Name string } `json:"provider"`
	Interactions []struct {
		Description    string `json:"description"`
		ProviderStates []struct {
			Name string `json:"name"`
		} `json:"providerStates"`
	} `json:"interactions"`
	Messages []struct {
		Description    string `json:"description"`
		ProviderStates []struct {
			Name string `json:"name"`
		} `json:"providerStates"`
	} `json:"messages"`
}

func readPact(tb testing.TB, path string) pactFile {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var p pactFile
	if err := json.Unmarshal(raw, &p); err != nil {
		tb.Fatalf("%s is not a pact file: %v", path, err)
	}
	return p
}

// States returns every provider state the pact files name, sorted and unique.
func States(tb testing.TB, files []string) []string {
	tb.Helper()
	var states []string
	for _, f := range files {
		p := readPact(tb, f)
		for _, i := range p.Interactions {
			for _, s := range i.ProviderStates {
				states = append(states, s.Name)
			}
		}
		for _, m := range p.Messages {
			for _, s := range m.ProviderStates {
				states = append(states, s.Name)
			}
		}
	}
	slices.Sort(states)
	return slices.Compact(states)
}

// Descriptions returns every interaction (or message) description the pact files name.
func Descriptions(tb testing.TB, files []string) []string {
	tb.Helper()
	var ds []string
	for _, f := range files {
		p := readPact(tb, f)
		for _, i := range p.Interactions {
			ds = append(ds, i.Description)
		}
		for _, m := range p.Messages {
			ds = append(ds, m.Description)
		}
	}
	slices.Sort(ds)
	return slices.Compact(ds)
}

// RequireHandlers fails the test when a name the pacts use has no handler. pact-go only
// logs a warning for a provider state it cannot set up, and the verification then runs
// against the wrong state: that must fail loudly instead.
func RequireHandlers[V any](tb testing.TB, what string, names []string, handlers map[string]V) {
	tb.Helper()
	var missing []string
	for _, n := range names {
		if _, ok := handlers[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		tb.Fatalf("the pacts name %s with no handler in this provider test: %q", what, strings.Join(missing, `", "`))
	}
}

// RemovePact deletes the pact file of consumer and provider. A consumer test calls it
// before each Verify: the pact handle holds every message added so far and writes them
// all, but libpact_ffi 0.4 merges them into the file it finds and that merge duplicates
// the messages already there. Without a file to merge into, each write is the whole pact.
func RemovePact(tb testing.TB, consumer, provider string) {
	tb.Helper()
	path := filepath.Join(Dir(tb), consumer+"-"+provider+".json")
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		tb.Fatalf("remove the previous pact: %v", err)
	}
}
