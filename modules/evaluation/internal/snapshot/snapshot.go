// Package snapshot holds the compiled, immutable view of flags that evaluation reads:
// one Snapshot per environment, replaced whole (copy-on-write) when an event is
// projected, so that readers never lock and never parse a definition.
package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Snapshot is one environment's compiled flags at one revision. It is immutable: a
// change produces a new Snapshot.
type Snapshot struct {
	Environment string
	Revision    int64
	// Modified is when the environment reached Revision (zero at revision 0).
	Modified time.Time

	flags  map[string]*Flag
	sorted []*Flag
	etag   string // see ETag

	defsOnce sync.Once
	defs     []byte // see Definitions
}

// New returns the snapshot of environment's flags at revision, reached at modified.
func New(environment string, revision int64, modified time.Time, flags map[string]*Flag) *Snapshot {
	s := &Snapshot{Environment: environment, Revision: revision, Modified: modified, flags: flags}
	if s.flags == nil {
		s.flags = map[string]*Flag{}
	}
	s.sorted = slices.SortedFunc(maps.Values(s.flags), func(a, b *Flag) int { return strings.Compare(a.Key, b.Key) })
	s.etag = `"` + eventID(environment, revision) + `"`
	return s
}

// Lookup returns the live flag named key.
func (s *Snapshot) Lookup(key string) (*Flag, bool) {
	f, ok := s.flags[key]
	return f, ok
}

// Flags returns every live flag, sorted by key. The slice is shared: do not modify it.
func (s *Snapshot) Flags() []*Flag { return s.sorted }

// With returns a copy of s at revision (reached at modified) in which key is f, or is
// absent when f is nil (an archived flag).
func (s *Snapshot) With(revision int64, modified time.Time, key string, f *Flag) *Snapshot {
	flags := make(map[string]*Flag, len(s.flags)+1)
	maps.Copy(flags, s.flags)
	if f == nil {
		delete(flags, key)
	} else {
		flags[key] = f
	}
	return New(s.Environment, revision, modified, flags)
}

// ETag identifies the environment's flag configuration at this revision, quoted as an
// HTTP entity tag: the definitions snapshot's ETag, and the etag every change event for
// this revision carries. It names the environment, so that a tag of another environment
// (or of another format version) never matches.
func (s *Snapshot) ETag() string { return s.etag }

// EventID is the SSE event id of the change event announcing this revision: the ETag
// without its quotes.
func (s *Snapshot) EventID() string { return s.etag[1 : len(s.etag)-1] }

// etagFormat is the part of every ETag that changes when the definitions format does, so
// that a client never keeps a snapshot of an older format under a matching tag.
const etagFormat = "snapshotv1"

func eventID(environment string, revision int64) string {
	sum := sha256.Sum256([]byte(etagFormat + "\x00" + environment))
	return "c" + strconv.FormatInt(revision, 10) + "-" + hex.EncodeToString(sum[:4])
}

// ParseETag returns the revision an ETag (or event id) of environment names; ok is false
// for anything else: another environment's, another format's, or not one of ours.
// Surrounding quotes and a weak prefix are allowed.
func ParseETag(environment, etag string) (revision int64, ok bool) {
	etag = strings.Trim(strings.TrimPrefix(strings.TrimSpace(etag), "W/"), `"`)
	rest, found := strings.CutPrefix(etag, "c")
	if !found {
		return 0, false
	}
	num, _, found := strings.Cut(rest, "-")
	if !found {
		return 0, false
	}
	revision, err := strconv.ParseInt(num, 10, 64)
	if err != nil || revision < 0 || eventID(environment, revision) != etag {
		return 0, false
	}
	return revision, true
}

// Holder publishes the snapshot of every environment to lock-free readers. It is empty
// (not loaded) until Replace is first called. Writers must be serialized by the caller.
type Holder struct {
	envs    atomic.Pointer[map[string]*Snapshot]
	changed atomic.Pointer[chan struct{}]
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
	return New(environment, 0, time.Time{}, nil), true
}

// Changed returns a channel that is closed at the next publication (Replace or Put) of
// any environment. Take it before reading the snapshots it should tell you are stale:
// a publication between the two then still closes it.
func (h *Holder) Changed() <-chan struct{} {
	for {
		if ch := h.changed.Load(); ch != nil {
			return *ch
		}
		ch := make(chan struct{})
		if h.changed.CompareAndSwap(nil, &ch) {
			return ch
		}
	}
}

// announce wakes every waiter on Changed: constant work for the publisher, however many
// wait, so announcing never holds up a projection.
func (h *Holder) announce() {
	if ch := h.changed.Swap(nil); ch != nil {
		close(*ch)
	}
}

// Replace publishes envs as the whole set of snapshots. envs must not be modified afterwards.
func (h *Holder) Replace(envs map[string]*Snapshot) {
	if envs == nil {
		envs = map[string]*Snapshot{}
	}
	h.envs.Store(&envs)
	h.announce()
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
	h.announce()
}
