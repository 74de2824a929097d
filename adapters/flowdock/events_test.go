package flowdock_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
)

// The wrapper's event monitor: an iterator over every stream event, which
// resumes across a dropped connection.
func TestClient_Events(t *testing.T) {
	emu := flowdocktest.NewServer(t)
	c, err := flowdock.NewClient(flowdock.Config{Token: emu.Token(), BaseURL: emu.URL()})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	go func() {
		emu.WaitConnections(t, 1)
		_, _ = emu.Post("acme/main", "dana", "one")
		emu.DropConnections()
		_, _ = emu.Post("acme/main", "dana", "two")
		_, _ = emu.PrivateMessage("mike", "three")
	}()
	var texts []string
	for m, err := range c.Events(ctx, emu.StreamURL(), true, flowdock.FlowChat("acme", "main")) {
		require.NoError(t, err)
		if m.Event != flowdock.EventMessage {
			continue
		}
		texts = append(texts, m.Text())
		if len(texts) == 3 {
			break
		}
	}
	assert.Equal(t, []string{"one", "two", "three"}, texts)
}

func TestClient_EventsBadToken(t *testing.T) {
	emu := flowdocktest.NewServer(t)
	c, err := flowdock.NewClient(flowdock.Config{Token: "wrong", BaseURL: emu.URL()})
	require.NoError(t, err)
	var got error
	for _, err := range c.Events(t.Context(), emu.StreamURL(), true) {
		got = err
	}
	var se *flowdock.StreamError
	require.ErrorAs(t, got, &se)
	assert.Equal(t, 401, se.StatusCode)
}

// An event id that is not a valid header value is not kept for
// Last-Event-ID: the iterator resumes from the last good one after a drop.
func TestClient_EventsBadEventID(t *testing.T) {
	emu := flowdocktest.NewServer(t)
	c, err := flowdock.NewClient(flowdock.Config{Token: emu.Token(), BaseURL: emu.URL()})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	go func() {
		emu.WaitConnections(t, 1)
		_, _ = emu.Post("acme/main", "dana", "one")
	}()
	var texts []string
	for m, err := range c.Events(ctx, emu.StreamURL(), true, flowdock.FlowChat("acme", "main")) {
		require.NoError(t, err)
		switch {
		case m.Event == flowdock.EventMessage:
			texts = append(texts, m.Text())
		case m.Event == "bad-id":
			// Seen with its bad id: drop the stream, and post while it is down.
			emu.DropConnections()
			_, err := emu.Post("acme/main", "dana", "two")
			require.NoError(t, err)
		}
		if len(texts) == 1 && m.Event == flowdock.EventMessage {
			require.NoError(t, emu.InjectEvent("5\x00", []byte(`{"event":"bad-id"}`)))
		}
		if len(texts) == 2 {
			break
		}
	}
	assert.Equal(t, []string{"one", "two"}, texts)
	for _, id := range emu.LastEventIDs() {
		assert.NotContains(t, id, "\x00")
	}
}
