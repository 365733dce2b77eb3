//go:build integration

package e2e

import (
	"testing"

	"github.com/switchyardhq/switchyard/e2e/suite"
)

// TestSuiteOnEveryShape runs the one e2e suite (README walk-through, bad input on every
// endpoint, the change stream an SDK follows) unchanged against each deployment shape, as real child processes of the
// built binaries on PostgreSQL: the monolith, and the split command + read processes,
// each with the sync and the async bus.
func TestSuiteOnEveryShape(t *testing.T) {
	shapes := []struct {
		name   string
		deploy func(t *testing.T) suite.Deployment
	}{
		{"monolith/sync", func(t *testing.T) suite.Deployment {
			_, dsn, _ := database(t)
			p := start(t, binary(t), dsn)
			return deployment(p, p, true)
		}},
		{"monolith/async", func(t *testing.T) suite.Deployment {
			_, dsn, _ := database(t)
			p := start(t, binary(t), dsn, "SWITCHYARD_BUS=async")
			return deployment(p, p, false)
		}},
		{"split/sync (HTTP push)", func(t *testing.T) suite.Deployment {
			_, dsn, _ := database(t)
			read := start(t, binaryWithTags(t, "read"), dsn, "SWITCHYARD_PUSH_TOKENS=command:"+pushToken)
			command := start(t, binaryWithTags(t, "command"), dsn,
				"SWITCHYARD_PUSH_URL="+read.base, "SWITCHYARD_PUSH_TOKEN="+pushToken)
			return deployment(command, read, true)
		}},
		{"split/async (NATS)", func(t *testing.T) suite.Deployment {
			_, dsn, _ := database(t)
			nats := startNATS(t)
			extra := []string{"SWITCHYARD_BUS=async", "SWITCHYARD_NATS_URL=" + nats.url()}
			read := start(t, binaryWithTags(t, "read"), dsn, extra...)
			command := start(t, binaryWithTags(t, "command"), dsn, extra...)
			return deployment(command, read, false)
		}},
	}
	for _, shape := range shapes {
		t.Run(shape.name, func(t *testing.T) {
			d := shape.deploy(t)
			t.Run("walkthrough", func(t *testing.T) { suite.Walkthrough(t, d) })
			t.Run("bad input", func(t *testing.T) { suite.BadInput(t, d) })
			t.Run("change stream", func(t *testing.T) { suite.ChangeStream(t, d) })
		})
	}
}

// deployment is command and read as the suite addresses them (the same process for the
// monolith).
func deployment(command, read *process, sync bool) suite.Deployment {
	return suite.Deployment{Command: command.base, Read: read.base, Token: adminToken, Actor: "e2e", Sync: sync}
}
