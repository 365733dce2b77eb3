package flagsv1

// JetStream names of the flag events (bus mode "jetstream"). Names are contract: the
// stream and its durable consumers persist on the NATS server, so renaming one strands
// the old one (and a renamed consumer starts over from the first event still stored,
// which its inbox deduplicates).
const (
	// Stream is the JetStream stream that stores Topic.
	Stream = "SWITCHYARD_FLAGS_V1"
	// StreamSubject is the NATS subject Topic is published on: the topic itself.
	StreamSubject = Topic
)

// Durable JetStream consumer names of the consumers of Topic. Each is its consumer name
// (above) with every character that NATS forbids in a durable name replaced by "_"
// (bus.DurableName); replicas of a module share the durable, so each event is processed
// once per consumer per deployment.
const (
	DurableEvaluationProjection = "evaluation_flag-projection"
	DurableAuditTimeline        = "audit_flag-timeline"
)
