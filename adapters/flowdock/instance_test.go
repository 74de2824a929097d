package flowdock_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

func TestNew_instance(t *testing.T) {
	a, err := flowdock.New(flowdock.AdapterConfig{Config: flowdock.Config{Token: "t"}, Instance: "team-b"})
	require.NoError(t, err)
	assert.Equal(t, "flowdock/team-b", a.Name())
	a, err = flowdock.New(flowdock.AdapterConfig{Config: flowdock.Config{Token: "t"}})
	require.NoError(t, err)
	assert.Equal(t, "flowdock", a.Name())
	_, err = flowdock.New(flowdock.AdapterConfig{Config: flowdock.Config{Token: "t"}, Instance: "Team"})
	assert.ErrorContains(t, err, `flowdock: AdapterConfig.Instance: bot: instance name "Team"`)
}

// A named instance's messages carry its name as their Platform, so that
// the replies go back through it.
func TestAdapter_instance(t *testing.T) {
	emu := flowdocktest.NewServer(t)
	a := newAdapter(t, emu, func(c *flowdock.AdapterConfig) { c.Instance = "team-b" })
	b, err := bot.New(bot.WithAdapters(a), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	var (
		mu        sync.Mutex
		platforms []string
	)
	b.HandleFunc(bot.Always(), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		if m.Kind.Or() != bot.KindMessage {
			return nil
		}
		mu.Lock()
		platforms = append(platforms, m.Platform)
		mu.Unlock()
		return w.Send(ctx, m.Reply("echo: "+m.Text))
	})
	sub := b.Subscribe(16, bot.EventConnected)
	defer sub.Close()
	bottest.Run(t, b)
	waitConnected(t, a)

	_, err = emu.Post("acme/main", "dana", "hello")
	require.NoError(t, err)
	sent := emu.WaitSent(t, 1)
	assert.Equal(t, "echo: hello", sent[0].Content)
	mu.Lock()
	assert.Equal(t, []string{"flowdock/team-b"}, platforms)
	mu.Unlock()
	select {
	case e := <-sub.Events():
		assert.Equal(t, "flowdock/team-b", e.Platform, "the stream's events name the instance")
	case <-time.After(5 * time.Second):
		t.Fatal("no connected event")
	}
}
