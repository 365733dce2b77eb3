package switchyardprovider

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/open-feature/go-sdk/openfeature"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1"
	"github.com/switchyardhq/switchyard/sdk"
)

// Name is the provider's name in OpenFeature's metadata.
const Name = "Switchyard"

// eventBuffer is how many events wait for OpenFeature to take them.
const eventBuffer = 16

// Provider is an OpenFeature FeatureProvider, StateHandler (context-aware) and
// EventHandler over an *sdk.Client.
type Provider struct {
	client *sdk.Client
	owned  bool // the provider made the client and closes it on Shutdown

	events chan openfeature.Event
	done   chan struct{}

	mu          sync.Mutex
	unsubscribe func()
	shutdown    bool
}

var (
	_ openfeature.FeatureProvider          = (*Provider)(nil)
	_ openfeature.ContextAwareStateHandler = (*Provider)(nil)
	_ openfeature.EventHandler             = (*Provider)(nil)
)

// New makes a provider with its own sdk.Client, closed on Shutdown.
func New(opts sdk.Options) (*Provider, error) {
	c, err := sdk.New(opts)
	if err != nil {
		return nil, fmt.Errorf("switchyard provider: %w", err)
	}
	p := NewWithClient(c)
	p.owned = true
	return p, nil
}

// NewWithClient makes a provider over an existing client, which the caller closes.
func NewWithClient(c *sdk.Client) *Provider {
	if c == nil {
		panic("switchyardprovider: nil *sdk.Client")
	}
	return &Provider{client: c, events: make(chan openfeature.Event, eventBuffer), done: make(chan struct{})}
}

// Client returns the SDK client the provider evaluates with.
func (p *Provider) Client() *sdk.Client { return p.client }

// Metadata names the provider.
func (p *Provider) Metadata() openfeature.Metadata { return openfeature.Metadata{Name: Name} }

// Hooks returns no hooks.
func (p *Provider) Hooks() []openfeature.Hook { return nil }

// EventChannel is where the provider's events go.
func (p *Provider) EventChannel() <-chan openfeature.Event { return p.events }

// Init waits for the client to be ready (see InitWithContext), without a deadline of its own.
func (p *Provider) Init(evalCtx openfeature.EvaluationContext) error {
	return p.InitWithContext(context.Background(), evalCtx)
}

// InitWithContext waits for the client (sdk.Client.WaitReady) and starts following its
// events. It returns nil when the client is READY or STALE (OpenFeature then reports
// READY and the provider emits PROVIDER_STALE at once), and an error when nothing but
// defaults can answer; the provider still serves (defaults) and emits PROVIDER_READY
// once the server is back.
func (p *Provider) InitWithContext(ctx context.Context, _ openfeature.EvaluationContext) error {
	p.mu.Lock()
	if p.unsubscribe == nil && !p.shutdown {
		p.unsubscribe = p.client.Subscribe(p.forward)
	}
	p.mu.Unlock()
	err := p.client.WaitReady(ctx)
	if err != nil {
		go p.recover()
		return fmt.Errorf("switchyard provider: %w", err)
	}
	if p.client.State() == sdk.StateStale {
		p.emitStale()
	}
	return nil
}

// recover retries WaitReady after a failed Init, with a jittered delay doubling from
// Sync.ReconnectMin to Sync.ReconnectMax, until it succeeds (then PROVIDER_READY, or
// PROVIDER_STALE) or the provider shuts down. The client's own events cannot say so
// when its breakers never opened.
func (p *Provider) recover() {
	o := p.client.Options().Sync
	delay := o.ReconnectMin
	for {
		select {
		case <-p.done:
			return
		case <-time.After(delay/2 + rand.N(delay/2+1)):
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-p.done:
				cancel()
			case <-ctx.Done():
			}
		}()
		err := p.client.WaitReady(ctx)
		cancel()
		if err == nil {
			if p.client.State() == sdk.StateStale {
				p.emitStale()
			} else {
				p.emit(openfeature.Event{ProviderName: Name, EventType: openfeature.ProviderReady,
					ProviderEventDetails: openfeature.ProviderEventDetails{Message: "the server answers"}})
			}
			return
		}
		delay = min(delay*2, o.ReconnectMax)
	}
}

func (p *Provider) emitStale() {
	p.emit(openfeature.Event{ProviderName: Name, EventType: openfeature.ProviderStale,
		ProviderEventDetails: openfeature.ProviderEventDetails{Message: "serving from the secondary store or a snapshot"}})
}

// Shutdown stops the events and closes the client if the provider made it.
func (p *Provider) Shutdown() { _ = p.ShutdownWithContext(context.Background()) }

// ShutdownWithContext is Shutdown; closing the client does not block on the network.
func (p *Provider) ShutdownWithContext(context.Context) error {
	p.mu.Lock()
	if p.shutdown {
		p.mu.Unlock()
		return nil
	}
	p.shutdown = true
	if p.unsubscribe != nil {
		p.unsubscribe()
	}
	close(p.done)
	p.mu.Unlock()
	if p.owned {
		return p.client.Close()
	}
	return nil
}

// forward turns the client's events into OpenFeature's.
func (p *Provider) forward(ev sdk.Event) {
	out := openfeature.Event{ProviderName: Name, ProviderEventDetails: openfeature.ProviderEventDetails{Message: ev.Message}}
	switch {
	case ev.Kind == sdk.EventFlagsChanged:
		out.EventType = openfeature.ProviderConfigChange
		out.EventMetadata = map[string]any{"etag": ev.ETag}
	case ev.State == sdk.StateReady:
		out.EventType = openfeature.ProviderReady
	case ev.State == sdk.StateStale:
		out.EventType = openfeature.ProviderStale
	case ev.State == sdk.StateError:
		out.EventType = openfeature.ProviderError
		out.ErrorCode = openfeature.GeneralCode
	default:
		return
	}
	p.emit(out)
}

func (p *Provider) emit(ev openfeature.Event) {
	select {
	case p.events <- ev:
	case <-p.done:
	}
}

// BooleanEvaluation evaluates a boolean flag.
func (p *Provider) BooleanEvaluation(ctx context.Context, flag string, defaultValue bool, flatCtx openfeature.FlattenedContext) openfeature.BoolResolutionDetail {
	r := p.client.Boolean(ctx, flag, defaultValue, flatCtx)
	return openfeature.BoolResolutionDetail{Value: r.Value, ProviderResolutionDetail: detail(r.Variant, r.Reason, r.ErrorCode, r.ErrorMessage, r.Metadata)}
}

// StringEvaluation evaluates a string flag.
func (p *Provider) StringEvaluation(ctx context.Context, flag string, defaultValue string, flatCtx openfeature.FlattenedContext) openfeature.StringResolutionDetail {
	r := p.client.String(ctx, flag, defaultValue, flatCtx)
	return openfeature.StringResolutionDetail{Value: r.Value, ProviderResolutionDetail: detail(r.Variant, r.Reason, r.ErrorCode, r.ErrorMessage, r.Metadata)}
}

// FloatEvaluation evaluates a number flag.
func (p *Provider) FloatEvaluation(ctx context.Context, flag string, defaultValue float64, flatCtx openfeature.FlattenedContext) openfeature.FloatResolutionDetail {
	r := p.client.Float(ctx, flag, defaultValue, flatCtx)
	return openfeature.FloatResolutionDetail{Value: r.Value, ProviderResolutionDetail: detail(r.Variant, r.Reason, r.ErrorCode, r.ErrorMessage, r.Metadata)}
}

// IntEvaluation evaluates an integer flag.
func (p *Provider) IntEvaluation(ctx context.Context, flag string, defaultValue int64, flatCtx openfeature.FlattenedContext) openfeature.IntResolutionDetail {
	r := p.client.Int(ctx, flag, defaultValue, flatCtx)
	return openfeature.IntResolutionDetail{Value: r.Value, ProviderResolutionDetail: detail(r.Variant, r.Reason, r.ErrorCode, r.ErrorMessage, r.Metadata)}
}

// ObjectEvaluation evaluates a flag whose value is a JSON object or array.
func (p *Provider) ObjectEvaluation(ctx context.Context, flag string, defaultValue any, flatCtx openfeature.FlattenedContext) openfeature.InterfaceResolutionDetail {
	r := p.client.Object(ctx, flag, defaultValue, flatCtx)
	return openfeature.InterfaceResolutionDetail{Value: r.Value, ProviderResolutionDetail: detail(r.Variant, r.Reason, r.ErrorCode, r.ErrorMessage, r.Metadata)}
}

func detail(variant, reason, code, msg string, md map[string]any) openfeature.ProviderResolutionDetail {
	d := openfeature.ProviderResolutionDetail{Variant: variant, Reason: openfeature.Reason(reason), FlagMetadata: openfeature.FlagMetadata(md)}
	if code != "" {
		d.ResolutionError = resolutionError(code, msg)
	}
	return d
}

// resolutionError maps an OpenFeature error code (as the SDK reports it) to the
// go-sdk's ResolutionError.
func resolutionError(code, msg string) openfeature.ResolutionError {
	switch code {
	case ofrepv1.ErrorFlagNotFound:
		return openfeature.NewFlagNotFoundResolutionError(msg)
	case ofrepv1.ErrorParse:
		return openfeature.NewParseErrorResolutionError(msg)
	case ofrepv1.ErrorTypeMismatch:
		return openfeature.NewTypeMismatchResolutionError(msg)
	case ofrepv1.ErrorTargetingKeyMissing:
		return openfeature.NewTargetingKeyMissingResolutionError(msg)
	case ofrepv1.ErrorInvalidContext:
		return openfeature.NewInvalidContextResolutionError(msg)
	default:
		return openfeature.NewGeneralResolutionError(msg, errors.New(code))
	}
}
