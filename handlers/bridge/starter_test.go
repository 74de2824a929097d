package bridge_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/handlers/bridge"
)

func TestNewFlowdockStarter(t *testing.T) {
	tests := []struct {
		name    string
		flow    string // "" means acme/support's id
		fault   func(emu *flowdocktest.Server)
		twice   bool // start with the same key again
		wantErr string
	}{
		{name: "a top-level post starts a thread"},
		{name: "the same key again finds the first post", twice: true},
		{name: "a failed post that did not go through", fault: func(emu *flowdocktest.Server) {
			emu.FailRequests(500, 1)
		}, wantErr: "500"},
		{name: "an unknown flow", flow: "no-such-flow", wantErr: "find flow no-such-flow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu := flowdocktest.NewServer(t, flowdocktest.WithoutDemoData(),
				flowdocktest.WithFlows(flowdocktest.Flow{Org: "acme", Name: "support"}))
			c, err := flowdock.NewClient(flowdock.Config{Token: emu.Token(), BaseURL: emu.URL(), Logger: bottest.Logger(t)})
			require.NoError(t, err)
			s := bridge.NewFlowdockStarter(c)
			flow := tt.flow
			if flow == "" {
				flow = emu.FlowID("acme/support")
			}
			ctx := t.Context()
			// Resolve the flow first, so that a fault hits the post.
			if tt.fault != nil {
				_, err := s.StartThread(ctx, flow, "warm-up", "warm-up")
				require.NoError(t, err)
				tt.fault(emu)
			}

			thread, err := s.StartThread(ctx, flow, "sendbee:m-1", "[sendbee] Ana: hi")
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Empty(t, thread)
				return
			}
			require.NoError(t, err)
			sent := emu.Sent()
			require.Len(t, sent, 1)
			assert.Equal(t, sent[0].ThreadID, thread)
			assert.Equal(t, "[sendbee] Ana: hi", sent[0].Content)
			assert.Equal(t, "/flows/:org/:flow/messages", sent[0].Endpoint, "a top-level message")

			if tt.twice {
				again, err := s.StartThread(ctx, flow, "sendbee:m-1", "[sendbee] Ana: hi")
				require.NoError(t, err)
				assert.Equal(t, thread, again)
				assert.Len(t, emu.Messages("acme/support"), 1, "no second post")
			}
		})
	}
}

func TestNewFlowdockStarter_nilClient(t *testing.T) {
	assert.PanicsWithValue(t, "bridge: NewFlowdockStarter with a nil client", func() { bridge.NewFlowdockStarter(nil) })
}

func TestThreadStarterFunc(t *testing.T) {
	boom := errors.New("boom")
	f := bridge.ThreadStarterFunc(func(_ context.Context, conversation, key, text string) (string, error) {
		return conversation + "/" + key + "/" + text, boom
	})
	got, err := f.StartThread(t.Context(), "f", "k", "t")
	assert.Equal(t, "f/k/t", got)
	assert.ErrorIs(t, err, boom)
}
