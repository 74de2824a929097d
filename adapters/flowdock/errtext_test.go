package flowdock_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// A Bot whose Flowdock token is refused fails with an error that names
// each layer once.
func TestAdapter_Run_refusedTokenErrorText(t *testing.T) {
	emu := flowdocktest.NewServer(t)
	a := newAdapter(t, emu, func(c *flowdock.AdapterConfig) { c.Token = "stale-token" })
	b, err := bot.New(bot.WithAdapters(a), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)

	err = b.Run(t.Context())
	require.Error(t, err)
	assert.EqualError(t, err, "bot: adapter flowdock: who am I: GET /user: 401 Unauthorized")
	var apiErr *flowdock.APIError
	assert.ErrorAs(t, err, &apiErr)
}
