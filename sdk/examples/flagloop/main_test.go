package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/switchyardhq/switchyard/sdk/internal/testenv"
)

var serverBin string

func TestMain(m *testing.M) { testenv.RunWithServer(m, &serverBin) }

func TestParseFlags(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    string
		wantErr string
	}{
		{"a", "[{a bool}]", ""},
		{"a:string, b:int,c:float,d:object", "[{a string} {b int} {c float} {d object}]", ""},
		{"a:date", "", `kind "date"`},
		{" , ", "", "no flags"},
	} {
		got, err := parseFlags(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseFlags(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != tt.want {
			t.Errorf("parseFlags(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

// TestRun runs the command against a server for a moment and reads its report.
func TestRun(t *testing.T) {
	srv := testenv.StartServer(t, serverBin)
	srv.PutFlag("new-banner", `{"state":"ENABLED","variants":{"on":true,"off":false},"defaultVariant":"on"}`)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-url", srv.URL(), "-flags", "new-banner:bool", "-users", "3",
		"-interval", "20ms", "-duration", "300ms", "-report", "1h"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"answered by", "primary=", "READY", "closed"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if err := run(context.Background(), []string{"-url", srv.URL(), "-flags", "missing:bool", "-users", "1",
		"-interval", "20ms", "-duration", "100ms"}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "failed") {
		t.Errorf("run with a missing flag: %v, want failed evaluations reported", err)
	}
	if err := run(context.Background(), []string{"-flags", "a:date"}, &stdout, &stderr); err == nil {
		t.Error("run with a bad -flags succeeded")
	}
}
