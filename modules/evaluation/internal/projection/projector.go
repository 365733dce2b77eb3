// Package projection keeps the store and the in-memory snapshots in step: it applies
// flag events to the store and publishes the resulting snapshot, and it rebuilds every
// snapshot from the store at start-up.
package projection

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
	"github.com/switchyardhq/switchyard/modules/evaluation/internal/snapshot"
	"github.com/switchyardhq/switchyard/modules/evaluation/internal/store"
)

// Projector applies events and loads snapshots. One mutex serializes both, held across
// the transaction and the publication, so that snapshots are published in revision
// order and an event applied during a load is never lost: it either lands in the store
// before the load reads it, or is published after the load.
type Projector struct {
	store    *store.Store
	holder   *snapshot.Holder
	consumer string
	now      func() time.Time
	logger   *slog.Logger

	mu sync.Mutex
}

// New returns a Projector that claims events under consumer.
func New(st *store.Store, holder *snapshot.Holder, consumer string, now func() time.Time, logger *slog.Logger) *Projector {
	if st == nil || holder == nil || consumer == "" || now == nil || logger == nil {
		panic("projection: nil dependency")
	}
	return &Projector{store: st, holder: holder, consumer: consumer, now: now, logger: logger}
}

// Apply projects ev. A duplicate or an older version than the one projected is
// acknowledged without change.
func (p *Projector) Apply(ctx context.Context, ev flagsv1.FlagChanged) error {
	p.mu.Lock()
	defer p.mu.Unlock()

	now := p.now()
	outcome, revision, err := p.store.Apply(ctx, p.consumer, ev, now)
	if err != nil {
		return fmt.Errorf("project %s event %s for %s/%s v%d: %w", ev.Type, ev.EventID, ev.Environment, ev.FlagKey, ev.Version, err)
	}
	log := p.logger.With("event_id", ev.EventID, "event_type", ev.Type, "environment", ev.Environment,
		"flag", ev.FlagKey, "version", ev.Version, "outcome", outcome.String())
	if outcome != store.Applied {
		log.DebugContext(ctx, "flag event not projected")
		return nil
	}
	if cur, loaded := p.holder.Get(ev.Environment); loaded {
		var f *snapshot.Flag
		if !ev.Archived() {
			f = snapshot.Compile(ev.FlagKey, snapshot.Source{
				Definition: *ev.After, Evaluators: ev.Evaluators, FlagSetMetadata: ev.FlagSetMetadata, Changed: now.Truncate(time.Millisecond),
			})
		}
		// The store keeps times to the millisecond: so does memory, or a reload would
		// change Last-Modified.
		p.holder.Put(ev.Environment, cur.With(revision, now.Truncate(time.Millisecond).UTC(), ev.FlagKey, f))
	}
	log.DebugContext(ctx, "flag event projected", "revision", revision)
	return nil
}

// Refresh reloads the snapshots when the store holds a newer revision of any
// environment than memory does: events applied by another replica sharing the store. It
// reports whether it reloaded.
func (p *Projector) Refresh(ctx context.Context) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	revs, err := p.store.Revisions(ctx)
	if err != nil {
		return false, fmt.Errorf("refresh evaluation snapshots: %w", err)
	}
	behind := false
	for env, rev := range revs {
		if snap, ok := p.holder.Get(env); !ok || snap.Revision < rev {
			behind = true
			break
		}
	}
	if !behind {
		return false, nil
	}
	return true, p.load(ctx)
}

// Load rebuilds every environment's snapshot from the store and publishes them.
func (p *Projector) Load(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.load(ctx)
}

func (p *Projector) load(ctx context.Context) error {
	envs, err := p.store.Load(ctx)
	if err != nil {
		return fmt.Errorf("load evaluation snapshots: %w", err)
	}
	snaps := make(map[string]*snapshot.Snapshot, len(envs))
	total := 0
	for _, env := range envs {
		flags := make(map[string]*snapshot.Flag, len(env.Flags))
		for key, stored := range env.Flags {
			flags[key] = snapshot.Compile(key, snapshot.Source{
				Definition: stored.Definition, Evaluators: stored.Evaluators, FlagSetMetadata: stored.FlagSetMetadata,
				Changed: stored.UpdatedAt,
			})
		}
		modified := env.UpdatedAt
		if env.Revision == 0 {
			modified = time.Time{}
		}
		snaps[env.Name] = snapshot.New(env.Name, env.Revision, modified, flags)
		total += len(flags)
	}
	p.holder.Replace(snaps)
	p.logger.InfoContext(ctx, "evaluation snapshots loaded", "environments", len(snaps), "flags", total)
	return nil
}
