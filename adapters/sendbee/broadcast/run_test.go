package broadcast_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/broadcast"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// 2,000 contacts, every 50th unsubscribed: each subscribed one gets the
// template once, filled from its name, its city field and its phone; the
// unsubscribed ones are skipped and reported; the run meets no 429.
func TestRun_thousands(t *testing.T) {
	emu, client := newEmulator(t, fastRate, 2000, 50)
	var calls atomic.Int64
	rep, err := broadcast.Run(t.Context(), client, bot.NewMemoryStore(), springCampaign("spring"), broadcast.Options{
		RateLimit: fastRate,
		Progress:  func(broadcast.Progress) { calls.Add(1) },
	})
	require.NoError(t, err)

	assert.Equal(t, 2000, rep.Total)
	assert.Equal(t, 1960, rep.Sent)
	assert.Equal(t, 40, rep.Skipped)
	assert.Zero(t, rep.Failed)
	assert.Zero(t, rep.Unknown)
	assert.Equal(t, map[string]int{broadcast.ReasonUnsubscribed: 40}, rep.SkipReasons())
	assert.Equal(t, int64(2000), calls.Load())
	ours, injected := count429(emu)
	assert.Zero(t, ours+injected)
	assert.Zero(t, rep.RateLimited)

	sent := sentByPhone(emu)
	require.Len(t, sent, 1960)
	for p, n := range sent {
		require.Equal(t, 1, n, p)
	}
	texts := map[string]string{}
	for _, s := range emu.Sent() {
		texts[s.Phone] = s.Text
		assert.Equal(t, map[string]string{"1": s.Phone}, s.ButtonTags)
		require.NotNil(t, s.PreventBotOff)
		assert.True(t, *s.PreventBotOff)
	}
	for i, res := range rep.Results {
		if res.Outcome == broadcast.Skipped {
			assert.Equal(t, broadcast.ReasonUnsubscribed, res.Reason)
			assert.Zero(t, sent[res.Phone])
			continue
		}
		require.Equal(t, broadcast.Sent, res.Outcome, i)
		assert.NotEmpty(t, res.MessageID)
		assert.NotEmpty(t, res.ConversationID)
		assert.False(t, res.Earlier)
		n := strings.TrimPrefix(res.Name, "Name ")
		assert.Equal(t, "Hi Name "+n+", your order City "+n+" has shipped.", texts[res.Phone])
	}
}

// A run stopped mid-way (its context cancelled) and run again reaches
// every contact exactly once; the second run reports the first run's sends
// as Earlier.
func TestRun_resumeAfterCancel(t *testing.T) {
	emu, client := newEmulator(t, fastRate, 300, 0)
	store := bot.NewMemoryStore()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	rep, err := broadcast.Run(ctx, client, store, springCampaign("resume"), broadcast.Options{
		RateLimit: fastRate,
		Progress: func(p broadcast.Progress) {
			if p.Done == 120 {
				cancel()
			}
		},
	})
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, rep)
	assert.Equal(t, 120, rep.Sent, "stopped after the send in flight")
	assert.Len(t, sentByPhone(emu), 120)

	rep2, err := broadcast.Run(t.Context(), client, store, springCampaign("resume"), broadcast.Options{RateLimit: fastRate})
	require.NoError(t, err)
	assert.Equal(t, 300, rep2.Sent)
	assert.Equal(t, 120, rep2.SentEarlier)
	sent := sentByPhone(emu)
	require.Len(t, sent, 300)
	for p, n := range sent {
		require.Equal(t, 1, n, p)
	}
	// Another campaign name is another campaign.
	rep3, err := broadcast.Run(t.Context(), client, store, springCampaign("resume-2"), broadcast.Options{RateLimit: fastRate})
	require.NoError(t, err)
	assert.Zero(t, rep3.SentEarlier)
}

// The process dies after a send and before its result is recorded: the
// next run finds the template in the contact's conversation, reports it
// sent (with the message ID the platform gave) and does not send it again.
func TestRun_crashBetweenSendAndRecord(t *testing.T) {
	emu, client := newEmulator(t, fastRate, 50, 0)
	store := &faultyStore{MemoryStore: bot.NewMemoryStore()}
	results := 0
	store.onSet = func(key string, value []byte) error {
		if strings.Contains(string(value), `"state":"sent"`) {
			results++
			if results == 20 {
				return errors.New("power cut")
			}
		}
		return nil
	}
	rep, err := broadcast.Run(t.Context(), client, store, springCampaign("crash"), broadcast.Options{RateLimit: fastRate})
	require.ErrorContains(t, err, "power cut")
	require.NotNil(t, rep)
	assert.Equal(t, 19, rep.Sent)
	require.Len(t, sentByPhone(emu), 20, "the 20th send reached the platform")
	lost := emu.Sent()[19]

	store.onSet = nil
	rep2, err := broadcast.Run(t.Context(), client, store, springCampaign("crash"), broadcast.Options{RateLimit: fastRate})
	require.NoError(t, err)
	assert.Equal(t, 50, rep2.Sent)
	assert.Equal(t, 20, rep2.SentEarlier, "19 recorded, one found on the platform")
	assert.Zero(t, rep2.Unknown)
	for _, res := range rep2.Results {
		if res.Phone == lost.Phone {
			assert.True(t, res.Earlier)
			assert.Equal(t, lost.MessageID, res.MessageID)
			assert.Equal(t, lost.ConversationID, res.ConversationID)
		}
	}
	sent := sentByPhone(emu)
	require.Len(t, sent, 50)
	for p, n := range sent {
		require.Equal(t, 1, n, p)
	}

	// A third run finds everything recorded: it sends nothing and reads
	// no conversation.
	before := len(emu.Requests())
	rep3, err := broadcast.Run(t.Context(), client, store, springCampaign("crash"), broadcast.Options{RateLimit: fastRate})
	require.NoError(t, err)
	assert.Equal(t, 50, rep3.SentEarlier)
	for _, r := range emu.Requests()[before:] {
		assert.NotEqual(t, "/conversations/messages", r.Path)
	}
}

// The process dies after recording an attempt and before sending: the
// next run finds no message in the conversation and sends the template,
// once. Had another outbound message (an agent's) reached the contact
// since the attempt, the run could not tell and reports Unknown, sending
// nothing.
func TestRun_crashBeforeSend(t *testing.T) {
	for _, agentWrote := range []bool{false, true} {
		t.Run(fmt.Sprintf("agent_wrote=%v", agentWrote), func(t *testing.T) {
			emu, client := newEmulator(t, fastRate, 30, 0)
			store := &faultyStore{MemoryStore: bot.NewMemoryStore()}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			attempts := 0
			var victim string
			store.onSet = func(key string, value []byte) error {
				if strings.Contains(string(value), `"state":"attempt"`) {
					attempts++
					if attempts == 10 {
						// The attempt is recorded, then the process dies.
						victim = key[strings.LastIndex(key, ":")+1:]
						store.dead.Store(true)
						cancel()
					}
				}
				return nil
			}
			rep, err := broadcast.Run(ctx, client, store, springCampaign("before"), broadcast.Options{RateLimit: fastRate})
			require.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, 9, rep.Sent)
			assert.Len(t, sentByPhone(emu), 9)
			require.NotEmpty(t, victim)
			if agentWrote {
				conv, ok := emu.ConversationByPhone(victim)
				require.True(t, ok)
				_, err := emu.AgentReply(conv.ID, "Ivana Horvat", "Hello from the shop")
				require.NoError(t, err)
			}

			store.onSet = nil
			store.dead.Store(false)
			rep2, err := broadcast.Run(t.Context(), client, store, springCampaign("before"), broadcast.Options{RateLimit: fastRate})
			require.NoError(t, err)
			assert.Equal(t, 9, rep2.SentEarlier)
			sent := sentByPhone(emu)
			for p, n := range sent {
				require.Equal(t, 1, n, p)
			}
			if !agentWrote {
				assert.Equal(t, 30, rep2.Sent)
				require.Len(t, sent, 30)
				return
			}
			assert.Equal(t, 29, rep2.Sent)
			assert.Equal(t, 1, rep2.Unknown)
			require.Len(t, sent, 29)
			assert.Zero(t, sent[victim])
			for _, res := range rep2.Results {
				if res.Phone == victim {
					assert.Equal(t, broadcast.Unknown, res.Outcome)
					assert.True(t, res.Earlier)
					assert.Contains(t, res.Reason, "an outbound message since the attempt that is not the template's text")
				}
			}
		})
	}
}

// A send whose answer is lost (the platform sent it, the connection broke)
// is found on the platform at once and not sent again; a send whose
// connection broke before the platform served it is sent again, once.
func TestRun_lostAnswers(t *testing.T) {
	emu, client := newEmulator(t, fastRate, 40, 0)
	var injected atomic.Bool
	rep, err := broadcast.Run(t.Context(), client, bot.NewMemoryStore(), springCampaign("lost"), broadcast.Options{
		RateLimit: fastRate,
		Progress: func(p broadcast.Progress) {
			switch p.Done {
			case 10:
				emu.LoseAnswerNext() // the next request is the 11th send
			case 20:
				emu.ResetNext()
				injected.Store(true)
			}
		},
	})
	require.NoError(t, err)
	require.True(t, injected.Load())
	assert.Equal(t, 40, rep.Sent)
	assert.Zero(t, rep.Unknown)
	sent := sentByPhone(emu)
	require.Len(t, sent, 40)
	for p, n := range sent {
		require.Equal(t, 1, n, p)
	}
	faults := 0
	for _, r := range emu.Requests() {
		if r.Fault != "" {
			faults++
		}
	}
	assert.Equal(t, 2, faults)
}

// 429 answers are waited out and the same contact sent again: nobody is
// skipped or sent twice, and the report counts the 429s.
func TestRun_rateLimited(t *testing.T) {
	emu, client := newEmulator(t, fastRate, 100, 0)
	var waits atomic.Int64
	rep, err := broadcast.Run(t.Context(), client, bot.NewMemoryStore(), springCampaign("429"), broadcast.Options{
		RateLimit: fastRate, Logger: bottest.Logger(t),
		Progress: func(p broadcast.Progress) {
			if !p.WaitUntil.IsZero() {
				waits.Add(1)
				return
			}
			if p.Done%25 == 0 && p.Done < 100 {
				emu.RateLimitNext(0) // Retry-After: 0
				emu.RateLimitNext(-1)
			}
		},
	})
	require.NoError(t, err)
	assert.Equal(t, 100, rep.Sent)
	assert.Equal(t, 6, rep.RateLimited)
	assert.Equal(t, int64(6), waits.Load(), "each wait is reported")
	ours, injected := count429(emu)
	assert.Zero(t, ours)
	assert.Equal(t, 6, injected)
	sent := sentByPhone(emu)
	require.Len(t, sent, 100)
	for p, n := range sent {
		require.Equal(t, 1, n, p)
	}
}

// A 429 with Retry-After is waited out for that long, and the wait is
// reported with its end.
func TestRun_retryAfter(t *testing.T) {
	emu, client := newEmulator(t, fastRate, 3, 0)
	emu.RateLimitNext(time.Second) // the template list
	var until time.Time
	start := time.Now()
	rep, err := broadcast.Run(t.Context(), client, bot.NewMemoryStore(), springCampaign("retry-after"), broadcast.Options{
		RateLimit: fastRate, Logger: bottest.Logger(t),
		Progress: func(p broadcast.Progress) {
			if !p.WaitUntil.IsZero() {
				until = p.WaitUntil
			}
		},
	})
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Sent)
	assert.Equal(t, 1, rep.RateLimited)
	assert.WithinDuration(t, start.Add(time.Second), until, 500*time.Millisecond)
	assert.GreaterOrEqual(t, rep.Elapsed, time.Second)
}

// Unsubscribed contacts are skipped: by the contact list, and when the
// platform refuses the send because the contact unsubscribed after the
// list was read.
func TestRun_unsubscribed(t *testing.T) {
	emu, client := newEmulator(t, fastRate, 20, 0)
	require.NoError(t, emu.SetContactStatus(phone(3), "unsubscribed"))
	var later string
	rep, err := broadcast.Run(t.Context(), client, bot.NewMemoryStore(), springCampaign("unsub"), broadcast.Options{
		RateLimit: fastRate,
		Progress: func(p broadcast.Progress) {
			if p.Done == 1 {
				later = phone(0) // listed newest first: phone(0) comes last
				require.NoError(t, emu.SetContactStatus(later, "unsubscribed"))
			}
		},
	})
	require.NoError(t, err)
	assert.Equal(t, 18, rep.Sent)
	assert.Equal(t, 2, rep.Skipped)
	assert.Equal(t, map[string]int{broadcast.ReasonUnsubscribed: 2}, rep.SkipReasons())
	sent := sentByPhone(emu)
	assert.Zero(t, sent[phone(3)])
	assert.Zero(t, sent[later])
	assert.Len(t, sent, 18)
}

// A dry run sends nothing and writes nothing, and says who would get
// what.
func TestDryRun(t *testing.T) {
	emu, client := newEmulator(t, fastRate, 10, 5)
	store := &faultyStore{MemoryStore: bot.NewMemoryStore()}
	store.onSet = func(string, []byte) error { return errors.New("a dry run must not write") }
	rep, err := broadcast.DryRun(t.Context(), client, store, springCampaign("dry"), broadcast.Options{RateLimit: fastRate})
	require.NoError(t, err)
	assert.True(t, rep.DryRun)
	assert.Equal(t, 8, rep.Planned)
	assert.Equal(t, 2, rep.Skipped)
	assert.Zero(t, rep.Sent)
	assert.Empty(t, emu.Sent())
	for _, r := range emu.Requests() {
		assert.Equal(t, "GET", r.Method, r.Path)
	}
	for _, res := range rep.Results {
		if res.Outcome == broadcast.Planned {
			n := strings.TrimPrefix(res.Name, "Name ")
			assert.Equal(t, map[string]string{"1": "Name " + n, "2": "City " + n}, res.Values)
		}
	}
	// After a real run, a dry run reports the sends as earlier.
	_, err = broadcast.Run(t.Context(), client, bot.NewMemoryStore(), springCampaign("other"), broadcast.Options{RateLimit: fastRate})
	require.NoError(t, err)
	mem := bot.NewMemoryStore()
	_, err = broadcast.Run(t.Context(), client, mem, springCampaign("dry"), broadcast.Options{RateLimit: fastRate})
	require.NoError(t, err)
	rep, err = broadcast.DryRun(t.Context(), client, mem, springCampaign("dry"), broadcast.Options{RateLimit: fastRate})
	require.NoError(t, err)
	assert.Equal(t, 8, rep.Sent)
	assert.Equal(t, 8, rep.SentEarlier)
	assert.Zero(t, rep.Planned)
}

// A segment of phone numbers: contacts are filled from their fields, a
// number without a contact is sent to with a literal value and skipped
// when a placeholder needs its name.
func TestRun_phones(t *testing.T) {
	emu, client := newEmulator(t, fastRate, 10, 0)
	phones, err := broadcast.ReadPhones(strings.NewReader("phone,note\n" + phone(2) + ",x\n\n+385 91 000 0004\n+1 (415) 555-0199\n" + phone(2) + "\n"))
	require.NoError(t, err)
	require.Equal(t, []string{phone(2), phone(4), "+14155550199"}, phones)

	c := broadcast.Campaign{Name: "csv", Template: "welcome", Language: "hr",
		Segment: broadcast.Segment{Phones: phones}, Fill: map[string]string{"1": "name"}}
	rep, err := broadcast.Run(t.Context(), client, bot.NewMemoryStore(), c, broadcast.Options{RateLimit: fastRate})
	require.NoError(t, err)
	require.Len(t, rep.Results, 3)
	assert.Equal(t, broadcast.Sent, rep.Results[0].Outcome)
	assert.Equal(t, broadcast.Sent, rep.Results[1].Outcome)
	assert.Equal(t, broadcast.Skipped, rep.Results[2].Outcome)
	assert.Equal(t, "no value for {{1}} (name)", rep.Results[2].Reason)

	c.Name, c.Fill = "csv-text", map[string]string{"1": "text:friend"}
	rep, err = broadcast.Run(t.Context(), client, bot.NewMemoryStore(), c, broadcast.Options{RateLimit: fastRate})
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Sent)
	var texts []string
	for _, s := range emu.Sent() {
		texts = append(texts, s.Phone+" "+s.Text)
	}
	assert.Equal(t, []string{
		phone(2) + " Dobrodošli Name 2! Kako vam možemo pomoći?",
		phone(4) + " Dobrodošli Name 4! Kako vam možemo pomoći?",
		phone(2) + " Dobrodošli friend! Kako vam možemo pomoći?",
		phone(4) + " Dobrodošli friend! Kako vam možemo pomoći?",
		"+14155550199 Dobrodošli friend! Kako vam možemo pomoći?",
	}, texts)
}

// A CSV with a number that is not in international format is refused
// with its line.
func TestReadPhones_badLine(t *testing.T) {
	_, err := broadcast.ReadPhones(strings.NewReader("phone\n+385911234567\n\n0911234567\n"))
	require.ErrorIs(t, err, broadcast.ErrInvalid)
	pe, ok := errors.AsType[*broadcast.PhoneError](err)
	require.True(t, ok)
	assert.Equal(t, 4, pe.Line)
	assert.Equal(t, "0911234567", pe.Phone)
	assert.EqualError(t, err, `broadcast: line 4: "0911234567" is not a phone number in international format (+ and 7 to 15 digits)`)
}

// Bad input is refused before anything is sent or recorded, with a typed
// error.
func TestRun_badInput(t *testing.T) {
	emu, client := newEmulator(t, fastRate, 5, 0)
	ok := springCampaign("bad")
	with := func(f func(c *broadcast.Campaign)) broadcast.Campaign {
		c := ok
		f(&c)
		return c
	}
	tests := []struct {
		name    string
		c       broadcast.Campaign
		as      func(error) bool
		message string
	}{
		{"no name", with(func(c *broadcast.Campaign) { c.Name = " " }), is[*broadcast.InputError],
			"broadcast: campaign Name is required (it identifies the campaign when it is resumed)"},
		{"no template", with(func(c *broadcast.Campaign) { c.Template = "" }), is[*broadcast.InputError],
			"broadcast: campaign Template is required (the template's keyword)"},
		{"unknown template", with(func(c *broadcast.Campaign) { c.Template = "nope" }), is[*broadcast.TemplateError],
			`broadcast: no message template "nope"`},
		{"unknown language", with(func(c *broadcast.Campaign) { c.Template, c.Language = "welcome", "de" }), is[*broadcast.TemplateError],
			`broadcast: template "welcome" has no "de" version (languages: en, hr)`},
		{"rejected", with(func(c *broadcast.Campaign) {
			c.Template, c.Fill, c.ButtonFill = "cold_outreach", map[string]string{"1": "name"}, nil
		}),
			is[*broadcast.TemplateError],
			`broadcast: template "cold_outreach" (en) is rejected; only approved templates can be sent (rejected: The template was flagged as promotional content in a utility context.)`},
		{"pending", with(func(c *broadcast.Campaign) { c.Template = "appointment_reminder" }), is[*broadcast.TemplateError],
			`broadcast: template "appointment_reminder" (en) is pending; only approved templates can be sent`},
		{"attachment missing", with(func(c *broadcast.Campaign) {
			c.Template, c.Fill, c.ButtonFill = "spring_sale", map[string]string{"1": "20%"}, nil
		}), is[*broadcast.TemplateError], `broadcast: template "spring_sale" (en) needs an image attachment URL`},
		{"placeholder without source", with(func(c *broadcast.Campaign) { c.Fill = map[string]string{"1": "name"} }), is[*broadcast.FillError],
			"broadcast: Fill does not fit the template, which has the placeholders {{1}} {{2}}: no source for {{2}}"},
		{"source without placeholder", with(func(c *broadcast.Campaign) { c.Fill = map[string]string{"1": "name", "2": "phone", "3": "x"} }),
			is[*broadcast.FillError], "broadcast: Fill does not fit the template, which has the placeholders {{1}} {{2}}: no placeholder {{3}} in the template"},
		{"button placeholder without source", with(func(c *broadcast.Campaign) { c.ButtonFill = nil }), is[*broadcast.FillError],
			"broadcast: ButtonFill does not fit the template, which has the placeholders {{1}}: no source for {{1}}"},
		{"field without name", with(func(c *broadcast.Campaign) { c.Fill = map[string]string{"1": "name", "2": "field:"} }), is[*broadcast.InputError],
			`broadcast: campaign Fill {{2}}: "field:" names no contact field`},
		{"no criteria", with(func(c *broadcast.Campaign) { c.Segment = broadcast.Segment{} }), is[*broadcast.SegmentError],
			"broadcast: the segment has no criteria; give tags, a status, a search or phone numbers (Status subscribed selects every subscribed contact)"},
		{"nobody", with(func(c *broadcast.Campaign) { c.Segment.Tags = []string{"nobody"} }), is[*broadcast.SegmentError],
			"broadcast: the segment matches no contact (tags nobody)"},
		{"bad phone", with(func(c *broadcast.Campaign) { c.Segment.Phones = []string{phone(1), "12345"} }), is[*broadcast.PhoneError],
			`broadcast: phone 2: "12345" is not a phone number in international format (+ and 7 to 15 digits)`},
		{"bad status", with(func(c *broadcast.Campaign) { c.Segment.Status = "gone" }), is[*broadcast.InputError],
			`broadcast: campaign Segment.Status must be subscribed or unsubscribed, not "gone"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := bot.NewMemoryStore()
			for _, run := range []func(context.Context, *sendbee.Client, bot.Store, broadcast.Campaign, broadcast.Options) (*broadcast.Report, error){
				broadcast.Run, broadcast.DryRun,
			} {
				rep, err := run(t.Context(), client, store, tt.c, broadcast.Options{RateLimit: fastRate})
				require.Error(t, err)
				assert.Nil(t, rep)
				assert.ErrorIs(t, err, broadcast.ErrInvalid)
				assert.True(t, tt.as(err), "%T", err)
				assert.EqualError(t, err, tt.message)
			}
			assert.Zero(t, store.Len())
		})
	}
	assert.Empty(t, emu.Sent())
}

func is[T error](err error) bool {
	_, ok := errors.AsType[T](err)
	return ok
}

// With a bot.Pacer every request takes its turn from it, under the
// adapter's name, and the run's own limiter is not used.
func TestRun_pacer(t *testing.T) {
	emu, client := newEmulator(t, 1000, 20, 0)
	p := &countingPacer{}
	rep, err := broadcast.Run(t.Context(), client, bot.NewMemoryStore(), springCampaign("paced"), broadcast.Options{
		RateLimit: 1, // would take 20 minutes
		Pacer:     p, Platform: "sendbee/acme",
	})
	require.NoError(t, err)
	assert.Equal(t, 20, rep.Sent)
	assert.Equal(t, len(emu.Requests()), int(p.n.Load()))
	assert.Equal(t, rep.Requests, int(p.n.Load()))
	assert.Equal(t, []string{"sendbee/acme"}, p.platforms())
	assert.Zero(t, rep.AllowedRate)
}

type countingPacer struct {
	n    atomic.Int64
	seen atomic.Value // string
}

func (p *countingPacer) Pace(ctx context.Context, platform string) error {
	p.n.Add(1)
	p.seen.Store(platform)
	return ctx.Err()
}

func (p *countingPacer) platforms() []string {
	s, _ := p.seen.Load().(string)
	return []string{s}
}

// The report's CSV has a row per contact.
func TestReport_WriteCSV(t *testing.T) {
	_, client := newEmulator(t, fastRate, 3, 3)
	rep, err := broadcast.Run(t.Context(), client, bot.NewMemoryStore(), springCampaign("csv"), broadcast.Options{RateLimit: fastRate})
	require.NoError(t, err)
	var b strings.Builder
	require.NoError(t, rep.WriteCSV(&b))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 4)
	assert.Equal(t, "phone,contact_id,name,outcome,reason,message_id,conversation_id,earlier,values", lines[0])
	assert.Regexp(t, `^\+385910000002,[0-9a-f-]{36},Name 2,sent,,[0-9a-f-]{36},[0-9a-f-]{36},false,1=Name 2; 2=City 2$`, lines[1])
	assert.Equal(t, fmt.Sprintf("%s,%s,Name 0,skipped,unsubscribed,,,false,", phone(0), rep.Results[2].ContactID), lines[3])
}

// FillFunc computes the values per contact; an error skips the contact
// with the error as the reason.
func TestRun_fillFunc(t *testing.T) {
	emu, client := newEmulator(t, fastRate, 4, 0)
	c := springCampaign("func")
	c.Fill = nil
	c.FillFunc = func(ct sendbee.Contact) (map[string]string, error) {
		if ct.Phone == phone(1) {
			return nil, errors.New("no order for this contact")
		}
		return map[string]string{"1": strings.ToUpper(ct.Name), "2": "#" + ct.Phone[len(ct.Phone)-2:]}, nil
	}
	rep, err := broadcast.Run(t.Context(), client, bot.NewMemoryStore(), c, broadcast.Options{RateLimit: fastRate})
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Sent)
	assert.Equal(t, map[string]int{"FillFunc: no order for this contact": 1}, rep.SkipReasons())
	assert.Equal(t, "Hi NAME 3, your order #03 has shipped.", emu.Sent()[0].Text)
}
