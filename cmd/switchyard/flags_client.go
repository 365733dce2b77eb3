package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/switchyardhq/switchyard/contracts/flagsv1"
)

// adminClient calls the admin API with a bearer token.
type adminClient struct {
	base, token string
	http        *http.Client
}

type adminResponse struct {
	status int
	body   []byte
}

func (c *adminClient) do(ctx context.Context, method, path string, body []byte, headers map[string]string) (adminResponse, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return adminResponse{}, fmt.Errorf("flags: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return adminResponse{}, fmt.Errorf("flags: %s %s: %w", method, c.base+path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return adminResponse{}, fmt.Errorf("flags: read answer of %s %s: %w", method, path, err)
	}
	return adminResponse{status: resp.StatusCode, body: b}, nil
}

// problem is an application/problem+json answer, with the flags module's extensions.
type problem struct {
	Title  string `json:"title"`
	Detail string `json:"detail"`
	Field  string `json:"field"`
	Errors []struct {
		Field  string `json:"field"`
		Detail string `json:"detail"`
	} `json:"errors"`
	Plan *flagsv1.ImportPlan `json:"plan"`
}

// report prints the problem (every error with its field) and returns the error to exit with.
func (p problem) report(w io.Writer, what string, resp adminResponse) error {
	switch {
	case len(p.Errors) > 0:
		for _, e := range p.Errors {
			fmt.Fprintf(w, "error: %s: %s\n", e.Field, e.Detail)
		}
	case p.Field != "":
		fmt.Fprintf(w, "error: %s: %s\n", p.Field, p.Detail)
	case p.Detail != "":
		fmt.Fprintf(w, "error: %s\n", p.Detail)
	default:
		fmt.Fprintf(w, "error: %s\n", bytes.TrimSpace(resp.body))
	}
	if p.Title == "" {
		p.Title = http.StatusText(resp.status)
	}
	return fmt.Errorf("flags %s: the server answered %d %s", what, resp.status, p.Title)
}
