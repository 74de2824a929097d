package sendbee_test

import (
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/storage/jetstream"
)

// jsStore returns a Store on its own connection to srv.
func jsStore(t *testing.T, srv *jetstream.Server) *jetstream.Store {
	t.Helper()
	nc, err := srv.Connect()
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := njs.New(nc)
	require.NoError(t, err)
	s, err := jetstream.NewStore(t.Context(), js, "parley")
	require.NoError(t, err)
	return s
}

// TestPolicy_sharedAndDurable: the windows and opt-outs one Bot records
// on a JetStream store hold for another replica on the same store, and
// for a Bot started later on it (a restart), which decides without asking
// Sendbee.
func TestPolicy_sharedAndDurable(t *testing.T) {
	srv, err := jetstream.StartEmbedded(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(srv.Shutdown)

	s := newSetup(t, nil, bot.WithStore(jsStore(t, srv)))
	bottest.Run(t, s.b)
	late := oldCustomer(t, s, "+385911000001", 25*time.Hour)
	stopped, id := s.emu.CustomerMessage("+385911000002", "Ana", "STOP")
	s.handledID(t, id)
	s.emu.WaitSent(t, 1) // the confirmation

	other, err := sendbee.New(sendbee.AdapterConfig{Config: sendbee.Config{
		APIKey: s.emu.APIKey(), APISecret: s.emu.APISecret(), BaseURL: s.emu.URL(), Logger: bottest.Logger(t),
	}, RequestsPerMinute: 6000})
	require.NoError(t, err)
	replica, err := bot.New(bot.WithAdapters(other), bot.WithStore(jsStore(t, srv)), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	bottest.Run(t, replica)
	before := len(s.emu.Requests())

	err = replica.Send(t.Context(), &bot.Message{Platform: sendbee.Name, Conversation: late, Text: "late"})
	assert.ErrorIs(t, err, bot.ErrWindowClosed)
	err = replica.Send(t.Context(), &bot.Message{Platform: sendbee.Name, Conversation: stopped,
		Payload: bot.Template{Keyword: "welcome", Language: "en", Tags: map[string]string{"1": "Ana"}}})
	assert.ErrorIs(t, err, bot.ErrOptedOut)
	assert.Len(t, s.emu.Requests(), before, "decided from the store, without asking Sendbee")
	assert.Len(t, s.emu.Sent(), 1)
}
