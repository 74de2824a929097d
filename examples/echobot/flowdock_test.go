package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
)

// echobot on Flowdock: it follows the configured flow through the
// streaming API and answers in the message's thread.
func TestRun_flowdock(t *testing.T) {
	emu := flowdocktest.NewServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	var stdout, stderr strings.Builder
	go func() {
		done <- run(ctx, strings.NewReader(""), &stdout, &stderr, env(
			"FLOWDOCK_API_TOKEN", emu.Token(), "FLOWDOCK_API_URL", emu.URL(),
			"FLOWDOCK_STREAM_URL", emu.StreamURL(), "FLOWDOCK_FLOWS", "acme/main"))
	}()
	emu.WaitConnections(t, 1)
	in, err := emu.Post("acme/main", "dana", "hello")
	require.NoError(t, err)
	sent := emu.WaitSent(t, 1)
	assert.Equal(t, "hello", sent[0].Content)
	assert.Equal(t, in.ThreadID, sent[0].ThreadID)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancellation")
	}
	assert.Empty(t, stdout.String(), "with a platform configured, the console is not used")
}
