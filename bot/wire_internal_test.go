package bot

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The time a handoff reply was queued crosses a Broker with it, so that a
// resume made meanwhile overtakes it on any replica; a message without it
// encodes as before.
func TestWire_queuedRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 8, 9, 30, 0, 123456789, time.UTC)
	m := &Message{Platform: "sendbee", Conversation: "c1", Key: "k1", Text: "A person will answer.", Handoff: true, queued: at}
	data, err := MarshalMessage(m)
	require.NoError(t, err)
	got, err := UnmarshalMessage(data)
	require.NoError(t, err)
	assert.True(t, at.Equal(got.queued), "queued %v", got.queued)

	plain, err := MarshalMessage(&Message{Platform: "sendbee", Conversation: "c1", Text: "hi"})
	require.NoError(t, err)
	assert.NotContains(t, string(plain), "Queued")
}
