package testenv

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Mode is how a Proxy treats connections.
type Mode int

// The proxy's modes.
const (
	// Pass forwards bytes both ways.
	Pass Mode = iota
	// Down closes the listening socket: connections are refused.
	Down
	// Stall accepts connections, reads what comes and never answers.
	Stall
	// Reset accepts connections and closes them at once.
	Reset
	// HTTP500 answers every connection's first request with HTTP 500 and closes it.
	HTTP500
)

func (m Mode) String() string {
	return [...]string{"pass", "down", "stall", "reset", "http-500"}[m]
}

// Proxy is a loopback TCP proxy in front of an upstream address that injects faults.
// Changing the mode closes every open connection, so that a pooled keep-alive
// connection cannot slip past the new fault.
type Proxy struct {
	t        testing.TB
	addr     string
	mu       sync.Mutex
	ln       net.Listener // nil while Down
	upstream string
	mode     Mode
	conns    map[net.Conn]struct{}
	wg       sync.WaitGroup
	closed   bool
}

// StartProxy listens on a free loopback port and forwards to upstream ("host:port").
// It is closed when the test ends.
func StartProxy(t testing.TB, upstream string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: proxy listen: %v", err)
	}
	p := &Proxy{t: t, addr: ln.Addr().String(), upstream: upstream, conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's host:port; URL its http:// form.
func (p *Proxy) Addr() string { return p.addr }

// URL is "http://" + Addr().
func (p *Proxy) URL() string { return "http://" + p.addr }

// SetUpstream changes where new connections go.
func (p *Proxy) SetUpstream(upstream string) {
	p.mu.Lock()
	p.upstream = upstream
	p.mu.Unlock()
}

// SetMode switches the fault, closing every open connection. Setting the mode in
// force does nothing.
func (p *Proxy) SetMode(m Mode) {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || m == p.mode {
		return
	}
	for c := range p.conns {
		_ = c.Close()
	}
	p.mode = m
	switch {
	case m == Down && p.ln != nil:
		_ = p.ln.Close()
		p.ln = nil
	case m != Down && p.ln == nil:
		var ln net.Listener
		var err error
		for range 50 { // the port may linger briefly after the close
			if ln, err = net.Listen("tcp", p.addr); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			p.t.Fatalf("testenv: proxy relisten on %s: %v", p.addr, err)
		}
		p.serveLocked(ln)
	}
}

// Mode returns the current mode.
func (p *Proxy) Mode() Mode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode
}

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.closed = true
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.serveLocked(ln)
}

func (p *Proxy) serveLocked(ln net.Listener) {
	p.ln = ln
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.closed {
				p.mu.Unlock()
				_ = c.Close()
				return
			}
			mode, upstream := p.mode, p.upstream
			p.conns[c] = struct{}{}
			p.mu.Unlock()
			p.wg.Go(func() {
				defer p.forget(c)
				p.handle(c, mode, upstream)
			})
		}
	})
}

func (p *Proxy) forget(c net.Conn) {
	_ = c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *Proxy) handle(c net.Conn, mode Mode, upstream string) {
	switch mode {
	case Reset:
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		return
	case Stall:
		_, _ = io.Copy(io.Discard, c) // until the client or SetMode closes it
		return
	case HTTP500:
		buf := make([]byte, 64<<10)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _ = c.Read(buf)
		_, _ = io.WriteString(c, "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 14\r\nConnection: close\r\n\r\ninjected fault")
		return
	}
	up, err := net.DialTimeout("tcp", upstream, 2*time.Second)
	if err != nil {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // the upstream is down: the client sees a reset
		}
		return
	}
	p.mu.Lock()
	p.conns[up] = struct{}{}
	p.mu.Unlock()
	defer p.forget(up)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src) // ends when either side (or SetMode) closes
		_ = dst.Close()
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
}
