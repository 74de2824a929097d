package flowdock_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
)

// DecodeEvent makes of a stream event the bot.Message the adapter hands
// its Bot, and says so for an event it hands to no handler.
func TestDecodeEvent(t *testing.T) {
	m, err := flowdock.DecodeEvent([]byte(`{"event":"message","id":42,"flow":"f1","user":"7","content":"deploy done","sent":1700000000000,"thread_id":"th1"}`), "1")
	require.NoError(t, err)
	assert.Equal(t, "flowdock", m.Platform)
	assert.Equal(t, "f1", m.Conversation)
	assert.Equal(t, "f1/42", m.ID)
	assert.Equal(t, "deploy done", m.Text)
	assert.Equal(t, "th1", m.Thread)

	_, err = flowdock.DecodeEvent([]byte(`{"event":"flow-add","user":"7","content":{}}`), "1")
	assert.EqualError(t, err, "flowdock: the adapter hands this event to no handler")
	_, err = flowdock.DecodeEvent([]byte(`not json`), "1")
	assert.Error(t, err)
}
