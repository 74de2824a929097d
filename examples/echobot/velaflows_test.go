package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
)

// echobot on VelaFlows: it registers its own webhook subscription at
// PARLEY_PUBLIC_URL and answers a customer through the API.
func TestRun_velaflows(t *testing.T) {
	addr := freeAddr(t)
	emu := velaflowstest.NewServer(t, velaflowstest.WithRetrySchedule(20*time.Millisecond, 40*time.Millisecond, 80*time.Millisecond, 160*time.Millisecond))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	var stdout, stderr strings.Builder
	go func() {
		done <- run(ctx, strings.NewReader(""), &stdout, &stderr, env(
			"VELAFLOWS_API_TOKEN", emu.Token(), "VELAFLOWS_WORKSPACE_ID", emu.WorkspaceID(),
			"VELAFLOWS_BASE_URL", emu.URL(), "PARLEY_PUBLIC_URL", "http://"+addr, "PARLEY_ADDR", addr))
	}()
	require.Eventually(t, func() bool { return len(emu.Subscriptions()) == 1 }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, "http://"+addr+"/webhooks/velaflows", emu.Subscriptions()[0].URL)

	emu.CustomerMessage("whatsapp", "Ada", "+442071838750", "hello")
	sent := emu.WaitSent(t, 1)
	assert.Equal(t, "hello", sent[0].Content)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancellation")
	}
}

func TestRun_velaflowsConfigErrors(t *testing.T) {
	emu := velaflowstest.NewServer(t)
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"token without workspace", []string{"VELAFLOWS_API_TOKEN", emu.Token()}, "VELAFLOWS_WORKSPACE_ID"},
		{"workspace without token", []string{"VELAFLOWS_WORKSPACE_ID", emu.WorkspaceID()}, "VELAFLOWS_API_TOKEN"},
		{"no way to verify deliveries", []string{"VELAFLOWS_API_TOKEN", emu.Token(), "VELAFLOWS_WORKSPACE_ID", emu.WorkspaceID(),
			"VELAFLOWS_BASE_URL", emu.URL()}, "PARLEY_PUBLIC_URL"},
		{"bad public URL", []string{"VELAFLOWS_API_TOKEN", emu.Token(), "VELAFLOWS_WORKSPACE_ID", emu.WorkspaceID(),
			"VELAFLOWS_BASE_URL", emu.URL(), "PARLEY_PUBLIC_URL", "bot.example.com"}, "PARLEY_PUBLIC_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			err := runBot(t, t.Context(), strings.NewReader(""), &out, &out, env(tt.env...))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
