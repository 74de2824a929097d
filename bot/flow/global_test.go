package flow_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/flow"
)

// When the global route cannot read the conversation's flow, the message
// fails without running the handler: its redelivery runs it once, not
// twice.
func TestGlobal_readErrorSkipsHandler(t *testing.T) {
	var ran atomic.Int32
	r := newRig(t, rigOption{flows: []flow.Flow{lead()}, noRun: true, setup: func(r *rig) {
		r.b.HandleFunc(bot.Command("help"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
			ran.Add(1)
			return nil
		}, r.e.Global())
	}})
	ctx := t.Context()
	require.NoError(t, r.b.Store().Set(ctx, "flow:fake:c1", []byte("not a state"), 0))
	err := r.b.HandleMessage(ctx, r.b, bottest.NewMessage("/help", bottest.In("fake", "c1"), bottest.WithID("h1")))
	require.ErrorContains(t, err, "decode the state")
	assert.Zero(t, ran.Load(), "the handler ran although the message failed")
}
