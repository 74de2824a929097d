package hours_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"
	_ "time/tzdata" // the zones must not depend on the machine's zoneinfo

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/handlers/hours"
)

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestHandler_IsOpen(t *testing.T) {
	zagreb := zone(t, "Europe/Zagreb")
	newYork := zone(t, "America/New_York")
	holidays := hours.MustParseDates("2026-12-25", "2026-12-26")
	tests := []struct {
		name string
		loc  *time.Location
		at   string // UTC
		want bool
	}{
		{name: "Zagreb Friday 16:59 CET", loc: zagreb, at: "2026-03-06 15:59", want: true},
		{name: "Zagreb Friday 17:00 CET", loc: zagreb, at: "2026-03-06 16:00", want: false},
		{name: "Zagreb Saturday", loc: zagreb, at: "2026-03-07 10:00", want: false},
		{name: "Zagreb Sunday", loc: zagreb, at: "2026-03-08 10:00", want: false},
		{name: "Zagreb Monday 08:59 CET", loc: zagreb, at: "2026-03-09 07:59", want: false},
		{name: "Zagreb Monday 09:00 CET", loc: zagreb, at: "2026-03-09 08:00", want: true},
		{name: "Zagreb summer 09:00 CEST", loc: zagreb, at: "2026-07-01 07:00", want: true},
		{name: "Zagreb summer 08:59 CEST", loc: zagreb, at: "2026-07-01 06:59", want: false},
		{name: "Zagreb Christmas Eve", loc: zagreb, at: "2026-12-24 10:00", want: true},
		{name: "Zagreb Christmas (holiday)", loc: zagreb, at: "2026-12-25 10:00", want: false},
		{name: "New York Friday 12:00 EST, Zagreb 18:00", loc: newYork, at: "2026-03-06 17:00", want: true},
		{name: "Zagreb Friday 18:00 CET, New York 12:00", loc: zagreb, at: "2026-03-06 17:00", want: false},
		{name: "New York Friday 08:30 EST, Zagreb 14:30", loc: newYork, at: "2026-03-06 13:30", want: false},
		{name: "New York after its DST change: 09:30 EDT", loc: newYork, at: "2026-03-10 13:30", want: true},
		{name: "New York after its DST change: 17:30 EDT", loc: newYork, at: "2026-03-09 21:30", want: false},
		{name: "holiday in the handler's zone, not UTC's", loc: newYork, at: "2026-12-26 03:00", want: false}, // Fri 25th 22:00 EST
		{name: "nil Location is time.Local", loc: nil, at: "2026-03-07 12:00", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := hours.Handler{Location: tt.loc, Holidays: holidays}
			assert.Equal(t, tt.want, h.IsOpen(utc(tt.at)))
		})
	}
}

func TestHandler_IsOpen_overnightAndHolidays(t *testing.T) {
	h := hours.Handler{
		Location: time.UTC,
		Schedule: hours.MustParseWeek("Fri-Sat 22:00-03:00"),
		Holidays: hours.MustParseDates("2026-03-07"), // a Saturday
	}
	assert.True(t, h.IsOpen(utc("2026-03-06 23:00")), "Friday night")
	assert.True(t, h.IsOpen(utc("2026-03-07 02:00")), "Friday's span into the holiday")
	assert.False(t, h.IsOpen(utc("2026-03-07 23:00")), "the holiday's own span")
	assert.False(t, h.IsOpen(utc("2026-03-08 02:00")), "the holiday's span past midnight")
	assert.False(t, hours.Handler{Schedule: hours.Week{}}.IsOpen(utc("2026-03-09 12:00")), "an empty Week is never open")
}

func TestHandler_NextOpen(t *testing.T) {
	zagreb := zone(t, "Europe/Zagreb")
	tests := []struct {
		name string
		h    hours.Handler
		at   string // UTC
		want string // in the handler's zone, "" for the zero Time
	}{
		{name: "Friday evening to Monday", h: hours.Handler{Location: zagreb}, at: "2026-03-06 16:00", want: "2026-03-09 09:00 CET"},
		{name: "early Monday to the same day", h: hours.Handler{Location: zagreb}, at: "2026-03-09 07:00", want: "2026-03-09 09:00 CET"},
		{name: "at opening time, the next day", h: hours.Handler{Location: zagreb}, at: "2026-03-09 08:00", want: "2026-03-10 09:00 CET"},
		{name: "across the DST change", h: hours.Handler{Location: zagreb}, at: "2026-03-27 16:00", want: "2026-03-30 09:00 CEST"},
		{name: "over Christmas", h: hours.Handler{Location: zagreb, Holidays: hours.MustParseDates("2026-12-25")}, at: "2026-12-24 16:00", want: "2026-12-28 09:00 CET"},
		{name: "earliest span of the day", h: hours.Handler{Location: time.UTC, Schedule: hours.Week{
			time.Tuesday: {{From: 14 * time.Hour, To: 15 * time.Hour}, {From: 8 * time.Hour, To: 9 * time.Hour}},
		}}, at: "2026-03-09 12:00", want: "2026-03-10 08:00 UTC"},
		{name: "never open", h: hours.Handler{Schedule: hours.Week{}}, at: "2026-03-09 12:00", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.h.NextOpen(utc(tt.at))
			if tt.want == "" {
				assert.True(t, got.IsZero(), "got %v", got)
				return
			}
			assert.Equal(t, tt.want, got.Format("2006-01-02 15:04 MST"))
		})
	}
}

// TestHandler_HandleMessage_window checks "once per conversation per
// window" on the fake clock of a synctest bubble, which drives both Now and
// the MemoryStore's expiry.
func TestHandler_HandleMessage_window(t *testing.T) {
	zagreb := zone(t, "Europe/Zagreb")
	synctest.Test(t, func(t *testing.T) {
		friday := time.Date(2026, 3, 6, 17, 30, 0, 0, zagreb) // closed
		start := time.Now()
		h := hours.Handler{
			Location: zagreb,
			Store:    bot.NewMemoryStore(),
			Now:      func() time.Time { return friday.Add(time.Since(start)) },
		}
		send := func(platform, conv string) []string {
			t.Helper()
			var rec bottest.Recorder
			err := h.HandleMessage(t.Context(), &rec, bottest.NewMessage("hello?", bottest.In(platform, conv)))
			require.ErrorIs(t, err, bot.ErrContinue)
			return rec.Texts()
		}
		notice := "Thanks for your message! We are closed right now and open again Monday at 09:00 CET. We will get back to you then."

		assert.Equal(t, []string{notice}, send("sendbee", "c1"), "first message after hours")
		assert.Empty(t, send("sendbee", "c1"), "same conversation, same window")
		assert.Equal(t, []string{notice}, send("sendbee", "c2"), "another conversation")
		assert.Equal(t, []string{notice}, send("velaflows", "c1"), "the same ID on another platform")

		time.Sleep(12*time.Hour - time.Minute)
		assert.Empty(t, send("sendbee", "c1"), "a minute before the window ends")
		time.Sleep(time.Minute)
		assert.Equal(t, []string{notice}, send("sendbee", "c1"), "the window has passed (Saturday 05:30)")

		time.Sleep(time.Date(2026, 3, 9, 9, 0, 0, 0, zagreb).Sub(h.Now()))
		// Monday 09:00 in the handler's clock: open, so nothing is sent
		// and the window's entry does not matter.
		assert.Equal(t, "Monday 09:00", h.Now().In(zagreb).Format("Monday 15:04"))
		assert.Empty(t, send("sendbee", "c3"))
	})
}

// TestHandler_HandleMessage_zones runs the same instant through handlers in
// two time zones, on the real time.Now of a synctest bubble moved to that
// instant.
func TestHandler_HandleMessage_zones(t *testing.T) {
	zagreb := zone(t, "Europe/Zagreb")
	newYork := zone(t, "America/New_York")
	tests := []struct {
		name         string
		at           string // UTC
		zagreb, ny   bool   // whether each sends the notice
		zagrebOpens  string
		newYorkOpens string
	}{
		{name: "Friday 17:00 UTC: closed in Zagreb, open in New York", at: "2026-03-06 17:00", zagreb: true, zagrebOpens: "Monday at 09:00 CET"},
		{name: "Friday 13:30 UTC: open in Zagreb, not yet in New York", at: "2026-03-06 13:30", ny: true, newYorkOpens: "Friday at 09:00 EST"},
		{name: "Saturday: closed in both", at: "2026-03-07 15:00", zagreb: true, ny: true, zagrebOpens: "Monday at 09:00 CET", newYorkOpens: "Monday at 09:00 EDT"},
		{name: "Tuesday 13:30 UTC, New York on summer time: open in both", at: "2026-03-10 13:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				time.Sleep(time.Until(utc(tt.at)))
				for _, c := range []struct {
					loc   *time.Location
					want  bool
					opens string
				}{{zagreb, tt.zagreb, tt.zagrebOpens}, {newYork, tt.ny, tt.newYorkOpens}} {
					h := hours.Handler{Location: c.loc, Store: bot.NewMemoryStore(), Reply: `{{.Opens.Format "Monday at 15:04 MST"}}`}
					var rec bottest.Recorder
					err := h.HandleMessage(t.Context(), &rec, bottest.NewMessage("hi"))
					require.ErrorIs(t, err, bot.ErrContinue)
					if c.want {
						assert.Equal(t, []string{c.opens}, rec.Texts(), c.loc.String())
					} else {
						assert.Empty(t, rec.Texts(), c.loc.String())
					}
				}
			})
		})
	}
}

func TestHandler_HandleMessage(t *testing.T) {
	closed := func() time.Time { return utc("2026-03-07 12:00") } // Saturday
	open := func() time.Time { return utc("2026-03-09 12:00") }   // Monday
	tests := []struct {
		name    string
		h       hours.Handler
		opts    []bottest.MessageOption
		wantErr error
		want    []string
	}{
		{name: "open: nothing", h: hours.Handler{Location: time.UTC, Now: open}, wantErr: bot.ErrContinue},
		{name: "closed: the notice", h: hours.Handler{Location: time.UTC, Now: closed, Reply: "closed"}, wantErr: bot.ErrContinue, want: []string{"closed"}},
		{name: "template data", h: hours.Handler{Location: time.UTC, Now: closed,
			Reply: `Sorry {{.Author.Name}} ({{.Platform}}), it is {{.Now.Format "Mon 15:04"}}{{if .Holiday}} on a holiday{{end}}; back {{.Opens.Format "Mon 15:04"}}.`},
			wantErr: bot.ErrContinue, want: []string{"Sorry Test User (fake), it is Sat 12:00; back Mon 09:00."}},
		{name: "holiday in the template", h: hours.Handler{Location: time.UTC, Now: open, Holidays: hours.MustParseDates("2026-03-09"),
			Reply: `{{if .Holiday}}holiday{{end}}`}, wantErr: bot.ErrContinue, want: []string{"holiday"}},
		{name: "never open: no next time", h: hours.Handler{Now: closed, Schedule: hours.Week{}},
			wantErr: bot.ErrContinue, want: []string{"Thanks for your message! We are closed right now. We will get back to you then."}},
		{name: "Stop: closed ends routing", h: hours.Handler{Location: time.UTC, Now: closed, Reply: "closed", Stop: true}, want: []string{"closed"}},
		{name: "Stop: open continues", h: hours.Handler{Location: time.UTC, Now: open, Stop: true}, wantErr: bot.ErrContinue},
		{name: "bots are let through", h: hours.Handler{Now: closed, Stop: true}, opts: []bottest.MessageOption{bottest.From(bot.User{ID: "b", Bot: true})}, wantErr: bot.ErrContinue},
		{name: "agents are let through", h: hours.Handler{Now: closed, Stop: true}, opts: []bottest.MessageOption{bottest.From(bot.User{ID: "a", Agent: true})}, wantErr: bot.ErrContinue},
		{name: "events are let through", h: hours.Handler{Now: closed, Stop: true}, opts: []bottest.MessageOption{bottest.WithKind(bot.KindStatus)}, wantErr: bot.ErrContinue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.h.Store = bot.NewMemoryStore()
			var rec bottest.Recorder
			m := bottest.NewMessage("hi", tt.opts...)
			err := tt.h.HandleMessage(t.Context(), &rec, m)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.want, nilIfEmpty(rec.Texts()))
			for _, s := range rec.Sent() {
				assert.Equal(t, m.Conversation, s.Conversation)
				assert.Equal(t, m.ID, s.ReplyTo)
			}
		})
	}
}

// failingStore fails every SetIfAbsent, or every Delete.
type failingStore struct {
	bot.Store
	setErr, delErr error
}

func (s failingStore) SetIfAbsent(ctx context.Context, key string, v []byte, ttl time.Duration) (bool, error) {
	if s.setErr != nil {
		return false, s.setErr
	}
	return s.Store.SetIfAbsent(ctx, key, v, ttl)
}

func (s failingStore) Delete(ctx context.Context, key string) error {
	if s.delErr != nil {
		return s.delErr
	}
	return s.Store.Delete(ctx, key)
}

func TestHandler_HandleMessage_errors(t *testing.T) {
	closed := func() time.Time { return utc("2026-03-07 12:00") }
	boom := errors.New("boom")
	tests := []struct {
		name    string
		h       hours.Handler
		w       *bottest.Recorder
		wantIs  error
		wantMsg string
	}{
		{name: "no Store", h: hours.Handler{Now: closed}, wantMsg: "hours: Handler.Store is nil"},
		{name: "bad template", h: hours.Handler{Now: closed, Store: bot.NewMemoryStore(), Reply: "{{.Opens"},
			wantMsg: `hours: parse Reply: template: reply:1: unclosed action`},
		{name: "template fails", h: hours.Handler{Now: closed, Store: bot.NewMemoryStore(), Reply: "{{.Nope}}"},
			wantMsg: `hours: execute Reply: template: reply:1:2: executing "reply" at <.Nope>: can't evaluate field Nope in type hours.ReplyData`},
		{name: "negative window", h: hours.Handler{Now: closed, Store: bot.NewMemoryStore(), Window: -time.Second}, wantMsg: "hours: negative Window -1s"},
		{name: "store fails", h: hours.Handler{Now: closed, Store: failingStore{Store: bot.NewMemoryStore(), setErr: boom}},
			wantIs: boom, wantMsg: "hours: remember notice: boom"},
		{name: "send fails", h: hours.Handler{Now: closed, Store: bot.NewMemoryStore()}, w: &bottest.Recorder{Err: boom}, wantIs: boom},
		{name: "send and forget fail", h: hours.Handler{Now: closed, Store: failingStore{Store: bot.NewMemoryStore(), delErr: errors.New("down")}},
			w: &bottest.Recorder{Err: boom}, wantIs: boom, wantMsg: "boom\nhours: forget notice: down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := tt.w
			if w == nil {
				w = &bottest.Recorder{}
			}
			err := tt.h.HandleMessage(t.Context(), w, bottest.NewMessage("hi"))
			require.Error(t, err)
			assert.NotErrorIs(t, err, bot.ErrContinue)
			if tt.wantIs != nil {
				assert.ErrorIs(t, err, tt.wantIs)
			}
			if tt.wantMsg != "" {
				assert.EqualError(t, err, tt.wantMsg)
			}
			assert.Empty(t, w.Sent())
		})
	}
}

func TestHandler_HandleMessage_retryAfterSendError(t *testing.T) {
	h := hours.Handler{Now: func() time.Time { return utc("2026-03-07 12:00") }, Store: bot.NewMemoryStore(), Reply: "closed"}
	require.Error(t, h.HandleMessage(t.Context(), &bottest.Recorder{Err: errors.New("boom")}, bottest.NewMessage("hi")))
	var rec bottest.Recorder
	require.ErrorIs(t, h.HandleMessage(t.Context(), &rec, bottest.NewMessage("anyone?")), bot.ErrContinue)
	assert.Equal(t, []string{"closed"}, rec.Texts(), "a failed notice is not remembered")
}

func TestHandler_Install(t *testing.T) {
	newYork := zone(t, "America/New_York")
	newBot := func(t *testing.T) *bot.Bot {
		b, err := bot.New(bot.WithAdapters(bottest.NewFakeAdapter("")), bot.WithLocation(newYork),
			bot.WithLogger(slog.New(slog.DiscardHandler)))
		require.NoError(t, err)
		return b
	}

	t.Run("takes the Bot's store and zone", func(t *testing.T) {
		b := newBot(t)
		require.NoError(t, hours.Handler{
			Now:   func() time.Time { return utc("2026-03-09 13:30") }, // 09:30 EDT, 14:30 in Zagreb
			Reply: "closed",
		}.Install(b))
		assert.Equal(t, []bot.RouteInfo{{Priority: hours.Priority, Rule: "Always()"}}, b.Routes())

		var rec bottest.Recorder
		require.NoError(t, b.HandleMessage(t.Context(), &rec, bottest.NewMessage("hi")))
		assert.Empty(t, rec.Texts(), "open in New York")
	})

	t.Run("closed in the Bot's zone", func(t *testing.T) {
		b := newBot(t)
		require.NoError(t, hours.Handler{Now: func() time.Time { return utc("2026-03-09 12:30") }, Reply: "closed"}.Install(b)) // 08:30 EDT
		var rec bottest.Recorder
		require.NoError(t, b.HandleMessage(t.Context(), &rec, bottest.NewMessage("hi")))
		assert.Equal(t, []string{"closed"}, rec.Texts())
		_, err := b.Store().Get(t.Context(), "hours:replied:fake:conversation-1")
		assert.NoError(t, err, "remembered in the Bot's store")
	})

	t.Run("invalid settings register nothing", func(t *testing.T) {
		b := newBot(t)
		assert.EqualError(t, hours.Handler{Reply: "{{"}.Install(b), "hours: parse Reply: template: reply:1: unclosed action")
		assert.EqualError(t, hours.Handler{Window: -1}.Install(b), "hours: negative Window -1ns")
		assert.Empty(t, b.Routes())
	})
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
