package ofrephttp_test

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/switchyardhq/switchyard/contracts/ofrepv1/ofrephttp"
)

func TestSSEReader(t *testing.T) {
	msg := func(id, data string) ofrephttp.SSEEvent {
		return ofrephttp.SSEEvent{ID: id, Event: "message", Data: data}
	}
	tests := []struct {
		name      string
		in        string
		maxLine   int
		want      []ofrephttp.SSEEvent
		wantErr   error // after the events
		wantRetry time.Duration
		wantID    string
	}{
		{name: "one event", in: "data: hello\n\n", want: []ofrephttp.SSEEvent{msg("", "hello")}},
		{name: "multi-line data joins with LF", in: "data: a\ndata: b\ndata\ndata:c\n\n", want: []ofrephttp.SSEEvent{msg("", "a\nb\n\nc")}},
		{name: "CRLF", in: "id: 1\r\ndata: x\r\n\r\ndata: y\r\n\r\n", want: []ofrephttp.SSEEvent{msg("1", "x"), msg("1", "y")}, wantID: "1"},
		{name: "CR alone", in: "data: x\r\rdata: y\r\r", want: []ofrephttp.SSEEvent{msg("", "x"), msg("", "y")}},
		{name: "mixed line ends", in: "data: a\r\ndata: b\rdata: c\n\r\n", want: []ofrephttp.SSEEvent{msg("", "a\nb\nc")}},
		{name: "comments and heartbeats are not events", in: ": connected\n\n:\n\n: ping\ndata: x\n: inside\n\n",
			want: []ofrephttp.SSEEvent{msg("", "x")}},
		{name: "named event", in: "event: update\ndata: x\n\ndata: y\n\n",
			want: []ofrephttp.SSEEvent{{Event: "update", Data: "x"}, msg("", "y")}},
		{name: "only one leading space is stripped", in: "data:  two\n\n", want: []ofrephttp.SSEEvent{msg("", " two")}},
		{name: "colon in the value", in: "data: {\"a\":\"b:c\"}\n\n", want: []ofrephttp.SSEEvent{msg("", `{"a":"b:c"}`)}},
		{name: "id persists and may be reset to empty", in: "id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n",
			want: []ofrephttp.SSEEvent{msg("7", "a"), msg("7", "b"), msg("", "c")}},
		{name: "id with NUL is ignored", in: "id: 1\n\nid: a\x00b\ndata: x\n\n", want: []ofrephttp.SSEEvent{msg("1", "x")}, wantID: "1"},
		{name: "id without data sets the id but dispatches nothing", in: "id: 9\n\n", wantID: "9"},
		{name: "no data line, no event", in: "event: x\n\nid: 2\n\n", wantID: "2"},
		{name: "an empty data line is an event with empty data", in: "data\n\n", want: []ofrephttp.SSEEvent{msg("", "")}},
		{name: "retry digits only", in: "retry: 3000\n\nretry: 3.5\nretry: -1\nretry: soon\ndata: x\n\n",
			want: []ofrephttp.SSEEvent{{Event: "message", Data: "x", Retry: 3 * time.Second}}, wantRetry: 3 * time.Second},
		{name: "huge retry is clamped to a day", in: "retry: 99999999999999999999999\n\n", wantRetry: 24 * time.Hour},
		{name: "unknown fields ignored", in: "foo: bar\ndata: x\n\n", want: []ofrephttp.SSEEvent{msg("", "x")}},
		{name: "leading BOM skipped", in: "\uFEFFdata: x\n\n", want: []ofrephttp.SSEEvent{msg("", "x")}},
		{name: "BOM only at the very start", in: "data: a\n\n\uFEFFdata: b\n\n", want: []ofrephttp.SSEEvent{msg("", "a")}},
		{name: "an event not ended by a blank line is dropped", in: "data: a\n\ndata: b\n", want: []ofrephttp.SSEEvent{msg("", "a")}},
		{name: "a line not ended is dropped", in: "data: a\n\ndata: b", want: []ofrephttp.SSEEvent{msg("", "a")}},
		{name: "oversized line", in: "data: " + strings.Repeat("x", 100) + "\n\n", maxLine: 64, wantErr: ofrephttp.ErrLineTooLong},
		{name: "oversized comment", in: ":" + strings.Repeat("x", 100) + "\n\n", maxLine: 64, wantErr: ofrephttp.ErrLineTooLong},
		{name: "oversized event over short lines", in: strings.Repeat("data: 0123456789\n", 10) + "\n", maxLine: 64, wantErr: ofrephttp.ErrLineTooLong},
		{name: "events before an oversized line arrive", in: "data: ok\n\ndata: " + strings.Repeat("x", 100) + "\n\n", maxLine: 64,
			want: []ofrephttp.SSEEvent{msg("", "ok")}, wantErr: ofrephttp.ErrLineTooLong},
		{name: "a line at the limit is fine", in: "data: " + strings.Repeat("x", 58) + "\n\n", maxLine: 64,
			want: []ofrephttp.SSEEvent{msg("", strings.Repeat("x", 58))}},
	}
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"one byte per read", iotest.OneByteReader},
		{"half per read", iotest.HalfReader},
	}
	for _, tt := range tests {
		for _, rd := range readers {
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				r := ofrephttp.NewSSEReader(rd.wrap(strings.NewReader(tt.in)), tt.maxLine)
				var got []ofrephttp.SSEEvent
				var err error
				for {
					var ev ofrephttp.SSEEvent
					if ev, err = r.Next(); err != nil {
						break
					}
					got = append(got, ev)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("events = %#v\nwant %#v", got, tt.want)
				}
				wantErr := tt.wantErr
				if wantErr == nil {
					wantErr = io.EOF
				}
				if !errors.Is(err, wantErr) {
					t.Fatalf("final error = %v, want %v", err, wantErr)
				}
				if r.Retry() != tt.wantRetry || (tt.wantID != "" && r.LastEventID() != tt.wantID) {
					t.Fatalf("Retry() = %v, LastEventID() = %q; want %v, %q", r.Retry(), r.LastEventID(), tt.wantRetry, tt.wantID)
				}
			})
		}
	}
}

// TestSSEReaderDoesNotWaitAfterCR checks that an event ended by CR CR is dispatched at
// once: the reader must not read ahead to see whether an LF follows.
func TestSSEReaderDoesNotWaitAfterCR(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	r := ofrephttp.NewSSEReader(pr, 0)
	go func() { _, _ = pw.Write([]byte("data: x\r\r")) }()
	got := make(chan ofrephttp.SSEEvent, 1)
	go func() {
		ev, err := r.Next()
		if err == nil {
			got <- ev
		}
	}()
	select {
	case ev := <-got:
		if ev.Data != "x" {
			t.Fatalf("event data %q, want x", ev.Data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the event ended by CR CR was not dispatched before more bytes came")
	}
	// The LF that may follow a CR belongs to that line: it must not count as a blank line.
	go func() { _, _ = pw.Write([]byte("\ndata: y\n\n")) }()
	ev, err := r.Next()
	if err != nil || ev.Data != "y" {
		t.Fatalf("next event = %+v, %v; want data y", ev, err)
	}
}
