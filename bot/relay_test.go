package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// A Relay message carries a human's words: the outbox delivers it to a
// human-owned conversation, where it suppresses the bot's own messages, and
// delivering it leaves the owner as it was.
func TestOutbox_Relay(t *testing.T) {
	tests := []struct {
		name          string
		owner         bot.Owner
		relay         bool
		wantDelivered bool
	}{
		{name: "bot message to a bot-owned conversation", owner: bot.OwnerBot, wantDelivered: true},
		{name: "bot message to a human-owned conversation is suppressed", owner: bot.OwnerHuman},
		{name: "relay to a human-owned conversation", owner: bot.OwnerHuman, relay: true, wantDelivered: true},
		{name: "relay to a bot-owned conversation", owner: bot.OwnerBot, relay: true, wantDelivered: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, fa := newBot(t)
			bottest.Run(t, b)
			ctx := t.Context()
			if tt.owner == bot.OwnerHuman {
				require.NoError(t, b.Handoff(ctx, "fake", "c"))
			}
			m := out("c", "k1", "hello from a human")
			m.Relay = tt.relay
			require.NoError(t, b.Send(ctx, m))
			// A marker through the same lane, sent as a relay so that it is
			// delivered whatever the owner, tells us the first one is done.
			marker := out("c", "k2", "marker")
			marker.Relay = true
			require.NoError(t, b.Send(ctx, marker))
			require.Eventually(t, func() bool {
				sent := fa.Sent()
				return len(sent) > 0 && sent[len(sent)-1].Text == "marker"
			}, 5*time.Second, time.Millisecond)

			var texts []string
			for _, s := range fa.Sent() {
				texts = append(texts, s.Text)
			}
			if tt.wantDelivered {
				assert.Equal(t, []string{"hello from a human", "marker"}, texts)
				assert.Equal(t, int64(0), b.Stats().Suppressed)
			} else {
				assert.Equal(t, []string{"marker"}, texts)
				assert.Equal(t, int64(1), b.Stats().Suppressed)
			}
			assert.Equal(t, tt.owner, owner(t, b, "c"), "delivering a relay does not change the owner")
		})
	}
}

// An observer handler relays what a human wrote while the conversation is
// human-owned, and the relay gets the reply's idempotency key: a redelivered
// inbound event is not relayed twice.
func TestOutbox_RelayFromObserver(t *testing.T) {
	b, fa := newBot(t)
	b.Handle(bot.Always(), bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		r := m.Reply("agent says: " + m.Text)
		r.Relay = true
		return w.Send(ctx, r)
	}), bot.Observer())
	bottest.Run(t, b)
	ctx := t.Context()
	require.NoError(t, b.Handoff(ctx, "fake", "c"))

	require.NoError(t, fa.Inject(ctx, msg("c", "1", "hi")))
	require.NoError(t, fa.Inject(ctx, msg("c", "1", "hi"))) // a redelivery
	require.NoError(t, fa.Inject(ctx, msg("c", "2", "bye")))
	sent := fa.WaitSent(t, 2)
	require.Len(t, sent, 2)
	assert.Equal(t, "agent says: hi", sent[0].Text)
	assert.Equal(t, "agent says: bye", sent[1].Text)
	assert.Equal(t, "fake:1:0", sent[0].Key)
	assert.Equal(t, int64(0), b.Stats().Suppressed)
	assert.Equal(t, bot.OwnerHuman, owner(t, b, "c"))
}
