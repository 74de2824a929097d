package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
)

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// The walk-through of the README: the emulator plays Sendbee and the
// customer; echobot, configured from the environment, answers over
// webhooks and the API.
func TestRun_sendbee(t *testing.T) {
	addr := freeAddr(t)
	emu := sendbeetest.NewServer(t,
		sendbeetest.WithCredentials("key-1", "secret-1"),
		sendbeetest.WithWebhook("http://"+addr+"/webhooks/sendbee"),
		sendbeetest.WithWebhookEvents("message.received"),
		sendbeetest.WithRedelivery(50, 20*time.Millisecond),
		sendbeetest.WithRetryAfterCap(50*time.Millisecond),
		sendbeetest.WithRateLimit(6000, time.Minute),
	)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	var stdout, stderr strings.Builder
	go func() {
		done <- run(ctx, strings.NewReader(""), &stdout, &stderr, env(
			"SENDBEE_API_KEY", "key-1", "SENDBEE_API_SECRET", "secret-1",
			"SENDBEE_BASE_URL", emu.URL(), "PARLEY_ADDR", addr))
	}()

	emu.CustomerMessage("+385911234567", "Ana", "hello")
	sent := emu.WaitSent(t, 1)
	assert.Equal(t, "hello", sent[0].Text)
	require.NotNil(t, sent[0].PreventBotOff)
	assert.True(t, *sent[0].PreventBotOff, "a bot reply keeps the Sendbee chatbot on")

	emu.CustomerMessage("+385911234567", "Ana", "help")
	sent = emu.WaitSent(t, 2)
	assert.Contains(t, sent[1].Text, "echo <text>")

	// Beside the webhooks: metrics and health.
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body)
	}
	code, body := get("/metrics")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `parley_inbound_received_total{kind="message",platform="sendbee"} 2`)
	code, _ = get("/healthz")
	assert.Equal(t, http.StatusOK, code)
	code, body = get("/readyz")
	assert.Equal(t, http.StatusOK, code, body)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancellation")
	}
	assert.Empty(t, stdout.String(), "with a platform configured, the console is not used")
}

func TestRun_sendbeeConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"key without secret", []string{"SENDBEE_API_KEY", "k"}, "SENDBEE_API_SECRET"},
		{"secret without key", []string{"SENDBEE_API_SECRET", "s"}, "SENDBEE_API_KEY"},
		{"bad base URL", []string{"SENDBEE_API_KEY", "k", "SENDBEE_API_SECRET", "s", "SENDBEE_BASE_URL", "::nope"}, "sendbee"},
		{"rate limit not a number", []string{"SENDBEE_API_KEY", "k", "SENDBEE_API_SECRET", "s", "SENDBEE_RATE_LIMIT", "fast"}, `SENDBEE_RATE_LIMIT="fast"`},
		{"rate limit zero", []string{"SENDBEE_API_KEY", "k", "SENDBEE_API_SECRET", "s", "SENDBEE_RATE_LIMIT", "0"}, `SENDBEE_RATE_LIMIT="0"`},
		{"busy address", nil, "PARLEY_ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := tt.env
			if tt.name == "busy address" {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				defer ln.Close()
				kv = []string{"SENDBEE_API_KEY", "k", "SENDBEE_API_SECRET", "s", "PARLEY_ADDR", ln.Addr().String()}
			}
			var out strings.Builder
			err := runBot(t, t.Context(), strings.NewReader(""), &out, &out, env(kv...))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
