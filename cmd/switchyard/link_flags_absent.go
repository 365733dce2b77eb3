//go:build read

package main

import "github.com/jmoiron/sqlx"

const flagsLinked = false

func newFlags(*sqlx.DB, moduleDeps, dispatcher) (commandModule, error) { return nil, nil }
