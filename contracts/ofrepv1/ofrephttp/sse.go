package ofrephttp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxSSELine bounds one line of an event stream, and the data of one event, in
// the readers Watch makes: a longer one ends the stream with ErrLineTooLong.
const DefaultMaxSSELine = 64 << 10

// ErrLineTooLong is why an event stream ended whose line, or one event's data, exceeded
// the reader's limit: memory stays bounded whatever the server sends.
var ErrLineTooLong = errors.New("event stream: line or event data exceeds the limit")

// SSEEvent is one event dispatched by an SSEReader.
type SSEEvent struct {
	// ID is the stream's last event ID when the event was dispatched (an id: field sets it
	// for this and later events, as in the W3C model).
	ID string
	// Event is the event type: "message" unless an event: field named another.
	Event string
	// Data is the event's data lines joined with "\n".
	Data string
	// Retry is the reconnection time the stream asked for so far (0 if none).
	Retry time.Duration
}

// SSEReader parses a text/event-stream as the HTML Living Standard's "Server-sent events"
// section does: lines end with CRLF, LF or CR; a leading BOM is skipped; lines starting
// with ":" are comments (heartbeats); "field: value" lines with one optional space after
// the colon; several data lines join with "\n"; an id containing NUL is ignored; retry
// takes ASCII digits only; a blank line dispatches the event unless its data is empty;
// an event not ended by a blank line when the stream ends is dropped. It reads through a
// buffer, so partial reads anywhere (inside a line, between CR and LF) are fine.
type SSEReader struct {
	r       *bufio.Reader
	max     int
	started bool // the BOM check is done
	skipLF  bool // the previous line ended with CR: a following LF belongs to it

	line      []byte
	data      strings.Builder
	eventType string
	lastID    string
	retry     time.Duration
}

// NewSSEReader returns a reader of r whose lines, and each event's data, are limited to
// maxLine bytes (DefaultMaxSSELine when maxLine <= 0).
func NewSSEReader(r io.Reader, maxLine int) *SSEReader {
	if maxLine <= 0 {
		maxLine = DefaultMaxSSELine
	}
	return &SSEReader{r: bufio.NewReaderSize(r, 4096), max: maxLine}
}

// LastEventID returns the stream's last event ID so far.
func (r *SSEReader) LastEventID() string { return r.lastID }

// Retry returns the reconnection time the stream asked for so far (0 if none).
func (r *SSEReader) Retry() time.Duration { return r.retry }

// Next returns the next dispatched event. At the end of the stream it returns io.EOF
// (io.ErrUnexpectedEOF never: a partial event is simply dropped); a line over the limit
// is ErrLineTooLong; a read error is returned as it is.
func (r *SSEReader) Next() (SSEEvent, error) {
	for {
		line, err := r.readLine()
		if err != nil {
			return SSEEvent{}, err
		}
		if len(line) == 0 {
			if ev, ok := r.dispatch(); ok {
				return ev, nil
			}
			continue
		}
		if err := r.field(line); err != nil {
			return SSEEvent{}, err
		}
	}
}

// readLine returns the next line without its terminator. The slice is valid until the
// next call.
func (r *SSEReader) readLine() ([]byte, error) {
	r.line = r.line[:0]
	for {
		b, err := r.r.ReadByte()
		if err != nil {
			return nil, err // a line not ended when the stream ends is not a line
		}
		if r.skipLF {
			r.skipLF = false
			if b == '\n' {
				continue
			}
		}
		switch b {
		case '\r':
			r.skipLF = true
			return r.firstLine(), nil
		case '\n':
			return r.firstLine(), nil
		}
		if len(r.line) >= r.max {
			return nil, ErrLineTooLong
		}
		r.line = append(r.line, b)
	}
}

// firstLine strips the byte order mark the stream may start with from its first line
// (looking at the line, not ahead in the stream, so nothing waits for more bytes).
func (r *SSEReader) firstLine() []byte {
	if !r.started {
		r.started = true
		r.line = bytes.TrimPrefix(r.line, []byte("\uFEFF"))
	}
	return r.line
}

func (r *SSEReader) field(line []byte) error {
	if line[0] == ':' {
		return nil // a comment: a heartbeat, or the server saying hello
	}
	name, value := string(line), ""
	if i := strings.IndexByte(name, ':'); i >= 0 {
		name, value = name[:i], name[i+1:]
		value = strings.TrimPrefix(value, " ")
	}
	switch name {
	case "event":
		r.eventType = value
	case "data":
		if r.data.Len()+len(value)+1 > r.max {
			return ErrLineTooLong
		}
		r.data.WriteString(value)
		r.data.WriteByte('\n')
	case "id":
		if !strings.ContainsRune(value, 0) {
			r.lastID = value
		}
	case "retry":
		if ms, ok := digits(value); ok {
			r.retry = time.Duration(ms) * time.Millisecond
		}
	}
	return nil
}

func (r *SSEReader) dispatch() (SSEEvent, bool) {
	data, eventType := r.data.String(), r.eventType
	r.data.Reset()
	r.eventType = ""
	if data == "" {
		return SSEEvent{}, false
	}
	if eventType == "" {
		eventType = "message"
	}
	return SSEEvent{ID: r.lastID, Event: eventType, Data: strings.TrimSuffix(data, "\n"), Retry: r.retry}, true
}

// digits parses a retry value: ASCII digits only, at most a day's worth of milliseconds
// (a larger value is clamped: no server means to be waited on for longer).
func digits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	const day = int64(24 * time.Hour / time.Millisecond)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > day {
		return day, true
	}
	return n, true
}
