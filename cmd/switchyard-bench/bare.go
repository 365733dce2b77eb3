package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// bareCommand is the hidden subcommand that serves the baseline: the benchmark starts
// its own binary with it, so the baseline runs in a child process like switchyard does.
const bareCommand = "bare-server"

// bareBody is the baseline's constant answer: about the size of a single OFREP
// evaluation's response, so both write the same bytes.
var bareBody = []byte(`{"key":"bench-000","reason":"STATIC","variant":"on","value":true,"metadata":{"owner":"bench-team"}}`)

// newBareEcho is echo v4 with no middleware and one handler: read the request body,
// answer the constant. It is the most a handler on this machine can do, the ceiling that
// switchyard's read path is measured against.
func newBareEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.POST("/*", func(c echo.Context) error {
		if _, err := io.Copy(io.Discard, c.Request().Body); err != nil {
			return err
		}
		return c.JSONBlob(http.StatusOK, bareBody)
	})
	e.GET("/readyz", func(c echo.Context) error {
		return c.JSONBlob(http.StatusOK, []byte(`{"status":"ready"}`))
	})
	return e
}

// serveBare listens on -addr, prints the address as switchyard does, and serves until
// ctx ends (SIGINT or SIGTERM).
func serveBare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(bareCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	// The same server settings as switchyard's, so the two differ only in the handler.
	srv := &http.Server{Handler: newBareEcho(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "bare echo server listening on http://%s\n", ln.Addr())
	select {
	case err := <-serveErr:
		return fmt.Errorf("bare server: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("bare server shutdown: %w", err)
	}
	return nil
}
