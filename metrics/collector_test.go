package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/metrics"
)

// exposition serves one scrape from h and returns its samples, keyed by
// series (name and labels, as in the text format).
func exposition(h http.Handler) (map[string]string, error) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("status %d: %s", rec.Code, rec.Body)
	}
	samples := map[string]string{}
	for line := range strings.Lines(rec.Body.String()) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ') // label values may hold spaces
		if i < 0 {
			return nil, fmt.Errorf("sample line %q", line)
		}
		samples[line[:i]] = line[i+1:]
	}
	return samples, nil
}

// scrape is exposition that fails the test on error.
func scrape(t *testing.T, h http.Handler) map[string]string {
	t.Helper()
	samples, err := exposition(h)
	require.NoError(t, err)
	return samples
}

func TestCollector_Scrape(t *testing.T) {
	fa := bottest.NewFakeAdapter("")
	b, err := bot.New(
		bot.WithAdapters(fa),
		bot.WithLogger(bottest.Logger(t)),
		bot.WithOutbox(bot.OutboxConfig{BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond}),
	)
	require.NoError(t, err)
	b.HandleFunc(bot.Command("echo"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply(bot.CommandArgs(m)))
	})
	b.HandleFunc(bot.Command("fail"), func(context.Context, bot.Sender, *bot.Message) error {
		return errors.New("boom")
	})
	b.HandleFunc(bot.Command("panic"), func(context.Context, bot.Sender, *bot.Message) error {
		panic("boom")
	})

	reg := prometheus.NewRegistry()
	require.NoError(t, metrics.Register(reg, b))
	h := metrics.Handler(reg)

	// Before Run every metric is exported, at zero.
	before := scrape(t, h)
	assert.Len(t, before, 23)
	for name, v := range before {
		assert.Equal(t, "0", v, name)
	}

	bottest.Run(t, b)
	ctx := t.Context()
	require.NoError(t, fa.Inject(ctx, bottest.NewMessage("/echo hi", bottest.WithID("m1"))))
	require.NoError(t, fa.Inject(ctx, bottest.NewMessage("/echo hi", bottest.WithID("m1")))) // redelivery
	require.NoError(t, fa.Inject(ctx, bottest.NewMessage("/fail", bottest.WithID("m2"))))
	require.NoError(t, fa.Inject(ctx, bottest.NewMessage("/panic", bottest.WithID("m3"))))
	fa.WaitSent(t, 1)

	// One retry, then a permanent failure: a dead letter.
	fa.FailNext(&bot.TemporaryError{Err: errors.New("flaky")}, errors.New("rejected"))
	require.NoError(t, b.Send(ctx, &bot.Message{Platform: fa.Name(), Conversation: "c2", Text: "lost"}))
	require.Eventually(t, func() bool {
		s := b.Stats()
		return s.Handled == 3 && s.DeadLettered == 1
	}, 2*time.Second, time.Millisecond)
	require.NoError(t, b.Handoff(ctx, fa.Name(), "c3"))
	require.NoError(t, b.Resume(ctx, fa.Name(), "c3"))

	got := scrape(t, h)
	want := map[string]string{
		"parley_inbound_received_total":        "3",
		"parley_inbound_duplicates_total":      "1",
		"parley_handled_total":                 "3",
		"parley_handler_errors_total":          "2",
		"parley_handler_panics_total":          "1",
		"parley_outbound_queued_total":         "2",
		"parley_outbound_sent_total":           "1",
		"parley_outbound_skipped_total":        "0",
		"parley_outbound_confirmed_total":      "0",
		"parley_outbound_suppressed_total":     "0",
		"parley_outbound_retries_total":        "1",
		"parley_dead_letters_total":            "1",
		"parley_handoffs_total":                "1",
		"parley_resumes_total":                 "1",
		"parley_job_runs_total":                "0",
		"parley_window_fallbacks_total":        "0",
		"parley_window_closed_total":           "0",
		"parley_opt_outs_total":                "0",
		"parley_opt_ins_total":                 "0",
		"parley_outbound_opted_out_total":      "0",
		"parley_dead_letter_list_size":         "1",
		`parley_queue_depth{queue="inbound"}`:  "0",
		`parley_queue_depth{queue="outbound"}`: "0",
	}
	assert.Equal(t, want, got)

	// The list-size gauge follows the list; the counter does not.
	dl, err := b.DeadLetters(t.Context())
	require.NoError(t, err)
	require.Len(t, dl, 1)
	require.NoError(t, b.Discard(t.Context(), dl[0].ID))
	got = scrape(t, h)
	assert.Equal(t, "0", got["parley_dead_letter_list_size"])
	assert.Equal(t, "1", got["parley_dead_letters_total"])
}

func TestRegister_twice(t *testing.T) {
	b, err := bot.New(bot.WithAdapters(bottest.NewFakeAdapter("")))
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	require.NoError(t, metrics.Register(reg, b))
	var are prometheus.AlreadyRegisteredError
	assert.ErrorAs(t, metrics.Register(reg, b), &are)
}

func TestNewCollector_nilBot(t *testing.T) {
	assert.PanicsWithValue(t, "metrics: NewCollector with a nil Bot", func() { metrics.NewCollector(nil) })
}
