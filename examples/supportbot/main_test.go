package main

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// The support bot end to end over real HTTP and SSE: a Sendbee customer
// gets rule and FAQ answers, asks for a person, and an agent answers from
// the conversation's thread in the team's Flowdock flow.
func TestSupportBot(t *testing.T) {
	addr := freeAddr(t)
	sb := sendbeetest.NewServer(t, sendbeetest.WithCredentials("k", "s"),
		sendbeetest.WithWebhook("http://"+addr+"/webhooks/sendbee"), sendbeetest.WithWebhookEvents("message.received"),
		sendbeetest.WithRedelivery(50, 20*time.Millisecond), sendbeetest.WithRetryAfterCap(50*time.Millisecond),
		sendbeetest.WithRateLimit(0, time.Minute))
	fd := flowdocktest.NewServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, env(
			"SENDBEE_API_KEY", "k", "SENDBEE_API_SECRET", "s", "SENDBEE_BASE_URL", sb.URL(), "PARLEY_ADDR", addr,
			// The emulator has no rate limit here; at Sendbee's 60 a minute
			// each reply after the first would wait a second.
			"SENDBEE_RATE_LIMIT", "6000000",
			"FLOWDOCK_API_TOKEN", fd.Token(), "FLOWDOCK_API_URL", fd.URL(), "FLOWDOCK_STREAM_URL", fd.StreamURL(),
			"FLOWDOCK_FLOWS", "acme/main", "SUPPORTBOT_HOURS", "Mon-Sun 00:00-24:00"), ".")
	}()
	fd.WaitConnections(t, 1)
	const ana = "+385911234567"
	customerSays := func(text string) { sb.CustomerMessage(ana, "Ana Horvat", text) }
	texts := func() []string {
		var out []string
		for _, m := range sb.Sent() {
			out = append(out, m.Text)
		}
		return out
	}

	customerSays("I want a refund")
	require.Eventually(t, func() bool {
		return slices.Contains(texts(), "Refunds take 5 working days once we receive the item. Reply 'agent' to talk to a person.")
	},
		10*time.Second, 10*time.Millisecond, "%q", texts())
	assert.Contains(t, texts(), "Hello Ana Horvat! I'm an automated assistant. How can I help?", "welcome on the first message")

	customerSays("how much is shipping?")
	require.Eventually(t, func() bool { return slices.Contains(texts(), "Shipping is free above 50 EUR, otherwise 4.90 EUR.") }, 10*time.Second, 10*time.Millisecond)

	// The conversation is mirrored into one thread of the team flow.
	var thread string
	require.Eventually(t, func() bool {
		for _, m := range fd.Sent() {
			if m.Flow == "acme/main" && m.ThreadID != "" {
				thread = m.ThreadID
			}
		}
		return thread != ""
	}, 10*time.Second, 10*time.Millisecond)

	customerSays("agent")
	conv, ok := sb.ConversationByPhone(ana)
	require.True(t, ok)
	require.Eventually(t, func() bool { return !sb.ChatbotActive(conv.ID) }, 10*time.Second, 10*time.Millisecond,
		"the handoff reply switched the Sendbee chatbot off")

	// An agent answers in the thread; the customer gets it.
	_, err := fd.Post("acme/main", "dana", "Hi Ana, Dana here. Let me check.", flowdocktest.InThread(thread))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return slices.Contains(texts(), "Hi Ana, Dana here. Let me check.") }, 10*time.Second, 10*time.Millisecond)

	// The bot stays quiet while the agent owns the conversation.
	n := len(sb.Sent())
	customerSays("thanks")
	require.Eventually(t, func() bool {
		for _, m := range fd.Sent() {
			if m.ThreadID == thread && m.Content == "[sendbee] Ana Horvat (+385911234567): thanks" {
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "the customer's message reaches the thread")
	assert.Len(t, sb.Sent(), n, "no bot answer while a human owns the conversation")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("the bot did not stop")
	}
}
