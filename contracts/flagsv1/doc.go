// Package flagsv1 is version 1 of the flags module's published language: the flagd
// flag definition it stores and the events it emits when a definition changes.
//
// Every event carries the complete new definition and the previous one, so a consumer
// never has to call back into the flags module: the evaluation module projects After,
// the audit module records Before and After.
package flagsv1
