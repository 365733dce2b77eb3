// Package targeting is Switchyard's flagd targeting engine: it compiles a flag's
// targeting rule (JsonLogic plus flagd's fractional, sem_ver, starts_with, ends_with and
// $ref to $evaluators) once into a tree of typed nodes, and evaluates that tree against
// an evaluation context many times. The read module evaluates with it, and the Go SDK's
// local-evaluation mode will too, which is why it lives in contracts/ and imports only
// the standard library.
//
// # Why our own evaluator
//
//   - Correctness against flagd's exact semantics. The Go JsonLogic libraries disagree
//     with flagd where it matters to us: fractional's bucket projection, sem_ver's v
//     prefix, shorthands and numeric operands, custom operators that make the rule null
//     on bad input, $flagd injection, and what a non-string result means. The engine is
//     checked against flagd-testbed's evaluator scenarios (testdata/flagd_testbed.json).
//   - Compile once. Rules are parsed, checked ($ref resolved, unknown operators, arity,
//     non-integer fractional weights, bad sem_ver operators) when a flag is written, so a
//     broken rule is rejected with a JSON path instead of failing every evaluation.
//   - Zero-allocation hot path. Evaluation reads the caller's decoded context in place,
//     hashes flagKey+targetingKey (or a cat of parts) without building the string, and
//     reuses its per-evaluation state; BenchmarkEvaluate* show 0 allocs/op for static,
//     three-clause, fractional and $ref rules.
//
// # Semantics
//
// Standard operators follow JsonLogic's reference implementation (json-logic-js), which
// every flagd provider's library tracks: JavaScript truthiness except that [] is falsy;
// == and != are JavaScript's loose equality, === and !== strict; "and"/"or" return the
// deciding value; < and <= take a third argument for "between" (> and >= take exactly
// two); "in" is substring search on a string and strict membership in an array; "+" and
// "*" read numbers with parseFloat, the others with Number(); cat and substr use
// JavaScript's String() and UTF-16 units. "var" takes a dotted path and a default; ""
// or no path is the whole data; a missing or null value yields the default.
//
// flagd's additions, and where flagd wins over plain JsonLogic:
//
//   - $flagd.flagKey and $flagd.timestamp (unix seconds) are injected under the context
//     key "$flagd", replacing any caller-supplied "$flagd", exactly as flagd does.
//   - fractional: [bucketBy?, [variant, weight?]...]. Without bucketBy (or when it is
//     null) the hash input is flagKey+targetingKey; a missing or non-string targetingKey
//     makes the rule null (flagd resolves the default variant, reason DEFAULT; it does
//     not report TARGETING_KEY_MISSING). The weight defaults to 1, must be an integer,
//     a negative weight counts as 0, and weights may be computed. The bucket is
//     (murmur3_x86_32(input) * totalWeight) >> 32 against cumulative weights (flagd's
//     "v2" projection); all-zero weights make the rule null. Variants and weights may be
//     nested expressions; only the chosen bucket's variant is evaluated.
//   - sem_ver: "=", "!=", "<", "<=", ">", ">=", "~" (same major.minor), "^" (same
//     major); SemVer 2.0.0 precedence with an optional v/V prefix, "1" and "1.2" as
//     shorthands, build metadata ignored, and numeric operands (1.2 means "1.2").
//   - starts_with/ends_with take two strings.
//   - Custom operator errors (an operand of the wrong type, an unparsable version, no
//     bucketing value, zero total weight) make the whole rule null, so the flag falls
//     back to its default variant with reason DEFAULT. In plain JsonLogic a null
//     condition would take the else branch instead; flagd-testbed's operator-errors
//     scenarios require the default variant.
//   - Results: a string names a variant; true/false name the variants "true"/"false";
//     a number names the variant spelled like it (1 -> "1"); null is NoMatch. An array
//     or object is an EvalError GENERAL (flagd finds no such variant). flagd reports
//     TARGETING_MATCH for fractional choices too, never SPLIT.
//   - Rules flagd accepts and resolves to the default at every evaluation are rejected
//     at compile time instead: unknown operators, wrong argument counts, a $ref to a
//     missing evaluator or a $ref cycle, non-integer literal weights, a literal sem_ver
//     operator outside the list, an operation object with more than one key.
//
// Known differences from flagd's Go library (diegoholiveira/jsonlogic), which flagd's
// in-process providers in other languages do not share either: its "and" returns the
// largest number of a numeric argument list, its "cat" writes null as "", and its ">"
// and ">=" accept a third argument. We follow json-logic-js there.
//
// Evaluation never panics and is bounded: rules are capped at 64 levels and 100,000
// operations (shared evaluators count at each use), and map/filter/reduce/all/some/none
// charge a step budget per element visited.
package targeting
