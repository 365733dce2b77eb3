package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"

	"github.com/switchyardhq/switchyard/platform/breaker"
)

type statusError struct{ code int }

func (e statusError) Error() string   { return fmt.Sprintf("HTTP %d", e.code) }
func (e statusError) StatusCode() int { return e.code }

type timeoutError struct{ timeout bool }

func (e timeoutError) Error() string   { return "i/o" }
func (e timeoutError) Timeout() bool   { return e.timeout }
func (e timeoutError) Temporary() bool { return false }

func TestTransient(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"deadline exceeded", context.DeadlineExceeded, true},
		{"wrapped deadline exceeded", fmt.Errorf("push: %w", context.DeadlineExceeded), true},
		{"canceled", context.Canceled, false},
		{"canceled inside url error", &url.Error{Op: "Post", URL: "http://read", Err: context.Canceled}, false},
		{"net timeout", timeoutError{timeout: true}, true},
		{"net error, not a timeout", timeoutError{timeout: false}, false},
		{"dial refused", dial, true},
		{"dial refused inside url error", &url.Error{Op: "Post", URL: "http://read", Err: dial}, true},
		{"connection refused errno", fmt.Errorf("push: %w", syscall.ECONNREFUSED), true},
		{"connection reset errno", syscall.ECONNRESET, true},
		{"broken pipe", os.NewSyscallError("write", syscall.EPIPE), true},
		{"unexpected EOF", fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), true},
		{"server closed the connection", &url.Error{Op: "Post", URL: "http://read", Err: io.EOF}, true},
		{"bare EOF", io.EOF, false},
		{"HTTP 500", statusError{500}, true},
		{"HTTP 503 wrapped", fmt.Errorf("push: %w", statusError{503}), true},
		{"HTTP 429", statusError{429}, true},
		{"HTTP 400", statusError{400}, false},
		{"HTTP 404", statusError{404}, false},
		{"HTTP 422", fmt.Errorf("push: %w", statusError{422}), false},
		{"status decides over a deadline in the chain", errors.Join(statusError{400}, context.DeadlineExceeded), false},
		{"validation error", errors.New("flag key must not be empty"), false},
		{"breaker open", fmt.Errorf("breaker %q: %w", "x", breaker.ErrOpen), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := breaker.Transient(tt.err); got != tt.want {
				t.Errorf("Transient(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
