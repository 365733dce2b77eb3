//go:build contract

package evaluation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/pact-foundation/pact-go/v2/models"
	"github.com/pact-foundation/pact-go/v2/provider"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/contracts/pacttest"
	"github.com/switchyardhq/switchyard/contracts/snapshotv1"
	"github.com/switchyardhq/switchyard/migrations"
	"github.com/switchyardhq/switchyard/modules/evaluation"
	"github.com/switchyardhq/switchyard/platform/bus"
	"github.com/switchyardhq/switchyard/platform/bus/httppush"
	"github.com/switchyardhq/switchyard/platform/httpx"
	"github.com/switchyardhq/switchyard/platform/migrate/migratetest"
	"github.com/switchyardhq/switchyard/platform/outbox"
)

// ofrepPactEnvironment is the environment the module serves OFREP from, and the one the
// provider states seed.
const ofrepPactEnvironment = "development"

// Flag definitions the provider states seed, in the flagd format the flags module emits.
const (
	ofrepPactBoolean     = `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"}`
	ofrepPactString      = `{"state":"ENABLED","variants":{"winter":"Winter sale","summer":"Summer sale"},"defaultVariant":"winter"}`
	ofrepPactDisabled    = `{"state":"DISABLED","variants":{"on":true,"off":false},"defaultVariant":"on","metadata":{"team":"search"}}`
	ofrepPactCodeDefault = `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":null}`
	ofrepPactBroken      = `{"state":"ENABLED","variants":{"on":true},"defaultVariant":"gone"}`
)

// pushPactToken is the service token in the push pact's example requests
// (switchyard-flags -> switchyard-evaluation); the provider's push endpoint accepts it.
const pushPactToken = "push-token-example-0123456789"

// ofrepPactMaxStreams is the provider's change-stream limit; the "no room" state fills it.
const ofrepPactMaxStreams = 2

// ofrepPactFlag is one flag a provider state needs.
type ofrepPactFlag struct{ key, definition string }

// ofrepPactProvider is the evaluation module behind a real HTTP server. Provider states
// are set up only through the module's public API: FlagChanged events handed to its bus
// handler as the relay hands them, never by writing its tables.
type ofrepPactProvider struct {
	baseURL string
	client  *http.Client
	handler bus.Handler

	// held are change streams a provider state keeps open until its teardown.
	held []*http.Response

	// storeFailing makes the projection fail as a lost database would (a push provider state).
	storeFailing atomic.Bool

	mu   sync.Mutex
	live map[string]*flagsv1.Definition // flags seeded and not archived since
	last map[string]int64               // the last version of every flag ever seeded
}

func TestPactProviderOFREP(t *testing.T) {
	files := pacttest.FilesFor(t, pacttest.Evaluation)
	p := ofrepPactStart(t)
	handlers := p.stateHandlers()
	pacttest.RequireHandlers(t, "provider states", pacttest.States(t, files), handlers)

	err := provider.NewVerifier().VerifyProvider(t, provider.VerifyRequest{
		Provider:             pacttest.Evaluation,
		ProviderBaseURL:      p.baseURL,
		PactFiles:            files,
		StateHandlers:        handlers,
		DisableColoredOutput: true,
	})
	if err != nil {
		t.Fatalf("verify %s against %v: %v", pacttest.Evaluation, files, err)
	}
}

// ofrepPactStart serves the evaluation module, over a migrated SQLite file, on a real
// listener, as `switchyard serve` does.
func ofrepPactStart(t *testing.T) *ofrepPactProvider {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	db := migratetest.SQLite(t, filepath.Join(t.TempDir(), "evaluation.db"), "evaluation", migrations.For)
	mod, err := evaluation.New(evaluation.Deps{DB: db, Logger: logger, DefaultEnvironment: ofrepPactEnvironment,
		EventStreams: evaluation.EventStreamOptions{MaxStreams: ofrepPactMaxStreams}})
	if err != nil {
		t.Fatalf("new evaluation module: %v", err)
	}
	if err := mod.Start(context.Background()); err != nil {
		t.Fatalf("start evaluation module: %v", err)
	}
	handlers := mod.Handlers()
	if len(handlers) != 1 || handlers[0].Topic != flagsv1.Topic {
		t.Fatalf("Handlers() = %d handlers, want the one projection of %s", len(handlers), flagsv1.Topic)
	}

	p := &ofrepPactProvider{
		client:  &http.Client{Timeout: 5 * time.Second},
		handler: handlers[0],
		live:    map[string]*flagsv1.Definition{},
		last:    map[string]int64{},
	}
	e := httpx.NewEcho(logger)
	mod.Routes(e.Group(""))
	// The split deploy's sync push lands on the same projection, as `switchyard serve`
	// wires it in a read-only binary.
	pushed := handlers[0]
	pushed.Handle = func(msg *message.Message) error {
		if p.storeFailing.Load() {
			return errors.New("evaluation store unavailable")
		}
		return handlers[0].Handle(msg)
	}
	inline, err := bus.NewSync(pushed)
	if err != nil {
		t.Fatalf("sync deliverer: %v", err)
	}
	httppush.Routes(e.Group(""), httpx.RequireBearer([]httpx.Token{{Name: "command", Secret: pushPactToken}}), inline, logger)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shut the provider down: %v", err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	p.baseURL = "http://" + ln.Addr().String()
	return p
}

// stateHandlers maps every provider state of the OFREP pact to its setup. Each setup
// starts from an environment with no flag (see seed); teardown has nothing to undo.
func (p *ofrepPactProvider) stateHandlers() models.StateHandlers {
	seeding := func(flags ...ofrepPactFlag) models.StateHandler {
		return func(setup bool, _ models.ProviderState) (models.ProviderStateResponse, error) {
			if !setup {
				return nil, nil
			}
			return nil, p.seed(flags...)
		}
	}
	newCheckout := ofrepPactFlag{"new-checkout", ofrepPactBoolean}
	legacySearch := ofrepPactFlag{"legacy-search", ofrepPactDisabled}
	return models.StateHandlers{
		"an enabled boolean flag 'new-checkout' with default variant 'on' and no targeting": seeding(newCheckout),
		"an enabled string flag 'banner-text' with default variant 'winter' and no targeting": seeding(
			ofrepPactFlag{"banner-text", ofrepPactString}),
		"no flag 'missing-flag' exists":                                              seeding(),
		"a disabled boolean flag 'legacy-search' with metadata team 'search'":        seeding(legacySearch),
		"an enabled boolean flag 'dark-mode' whose default variant is null":          seeding(ofrepPactFlag{"dark-mode", ofrepPactCodeDefault}),
		"a flag 'broken-flag' whose default variant is not one of its variants":      seeding(ofrepPactFlag{"broken-flag", ofrepPactBroken}),
		"an enabled boolean flag 'new-checkout' and a disabled flag 'legacy-search'": seeding(newCheckout, legacySearch),
		"an enabled boolean flag 'new-checkout', and the client holds the current snapshot ETag": func(setup bool, _ models.ProviderState) (models.ProviderStateResponse, error) {
			if !setup {
				return nil, nil
			}
			if err := p.seed(newCheckout); err != nil {
				return nil, err
			}
			etag, err := p.snapshotETag()
			if err != nil {
				return nil, err
			}
			return models.ProviderStateResponse{"etag": etag}, nil
		},
		"the server already serves as many change streams as it allows": p.fillStreams,
		// States of the push pact (switchyard-flags -> switchyard-evaluation).
		"no flag 'pushed-flag' exists":               seeding(),
		"the flag 'pushed-flag' exists at version 1": seeding(ofrepPactFlag{"pushed-flag", ofrepPactBoolean}),
		"the pushed event was already applied":       p.alreadyApplied,
		"the evaluation store cannot apply events": func(setup bool, _ models.ProviderState) (models.ProviderStateResponse, error) {
			p.storeFailing.Store(setup)
			return nil, nil
		},
		"an enabled boolean flag 'new-checkout', and the client holds the current bulk ETag for its context": func(setup bool, s models.ProviderState) (models.ProviderStateResponse, error) {
			if !setup {
				return nil, nil
			}
			if err := p.seed(newCheckout); err != nil {
				return nil, err
			}
			etag, err := p.currentETag(ofrepPactParam(s, "context"))
			if err != nil {
				return nil, err
			}
			return models.ProviderStateResponse{"etag": etag}, nil
		},
	}
}

// snapshotETag is the ETag of the definitions snapshot the server serves now.
func (p *ofrepPactProvider) snapshotETag() (string, error) {
	resp, err := p.client.Get(p.baseURL + snapshotv1.Path)
	if err != nil {
		return "", fmt.Errorf("definitions snapshot: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == "" {
		return "", fmt.Errorf("definitions snapshot: HTTP %d, ETag %q", resp.StatusCode, resp.Header.Get("ETag"))
	}
	return resp.Header.Get("ETag"), nil
}

// fillStreams opens as many change streams as the provider allows and holds them until
// the state's teardown.
func (p *ofrepPactProvider) fillStreams(setup bool, _ models.ProviderState) (models.ProviderStateResponse, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !setup {
		for _, r := range p.held {
			_ = r.Body.Close()
		}
		p.held = nil
		return nil, nil
	}
	streams := &http.Client{} // no timeout: the streams stay open
	for len(p.held) < ofrepPactMaxStreams {
		req, err := http.NewRequest(http.MethodGet, p.baseURL+ofrepv1.PathEventStream, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "text/event-stream")
		resp, err := streams.Do(req)
		if err != nil {
			return nil, fmt.Errorf("open change stream %d: %w", len(p.held)+1, err)
		}
		if resp.StatusCode != http.StatusOK {
			_ = resp.Body.Close()
			return nil, fmt.Errorf("open change stream %d: HTTP %d", len(p.held)+1, resp.StatusCode)
		}
		p.held = append(p.held, resp)
	}
	return nil, nil
}

// alreadyApplied projects an event with the state's "eventId", so that the push of the
// same event finds it in the projection's inbox.
func (p *ofrepPactProvider) alreadyApplied(setup bool, s models.ProviderState) (models.ProviderStateResponse, error) {
	if !setup {
		return nil, nil
	}
	id, _ := ofrepPactParam(s, "eventId").(string)
	if id == "" {
		return nil, errors.New(`the provider state has no "eventId" parameter`)
	}
	if err := p.seed(); err != nil {
		return nil, err
	}
	var def flagsv1.Definition
	if err := json.Unmarshal([]byte(ofrepPactBoolean), &def); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	ev := p.event(flagsv1.TypeFlagCreated, "pushed-flag", &def)
	ev.EventID = id
	if err := p.deliver(ev); err != nil {
		return nil, err
	}
	p.live["pushed-flag"] = &def
	return nil, nil
}

// ofrepPactParam returns the provider state's parameter name. pact-go v2.4.2 hands a
// state handler the whole state-change body but "action" and "state", and the verifier
// sends the parameters under "params" in it, so that is where they are; the top level is
// where a pact-go that unwraps them would put them.
func ofrepPactParam(s models.ProviderState, name string) any {
	if nested, ok := s.Parameters["params"].(map[string]any); ok {
		if v, ok := nested[name]; ok {
			return v
		}
	}
	return s.Parameters[name]
}

// seed makes flags the only flags of the environment: it archives every flag a previous
// state left, then creates flags, each with a version above any it had before (versions
// never restart), and checks through the OFREP API that exactly flags are served.
func (p *ofrepPactProvider) seed(flags ...ofrepPactFlag) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, key := range slices.Sorted(maps.Keys(p.live)) {
		ev := p.event(flagsv1.TypeFlagArchived, key, nil)
		if err := p.deliver(ev); err != nil {
			return err
		}
		delete(p.live, key)
	}
	want := make([]string, 0, len(flags))
	for _, f := range flags {
		var def flagsv1.Definition
		if err := json.Unmarshal([]byte(f.definition), &def); err != nil {
			return fmt.Errorf("definition of %s: %w", f.key, err)
		}
		if err := p.deliver(p.event(flagsv1.TypeFlagCreated, f.key, &def)); err != nil {
			return err
		}
		p.live[f.key] = &def
		want = append(want, f.key)
	}
	return p.checkServed(want)
}

// event is the next event of flag key, as the flags module would emit it.
func (p *ofrepPactProvider) event(typ, key string, after *flagsv1.Definition) flagsv1.FlagChanged {
	p.last[key]++
	return flagsv1.FlagChanged{
		EventID: uuid.NewString(), Type: typ, Environment: ofrepPactEnvironment, FlagKey: key,
		Version: p.last[key], Actor: "pact-provider-state", OccurredAt: time.Now().UTC(),
		Before: p.live[key], After: after,
	}
}

// deliver hands ev to the module's projection as the outbox relay does.
func (p *ofrepPactProvider) deliver(ev flagsv1.FlagChanged) error {
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode %s of %s: %w", ev.Type, ev.FlagKey, err)
	}
	if err := p.handler.Handle(outbox.NewMessage(ev.EventID, ev.Type, payload)); err != nil {
		return fmt.Errorf("project %s of %s v%d: %w", ev.Type, ev.FlagKey, ev.Version, err)
	}
	return nil
}

// checkServed fails unless the bulk evaluation serves exactly the flags keys: it proves
// that the archive-then-create reset left nothing of the previous state behind.
func (p *ofrepPactProvider) checkServed(keys []string) error {
	resp, _, err := p.bulk(map[string]any{})
	if err != nil {
		return err
	}
	var bulk ofrepv1.BulkEvaluation
	if err := json.Unmarshal(resp, &bulk); err != nil {
		return fmt.Errorf("decode bulk evaluation: %w", err)
	}
	served := make([]string, 0, len(bulk.Flags))
	for _, f := range bulk.Flags {
		served = append(served, f.Key)
	}
	slices.Sort(served)
	slices.Sort(keys)
	if !slices.Equal(served, keys) {
		return fmt.Errorf("after seeding, the environment serves flags %q, want %q", served, keys)
	}
	return nil
}

// currentETag asks the server for the bulk ETag of evalCtx, the "context" parameter of
// the provider state. The ETag covers the request's bytes: this request must be encoded
// as the verifier encodes the pact's request body, which holds for objects of one key
// each (no key order to disagree on) and compact JSON, as the pact's context is.
func (p *ofrepPactProvider) currentETag(evalCtx any) (string, error) {
	if evalCtx == nil {
		return "", errors.New(`the provider state has no "context" parameter`)
	}
	_, etag, err := p.bulk(evalCtx)
	if err != nil {
		return "", err
	}
	if etag == "" {
		return "", errors.New("the bulk evaluation has no ETag")
	}
	return etag, nil
}

// bulk posts a bulk evaluation of evalCtx and returns the body and the ETag of its 200.
func (p *ofrepPactProvider) bulk(evalCtx any) ([]byte, string, error) {
	body, err := json.Marshal(map[string]any{"context": evalCtx})
	if err != nil {
		return nil, "", fmt.Errorf("encode bulk request: %w", err)
	}
	resp, err := p.client.Post(p.baseURL+ofrepv1.PathEvaluateFlags, "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, "", fmt.Errorf("bulk evaluation: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("read bulk evaluation: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("bulk evaluation: HTTP %d: %s", resp.StatusCode, data)
	}
	return data, resp.Header.Get("ETag"), nil
}
