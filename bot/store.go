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
// An entry stays until its TTL has passed or it is deleted: the Bot's
// promise to handle an event once rests on deduplication entries that are
// not evicted early (a cache that drops entries under memory pressure is
// not a Store).
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

// A RevisionStore is a Store whose entries carry revisions, for
// read-modify-write updates that several processes may race on. The Bot
// changes conversation ownership through it when its Store is one (the
// JetStream store is), so that a decision taken on a stale read — such as
// handing an idle conversation back to the bot just as another replica
// hands it to a human — is taken again instead of overwriting the newer
// state. Handlers may use it the same way for their own state.
type RevisionStore interface {
	Store
	// GetRevision returns the value of key and its revision, a number that
	// changes with every write of the key. For an absent or expired key it
	// returns an error wrapping ErrNotFound and the revision to pass to
	// Update or DeleteRevision for "still absent", which may be 0.
	GetRevision(ctx context.Context, key string) ([]byte, uint64, error)
	// Update stores value under key only if key's revision is still rev,
	// and otherwise returns an error wrapping ErrConflict. ttl <= 0 means
	// no expiry.
	Update(ctx context.Context, key string, value []byte, ttl time.Duration, rev uint64) error
	// DeleteRevision removes key only if its revision is still rev, and
	// otherwise returns an error wrapping ErrConflict.
	DeleteRevision(ctx context.Context, key string, rev uint64) error
}
