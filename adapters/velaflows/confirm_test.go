package velaflows_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// confirmClock is the emulator's clock in the Delivered tests: it starts
// 400µs into a millisecond and moves only when told to.
type confirmClock struct{ ns atomic.Int64 }

func newConfirmClock() *confirmClock {
	c := &confirmClock{}
	c.ns.Store(time.Now().Truncate(time.Millisecond).Add(400 * time.Microsecond).UnixNano())
	return c
}

func (c *confirmClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *confirmClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// confirmSetup is an adapter wired to an emulator over loopback, and a
// WhatsApp conversation with one customer message in it.
type confirmSetup struct {
	emu   *velaflowstest.Server
	vf    *velaflows.Adapter
	clock *confirmClock
	conv  string
}

const confirmPhone = "+442071838750"

func newConfirmSetup(t *testing.T) *confirmSetup {
	t.Helper()
	clock := newConfirmClock()
	emu := velaflowstest.NewServer(t,
		velaflowstest.WithClock(clock.now),
		velaflowstest.WithRateLimits(3000, 1000, 500, 15*time.Minute),
	)
	vf, err := velaflows.New(velaflows.AdapterConfig{Config: velaflows.Config{
		Token: emu.Token(), WorkspaceID: emu.WorkspaceID(), BaseURL: emu.URL(), Logger: bottest.Logger(t),
	}})
	require.NoError(t, err)
	conv, _ := emu.CustomerMessage("whatsapp", "Ada Lovelace", confirmPhone, "hello")
	clock.advance(time.Minute) // the customer's message is well before anything the tests send
	return &confirmSetup{emu: emu, vf: vf, clock: clock, conv: conv}
}

// send sends m through the adapter, at the emulator's current time.
func (s *confirmSetup) send(t *testing.T, m *bot.Message) bot.SendResult {
	t.Helper()
	m.Platform, m.Conversation = velaflows.Name, s.conv
	res, err := s.vf.Send(t.Context(), m)
	require.NoError(t, err)
	require.NotEmpty(t, res.ID)
	return res
}

// customer stores n customer messages, a millisecond apart.
func (s *confirmSetup) customer(n int, format string) {
	for i := range n {
		s.clock.advance(time.Millisecond)
		s.emu.CustomerMessage("whatsapp", "Ada Lovelace", confirmPhone, fmt.Sprintf(format, i))
	}
}

// listCalls returns the emulator's GET …/messages requests.
func (s *confirmSetup) listCalls() []velaflowstest.Request {
	var out []velaflowstest.Request
	for _, r := range s.emu.Requests() {
		if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/messages") {
			out = append(out, r)
		}
	}
	return out
}

func TestAdapter_Delivered_since(t *testing.T) {
	t.Parallel()
	s := newConfirmSetup(t)
	sentAt := s.clock.now() // 400µs into a millisecond
	m := &bot.Message{Text: "Thanks! Your order #1042 ships tomorrow."}
	want := s.send(t, m)

	tests := []struct {
		name  string
		since time.Time
		found bool
	}{
		{"attempt began a minute before", sentAt.Add(-time.Minute), true},
		{"attempt began just before", sentAt.Add(-time.Millisecond), true},
		{"attempt began at the send", sentAt, true},
		{"zero since", time.Time{}, true},
		// createdAt has milliseconds: since counts from its millisecond.
		{"later in the same millisecond", sentAt.Add(500 * time.Microsecond), true},
		{"the next millisecond", sentAt.Truncate(time.Millisecond).Add(time.Millisecond), false},
		{"a minute later", sentAt.Add(time.Minute), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, ok, err := s.vf.Delivered(t.Context(), m, tt.since)
			require.NoError(t, err)
			assert.Equal(t, tt.found, ok)
			if tt.found {
				assert.Equal(t, want, res, "the same SendResult as Send")
			} else {
				assert.Zero(t, res)
			}
		})
	}
}

func TestAdapter_Delivered_content(t *testing.T) {
	t.Parallel()
	s := newConfirmSetup(t)
	since := s.clock.now()
	sent := s.send(t, &bot.Message{Text: "Your parcel is on its way."})
	s.customer(1, "Where is my parcel? (%d)")
	s.clock.advance(time.Millisecond)
	s.emu.CustomerMessage("whatsapp", "Ada Lovelace", confirmPhone, "Thank you!")

	tests := []struct {
		name   string
		text   string
		wantID string // "" when not found
	}{
		{"the same text", "Your parcel is on its way.", sent.ID},
		{"a different text", "Your parcel is on its way!", ""},
		{"a different case", "your parcel is on its way.", ""},
		{"trailing space", "Your parcel is on its way. ", ""},
		{"the customer's text (inbound)", "Thank you!", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := &bot.Message{Platform: velaflows.Name, Conversation: s.conv, Text: tt.text}
			res, ok, err := s.vf.Delivered(t.Context(), m, since)
			require.NoError(t, err)
			assert.Equal(t, tt.wantID != "", ok)
			assert.Equal(t, tt.wantID, res.ID)
		})
	}
}

// Messages Send refuses were never sent: Delivered reports false without
// asking the API. Each case is checked against Send too, so that the two
// stay in step.
func TestAdapter_Delivered_refused(t *testing.T) {
	t.Parallel()
	s := newConfirmSetup(t)
	since := s.clock.now()
	tests := []struct {
		name string
		m    *bot.Message
	}{
		{"a payload", &bot.Message{Conversation: s.conv, Text: "hi", Payload: struct{}{}}},
		{"an attachment", &bot.Message{Conversation: s.conv, Text: "hi", Attachments: []bot.Attachment{{URL: "https://cdn.example.com/a.png"}}}},
		{"no text", &bot.Message{Conversation: s.conv, Text: " \n"}},
		{"a CRM lead", &bot.Message{Conversation: "lead:65f0c0ffee0000000000c001", Text: "hi"}},
		{"no conversation", &bot.Message{Text: "hi"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.m.Platform = velaflows.Name
			_, err := s.vf.Send(t.Context(), tt.m)
			require.Error(t, err, "Send refuses it")
			res, ok, err := s.vf.Delivered(t.Context(), tt.m, since)
			require.NoError(t, err)
			assert.False(t, ok)
			assert.Zero(t, res)
		})
	}
	assert.Empty(t, s.listCalls(), "no message list was requested")
	assert.Empty(t, s.emu.Sent())
}

// Delivered reads the newest messages, 100 a page, and stops at a page that
// reaches back before since; past its bound of 20 pages it says it cannot
// tell (ErrUnconfirmed), never "not there".
func TestAdapter_Delivered_pages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		newer     int // customer messages after the bot's message
		found     bool
		wantPages int
	}{
		{"on page 1", 99, true, 1},
		{"on page 2", 100, true, 2},
		{"the 2,000th newest", 1999, true, 20},
		{"the 2,001st newest, past the bound", 2000, false, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newConfirmSetup(t)
			since := s.clock.now()
			m := &bot.Message{Text: "We're open until 10pm."}
			want := s.send(t, m)
			s.customer(tt.newer, "message %d")
			res, ok, err := s.vf.Delivered(t.Context(), m, since)
			if tt.newer >= 2000 {
				require.ErrorIs(t, err, velaflows.ErrUnconfirmed)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.found, ok)
			if tt.found {
				assert.Equal(t, want.ID, res.ID)
			}
			calls := s.listCalls()
			require.Len(t, calls, tt.wantPages)
			for i, r := range calls {
				assert.Equal(t, "/inbox/conversations/"+s.conv+"/messages", r.Path)
				assert.Equal(t, strconv.Itoa(i+1), r.Query.Get("page"), "request %d", i)
				assert.Equal(t, "100", r.Query.Get("limit"), "request %d", i)
				assert.Equal(t, "desc", r.Query.Get("sortOrder"), "request %d", i)
				assert.Equal(t, "createdAt", r.Query.Get("sortBy"), "request %d", i)
			}
		})
	}

	t.Run("stops at a page older than since", func(t *testing.T) {
		t.Parallel()
		s := newConfirmSetup(t)
		s.customer(60, "old %d")
		s.clock.advance(time.Second)
		since := s.clock.now()
		s.send(t, &bot.Message{Text: "new"})
		m := &bot.Message{Platform: velaflows.Name, Conversation: s.conv, Text: "old 3"}
		res, ok, err := s.vf.Delivered(t.Context(), m, since)
		require.NoError(t, err)
		assert.False(t, ok)
		assert.Zero(t, res)
		assert.Len(t, s.listCalls(), 1, "page 1 already reaches back before since")
	})
}

func TestAdapter_Delivered_errors(t *testing.T) {
	t.Parallel()
	s := newConfirmSetup(t)
	since := s.clock.now()
	m := &bot.Message{Text: "An agent will call you back."}
	s.send(t, m)

	t.Run("server error", func(t *testing.T) {
		s.emu.FailNext(http.StatusInternalServerError, "", "")
		res, ok, err := s.vf.Delivered(t.Context(), m, since)
		require.Error(t, err)
		assert.False(t, ok)
		assert.Zero(t, res)
		assert.True(t, strings.HasPrefix(err.Error(), "velaflows: delivered: "), err.Error())
		var apiErr *velaflows.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, http.StatusInternalServerError, apiErr.StatusCode)
	})
	t.Run("rate limited", func(t *testing.T) {
		s.emu.RateLimitNext(3 * time.Second)
		_, ok, err := s.vf.Delivered(t.Context(), m, since)
		assert.False(t, ok)
		var rl *bot.RateLimitError
		require.ErrorAs(t, err, &rl)
		assert.Equal(t, 3*time.Second, rl.RetryAfter)
	})
	t.Run("unknown conversation", func(t *testing.T) {
		other := &bot.Message{Platform: velaflows.Name, Conversation: "000000000000000000000000", Text: m.Text}
		_, ok, err := s.vf.Delivered(t.Context(), other, since)
		assert.False(t, ok)
		var apiErr *velaflows.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
	})
	t.Run("context canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, ok, err := s.vf.Delivered(ctx, m, since)
		assert.False(t, ok)
		assert.ErrorIs(t, err, context.Canceled)
	})
	t.Run("then found", func(t *testing.T) {
		_, ok, err := s.vf.Delivered(t.Context(), m, since)
		require.NoError(t, err)
		assert.True(t, ok)
	})
}
