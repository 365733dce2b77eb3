// Package contracts is the only code Switchyard's modules share: versioned event types,
// topic and consumer names, HTTP DTOs, and (under pacts/) the consumer-driven contracts
// that pin them. A module may import contracts; contracts imports no module.
//
// Renaming anything exported below a versioned package (flagsv1, ofrepv1) is a breaking
// change: add a new version instead.
package contracts
