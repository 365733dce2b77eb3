package sdk_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/switchyardhq/switchyard/sdk"
)

func TestNewRejectsBadOptions(t *testing.T) {
	const url = "http://127.0.0.1:1"
	for _, tt := range []struct {
		name string
		opts sdk.Options
		want []string
	}{
		{"no base URL", sdk.Options{}, []string{"BaseURL is required"}},
		{"relative base URL", sdk.Options{BaseURL: "switchyard:8080"}, []string{`BaseURL "switchyard:8080" must be an absolute http or https URL`}},
		{"bad header", sdk.Options{BaseURL: url, Headers: map[string]string{"Bad Header": "x"}}, []string{`invalid header name "Bad Header"`}},
		{"negative cache settings", sdk.Options{BaseURL: url, Cache: sdk.CacheOptions{TTL: -time.Second, MaxStale: -1, MaxEntries: -3}},
			[]string{"Cache.TTL must not be negative, got -1s", "Cache.MaxStale must not be negative", "Cache.MaxEntries must not be negative, got -3"}},
		{"redis client and URL", sdk.Options{BaseURL: url, Redis: sdk.RedisOptions{URL: "redis://x:6379", Client: redisClientForOptions(t)}},
			[]string{"Redis: set Client or URL, not both"}},
		{"bad redis URL", sdk.Options{BaseURL: url, Redis: sdk.RedisOptions{URL: "http://x"}}, []string{"Redis.URL:"}},
		{"negative redis TTL", sdk.Options{BaseURL: url, Redis: sdk.RedisOptions{URL: "redis://x:6379", TTL: -time.Second}}, []string{"Redis.TTL must not be negative"}},
		{"max cooldown below cooldown", sdk.Options{BaseURL: url, Primary: sdk.BreakerOptions{Cooldown: 2 * time.Second, MaxCooldown: time.Second}},
			[]string{"Primary.MaxCooldown 1s is below Primary.Cooldown 2s"}},
		{"negative breaker durations", sdk.Options{BaseURL: url, Secondary: sdk.SecondaryOptions{Breaker: sdk.BreakerOptions{CallTimeout: -1, Cooldown: -time.Second}}},
			[]string{"Secondary.Breaker.CallTimeout must not be negative", "Secondary.Breaker.Cooldown must not be negative"}},
		{"redis breaker", sdk.Options{BaseURL: url, Redis: sdk.RedisOptions{Breaker: sdk.BreakerOptions{MaxCooldown: time.Second, Cooldown: time.Minute}}},
			[]string{"Redis.Breaker.MaxCooldown 1s is below Redis.Breaker.Cooldown 1m0s"}},
		{"bad DSN", sdk.Options{BaseURL: url, Secondary: sdk.SecondaryOptions{PostgresDSN: "postgres://x:y@h:notaport/db"}}, []string{"Secondary.PostgresDSN:"}},
		{"sync durations", sdk.Options{BaseURL: url, Sync: sdk.SyncOptions{Enabled: true, PollInterval: -1, ReconnectMin: time.Minute, ReconnectMax: time.Second}},
			[]string{"Sync.PollInterval must not be negative", "Sync.ReconnectMax 1s is below Sync.ReconnectMin 1m0s"}},
		{"files without sync", sdk.Options{BaseURL: url, Sync: sdk.SyncOptions{SnapshotFile: "/tmp/x"}},
			[]string{"Sync.SnapshotFile and Sync.BootstrapFile need Sync.Enabled or LocalEvaluation"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := sdk.New(tt.opts)
			if err == nil {
				_ = c.Close()
				t.Fatal("New accepted the options")
			}
			if !errors.Is(err, sdk.ErrInvalidOptions) {
				t.Errorf("error %v does not wrap ErrInvalidOptions", err)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestOptionsDefaults(t *testing.T) {
	c := newClient(t, sdk.Options{BaseURL: "http://127.0.0.1:1", LocalEvaluation: true})
	o := c.Options()
	type check struct {
		name      string
		got, want any
	}
	checks := []check{
		{"Cache.TTL", o.Cache.TTL, 30 * time.Second},
		{"Cache.MaxEntries", o.Cache.MaxEntries, 10_000},
		{"Cache.MaxStale", o.Cache.MaxStale, 24 * time.Hour},
		{"Redis.KeyPrefix", o.Redis.KeyPrefix, "switchyard:sdk:"},
		{"Redis.TTL", o.Redis.TTL, 60 * time.Second},
		{"Redis.Breaker.CallTimeout", o.Redis.Breaker.CallTimeout, time.Second},
		{"Primary.CallTimeout", o.Primary.CallTimeout, 5 * time.Second},
		{"Secondary.Breaker.CallTimeout", o.Secondary.Breaker.CallTimeout, 2 * time.Second},
		{"Secondary.Schema", o.Secondary.Schema, "evaluation"},
		{"Secondary.Environment", o.Secondary.Environment, "development"},
		{"Sync.Enabled (LocalEvaluation)", o.Sync.Enabled, true},
		{"Sync.PollInterval", o.Sync.PollInterval, 30 * time.Second},
		{"Sync.CoalesceWindow", o.Sync.CoalesceWindow, 250 * time.Millisecond},
		{"Sync.ReconnectMin", o.Sync.ReconnectMin, time.Second},
		{"Sync.ReconnectMax", o.Sync.ReconnectMax, 30 * time.Second},
	}
	for _, b := range []struct {
		layer string
		o     sdk.BreakerOptions
	}{{"Primary", o.Primary}, {"Redis.Breaker", o.Redis.Breaker}, {"Secondary.Breaker", o.Secondary.Breaker}} {
		checks = append(checks,
			check{b.layer + ".TripAfter", b.o.TripAfter, uint32(4)},
			check{b.layer + ".Cooldown", b.o.Cooldown, 15 * time.Second},
			check{b.layer + ".MaxCooldown", b.o.MaxCooldown, 60 * time.Second},
			check{b.layer + ".HalfOpenProbes", b.o.HalfOpenProbes, uint32(1)},
			check{b.layer + ".Counts set", b.o.Counts != nil, true},
		)
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	long := newClient(t, sdk.Options{BaseURL: "http://127.0.0.1:1", Primary: sdk.BreakerOptions{Cooldown: 2 * time.Minute}})
	if got := long.Options().Primary.MaxCooldown; got != 2*time.Minute {
		t.Errorf("MaxCooldown with a 2m Cooldown = %s, want 2m (no growth)", got)
	}
}
