package sdk

import (
	"context"
	"sync"
)

// State is the Client's health as OpenFeature names a provider's states.
type State string

// The states of a Client.
const (
	// StateNotReady: Sync is on and the first snapshot has not been fetched or read yet.
	StateNotReady State = "NOT_READY"
	// StateReady: the primary answers (its breaker is not open) and, with Sync, the
	// last snapshot fetch succeeded.
	StateReady State = "READY"
	// StateStale: the primary's breaker is open or the snapshot cannot be refreshed, and
	// the secondary store or a snapshot answers instead (possibly out of date).
	StateStale State = "STALE"
	// StateError: only caches and the callers' defaults are left: the primary's breaker
	// is open, the secondary is absent or open, and there is no snapshot.
	StateError State = "ERROR"
)

// EventKind says what an Event reports.
type EventKind int

// The kinds of Event.
const (
	// EventStateChanged: State moved to Event.State.
	EventStateChanged EventKind = iota + 1
	// EventFlagsChanged: the server's flags changed (a new snapshot, after a change
	// notification or a poll); Event.ETag is the new snapshot's.
	EventFlagsChanged
)

// Event is a change of the Client's state or of the server's flags.
type Event struct {
	Kind    EventKind
	State   State
	Message string
	ETag    string
}

// notifier delivers Events to subscribers on its own goroutine, so that whatever
// notices a change (a breaker hook on an evaluation's goroutine, the sync loop) never
// waits for a subscriber. Signals coalesce: a subscriber sees the latest state, not
// every flicker, and one EventFlagsChanged per burst of changes.
type notifier struct {
	state  func() State
	signal chan struct{}

	mu        sync.Mutex
	subs      map[int]func(Event)
	next      int
	lastState State
	flagsETag string // pending EventFlagsChanged, "" when none
	flagsMsg  string
}

func newNotifier(state func() State) *notifier {
	return &notifier{state: state, signal: make(chan struct{}, 1), subs: map[int]func(Event){}}
}

func (n *notifier) poke() {
	select {
	case n.signal <- struct{}{}:
	default:
	}
}

func (n *notifier) flagsChanged(etag, msg string) {
	n.mu.Lock()
	n.flagsETag, n.flagsMsg = etag, msg
	n.mu.Unlock()
	n.poke()
}

func (n *notifier) subscribe(fn func(Event)) func() {
	n.mu.Lock()
	defer n.mu.Unlock()
	id := n.next
	n.next++
	n.subs[id] = fn
	return func() {
		n.mu.Lock()
		delete(n.subs, id)
		n.mu.Unlock()
	}
}

// run delivers events until ctx ends.
func (n *notifier) run(ctx context.Context) {
	n.mu.Lock()
	n.lastState = n.state()
	n.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.signal:
		}
		var events []Event
		state := n.state()
		n.mu.Lock()
		if state != n.lastState {
			events = append(events, Event{Kind: EventStateChanged, State: state, Message: "state " + string(n.lastState) + " -> " + string(state)})
			n.lastState = state
		}
		if n.flagsETag != "" {
			events = append(events, Event{Kind: EventFlagsChanged, State: state, ETag: n.flagsETag, Message: n.flagsMsg})
			n.flagsETag = ""
		}
		subs := make([]func(Event), 0, len(n.subs))
		for _, fn := range n.subs {
			subs = append(subs, fn)
		}
		n.mu.Unlock()
		for _, ev := range events {
			for _, fn := range subs {
				fn(ev)
			}
		}
	}
}
