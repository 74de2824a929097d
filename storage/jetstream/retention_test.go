package jetstream_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/storage/jetstream"
)

// The Broker's own key bucket reclaims its records by age: Consume raises
// the bucket's maximum age to the Bot's dedup TTL (rounded up to seconds,
// plus one), also on a bucket created before (with no maximum age), and
// the records are written without a per-message TTL, which would cost the
// server memory for each of them. A bucket given with WithKeys is left as
// it is and keeps per-message TTLs.
func TestBroker_keyBucketAgesOut(t *testing.T) {
	srv := startServer(t, t.TempDir())
	_, js := connect(t, srv)
	ctx := t.Context()

	// A bucket as an earlier Broker left it: no maximum age, and a record
	// with a per-message TTL.
	old, err := jetstream.NewStore(ctx, js, jetstream.DefaultBrokerName+"_KEYS")
	require.NoError(t, err)
	require.NoError(t, old.Set(ctx, "dedup:fake:old", []byte("done/1"), time.Hour))
	shared, err := jetstream.NewStore(ctx, js, "shared")
	require.NoError(t, err)

	const ttl = 90*time.Minute + 500*time.Millisecond
	run := func(br *jetstream.Broker, id string, ttl time.Duration) {
		fa := bottest.NewFakeAdapter("fake")
		b, err := bot.New(bot.WithAdapters(fa), bot.WithBroker(br), bot.WithDedupTTL(ttl),
			bot.WithLogger(bottest.Logger(t)), bot.WithShutdownTimeout(5*time.Second))
		require.NoError(t, err)
		b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			return w.Send(ctx, m.Reply("pong"))
		}))
		stop := bottest.Run(t, b)
		require.NoError(t, fa.Inject(ctx, bottest.NewMessage("ping", bottest.In("fake", "c1"), bottest.WithID(id))))
		fa.WaitSent(t, 1)
		require.NoError(t, stop())
	}

	br, err := jetstream.NewBroker(ctx, js)
	require.NoError(t, err)
	run(br, "e1", ttl)
	st, err := old.KeyValue().Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, 90*time.Minute+2*time.Second, st.TTL(), "the bucket's maximum age")
	assert.NotEmpty(t, lastHeader(t, js, jetstream.DefaultBrokerName+"_KEYS", "dedup:fake:old", njs.MsgTTLHeader),
		"a record written before keeps its per-message TTL")
	assert.Empty(t, lastHeader(t, js, jetstream.DefaultBrokerName+"_KEYS", "dedup:fake:e1", njs.MsgTTLHeader))
	v, err := old.Get(ctx, "dedup:fake:e1")
	require.NoError(t, err)
	assert.Regexp(t, `^done/\d+$`, string(v), "the record is there, with its expiry enforced on read")

	// A Bot with a shorter dedup TTL on the same bucket does not lower it.
	br2, err := jetstream.NewBroker(ctx, js)
	require.NoError(t, err)
	run(br2, "e2", time.Minute)
	st, err = old.KeyValue().Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, 90*time.Minute+2*time.Second, st.TTL())

	// A bucket of the caller's is not touched.
	br3, err := jetstream.NewBroker(ctx, js, jetstream.WithBrokerName("P3"), jetstream.WithKeys(shared))
	require.NoError(t, err)
	run(br3, "e3", ttl)
	st, err = shared.KeyValue().Status(ctx)
	require.NoError(t, err)
	assert.Zero(t, st.TTL(), "a bucket given with WithKeys keeps no maximum age")
	assert.NotEmpty(t, lastHeader(t, js, "shared", "dedup:fake:e3", njs.MsgTTLHeader))
}

// lastHeader returns header h of the last message stored under the Store
// key key of bucket.
func lastHeader(t *testing.T, js njs.JetStream, bucket, key, h string) string {
	t.Helper()
	s, err := js.Stream(t.Context(), "KV_"+bucket)
	require.NoError(t, err)
	m, err := s.GetLastMsgForSubject(t.Context(), "$KV."+bucket+"."+jetstream.EncodeKey(key))
	require.NoError(t, err)
	return nats.Header(m.Header).Get(h)
}
