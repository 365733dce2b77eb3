//go:build command && read

package main

// The command and read tags are exclusive: a binary is the command side, the read side,
// or (with neither tag) the monolith.
const _ = "build with -tags command or -tags read, not both" + 0
