// Package switchyardprovider is an OpenFeature provider (github.com/open-feature/go-sdk)
// backed by the Switchyard SDK: every evaluation goes through the SDK's layers (memory
// cache, Redis, the OFREP API, the secondary store, the last good snapshot) and never
// fails the application; on any failure OpenFeature returns the caller's default.
//
// The provider follows the SDK's health: it emits PROVIDER_READY when the primary
// answers (and, with Sync, the snapshot is current), PROVIDER_STALE when answers come
// from the secondary store or a snapshot because the primary's breaker is open or the
// snapshot cannot be refreshed, PROVIDER_ERROR when only caches and defaults are left,
// and PROVIDER_CONFIGURATION_CHANGED when the server's flags change (the change
// stream announced a new snapshot). Results keep the SDK's reasons: CACHED, STALE, and
// the evaluation's own (STATIC, TARGETING_MATCH, ...).
//
//	p, err := switchyardprovider.New(sdk.Options{BaseURL: "http://switchyard-read:8080"})
//	...
//	if err := openfeature.SetProviderAndWait(p); err != nil { ... }
//	client := openfeature.NewClient("checkout")
//	on, _ := client.BooleanValue(ctx, "new-checkout", false, openfeature.NewEvaluationContext("user-1", nil))
package switchyardprovider
