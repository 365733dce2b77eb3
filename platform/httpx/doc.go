// Package httpx is the HTTP plumbing every module's API shares: RFC 9457 problem
// responses, the one table that maps apperr kinds to statuses, strict JSON decoding with
// errors that name the field, and bearer-token authentication of admin callers.
package httpx
