package sendbee_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// confirmClock is the emulator's clock in the Delivered tests. It starts
// 400ms into a whole second close to the real time (the client signs its
// X-Auth-Tokens with the real time) and moves only when told to.
type confirmClock struct{ ns atomic.Int64 }

func newConfirmClock() *confirmClock {
	c := &confirmClock{}
	c.ns.Store(time.Now().Truncate(time.Second).Add(400 * time.Millisecond).UnixNano())
	return c
}

func (c *confirmClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *confirmClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// confirmSetup is an adapter wired to an emulator over loopback, and a
// conversation with one customer message in it.
type confirmSetup struct {
	emu   *sendbeetest.Server
	sb    *sendbee.Adapter
	clock *confirmClock
	conv  string
}

const confirmPhone = "+385917654321"

func newConfirmSetup(t *testing.T, opts ...sendbeetest.Option) *confirmSetup {
	t.Helper()
	clock := newConfirmClock()
	emu := sendbeetest.NewServer(t, append([]sendbeetest.Option{
		sendbeetest.WithClock(clock.now),
		sendbeetest.WithRateLimit(6000, time.Minute),
	}, opts...)...)
	sb, err := sendbee.New(sendbee.AdapterConfig{Config: sendbee.Config{
		APIKey: emu.APIKey(), APISecret: emu.APISecret(), BaseURL: emu.URL(), Logger: bottest.Logger(t),
	}})
	require.NoError(t, err)
	conv, _ := emu.CustomerMessage(confirmPhone, "Ana", "hello")
	clock.advance(time.Minute) // the customer's message is well before anything the tests send
	return &confirmSetup{emu: emu, sb: sb, clock: clock, conv: conv}
}

// send sends m through the adapter, at the emulator's current time.
func (s *confirmSetup) send(t *testing.T, m *bot.Message) bot.SendResult {
	t.Helper()
	m.Platform, m.Conversation = sendbee.Name, s.conv
	res, err := s.sb.Send(t.Context(), m)
	require.NoError(t, err)
	require.NotEmpty(t, res.ID)
	return res
}

// listCalls counts the emulator's GET /conversations/messages requests.
func (s *confirmSetup) listCalls() []string {
	var pages []string
	for _, r := range s.emu.Requests() {
		if r.Method == http.MethodGet && r.Path == "/conversations/messages" {
			pages = append(pages, r.RawQuery)
		}
	}
	return pages
}

func TestAdapter_Delivered_since(t *testing.T) {
	t.Parallel()
	s := newConfirmSetup(t)
	sentAt := s.clock.now() // 400ms into a second
	m := &bot.Message{Text: "Your table is booked for 8pm.", Handoff: true}
	want := s.send(t, m)
	require.Equal(t, bot.OwnerHuman, want.Owner, "a Handoff reply switches Sendbee's chatbot off")

	tests := []struct {
		name  string
		since time.Time
		found bool
	}{
		{"attempt began a minute before", sentAt.Add(-time.Minute), true},
		{"attempt began just before", sentAt.Add(-time.Millisecond), true},
		{"attempt began at the send", sentAt, true},
		{"zero since", time.Time{}, true},
		// sent_at may be whole seconds on the platform: since counts from its second.
		{"later in the same second", sentAt.Add(500 * time.Millisecond), true},
		{"the next second", sentAt.Truncate(time.Second).Add(time.Second), false},
		{"a minute later", sentAt.Add(time.Minute), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, ok, err := s.sb.Delivered(t.Context(), m, tt.since)
			require.NoError(t, err)
			assert.Equal(t, tt.found, ok)
			if tt.found {
				assert.Equal(t, want, res, "the same SendResult as Send: the message's ID and the owner")
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
	const menu = "https://cdn.example.com/menu.pdf"
	text := s.send(t, &bot.Message{Text: "Here is our menu."})
	media := s.send(t, &bot.Message{Text: "Today's menu", Attachments: []bot.Attachment{{Kind: "document", URL: menu}}})
	bare := s.send(t, &bot.Message{Attachments: []bot.Attachment{{Kind: "image", URL: "https://cdn.example.com/map.png"}}})
	s.emu.CustomerMessage(confirmPhone, "Ana", "Is the terrace open?")
	s.clock.advance(time.Second)

	tests := []struct {
		name   string
		m      *bot.Message
		wantID string // "" when not found
	}{
		{"the same text", &bot.Message{Text: "Here is our menu."}, text.ID},
		{"a different text", &bot.Message{Text: "Here is our menu!"}, ""},
		{"a different case", &bot.Message{Text: "here is our menu."}, ""},
		{"surrounding space", &bot.Message{Text: " Here is our menu."}, ""},
		{"the text with an attachment", &bot.Message{Text: "Here is our menu.", Attachments: []bot.Attachment{{URL: menu}}}, ""},
		{"media with the same caption", &bot.Message{Text: "Today's menu", Attachments: []bot.Attachment{{Kind: "document", URL: menu}}}, media.ID},
		{"the caption without the media", &bot.Message{Text: "Today's menu"}, ""},
		{"the same caption, other media", &bot.Message{Text: "Today's menu", Attachments: []bot.Attachment{{URL: "https://cdn.example.com/menu2.pdf"}}}, ""},
		{"media without a caption", &bot.Message{Attachments: []bot.Attachment{{URL: "https://cdn.example.com/map.png"}}}, bare.ID},
		{"the customer's text (inbound)", &bot.Message{Text: "Is the terrace open?"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.m.Platform, tt.m.Conversation = sendbee.Name, s.conv
			res, ok, err := s.sb.Delivered(t.Context(), tt.m, since)
			require.NoError(t, err)
			assert.Equal(t, tt.wantID != "", ok)
			assert.Equal(t, tt.wantID, res.ID)
			assert.Equal(t, bot.OwnerUnset, res.Owner, "prevent_bot_off=true left the chatbot on")
		})
	}
}

// Messages that Send refuses are not found, and a template, whose
// rendered text Delivered cannot match, is an error (it cannot tell); the
// API is not asked.
func TestAdapter_Delivered_unmatchable(t *testing.T) {
	t.Parallel()
	s := newConfirmSetup(t)
	since := s.clock.now()
	tpl := &bot.Message{Payload: sendbee.Template{Keyword: "welcome", Language: "en", Tags: map[string]string{"1": "Ana"}}}
	s.send(t, tpl)
	before := len(s.listCalls())

	tests := []struct {
		name string
		m    *bot.Message
	}{
		{"no conversation", &bot.Message{Platform: sendbee.Name, Text: "hi"}},
		{"no text, no attachment", &bot.Message{Platform: sendbee.Name, Conversation: s.conv, Text: "  "}},
		{"two attachments", &bot.Message{Platform: sendbee.Name, Conversation: s.conv, Text: "hi",
			Attachments: []bot.Attachment{{URL: "https://a.example/1.png"}, {URL: "https://a.example/2.png"}}}},
		{"an unknown payload", &bot.Message{Platform: sendbee.Name, Conversation: s.conv, Text: "hi", Payload: 42}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, ok, err := s.sb.Delivered(t.Context(), tt.m, since)
			require.NoError(t, err)
			assert.False(t, ok)
			assert.Zero(t, res)
		})
	}
	t.Run("a template", func(t *testing.T) {
		res, ok, err := s.sb.Delivered(t.Context(), tpl, since)
		assert.ErrorIs(t, err, errors.ErrUnsupported)
		assert.False(t, ok)
		assert.Zero(t, res)
	})
	assert.Len(t, s.listCalls(), before, "no message list was requested")
}

// With a page size of 2, Delivered reads forward from the newest page and
// stops at a page that reaches back before since; past its bound of 50
// pages it says it cannot tell (ErrUnconfirmed), never "not there".
func TestAdapter_Delivered_pages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		newer     int // customer messages after the bot's message
		found     bool
		wantPages int
	}{
		{"on page 1", 1, true, 1},
		{"on page 2", 2, true, 2},
		{"on page 3", 5, true, 3},
		{"on page 4", 6, true, 4},
		{"past the bound of 50 pages", 100, false, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newConfirmSetup(t, sendbeetest.WithPageSize(2))
			since := s.clock.now()
			m := &bot.Message{Text: "Thanks, see you soon."}
			want := s.send(t, m)
			for i := range tt.newer {
				s.clock.advance(10 * time.Millisecond)
				s.emu.CustomerMessage(confirmPhone, "Ana", fmt.Sprintf("message %d", i))
			}
			res, ok, err := s.sb.Delivered(t.Context(), m, since)
			if tt.wantPages == 50 {
				require.ErrorIs(t, err, sendbee.ErrUnconfirmed)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.found, ok)
			if tt.found {
				assert.Equal(t, want.ID, res.ID)
			}
			calls := s.listCalls()
			assert.Len(t, calls, tt.wantPages)
			for i, raw := range calls {
				q, err := url.ParseQuery(raw)
				require.NoError(t, err)
				assert.Equal(t, strconv.Itoa(i+1), q.Get("page"), "request %d", i)
				assert.Equal(t, s.conv, q.Get("conversation_id"), "request %d", i)
			}
		})
	}

	t.Run("stops at a page older than since", func(t *testing.T) {
		t.Parallel()
		s := newConfirmSetup(t, sendbeetest.WithPageSize(2))
		for i := range 5 {
			s.clock.advance(10 * time.Millisecond)
			s.emu.CustomerMessage(confirmPhone, "Ana", fmt.Sprintf("old %d", i))
		}
		s.clock.advance(2 * time.Second)
		since := s.clock.now()
		s.send(t, &bot.Message{Text: "new"})
		res, ok, err := s.sb.Delivered(t.Context(), &bot.Message{Platform: sendbee.Name, Conversation: s.conv, Text: "other"}, since)
		require.NoError(t, err)
		assert.False(t, ok)
		assert.Zero(t, res)
		assert.Len(t, s.listCalls(), 1, "page 1 already reaches back before since")
	})
}

// Sendbee does not document the order of the message list. On a platform
// that lists the oldest messages first, Delivered reads page 1, then the
// pages from the last one backwards.
func TestAdapter_Delivered_oldestFirst(t *testing.T) {
	t.Parallel()
	base := time.Now().Truncate(time.Second).Add(-time.Hour)
	msg := func(id, direction, body string, at time.Duration) string {
		return fmt.Sprintf(`{"id":%q,"body":%q,"media_type":null,"media_url":null,"status":"delivered","direction":%q,"sent_at":%.3f}`,
			id, body, direction, float64(base.Add(at).UnixMilli())/1000)
	}
	pages := map[string][]string{ // 4 pages of 2, oldest first
		"1": {msg("m1", "inbound", "hi", 0), msg("m2", "outbound", "hello", time.Second)},
		"2": {msg("m3", "inbound", "a table?", time.Minute), msg("m4", "outbound", "Booked.", time.Minute+time.Second)},
		"3": {msg("m5", "inbound", "thanks", 2*time.Minute), msg("m6", "outbound", "You're welcome.", 2*time.Minute+time.Second)},
		"4": {msg("m7", "inbound", "bye", 3*time.Minute), msg("m8", "outbound", "Bye!", 3*time.Minute+2*time.Second)},
	}
	tests := []struct {
		name      string
		text      string
		since     time.Duration
		wantID    string
		wantPages []string
	}{
		{"on the last page", "Bye!", 3*time.Minute + time.Second, "m8", []string{"1", "4"}},
		{"stops at a page older than since", "You're welcome.", 3*time.Minute + time.Second, "", []string{"1", "4"}},
		{"on the last but one page", "You're welcome.", 90 * time.Second, "m6", []string{"1", "4", "3"}},
		{"back to page 2", "Booked.", 30 * time.Second, "m4", []string{"1", "4", "3", "2"}},
		{"on page 1", "hello", 0, "m2", []string{"1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			var asked atomic.Value
			asked.Store([]string(nil))
			f.handle(http.MethodGet, "/conversations/messages", func(w http.ResponseWriter, r *http.Request) {
				page := r.URL.Query().Get("page")
				asked.Store(append(asked.Load().([]string), page))
				n, _ := strconv.Atoi(page)
				w.Header().Set("Content-Type", "application/json")
				_, _ = fmt.Fprintf(w, `{"data":[%s],"meta":{"current_page":%d,"last_page":4,"per_page":2,"total":8,"from":%d,"to":%d}}`,
					strings.Join(pages[page], ","), n, 2*n-1, 2*n)
			})
			sb, err := sendbee.New(sendbee.AdapterConfig{Config: sendbee.Config{
				APIKey: testKey, APISecret: testSecret, BaseURL: f.baseURL(), Logger: bottest.Logger(t),
			}})
			require.NoError(t, err)
			m := &bot.Message{Platform: sendbee.Name, Conversation: "c0ffee00-1111-4222-8333-444455556666", Text: tt.text}
			res, ok, err := sb.Delivered(t.Context(), m, base.Add(tt.since))
			require.NoError(t, err)
			assert.Equal(t, tt.wantID != "", ok)
			assert.Equal(t, tt.wantID, res.ID)
			assert.Equal(t, tt.wantPages, asked.Load())
		})
	}
}

func TestAdapter_Delivered_errors(t *testing.T) {
	t.Parallel()
	s := newConfirmSetup(t)
	since := s.clock.now()
	m := &bot.Message{Text: "On my way."}
	s.send(t, m)

	t.Run("server error", func(t *testing.T) {
		s.emu.FailNext(http.StatusInternalServerError, "")
		res, ok, err := s.sb.Delivered(t.Context(), m, since)
		require.Error(t, err)
		assert.False(t, ok)
		assert.Zero(t, res)
		assert.True(t, strings.HasPrefix(err.Error(), "sendbee: delivered: "), err.Error())
		var apiErr *sendbee.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, http.StatusInternalServerError, apiErr.StatusCode)
		assert.Equal(t, "/conversations/messages", apiErr.Path)
	})
	t.Run("rate limited", func(t *testing.T) {
		s.emu.RateLimitNext(2 * time.Second)
		_, ok, err := s.sb.Delivered(t.Context(), m, since)
		assert.False(t, ok)
		var rl *bot.RateLimitError
		require.ErrorAs(t, err, &rl)
		assert.Equal(t, 2*time.Second, rl.RetryAfter)
	})
	t.Run("unknown conversation", func(t *testing.T) {
		other := &bot.Message{Platform: sendbee.Name, Conversation: "00000000-0000-4000-8000-00000000dead", Text: m.Text}
		_, ok, err := s.sb.Delivered(t.Context(), other, since)
		assert.False(t, ok)
		var apiErr *sendbee.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
	})
	t.Run("context canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, ok, err := s.sb.Delivered(ctx, m, since)
		assert.False(t, ok)
		assert.ErrorIs(t, err, context.Canceled)
	})
	t.Run("then found", func(t *testing.T) {
		_, ok, err := s.sb.Delivered(t.Context(), m, since)
		require.NoError(t, err)
		assert.True(t, ok)
	})
}

// Delivered's reads of the pages after the first take their turn in the
// rate limit, as the adapter's lookups do (the outbox paces the first).
func TestAdapter_Delivered_pagesArePaced(t *testing.T) {
	s := newConfirmSetup(t, sendbeetest.WithPageSize(2))
	p := &pacer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.sb.Run(ctx, p) }()
	t.Cleanup(func() { cancel(); <-done })
	waitRunning(t, s.sb)

	since := s.clock.now()
	m := &bot.Message{Text: "Thanks, see you soon."}
	s.send(t, m)
	for i := range 5 {
		s.clock.advance(10 * time.Millisecond)
		s.emu.CustomerMessage(confirmPhone, "Ana", fmt.Sprintf("message %d", i))
	}
	before := p.paced.Load()
	_, ok, err := s.sb.Delivered(t.Context(), m, since)
	require.NoError(t, err)
	require.True(t, ok)
	require.Len(t, s.listCalls(), 3)
	assert.Equal(t, int64(2), p.paced.Load()-before, "pages 2 and 3 are paced")
}
