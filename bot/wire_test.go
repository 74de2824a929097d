package bot_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
)

type wireCard struct {
	Title string
	Lines []string
}

type wireUnregistered struct{ N int }

func init() { bot.RegisterPayload[wireCard]("bottest.card") }

func TestMarshalMessageRoundTrip(t *testing.T) {
	in := &bot.Message{
		ID: "e1", Platform: "sendbee", Conversation: "c1", Thread: "t",
		Author: bot.User{ID: "u", Name: "Ana", Phone: "+385", Agent: true},
		Text:   "hello", Attachments: []bot.Attachment{{Kind: "image", URL: "https://x/y.png", Size: 3}},
		Tags: []string{"a", "b"}, Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		Direct: true, Kind: bot.KindOwnership, Owner: bot.OwnerHuman,
		Raw: json.RawMessage(`{"x":1}`), ReplyTo: "r", Key: "k", Handoff: true, Relay: true,
		Payload: wireCard{Title: "T", Lines: []string{"1"}},
	}
	data, err := bot.MarshalMessage(in)
	require.NoError(t, err)
	out, err := bot.UnmarshalMessage(data)
	require.NoError(t, err)
	assert.Equal(t, in, out)

	// A pointer payload comes back as the registered value type.
	in.Payload = &wireCard{Title: "P"}
	data, err = bot.MarshalMessage(in)
	require.NoError(t, err)
	out, err = bot.UnmarshalMessage(data)
	require.NoError(t, err)
	assert.Equal(t, wireCard{Title: "P"}, out.Payload)

	in.Payload = nil
	data, err = bot.MarshalMessage(in)
	require.NoError(t, err)
	out, err = bot.UnmarshalMessage(data)
	require.NoError(t, err)
	assert.Nil(t, out.Payload)
}

func TestMarshalMessageErrors(t *testing.T) {
	_, err := bot.MarshalMessage(&bot.Message{Conversation: "c", Payload: wireUnregistered{}})
	require.ErrorContains(t, err, "bot_test.wireUnregistered is not registered")
	_, err = bot.MarshalMessage(&bot.Message{Conversation: "c", Payload: (*wireCard)(nil)})
	require.ErrorContains(t, err, "nil")

	_, err = bot.UnmarshalMessage([]byte(`{"Conversation":"c","Payload":{"type":"nope","value":{}}}`))
	require.ErrorContains(t, err, `unknown payload type "nope"`)
	_, err = bot.UnmarshalMessage([]byte(`{"Conversation":`))
	require.ErrorContains(t, err, "bot: unmarshal message")
	_, err = bot.UnmarshalMessage([]byte(`{"Payload":{"type":"bottest.card","value":{"Title":5}}}`))
	require.ErrorContains(t, err, "payload bottest.card")
}

func TestRegisterPayloadMisuse(t *testing.T) {
	assert.PanicsWithValue(t, `bot: payload name "bottest.card" is registered for bot_test.wireCard`,
		func() { bot.RegisterPayload[wireUnregistered]("bottest.card") })
	assert.PanicsWithValue(t, `bot: payload type bot_test.wireCard is registered as "bottest.card"`,
		func() { bot.RegisterPayload[wireCard]("other") })
	assert.Panics(t, func() { bot.RegisterPayload[*wireCard]("ptr") })
	assert.Panics(t, func() { bot.RegisterPayload[wireCard]("") })
	bot.RegisterPayload[wireCard]("bottest.card") // the same pair again is fine
}
