package flowdock_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// The adapter tells the Bot's event feed when its stream connects and
// disconnects, with why.
func TestAdapter_feedConnection(t *testing.T) {
	emu := flowdocktest.NewServer(t)
	a := newAdapter(t, emu)
	b, err := bot.New(bot.WithAdapters(a), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	sub := b.Subscribe(0)
	defer sub.Close()
	bottest.Run(t, b)

	next := func(want bot.EventType) bot.Event {
		t.Helper()
		timeout := time.After(5 * time.Second)
		for {
			select {
			case e := <-sub.Events():
				if e.Type == want {
					return e
				}
			case <-timeout:
				require.FailNow(t, "no "+string(want)+" event")
			}
		}
	}
	e := next(bot.EventConnected)
	assert.Equal(t, flowdock.Name, e.Platform)
	emu.DropConnections()
	e = next(bot.EventDisconnected)
	assert.Equal(t, flowdock.Name, e.Platform)
	assert.NotEmpty(t, e.Error, "why")
	next(bot.EventConnected) // it reconnects
}
