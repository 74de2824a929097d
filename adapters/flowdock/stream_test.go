package flowdock_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
)

// texts returns the texts of what rec published, in order.
func texts(rec *recorder) []string {
	var out []string
	for _, m := range rec.all() {
		out = append(out, m.Text)
	}
	return out
}

// validHeaderValue is net/http's rule for a header value: no control
// character but tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; (b < ' ' && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}

// An SSE event id that cannot be sent back as Last-Event-ID (not a valid
// header value, or too long) is not kept: the reconnect after a drop
// resumes from the last good id, so the stream recovers by itself and
// loses nothing.
func TestAdapter_BadEventIDNotKept(t *testing.T) {
	tests := []struct{ name, id string }{
		{"NUL", "12\x0034"},
		{"control character", "12\x01"},
		{"DEL", "\x7f"},
		{"too long", strings.Repeat("9", 1025)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu := flowdocktest.NewServer(t)
			a := newAdapter(t, emu)
			rec := newRecorder()
			runAdapter(t, a, rec)
			waitConnected(t, a)

			_, err := emu.Post("acme/main", "dana", "before")
			require.NoError(t, err)
			rec.wait(t, 1)
			// A well-formed message whose event carries the bad id, in a flow
			// that stays quiet afterwards.
			ops := emu.Messages("acme/ops")
			carrier := fmt.Sprintf(`{"event":"message","id":%d,"flow":%q,"user":"1305","content":"carried by a bad id","tags":[]}`,
				ops[len(ops)-1].ID+1, emu.FlowID("acme/ops"))
			require.NoError(t, emu.InjectEvent(tt.id, []byte(carrier)))
			rec.wait(t, 2)

			emu.DropConnections()
			_, err = emu.Post("acme/main", "dana", "during")
			require.NoError(t, err)
			rec.wait(t, 3)
			_, err = emu.Post("acme/main", "dana", "later")
			require.NoError(t, err)
			rec.wait(t, 4)
			assert.Never(t, func() bool { return len(rec.all()) > 4 }, 100*time.Millisecond, 10*time.Millisecond)
			assert.Equal(t, []string{"before", "carried by a bad id", "during", "later"}, texts(rec))
			assert.True(t, a.Health().Connected)
			assert.Equal(t, int64(1), a.Health().Discarded[flowdock.DiscardEventID], "the bad id is counted once")

			ids := emu.LastEventIDs()
			require.GreaterOrEqual(t, len(ids), 2)
			for _, id := range ids {
				assert.True(t, validHeaderValue(id) && len(id) <= 1024, "Last-Event-ID %q", id)
			}
			_, err = strconv.ParseUint(ids[len(ids)-1], 10, 64)
			assert.NoError(t, err, "the reconnect resumes from the last good id, one of the emulator's")
		})
	}
}

// A server that refuses a reconnect carrying a Last-Event-ID as malformed
// (400, 413, 414, 431) gets the next one without it; the REST backfill
// fills the gap, once and in order.
func TestAdapter_RefusedLastEventIDDropped(t *testing.T) {
	for _, status := range []int{400, 413, 414, 431} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			emu := flowdocktest.NewServer(t)
			a := newAdapter(t, emu)
			rec := newRecorder()
			runAdapter(t, a, rec)
			waitConnected(t, a)

			_, err := emu.Post("acme/main", "dana", "one")
			require.NoError(t, err)
			rec.wait(t, 1)
			emu.FailStreams(status, 1)
			emu.DropConnections()
			_, err = emu.Post("acme/main", "dana", "two")
			require.NoError(t, err)
			rec.wait(t, 2)
			_, err = emu.Post("acme/main", "dana", "three")
			require.NoError(t, err)
			rec.wait(t, 3)
			assert.Never(t, func() bool { return len(rec.all()) > 3 }, 100*time.Millisecond, 10*time.Millisecond)
			assert.Equal(t, []string{"one", "two", "three"}, texts(rec))

			ids := emu.LastEventIDs()
			require.GreaterOrEqual(t, len(ids), 3)
			assert.Equal(t, int64(1), a.Health().Discarded[flowdock.DiscardEventID])
			assert.NotEmpty(t, ids[len(ids)-2], "the refused connect carried an id")
			assert.Empty(t, ids[len(ids)-1], "the next one went without it")
		})
	}
}
