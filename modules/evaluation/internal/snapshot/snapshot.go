package snapshot

import (
	"maps"
	"slices"
	"strings"
	"sync/atomic"
)

// Snapshot is one environment's compiled flags at one revision. It is immutable: a
// change produces a new Snapshot.
type Snapshot struct {
	Revision int64
	flags    map[string]*Flag
	sorted   []*Flag
}

// New returns the snapshot of flags at revision.
func New(revision int64, flags map[string]*Flag) *Snapshot {
	s := &Snapshot{Revision: revision, flags: flags}
	if s.flags == nil {
		s.flags = map[string]*Flag{}
	}
	s.sorted = slices.SortedFunc(maps.Values(s.flags), func(a, b *Flag) int { return strings.Compare(a.Key, b.Key) })
	return s
}

// Lookup returns the live flag named key.
func (s *Snapshot) Lookup(key string) (*Flag, bool) {
	f, ok := s.flags[key]
	return f, ok
}

// Flags returns every live flag, sorted by key. The slice is shared: do not modify it.
func (s *Snapshot) Flags() []*Flag { return s.sorted }

// With returns a copy of s at revision in which key is f, or is absent when f is nil
// (an archived flag).
func (s *Snapshot) With(revision int64, key string, f *Flag) *Snapshot {
	flags := make(map[string]*Flag, len(s.flags)+1)
	maps.Copy(flags, s.flags)
	if f == nil {
		delete(flags, key)
	} else {
		flags[key] = f
	}
	return New(revision, flags)
}

var empty = New(0, nil)

// Holder publishes the snapshot of every environment to lock-free readers. It is empty
// (not loaded) until Replace is first called. Writers must be serialized by the caller.
type Holder struct {
	envs atomic.Pointer[map[string]*Snapshot]
}

// Loaded reports whether Replace was called.
func (h *Holder) Loaded() bool { return h.envs.Load() != nil }

// Get returns the snapshot of environment; an environment no event has reached yet has
// an empty snapshot at revision 0. ok is false until the holder is loaded.
func (h *Holder) Get(environment string) (s *Snapshot, ok bool) {
	envs := h.envs.Load()
	if envs == nil {
		return nil, false
	}
	if s, found := (*envs)[environment]; found {
		return s, true
	}
	return empty, true
}

// Replace publishes envs as the whole set of snapshots. envs must not be modified afterwards.
func (h *Holder) Replace(envs map[string]*Snapshot) {
	if envs == nil {
		envs = map[string]*Snapshot{}
	}
	h.envs.Store(&envs)
}

// Put publishes s as environment's snapshot, copying the set of environments. It does
// nothing on a holder that is not loaded yet: loading will read the same state.
func (h *Holder) Put(environment string, s *Snapshot) {
	cur := h.envs.Load()
	if cur == nil {
		return
	}
	next := make(map[string]*Snapshot, len(*cur)+1)
	maps.Copy(next, *cur)
	next[environment] = s
	h.envs.Store(&next)
}
