package parleytest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/parleytest"
)

// hours is the handler under test in the examples.
func hours(ctx context.Context, w bot.Sender, m *bot.Message) error {
	return w.Send(ctx, m.Reply("We are open 9 to 5."))
}

// A test of a Sendbee bot: the emulator plays the customer, its webhook
// reaches the adapter, and the reply it records went through the API. The
// examples show the body of a test function; t is its *testing.T.
func ExampleSendbee() {
	var t *testing.T // func TestHours(t *testing.T) {

	emu := sendbeetest.NewServer(t)
	b, err := bot.New(bot.WithAdapters(parleytest.Sendbee(t, emu)), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	b.HandleFunc(bot.Command("hours"), hours)
	parleytest.Run(t, b)

	emu.CustomerMessage("+385911234567", "Ana", "/hours")
	sent := emu.WaitSent(t, 1)
	assert.Equal(t, "We are open 9 to 5.", sent[0].Text)
}

// A test of a VelaFlows bot: the adapter registered its webhook with the
// emulator, as a bot does at start-up.
func ExampleVelaFlows() {
	var t *testing.T // func TestHours(t *testing.T) {

	emu := velaflowstest.NewServer(t)
	b, err := bot.New(bot.WithAdapters(parleytest.VelaFlows(t, emu)), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	b.HandleFunc(bot.Command("hours"), hours)
	parleytest.Run(t, b)

	emu.CustomerMessage("whatsapp", "Ada Lovelace", "+442071838750", "/hours")
	sent := emu.WaitSent(t, 1)
	assert.Equal(t, "We are open 9 to 5.", sent[0].Content)
}

// A test of a Flowdock bot: Run returns once the adapter's stream is
// connected, and the reply goes to the message's thread.
func ExampleFlowdock() {
	var t *testing.T // func TestHours(t *testing.T) {

	emu := flowdocktest.NewServer(t)
	b, err := bot.New(bot.WithAdapters(parleytest.Flowdock(t, emu)), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	b.HandleFunc(bot.Command("hours"), hours)
	parleytest.Run(t, b)

	in, err := emu.Post("acme/main", "dana", "/hours")
	require.NoError(t, err)
	sent := emu.WaitSent(t, 1)
	assert.Equal(t, "We are open 9 to 5.", sent[0].Content)
	assert.Equal(t, in.ThreadID, sent[0].ThreadID)
}
