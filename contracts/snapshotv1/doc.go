// Package snapshotv1 is version 1 of Switchyard's definitions snapshot: every live flag of
// an environment as the evaluation module holds it, in the flagd flag-file format
// ({"flags", "$evaluators", "metadata"}) plus the environment and its revision. The
// evaluation module serves it at Path; SDKs fetch it (with If-None-Match) to evaluate
// in-process with contracts/targeting and to keep a last-good copy on disk.
//
// Semantics a local evaluator must follow to answer as the server does (contracts/flageval
// implements them: flageval.Compile(key, s.Flags[key], s.Evaluators), then Evaluate):
//
//   - Flags holds every live flag whose state is ENABLED or DISABLED, definitions exactly
//     as the flags module stored them (variant values and targeting as raw JSON).
//   - Evaluators are the environment's shared rules that the flags' targeting references
//     with {"$ref": name}; compile each flag's targeting with them.
//   - Metadata is the flag set's metadata: a result's metadata is Metadata with the flag's
//     own metadata laid over it (the flag's keys win).
//
// ETag and change notifications: the response's ETag header is the snapshot's identity
// (revision based, quoted). The change events of the OFREP event stream carry the same
// value as their etag (ofrepv1.ChangeEvent.ETag), so a client holding the snapshot with
// that ETag is current and needs no refetch; any other value means fetch again (with
// If-None-Match, answered 304 when nothing changed in between).
//
// Version 1 only ever gains optional fields; Decode ignores fields it does not know.
package snapshotv1
