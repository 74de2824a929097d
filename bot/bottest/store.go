package bottest

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
)

// A StoreOption adjusts what [TestStore] expects of a store.
type StoreOption func(*storeOptions)

type storeOptions struct {
	realTimeTTL time.Duration // 0: TTL subtests run under testing/synctest
}

// RealTimeTTL makes [TestStore] check expiry with real waits instead of the
// testing/synctest fake clock. Use it for a store whose expiry is decided by
// a server that does not follow the fake clock (for example a NATS
// JetStream KV bucket). granularity is the store's expiry resolution: the
// TTL subtests use TTLs of two granularities and wait up to a few more for
// an entry to disappear, so keep it short (a second or less). It panics if
// granularity is not positive.
func RealTimeTTL(granularity time.Duration) StoreOption {
	if granularity <= 0 {
		panic("bottest: RealTimeTTL granularity must be positive")
	}
	return func(o *storeOptions) { o.realTimeTTL = granularity }
}

// TestStore runs the behaviour every [bot.Store] must have: the conformance
// suite for store implementations, in the manner of an http.Handler test
// table. Call it from a test of the store's package:
//
//	func TestMemoryStore(t *testing.T) {
//		bottest.TestStore(t, func(*testing.T) bot.Store { return bot.NewMemoryStore() })
//	}
//
// newStore must return a fresh, empty store each time it is called; it is
// called once per subtest, and it should register the store's Close with
// t.Cleanup. Subtests run one after another, and several use the store from
// many goroutines, so run the suite with -race.
//
// Keys are arbitrary strings, including ":", "/", ".", "*", ">", spaces and
// non-ASCII letters; a backend with a restricted key alphabet must encode
// them, one-to-one.
//
// By default the TTL subtests run inside a testing/synctest bubble, and
// newStore is called inside that bubble: time.Sleep there advances a fake
// clock, which a store that reads time.Now follows. Any goroutine the store
// starts must end in its t.Cleanup, which runs inside the bubble. A store
// whose expiry follows a real clock elsewhere passes [RealTimeTTL] instead.
func TestStore(t *testing.T, newStore func(t *testing.T) bot.Store, opts ...StoreOption) {
	t.Helper()
	var o storeOptions
	for _, opt := range opts {
		opt(&o)
	}

	tests := []struct {
		name string
		fn   func(t *testing.T, s bot.Store)
	}{
		{"Get_missing", testStoreGetMissing},
		{"Set_Get", testStoreSetGet},
		{"Set_overwrite", testStoreOverwrite},
		{"value_isolation", testStoreValueIsolation},
		{"empty_value", testStoreEmptyValue},
		{"binary_and_large_values", testStoreBinaryValues},
		{"odd_keys", testStoreOddKeys},
		{"Delete", testStoreDelete},
		{"SetIfAbsent", testStoreSetIfAbsent},
		{"SetIfAbsent_concurrent", testStoreSetIfAbsentConcurrent},
		{"concurrent_Set_Get_Delete", testStoreConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}

	ttlTests := []struct {
		name string
		fn   func(t *testing.T, s bot.Store, c storeClock)
	}{
		{"TTL_expires", testStoreTTLExpires},
		{"TTL_zero_or_negative_never_expires", testStoreTTLNever},
		{"TTL_SetIfAbsent_after_expiry", testStoreTTLSetIfAbsent},
		{"TTL_overwrite_replaces_expiry", testStoreTTLOverwrite},
	}
	for _, tt := range ttlTests {
		t.Run(tt.name, func(t *testing.T) {
			if g := o.realTimeTTL; g > 0 {
				tt.fn(t, newStore(t), storeRealClock{g: g})
				return
			}
			synctest.Test(t, func(t *testing.T) {
				tt.fn(t, newStore(t), storeFakeClock{})
			})
		})
	}
}

func testStoreGetMissing(t *testing.T, s bot.Store) {
	ctx := t.Context()
	v, err := s.Get(ctx, "missing")
	require.ErrorIs(t, err, bot.ErrNotFound)
	assert.Empty(t, v)
}

func testStoreSetGet(t *testing.T, s bot.Store) {
	ctx := t.Context()
	require.NoError(t, s.Set(ctx, "k", []byte("v1"), 0))
	v, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("v1"), v)

	require.NoError(t, s.Set(ctx, "k2", []byte("v2"), time.Hour))
	v, err = s.Get(ctx, "k2")
	require.NoError(t, err)
	assert.Equal(t, []byte("v2"), v)

	// Keys are independent.
	v, err = s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("v1"), v)
}

func testStoreOverwrite(t *testing.T, s bot.Store) {
	ctx := t.Context()
	require.NoError(t, s.Set(ctx, "k", []byte("first"), 0))
	require.NoError(t, s.Set(ctx, "k", []byte("second, longer"), 0))
	v, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("second, longer"), v)

	require.NoError(t, s.Set(ctx, "k", []byte("3"), time.Hour))
	v, err = s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("3"), v)
}

func testStoreValueIsolation(t *testing.T, s bot.Store) {
	ctx := t.Context()

	in := []byte("original")
	require.NoError(t, s.Set(ctx, "set", in, 0))
	copy(in, "XXXXXXXX")
	got, err := s.Get(ctx, "set")
	require.NoError(t, err)
	assert.Equal(t, []byte("original"), got, "modifying the slice passed to Set changed the stored value")

	copy(got, "YYYYYYYY")
	again, err := s.Get(ctx, "set")
	require.NoError(t, err)
	assert.Equal(t, []byte("original"), again, "modifying the slice returned by Get changed the stored value")

	in = []byte("absent")
	ok, err := s.SetIfAbsent(ctx, "sia", in, 0)
	require.NoError(t, err)
	require.True(t, ok)
	copy(in, "XXXXXX")
	got, err = s.Get(ctx, "sia")
	require.NoError(t, err)
	assert.Equal(t, []byte("absent"), got, "modifying the slice passed to SetIfAbsent changed the stored value")
}

func testStoreEmptyValue(t *testing.T, s bot.Store) {
	ctx := t.Context()
	for _, tt := range []struct {
		name  string
		value []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
	} {
		require.NoError(t, s.Set(ctx, "set:"+tt.name, tt.value, 0), tt.name)
		v, err := s.Get(ctx, "set:"+tt.name)
		require.NoError(t, err, "%s: an empty value must be found", tt.name)
		assert.Empty(t, v, tt.name)

		ok, err := s.SetIfAbsent(ctx, "sia:"+tt.name, tt.value, time.Hour)
		require.NoError(t, err, tt.name)
		require.True(t, ok, tt.name)
		v, err = s.Get(ctx, "sia:"+tt.name)
		require.NoError(t, err, "%s: an empty value must be found", tt.name)
		assert.Empty(t, v, tt.name)

		ok, err = s.SetIfAbsent(ctx, "sia:"+tt.name, []byte("other"), time.Hour)
		require.NoError(t, err, tt.name)
		assert.False(t, ok, "%s: a key holding an empty value is present", tt.name)
	}
}

func testStoreBinaryValues(t *testing.T, s bot.Store) {
	ctx := t.Context()
	bin := make([]byte, 256)
	for i := range bin {
		bin[i] = byte(i)
	}
	large := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB

	for name, want := range map[string][]byte{"binary": bin, "large": large} {
		require.NoError(t, s.Set(ctx, name, want, 0), name)
		got, err := s.Get(ctx, name)
		require.NoError(t, err, name)
		assert.True(t, bytes.Equal(want, got), "%s: value did not round trip (got %d bytes)", name, len(got))
	}
}

func testStoreOddKeys(t *testing.T, s bot.Store) {
	ctx := t.Context()
	keys := []string{
		"dedup:sendbee:4f9a2c1e-7d3b-4e8a-9b1c-2d3e4f5a6b7c",
		"a:b", "a/b", "a.b", "a_b", "a-b", "a=b", "a b", "a\tb",
		"a*", "a>", "*", ">", ".", "..", "/", ":",
		" leading", "trailing ", "ünïcödé ✓ 日本語",
		"A:B", // keys are case-sensitive
		strings.Repeat("long/", 50),
	}
	for i, k := range keys {
		require.NoError(t, s.Set(ctx, k, []byte(strconv.Itoa(i)), 0), "key %q", k)
	}
	// Read back after all writes so that an encoding mapping two keys to one
	// shows up.
	for i, k := range keys {
		v, err := s.Get(ctx, k)
		if assert.NoError(t, err, "key %q", k) {
			assert.Equal(t, strconv.Itoa(i), string(v), "key %q", k)
		}
	}
	for _, k := range keys {
		require.NoError(t, s.Delete(ctx, k), "key %q", k)
		_, err := s.Get(ctx, k)
		assert.ErrorIs(t, err, bot.ErrNotFound, "key %q", k)
	}
}

func testStoreDelete(t *testing.T, s bot.Store) {
	ctx := t.Context()
	require.NoError(t, s.Delete(ctx, "never-set"), "deleting an absent key is not an error")

	require.NoError(t, s.Set(ctx, "k", []byte("v"), 0))
	require.NoError(t, s.Set(ctx, "other", []byte("w"), 0))
	require.NoError(t, s.Delete(ctx, "k"))
	_, err := s.Get(ctx, "k")
	require.ErrorIs(t, err, bot.ErrNotFound)
	require.NoError(t, s.Delete(ctx, "k"), "Delete must be idempotent")

	v, err := s.Get(ctx, "other")
	require.NoError(t, err, "Delete removed another key")
	assert.Equal(t, []byte("w"), v)

	ok, err := s.SetIfAbsent(ctx, "k", []byte("again"), 0)
	require.NoError(t, err)
	assert.True(t, ok, "a deleted key is absent for SetIfAbsent")
}

func testStoreSetIfAbsent(t *testing.T, s bot.Store) {
	ctx := t.Context()
	ok, err := s.SetIfAbsent(ctx, "k", []byte("first"), 0)
	require.NoError(t, err)
	assert.True(t, ok, "absent key")

	ok, err = s.SetIfAbsent(ctx, "k", []byte("second"), 0)
	require.NoError(t, err)
	assert.False(t, ok, "present key")
	v, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, []byte("first"), v, "a failed SetIfAbsent changed the value")

	require.NoError(t, s.Set(ctx, "set", []byte("x"), time.Hour))
	ok, err = s.SetIfAbsent(ctx, "set", []byte("y"), time.Hour)
	require.NoError(t, err)
	assert.False(t, ok, "a key written by Set is present")
}

func testStoreSetIfAbsentConcurrent(t *testing.T, s bot.Store) {
	ctx := t.Context()
	const goroutines = 64
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		winners atomic.Int32
		winner  atomic.Int32
	)
	for i := range goroutines {
		wg.Go(func() {
			<-start
			ok, err := s.SetIfAbsent(ctx, "race", []byte(strconv.Itoa(i)), time.Hour)
			if !assert.NoError(t, err) {
				return
			}
			if ok {
				winners.Add(1)
				winner.Store(int32(i))
			}
		})
	}
	close(start)
	wg.Wait()
	require.Equal(t, int32(1), winners.Load(), "exactly one of %d concurrent SetIfAbsent calls must win", goroutines)
	v, err := s.Get(ctx, "race")
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(int(winner.Load())), string(v), "the stored value is not the winner's")
}

func testStoreConcurrent(t *testing.T, s bot.Store) {
	ctx := t.Context()
	const (
		goroutines = 8
		keys       = 32
		ops        = 300
	)
	var wg sync.WaitGroup
	for w := range goroutines {
		wg.Go(func() {
			for i := range ops {
				k := "key:" + strconv.Itoa((i*7+w)%keys)
				var err error
				switch i % 4 {
				case 0, 1:
					err = s.Set(ctx, k, []byte(k+"="+strconv.Itoa(w)), 0)
				case 2:
					var v []byte
					v, err = s.Get(ctx, k)
					if err == nil {
						assert.True(t, strings.HasPrefix(string(v), k+"="), "key %q holds %q, written for another key", k, v)
					} else {
						assert.ErrorIs(t, err, bot.ErrNotFound)
						err = nil
					}
				case 3:
					err = s.Delete(ctx, k)
				}
				if !assert.NoError(t, err) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// A storeClock drives the TTL subtests: with the testing/synctest fake clock
// it checks expiry to the second; with a real clock it checks that entries
// live right after a write and disappear in time.
type storeClock interface {
	// ttl is the TTL the subtest writes with.
	ttl() time.Duration
	// live waits (fake clock) until just before an entry written at mark
	// expires; a real clock does not wait.
	live(mark time.Time)
	// expired waits until an entry written at mark has expired and requires
	// cond to hold then (fake clock), or until cond holds (real clock).
	expired(t *testing.T, mark time.Time, cond func() bool, msg string)
}

type storeFakeClock struct{}

func (storeFakeClock) ttl() time.Duration { return time.Minute }

func (c storeFakeClock) live(mark time.Time) {
	time.Sleep(time.Until(mark.Add(c.ttl() - time.Second)))
}

func (c storeFakeClock) expired(t *testing.T, mark time.Time, cond func() bool, msg string) {
	t.Helper()
	time.Sleep(time.Until(mark.Add(c.ttl() + time.Second)))
	require.True(t, cond(), msg)
}

type storeRealClock struct{ g time.Duration }

func (c storeRealClock) ttl() time.Duration { return 2 * c.g }

func (storeRealClock) live(time.Time) {}

func (c storeRealClock) expired(t *testing.T, mark time.Time, cond func() bool, msg string) {
	t.Helper()
	wait := time.Until(mark.Add(c.ttl() + 5*c.g))
	require.Eventually(t, cond, max(wait, c.g), max(c.g/10, time.Millisecond), msg)
}

func storeGone(t *testing.T, s bot.Store, key string) func() bool {
	return func() bool {
		_, err := s.Get(t.Context(), key)
		if err != nil && !assert.ErrorIs(t, err, bot.ErrNotFound) {
			return true // stop waiting; the assertion failed the test
		}
		return err != nil
	}
}

func requireStoreValue(t *testing.T, s bot.Store, key, want string) {
	t.Helper()
	v, err := s.Get(t.Context(), key)
	require.NoError(t, err, "key %q", key)
	require.Equal(t, want, string(v), "key %q", key)
}

func testStoreTTLExpires(t *testing.T, s bot.Store, c storeClock) {
	ctx := t.Context()
	mark := time.Now()
	require.NoError(t, s.Set(ctx, "k", []byte("v"), c.ttl()))
	require.NoError(t, s.Set(ctx, "forever", []byte("f"), 0))
	requireStoreValue(t, s, "k", "v")

	c.live(mark)
	requireStoreValue(t, s, "k", "v")

	c.expired(t, mark, storeGone(t, s, "k"), fmt.Sprintf("an entry with TTL %v did not expire", c.ttl()))
	requireStoreValue(t, s, "forever", "f")
}

func testStoreTTLNever(t *testing.T, s bot.Store, c storeClock) {
	ctx := t.Context()
	mark := time.Now()
	require.NoError(t, s.Set(ctx, "zero", []byte("0"), 0))
	require.NoError(t, s.Set(ctx, "negative", []byte("-"), -time.Second))
	ok, err := s.SetIfAbsent(ctx, "sia-zero", []byte("z"), 0)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, s.Set(ctx, "probe", []byte("p"), c.ttl()))

	c.expired(t, mark, storeGone(t, s, "probe"), "the probe entry did not expire")
	if _, fake := c.(storeFakeClock); fake {
		time.Sleep(1000 * time.Hour)
	}
	requireStoreValue(t, s, "zero", "0")
	requireStoreValue(t, s, "negative", "-")
	requireStoreValue(t, s, "sia-zero", "z")
}

func testStoreTTLSetIfAbsent(t *testing.T, s bot.Store, c storeClock) {
	ctx := t.Context()
	mark := time.Now()
	ok, err := s.SetIfAbsent(ctx, "k", []byte("first"), c.ttl())
	require.NoError(t, err)
	require.True(t, ok)

	c.live(mark)
	ok, err = s.SetIfAbsent(ctx, "k", []byte("second"), c.ttl())
	require.NoError(t, err)
	require.False(t, ok, "an entry that has not expired is present")
	requireStoreValue(t, s, "k", "first")

	// Once expired, the key is absent again. With a real clock, polling with
	// SetIfAbsent is itself the check.
	var third bool
	c.expired(t, mark, func() bool {
		ok, err := s.SetIfAbsent(ctx, "k", []byte("third"), c.ttl())
		if !assert.NoError(t, err) { // cond may run on another goroutine: no require
			return true
		}
		third = ok
		return ok
	}, "SetIfAbsent on an expired key must succeed")
	require.True(t, third)
	mark = time.Now()
	requireStoreValue(t, s, "k", "third")

	// The new entry has the new TTL, counted from its own write.
	c.live(mark)
	requireStoreValue(t, s, "k", "third")
	c.expired(t, mark, storeGone(t, s, "k"), "the entry written by SetIfAbsent did not expire")
}

func testStoreTTLOverwrite(t *testing.T, s bot.Store, c storeClock) {
	ctx := t.Context()
	mark := time.Now()
	require.NoError(t, s.Set(ctx, "to-forever", []byte("a"), c.ttl()))
	require.NoError(t, s.Set(ctx, "to-forever", []byte("b"), 0))
	require.NoError(t, s.Set(ctx, "to-expiring", []byte("a"), 0))
	require.NoError(t, s.Set(ctx, "to-expiring", []byte("b"), c.ttl()))

	c.expired(t, mark, storeGone(t, s, "to-expiring"), "Set with a TTL over an entry without one must expire")
	requireStoreValue(t, s, "to-forever", "b")

	if _, fake := c.(storeFakeClock); fake {
		// A rewrite restarts the TTL.
		mark = time.Now()
		require.NoError(t, s.Set(ctx, "renewed", []byte("a"), c.ttl()))
		c.live(mark)
		mark = time.Now()
		require.NoError(t, s.Set(ctx, "renewed", []byte("b"), c.ttl()))
		c.live(mark)
		requireStoreValue(t, s, "renewed", "b")
		c.expired(t, mark, storeGone(t, s, "renewed"), "the renewed entry did not expire")
	}
}
