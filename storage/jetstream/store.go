package jetstream

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/parleybot/parley/bot"
)

// Defaults of a Store's bucket.
const (
	// DefaultMarkerTTL is how long the bucket keeps the marker left by a
	// Delete or by the server's removal of an expired key.
	DefaultMarkerTTL = time.Minute
)

// Stored value layout; see Store.
const (
	valueVersion = 1
	headerLen    = 1 + 8 // version byte, big-endian expiry in unix nanoseconds
)

// keyPrefix is put before every encoded key, so that the empty bot.Store
// key still maps to a valid (non-empty) NATS KV key.
const keyPrefix = "k"

// errMalformed is wrapped by Get and SetIfAbsent when a bucket entry was not
// written by a Store.
var errMalformed = errors.New("jetstream: malformed store entry")

// A Store is a [bot.Store] on a NATS JetStream key/value bucket, shared by
// every process that opens the same bucket on the same NATS system. Create
// one with [NewStore].
//
// # Keys
//
// A bot.Store key is an arbitrary string, but a NATS KV key may hold only
// the characters [-/_=.a-zA-Z0-9]. Each key is therefore stored as "k"
// followed by the unpadded base64url encoding (RFC 4648 §5) of its bytes:
// "dedup:x" is stored as "kZGVkdXA6eA". The encoding is one-to-one and
// [EncodeKey] and [DecodeKey] convert between the two forms (for use with
// the nats CLI, for example). Encoding makes a key a third longer; keys are
// subjects on the wire, so keep them well under a few kilobytes.
//
// # Values and expiry
//
// A stored value is a 9-byte header followed by the caller's bytes: a
// version byte (1) and the entry's expiry as big-endian unix nanoseconds
// (0 for none), taken from the writer's clock. Get and SetIfAbsent treat an
// entry whose expiry has passed as absent, so expiry is exact to the
// clocks of the processes involved (keep them synchronized, for example
// with NTP, when several replicas share a bucket).
//
// Storage is reclaimed by the server: an entry written with a TTL is also
// published with a per-message TTL (the Nats-TTL header; the bucket is
// created with LimitMarkerTTL, which needs nats-server 2.11 or later) of
// the TTL rounded up to whole seconds plus one second, after which the
// server removes it. The extra second keeps the server from removing an
// entry before its writer's deadline when clocks differ slightly.
//
// # Atomicity
//
// SetIfAbsent uses the bucket's compare-and-set: KV Create for an absent or
// deleted key, and for an entry that has expired but is still stored, a
// publish that expects the entry's revision to be the subject's last. Of
// concurrent callers, on one process or many, exactly one succeeds; a loser
// re-reads the key and reports false once it sees a live entry.
//
// Delete purges the key, leaving a marker that the server removes after
// the bucket's marker TTL ([WithMarkerTTL]).
//
// Set and the expired-entry path of SetIfAbsent publish to the bucket's
// subject "$KV.<bucket>.<key>" directly (the KV API has no TTL on Put or
// Update), so a Store does not support buckets reached through a JetStream
// domain or API prefix, nor mirrored buckets.
//
// Values are limited by the server's max_payload (1 MiB by default) minus
// the header. A Store holds no goroutines or resources of its own: closing
// the *nats.Conn behind its JetStream context is the caller's job.
type Store struct {
	js        jetstream.JetStream
	kv        jetstream.KeyValue
	subject   string // "$KV.<bucket>.": prefix of the bucket's subjects
	markerTTL time.Duration

	// aged: entries are written without a per-message TTL and reclaimed
	// by the bucket's maximum age instead (a Broker's own bucket; see
	// Broker.retain). The expiry in each value is enforced on read either
	// way.
	aged bool
}

var _ bot.Store = (*Store)(nil)

// A StoreOption configures the bucket [NewStore] creates. Options have no
// effect when the bucket exists already.
type StoreOption func(*storeOptions)

type storeOptions struct {
	replicas    int
	storage     jetstream.StorageType
	markerTTL   time.Duration
	description string
}

// WithReplicas sets the number of replicas of a new bucket in a clustered
// NATS system (default 1).
func WithReplicas(n int) StoreOption {
	return func(o *storeOptions) { o.replicas = n }
}

// WithMemoryStorage keeps a new bucket in the server's memory instead of
// on disk, so its contents do not survive a server restart. Useful for
// tests.
func WithMemoryStorage() StoreOption {
	return func(o *storeOptions) { o.storage = jetstream.MemoryStorage }
}

// WithMarkerTTL sets how long a new bucket keeps the markers left by
// deletes and by expiry (default [DefaultMarkerTTL]; at least a second).
func WithMarkerTTL(d time.Duration) StoreOption {
	return func(o *storeOptions) { o.markerTTL = d }
}

// WithDescription sets the description of a new bucket.
func WithDescription(s string) StoreOption {
	return func(o *storeOptions) { o.description = s }
}

// NewStore returns a Store on the KV bucket named bucket, binding to it if
// it exists and creating it otherwise (with history 1, file storage unless
// [WithMemoryStorage], and per-key TTLs enabled). An existing bucket must
// have been created with LimitMarkerTTL set (as NewStore creates it), or
// NewStore fails: per-key TTLs depend on it.
//
// Bucket names may hold only [-_a-zA-Z0-9].
func NewStore(ctx context.Context, js jetstream.JetStream, bucket string, opts ...StoreOption) (*Store, error) {
	o := storeOptions{replicas: 1, storage: jetstream.FileStorage, markerTTL: DefaultMarkerTTL}
	for _, opt := range opts {
		opt(&o)
	}
	if o.markerTTL < time.Second {
		return nil, fmt.Errorf("jetstream: NewStore: marker TTL %v is under a second", o.markerTTL)
	}
	kv, err := js.KeyValue(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:         bucket,
			Description:    o.description,
			History:        1,
			Storage:        o.storage,
			Replicas:       o.replicas,
			LimitMarkerTTL: o.markerTTL,
		})
		if errors.Is(err, jetstream.ErrBucketExists) {
			// Another process created it meanwhile.
			kv, err = js.KeyValue(ctx, bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("jetstream: NewStore: bucket %q: %w", bucket, err)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("jetstream: NewStore: bucket %q: status: %w", bucket, err)
	}
	markerTTL := st.LimitMarkerTTL()
	if markerTTL <= 0 {
		return nil, fmt.Errorf("jetstream: NewStore: bucket %q has no LimitMarkerTTL, so per-key TTLs are disabled; recreate it", bucket)
	}
	return &Store{
		js:        js,
		kv:        kv,
		subject:   "$KV." + bucket + ".",
		markerTTL: markerTTL,
	}, nil
}

// KeyValue returns the bucket behind the Store.
func (s *Store) KeyValue() jetstream.KeyValue { return s.kv }

// Get returns the value of key, or an error wrapping [bot.ErrNotFound] if
// key is absent, deleted or expired. The returned slice is the caller's.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	e, err := s.kv.Get(ctx, EncodeKey(key))
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, fmt.Errorf("jetstream: get %q: %w", key, bot.ErrNotFound)
		}
		return nil, fmt.Errorf("jetstream: get %q: %w", key, err)
	}
	payload, exp, err := decodeValue(e.Value())
	if err != nil {
		return nil, fmt.Errorf("jetstream: get %q: %w", key, err)
	}
	if expired(exp, time.Now()) {
		return nil, fmt.Errorf("jetstream: get %q: %w", key, bot.ErrNotFound)
	}
	if len(payload) == 0 {
		return nil, nil
	}
	return payload, nil // a fresh slice from the response: not shared
}

// Set stores value under key, replacing any previous value and expiry;
// ttl <= 0 means no expiry.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	data := encodeValue(value, expiry(time.Now(), ttl))
	if err := s.publish(ctx, EncodeKey(key), data, ttl); err != nil {
		return fmt.Errorf("jetstream: set %q: %w", key, err)
	}
	return nil
}

// SetIfAbsent stores value under key only if key is absent, deleted or
// expired, and reports whether it did; ttl <= 0 means no expiry. Of
// concurrent callers for one key exactly one gets true.
func (s *Store) SetIfAbsent(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	ok, err := s.setIfAbsent(ctx, EncodeKey(key), value, ttl)
	if err != nil {
		return false, fmt.Errorf("jetstream: set-if-absent %q: %w", key, err)
	}
	return ok, nil
}

func (s *Store) setIfAbsent(ctx context.Context, k string, value []byte, ttl time.Duration) (bool, error) {
	var createOpts []jetstream.KVCreateOpt
	if ttl > 0 && !s.aged {
		createOpts = append(createOpts, jetstream.KeyTTL(serverTTL(ttl)))
	}
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		// The expiry is computed per attempt: a retry is a new write.
		data := encodeValue(value, expiry(time.Now(), ttl))
		_, err := s.kv.Create(ctx, k, data, createOpts...)
		if err == nil {
			return true, nil
		}
		if !isConflict(err) {
			return false, err
		}
		e, err := s.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // deleted or removed since Create saw it: try again
		}
		if err != nil {
			return false, err
		}
		_, exp, err := decodeValue(e.Value())
		if err != nil {
			return false, err
		}
		if !expired(exp, time.Now()) {
			return false, nil
		}
		// Expired but not yet removed by the server: replace exactly that
		// revision, so that of several callers doing this only one wins.
		data = encodeValue(value, expiry(time.Now(), ttl))
		err = s.publish(ctx, k, data, ttl, jetstream.WithExpectLastSequencePerSubject(e.Revision()))
		if err == nil {
			return true, nil
		}
		if !isConflict(err) {
			return false, err
		}
		// Someone else wrote or deleted the key meanwhile: look again.
	}
}

// Delete removes key; deleting an absent key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.kv.Purge(ctx, EncodeKey(key), jetstream.PurgeTTL(s.markerTTL)); err != nil {
		return fmt.Errorf("jetstream: delete %q: %w", key, err)
	}
	return nil
}

// publish writes data under the encoded key k, with the server-side TTL
// for ttl when it is positive (unless the bucket ages entries out).
func (s *Store) publish(ctx context.Context, k string, data []byte, ttl time.Duration, opts ...jetstream.PublishOpt) error {
	if ttl > 0 && !s.aged {
		opts = append(opts, jetstream.WithMsgTTL(serverTTL(ttl)))
	}
	_, err := s.js.PublishMsg(ctx, &nats.Msg{Subject: s.subject + k, Data: data}, opts...)
	return err
}

// isConflict reports whether err is a failed compare-and-set: the key
// exists, or its last revision is not the expected one.
func isConflict(err error) bool {
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// EncodeKey returns the NATS KV key under which a Store keeps the
// bot.Store key key: "k" followed by the unpadded base64url encoding of
// key's bytes.
func EncodeKey(key string) string {
	return keyPrefix + base64.RawURLEncoding.EncodeToString([]byte(key))
}

// DecodeKey returns the bot.Store key that [EncodeKey] encoded as k.
func DecodeKey(k string) (string, error) {
	if len(k) < len(keyPrefix) || k[:len(keyPrefix)] != keyPrefix {
		return "", fmt.Errorf("jetstream: %q is not an encoded store key", k)
	}
	b, err := base64.RawURLEncoding.DecodeString(k[len(keyPrefix):])
	if err != nil {
		return "", fmt.Errorf("jetstream: %q is not an encoded store key: %w", k, err)
	}
	return string(b), nil
}

// expiry returns the unix-nanosecond deadline of an entry written at now
// with ttl, or 0 for none; a deadline past the int64 range is clamped.
func expiry(now time.Time, ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	n := now.UnixNano()
	if int64(ttl) > math.MaxInt64-n {
		return math.MaxInt64
	}
	return n + int64(ttl)
}

// expired reports whether an entry with deadline exp has expired at now.
func expired(exp int64, now time.Time) bool {
	return exp != 0 && now.UnixNano() >= exp
}

// serverTTL returns the per-message TTL the server is given for a
// positive ttl: whole seconds (the server's resolution, minimum one),
// rounded up, plus one second of slack.
func serverTTL(ttl time.Duration) time.Duration {
	const maxSecs = math.MaxInt64/int64(time.Second) - 1
	secs := int64(ttl / time.Second)
	if ttl%time.Second != 0 {
		secs++
	}
	secs++
	if secs > maxSecs {
		secs = maxSecs
	}
	return time.Duration(secs) * time.Second
}

// encodeValue returns the stored form of value with deadline exp.
func encodeValue(value []byte, exp int64) []byte {
	b := make([]byte, headerLen+len(value))
	b[0] = valueVersion
	binary.BigEndian.PutUint64(b[1:headerLen], uint64(exp))
	copy(b[headerLen:], value)
	return b
}

// decodeValue splits a stored value into the caller's bytes and deadline.
func decodeValue(b []byte) (payload []byte, exp int64, err error) {
	if len(b) < headerLen || b[0] != valueVersion {
		return nil, 0, errMalformed
	}
	return b[headerLen:], int64(binary.BigEndian.Uint64(b[1:headerLen])), nil
}

var _ bot.RevisionStore = (*Store)(nil)

// GetRevision returns the value of key and its revision in the bucket (the
// stream sequence of its last write). For an absent or deleted key it
// returns an error wrapping [bot.ErrNotFound] and revision 0; for an
// expired entry still stored, bot.ErrNotFound and that entry's revision, so
// that Update replaces exactly it.
func (s *Store) GetRevision(ctx context.Context, key string) ([]byte, uint64, error) {
	e, err := s.kv.Get(ctx, EncodeKey(key))
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, 0, fmt.Errorf("jetstream: get %q: %w", key, bot.ErrNotFound)
		}
		return nil, 0, fmt.Errorf("jetstream: get %q: %w", key, err)
	}
	payload, exp, err := decodeValue(e.Value())
	if err != nil {
		return nil, 0, fmt.Errorf("jetstream: get %q: %w", key, err)
	}
	if expired(exp, time.Now()) {
		return nil, e.Revision(), fmt.Errorf("jetstream: get %q: %w", key, bot.ErrNotFound)
	}
	if len(payload) == 0 {
		payload = nil
	}
	return payload, e.Revision(), nil
}

// Update stores value under key if key's revision is still rev (0: key
// absent or deleted), with the bucket's compare-and-set, and otherwise
// returns an error wrapping [bot.ErrConflict]; ttl <= 0 means no expiry.
func (s *Store) Update(ctx context.Context, key string, value []byte, ttl time.Duration, rev uint64) error {
	k := EncodeKey(key)
	data := encodeValue(value, expiry(time.Now(), ttl))
	var err error
	if rev == 0 {
		var opts []jetstream.KVCreateOpt
		if ttl > 0 && !s.aged {
			opts = append(opts, jetstream.KeyTTL(serverTTL(ttl)))
		}
		_, err = s.kv.Create(ctx, k, data, opts...)
	} else {
		err = s.publish(ctx, k, data, ttl, jetstream.WithExpectLastSequencePerSubject(rev))
	}
	if isConflict(err) {
		return fmt.Errorf("jetstream: update %q: %w", key, bot.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("jetstream: update %q: %w", key, err)
	}
	return nil
}

// DeleteRevision removes key if its revision is still rev, and otherwise
// returns an error wrapping [bot.ErrConflict]. With rev 0 it succeeds when
// the key is absent and conflicts when it exists.
func (s *Store) DeleteRevision(ctx context.Context, key string, rev uint64) error {
	k := EncodeKey(key)
	if rev == 0 {
		_, err := s.kv.Get(ctx, k)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			return nil
		case err != nil:
			return fmt.Errorf("jetstream: delete %q: %w", key, err)
		}
		return fmt.Errorf("jetstream: delete %q: %w", key, bot.ErrConflict)
	}
	err := s.kv.Purge(ctx, k, jetstream.PurgeTTL(s.markerTTL), jetstream.LastRevision(rev))
	if isConflict(err) {
		return fmt.Errorf("jetstream: delete %q: %w", key, bot.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("jetstream: delete %q: %w", key, err)
	}
	return nil
}
