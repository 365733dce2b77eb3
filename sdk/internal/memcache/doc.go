// Package memcache is the SDK's in-process cache: a size-bounded LRU whose entries are
// fresh for a TTL and then kept, expired, so that they can still be served as stale
// when every remote layer fails (stale-if-error), until MaxStale has passed or the
// least recently used entries make room for new ones.
package memcache
