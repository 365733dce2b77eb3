package breaker

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"syscall"
)

// StatusCoder is an error that carries the HTTP status of a response; Transient
// counts it when the status is 5xx or 429.
type StatusCoder interface {
	error
	StatusCode() int
}

// Transient reports whether err says the remote side is down or overloaded, as opposed
// to the request being wrong: timeouts, connection failures, a connection cut mid
// response, HTTP 5xx and 429. A status below 500 other than 429, a validation error,
// any unrecognised error and context.Canceled do not count. A status code in err's
// chain is decisive over whatever else the chain holds.
func Transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if sc, ok := errors.AsType[StatusCoder](err); ok {
		code := sc.StatusCode()
		return code >= 500 || code == 429
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return true
	}
	if _, ok := errors.AsType[*net.OpError](err); ok {
		return true
	}
	for _, errno := range [...]syscall.Errno{
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
		syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH,
	} {
		if errors.Is(err, errno) {
			return true
		}
	}
	// net/http reports a connection the server closed before answering as a bare EOF.
	if ue, ok := errors.AsType[*url.Error](err); ok && errors.Is(ue.Err, io.EOF) {
		return true
	}
	return false
}
