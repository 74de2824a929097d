package jetstream_test

import (
	"errors"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/storage/jetstream"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// startServer starts an embedded server on dir and registers its shutdown.
func startServer(t *testing.T, dir string) *jetstream.Server {
	t.Helper()
	srv, err := jetstream.StartEmbedded(dir)
	require.NoError(t, err)
	t.Cleanup(srv.Shutdown)
	return srv
}

// connect returns a JetStream context on srv; the connection is closed in
// t.Cleanup (before the server's shutdown, which was registered earlier).
func connect(t *testing.T, srv *jetstream.Server) (*nats.Conn, njs.JetStream) {
	t.Helper()
	nc, err := srv.Connect()
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := njs.New(nc)
	require.NoError(t, err)
	return nc, js
}

// newStore starts a fresh server with its own data directory and returns
// a Store on a new bucket there.
func newStore(t *testing.T) *jetstream.Store {
	t.Helper()
	srv := startServer(t, t.TempDir())
	_, js := connect(t, srv)
	s, err := jetstream.NewStore(t.Context(), js, "parley")
	require.NoError(t, err)
	return s
}

func TestStore(t *testing.T) {
	// Expiry is checked against the value's own deadline, so it is exact to
	// the clock and a short granularity keeps the TTL subtests quick.
	bottest.TestStore(t, func(t *testing.T) bot.Store { return newStore(t) },
		bottest.RealTimeTTL(200*time.Millisecond))
}

func TestStoreSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()

	srv, err := jetstream.StartEmbedded(dir)
	require.NoError(t, err)
	nc, err := srv.Connect()
	require.NoError(t, err)
	js, err := njs.New(nc)
	require.NoError(t, err)
	s, err := jetstream.NewStore(ctx, js, "parley")
	require.NoError(t, err)

	require.NoError(t, s.Set(ctx, "forever", []byte("f"), 0))
	require.NoError(t, s.Set(ctx, "own:chat/42", []byte("replica-1"), time.Hour))
	ok, err := s.SetIfAbsent(ctx, "dedup:evt-1", nil, time.Hour)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, s.Set(ctx, "gone", []byte("x"), 0))
	require.NoError(t, s.Delete(ctx, "gone"))
	firstURL := srv.ClientURL()
	nc.Close()
	srv.Shutdown()
	srv.Shutdown() // a second call is harmless

	srv = startServer(t, dir)
	_, js = connect(t, srv)
	s, err = jetstream.NewStore(ctx, js, "parley")
	require.NoError(t, err, "binding to the recovered bucket")
	t.Logf("first server at %s, restarted at %s", firstURL, srv.ClientURL())

	v, err := s.Get(ctx, "forever")
	require.NoError(t, err)
	assert.Equal(t, "f", string(v))
	v, err = s.Get(ctx, "own:chat/42")
	require.NoError(t, err)
	assert.Equal(t, "replica-1", string(v))
	_, err = s.Get(ctx, "dedup:evt-1")
	require.NoError(t, err, "an empty value survives")
	ok, err = s.SetIfAbsent(ctx, "dedup:evt-1", nil, time.Hour)
	require.NoError(t, err)
	assert.False(t, ok, "a dedup entry written before the restart is still present")
	_, err = s.Get(ctx, "gone")
	assert.ErrorIs(t, err, bot.ErrNotFound, "a deleted key stays deleted")
}

// An entry whose deadline has passed but which the server has not removed
// yet (its server-side TTL is whole seconds) is replaced by revision: of
// concurrent SetIfAbsent calls exactly one wins.
func TestSetIfAbsentExpiredButStoredConcurrent(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	require.NoError(t, s.Set(ctx, "k", []byte("old"), 50*time.Millisecond))
	time.Sleep(100 * time.Millisecond)
	// Still in the bucket, but expired for the Store.
	_, err := s.KeyValue().Get(ctx, jetstream.EncodeKey("k"))
	require.NoError(t, err, "the server removed the entry sooner than expected; the test does not cover the revision path")
	_, err = s.Get(ctx, "k")
	require.ErrorIs(t, err, bot.ErrNotFound)

	const goroutines = 32
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		winners atomic.Int32
		winner  atomic.Int32
	)
	for i := range goroutines {
		wg.Go(func() {
			<-start
			ok, err := s.SetIfAbsent(ctx, "k", []byte(strconv.Itoa(i)), time.Hour)
			if assert.NoError(t, err) && ok {
				winners.Add(1)
				winner.Store(int32(i))
			}
		})
	}
	close(start)
	wg.Wait()
	require.Equal(t, int32(1), winners.Load())
	v, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(int(winner.Load())), string(v))
}

// The server reclaims an expired entry by itself (per-message TTL), and the
// key can be created again afterwards.
func TestServerRemovesExpiredEntries(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	require.NoError(t, s.Set(ctx, "set", []byte("a"), 100*time.Millisecond))
	ok, err := s.SetIfAbsent(ctx, "sia", []byte("b"), 100*time.Millisecond)
	require.NoError(t, err)
	require.True(t, ok)
	for _, k := range []string{"set", "sia"} {
		require.Eventually(t, func() bool {
			_, err := s.KeyValue().Get(ctx, jetstream.EncodeKey(k))
			return errors.Is(err, njs.ErrKeyNotFound)
		}, 10*time.Second, 100*time.Millisecond, "the server did not remove %q", k)
	}
	ok, err = s.SetIfAbsent(ctx, "sia", []byte("c"), 0)
	require.NoError(t, err)
	require.True(t, ok)
	v, err := s.Get(ctx, "sia")
	require.NoError(t, err)
	assert.Equal(t, "c", string(v))
}

func TestNewStoreBindsExistingBucket(t *testing.T) {
	srv := startServer(t, t.TempDir())
	_, js := connect(t, srv)
	ctx := t.Context()
	a, err := jetstream.NewStore(ctx, js, "shared")
	require.NoError(t, err)
	b, err := jetstream.NewStore(ctx, js, "shared", jetstream.WithMarkerTTL(time.Hour))
	require.NoError(t, err)
	require.NoError(t, a.Set(ctx, "k", []byte("v"), 0))
	v, err := b.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "v", string(v))
}

func TestNewStoreConcurrentCreate(t *testing.T) {
	srv := startServer(t, t.TempDir())
	_, js := connect(t, srv)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := jetstream.NewStore(t.Context(), js, "racy")
			assert.NoError(t, err)
		})
	}
	wg.Wait()
}

func TestNewStoreRejectsBucketWithoutTTL(t *testing.T) {
	srv := startServer(t, t.TempDir())
	_, js := connect(t, srv)
	ctx := t.Context()
	_, err := js.CreateKeyValue(ctx, njs.KeyValueConfig{Bucket: "plain"})
	require.NoError(t, err)
	_, err = jetstream.NewStore(ctx, js, "plain")
	require.ErrorContains(t, err, "LimitMarkerTTL")

	_, err = jetstream.NewStore(ctx, js, "other", jetstream.WithMarkerTTL(time.Millisecond))
	require.Error(t, err)
}

func TestMemoryStorageOption(t *testing.T) {
	srv := startServer(t, t.TempDir())
	_, js := connect(t, srv)
	ctx := t.Context()
	s, err := jetstream.NewStore(ctx, js, "mem", jetstream.WithMemoryStorage(), jetstream.WithDescription("test"))
	require.NoError(t, err)
	st, err := s.KeyValue().Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, njs.MemoryStorage, st.(*njs.KeyValueBucketStatus).StreamInfo().Config.Storage)
}

func TestMalformedEntry(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	_, err := s.KeyValue().Put(ctx, jetstream.EncodeKey("raw"), []byte("x"))
	require.NoError(t, err)
	_, err = s.Get(ctx, "raw")
	require.Error(t, err)
	assert.NotErrorIs(t, err, bot.ErrNotFound)
	_, err = s.SetIfAbsent(ctx, "raw", []byte("y"), 0)
	require.Error(t, err)
}

var validKVKey = regexp.MustCompile(`^[-/_=.a-zA-Z0-9]+$`)

func TestEncodeKey(t *testing.T) {
	for _, k := range []string{"", "a", "dedup:x", "a.b", "..", "*", ">", " sp ", "ünïcödé ✓ 日本語", "\x00\xff"} {
		enc := jetstream.EncodeKey(k)
		assert.Regexp(t, validKVKey, enc, "key %q", k)
		assert.NotEqual(t, '.', enc[0])
		assert.NotEqual(t, '.', enc[len(enc)-1])
		dec, err := jetstream.DecodeKey(enc)
		require.NoError(t, err)
		assert.Equal(t, k, dec)
	}
	assert.Equal(t, "kZGVkdXA6eA", jetstream.EncodeKey("dedup:x"))
	for _, bad := range []string{"", "x", "k!!", "kZ"} {
		_, err := jetstream.DecodeKey(bad)
		assert.Error(t, err, "%q", bad)
	}
}

func TestStartEmbeddedErrors(t *testing.T) {
	_, err := jetstream.StartEmbedded("")
	require.Error(t, err)
	_, err = jetstream.Connect("nats://127.0.0.1:1", nats.MaxReconnects(0), nats.Timeout(time.Second))
	require.Error(t, err)
}

// A server list whose servers cannot be reached: the error names each
// server without its credentials.
func TestConnect_errorRedactsServerList(t *testing.T) {
	_, err := jetstream.Connect("nats://u:secret-a@127.0.0.1:1,nats://tok-secret-b@127.0.0.1:1?x=secret-c",
		nats.MaxReconnects(0), nats.Timeout(time.Second))
	require.Error(t, err)
	assert.Regexp(t, `^jetstream: connect nats://127\.0\.0\.1:1,nats://127\.0\.0\.1:1: `, err.Error())
	assert.NotContains(t, err.Error(), "secret")
}
