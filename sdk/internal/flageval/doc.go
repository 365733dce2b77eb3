// Package flageval resolves a flagd flag definition for one evaluation context, with the
// evaluation module's semantics: the targeting rule is compiled once by
// contracts/targeting (the engine the server runs), and the flag-level decisions around
// it (DISABLED, the code default, STATIC vs DEFAULT, TARGETING_MATCH, a variant or
// default variant the flag does not have, a rule that does not compile) follow
// modules/evaluation/internal/snapshot. A test evaluates the same definitions here and on
// a running server and compares the answers, so the two cannot drift apart silently.
//
// Evaluating a flag whose answer does not depend on the context allocates nothing.
package flageval
