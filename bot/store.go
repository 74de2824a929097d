package bot

import (
	"context"
	"time"
)

// A Store is a small key/value store with expiry for bot state: inbound
// deduplication, outbound idempotency keys, conversation ownership and
// handler state. Keys are namespaced by their owner ("dedup:", "own:",
// "echo:last:" …).
//
// Implementations must be safe for concurrent use. Whoever constructs a Store
// closes it; the Bot never does. Values passed in and returned are owned by
// the callee and the caller respectively: neither side may modify a slice
// after handing it over.
type Store interface {
	// Get returns the value of key, or an error wrapping ErrNotFound if key is
	// absent or expired.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key; ttl <= 0 means no expiry.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// SetIfAbsent stores value under key only if key is absent or expired,
	// and reports whether it did. It is atomic: of concurrent callers for one
	// key, exactly one gets true.
	SetIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	// Delete removes key; deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
}
