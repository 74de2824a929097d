package flowdock_test

import (
	"fmt"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
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

// withoutText returns texts without those equal to drop, and how many
// there were.
func withoutText(texts []string, drop string) ([]string, int) {
	var out []string
	n := 0
	for _, t := range texts {
		if t == drop {
			n++
			continue
		}
		out = append(out, t)
	}
	return out, n
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

// One hostile or corrupt message id cannot silence a flow: a huge id is
// published but not taken as the flow's position, so the messages after
// it are published too; zero and negative ids are dropped, an id that goes
// back to one already published is dropped, and every drop is counted.
func TestAdapter_HostileMessageIDs(t *testing.T) {
	emu := flowdocktest.NewServer(t)
	a := newAdapter(t, emu)
	rec := newRecorder()
	runAdapter(t, a, rec)
	waitConnected(t, a)

	one, err := emu.Post("acme/main", "dana", "one")
	require.NoError(t, err)
	rec.wait(t, 1)
	_, err = emu.InjectMessage("acme/main", "mike", 1<<53+1, "huge")
	require.NoError(t, err)
	_, err = emu.Post("acme/main", "dana", "two")
	require.NoError(t, err)
	_, err = emu.Post("acme/main", "dana", "three")
	require.NoError(t, err)
	rec.wait(t, 4)

	for _, bad := range []struct {
		id   int64
		text string
	}{{-7, "negative"}, {0, "zero"}, {int64(one.ID), "reused"}, {1, "old"}} {
		_, err = emu.InjectMessage("acme/main", "mike", bad.id, bad.text)
		require.NoError(t, err)
	}
	_, err = emu.Post("acme/main", "dana", "four")
	require.NoError(t, err)
	rec.wait(t, 5)
	emu.DropConnections()
	_, err = emu.Post("acme/main", "dana", "five")
	require.NoError(t, err)
	rec.wait(t, 6)
	assert.Never(t, func() bool { return len(rec.all()) > 6 }, 100*time.Millisecond, 10*time.Millisecond)
	// The huge id is published once; where, among the others, depends on
	// what the REST API already lists when it arrives (it is asked before
	// the huge id is taken for a corrupt one).
	legit, huge := withoutText(texts(rec), "huge")
	assert.Equal(t, []string{"one", "two", "three", "four", "five"}, legit, "in order")
	assert.Equal(t, 1, huge)

	h := a.Health()
	assert.Equal(t, int64(1), h.IDOutliers, "the huge id was published, not adopted")
	assert.Equal(t, int64(2), h.Discarded[flowdock.DiscardInvalidID], "zero and negative")
	assert.GreaterOrEqual(t, h.Discarded[flowdock.DiscardDuplicate], int64(2), "reused and old (and any replay)")
}

// A stream server that replays everything it has on every reconnect (here
// a proxy that asks for it, whatever Last-Event-ID the adapter sends) sends
// a huge id again and again: it is published once, as is every message.
func TestAdapter_ReplayedOutlierOnce(t *testing.T) {
	emu := flowdocktest.NewServer(t, flowdocktest.WithoutDemoData(),
		flowdocktest.WithUsers(flowdocktest.User{ID: 2, Nick: "dana"}),
		flowdocktest.WithFlows(flowdocktest.Flow{Org: "acme", Name: "main", Members: []int{flowdocktest.DefaultBotID, 2}}))
	target, err := url.Parse(emu.StreamURL())
	require.NoError(t, err)
	front := httptest.NewServer(&httputil.ReverseProxy{
		FlushInterval: -1,
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Header.Set("Last-Event-ID", "0")
		},
	})
	t.Cleanup(front.Close)
	a := newAdapter(t, emu, func(c *flowdock.AdapterConfig) { c.Stream.URL = front.URL })
	rec := newRecorder()
	runAdapter(t, a, rec)
	waitConnected(t, a)

	want := []string{"one", "two"}
	_, err = emu.Post("acme/main", "dana", "one")
	require.NoError(t, err)
	_, err = emu.InjectMessage("acme/main", "dana", 1<<62, "huge")
	require.NoError(t, err)
	_, err = emu.InjectMessage("acme/main", "dana", -1, "negative")
	require.NoError(t, err)
	_, err = emu.Post("acme/main", "dana", "two")
	require.NoError(t, err)
	rec.wait(t, len(want)+1)
	for i := range 3 {
		emu.DropConnections()
		text := "after drop " + strconv.Itoa(i)
		_, err = emu.Post("acme/main", "dana", text)
		require.NoError(t, err)
		want = append(want, text)
		rec.wait(t, len(want)+1)
	}
	assert.Never(t, func() bool { return len(rec.all()) > len(want)+1 }, 200*time.Millisecond, 10*time.Millisecond)
	legit, huge := withoutText(texts(rec), "huge")
	assert.Equal(t, want, legit)
	assert.Equal(t, 1, huge)
	h := a.Health()
	assert.Equal(t, int64(1), h.IDOutliers)
	assert.Positive(t, h.Discarded[flowdock.DiscardDuplicate], "the replays")
	assert.Positive(t, h.Discarded[flowdock.DiscardInvalidID])
}

// A flow whose ids really jumped far ahead (more than 8192 ids the REST API
// does not list, here edits made while the bot was out of the flow) is
// followed: the backfill sees two listed ids close together beyond the
// jump, and the messages after it are published in order, none lost.
func TestAdapter_IDsJumpAhead(t *testing.T) {
	emu := flowdocktest.NewServer(t)
	a := newAdapter(t, emu)
	rec := newRecorder()
	runAdapter(t, a, rec)
	waitConnected(t, a)
	mainID := emu.FlowID("acme/main")
	following := func() bool { return slices.Contains(a.Health().Flows, mainID) }

	before, err := emu.Post("acme/main", "dana", "before")
	require.NoError(t, err)
	rec.wait(t, 1)
	require.NoError(t, emu.RemoveFromFlow("acme/main"))
	require.Eventually(t, func() bool { return !following() }, 5*time.Second, time.Millisecond)
	for i := range 8200 {
		require.NoError(t, emu.Edit("acme/main", "dana", before.ID, "edit "+strconv.Itoa(i)))
	}
	_, err = emu.Post("acme/main", "dana", "jump 1")
	require.NoError(t, err)
	_, err = emu.Post("acme/main", "dana", "jump 2")
	require.NoError(t, err)
	require.NoError(t, emu.AddToFlow("acme/main"))
	require.Eventually(t, following, 5*time.Second, time.Millisecond)
	rec.wait(t, 3)
	_, err = emu.Post("acme/main", "dana", "live 1")
	require.NoError(t, err)
	_, err = emu.Post("acme/main", "dana", "live 2")
	require.NoError(t, err)
	rec.wait(t, 5)
	assert.Never(t, func() bool { return len(rec.all()) > 5 }, 100*time.Millisecond, 10*time.Millisecond)
	assert.Equal(t, []string{"before", "jump 1", "jump 2", "live 1", "live 2"}, texts(rec))
	assert.Equal(t, int64(1), a.Health().IDOutliers, "only the first message after the jump, before the second confirmed it")
}

// An id a little ahead of its flow is taken as the flow's position, but the
// ids it jumped over stay open: messages that take them while the stream is
// down, from a server that does not replay (here a proxy that strips
// Last-Event-ID), are fetched by the backfill and published, once.
func TestAdapter_IDAheadLeavesGapOpen(t *testing.T) {
	emu := flowdocktest.NewServer(t)
	target, err := url.Parse(emu.StreamURL())
	require.NoError(t, err)
	front := httptest.NewServer(&httputil.ReverseProxy{
		FlushInterval: -1,
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Header.Del("Last-Event-ID")
		},
	})
	t.Cleanup(front.Close)
	a := newAdapter(t, emu, func(c *flowdock.AdapterConfig) { c.Stream.URL = front.URL })
	rec := newRecorder()
	runAdapter(t, a, rec)
	waitConnected(t, a)

	one, err := emu.Post("acme/main", "dana", "one")
	require.NoError(t, err)
	rec.wait(t, 1)
	_, err = emu.InjectMessage("acme/main", "mike", int64(one.ID)+50, "ahead")
	require.NoError(t, err)
	rec.wait(t, 2)
	// Posted while the stream delivers nothing, then the stream is dropped.
	emu.Stall(time.Hour)
	for _, text := range []string{"two", "three"} {
		_, err = emu.Post("acme/main", "dana", text)
		require.NoError(t, err)
	}
	emu.DropConnections()
	rec.wait(t, 4)
	emu.Stall(0)
	_, err = emu.Post("acme/main", "dana", "four")
	require.NoError(t, err)
	rec.wait(t, 5)
	assert.Never(t, func() bool { return len(rec.all()) > 5 }, 100*time.Millisecond, 10*time.Millisecond)
	assert.Equal(t, []string{"one", "ahead", "two", "three", "four"}, texts(rec))
}
