package bot_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// pipelineBroker is a Broker that carries nothing: its Consume hands out
// the Bot's Pipeline, so that a test can call Pipeline.Deliver the way a
// Broker does for a message it took again after its process died.
type pipelineBroker struct{ p chan *bot.Pipeline }

func (pipelineBroker) Inbound(context.Context, *bot.Message) (bool, error) {
	return false, errors.New("pipelineBroker carries no inbound messages")
}

func (pipelineBroker) Outbound(context.Context, *bot.Message) error {
	return errors.New("pipelineBroker carries no outbound messages")
}

func (b pipelineBroker) Consume(ctx context.Context, p *bot.Pipeline) error {
	b.p <- p
	<-ctx.Done()
	return nil
}

// confirmingAdapter is a FakeAdapter that is also a Confirmer: the
// platform holds the messages whose keys are in has; errs are the answers
// of the next Delivered calls before that.
type confirmingAdapter struct {
	*bottest.FakeAdapter
	has   map[string]bool
	errs  []error
	asked atomic.Int32
	since atomic.Pointer[time.Time]
}

func (a *confirmingAdapter) Delivered(_ context.Context, m *bot.Message, since time.Time) (bot.SendResult, bool, error) {
	n := int(a.asked.Add(1))
	a.since.Store(&since)
	if n <= len(a.errs) {
		return bot.SendResult{}, false, a.errs[n-1]
	}
	if a.has[m.Key] {
		return bot.SendResult{ID: "held-" + m.Key}, true, nil
	}
	return bot.SendResult{}, false, nil
}

// errCannotTell is a Confirmer's answer when the platform's history cannot
// show whether it holds a message.
var errCannotTell = errors.New("too many newer messages to look back to the cutoff")

// Pipeline.Deliver with a non-zero since asks a Confirmer adapter before
// sending: a message the platform has is not sent again, one it lacks is
// sent, and one nobody can tell about is given up rather than risked
// twice. Without since, or without a Confirmer, the message is sent.
func TestPipeline_DeliverConfirmsInterruptedDeliveries(t *testing.T) {
	interrupted := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		confirmer bool
		has       bool
		errs      []error
		since     time.Time
		want      bot.Outcome
		wantSent  bool
		wantAsked int32
	}{
		{name: "held by the platform", confirmer: true, has: true, since: interrupted,
			want: bot.OutcomeSent, wantAsked: 1},
		{name: "not held", confirmer: true, since: interrupted,
			want: bot.OutcomeSent, wantSent: true, wantAsked: 1},
		{name: "temporary failures, then held", confirmer: true, has: true, since: interrupted,
			errs: []error{&bot.TemporaryError{Err: errors.New("503")}, &bot.RateLimitError{RetryAfter: time.Millisecond}},
			want: bot.OutcomeSent, wantAsked: 3},
		{name: "cannot tell", confirmer: true, since: interrupted, errs: []error{errCannotTell},
			want: bot.OutcomeFailed, wantAsked: 1},
		{name: "first attempt", confirmer: true, has: true,
			want: bot.OutcomeSent, wantSent: true},
		{name: "no Confirmer", since: interrupted,
			want: bot.OutcomeSent, wantSent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fa := bottest.NewFakeAdapter("fake")
			var adapter bot.Adapter = fa
			ca := &confirmingAdapter{FakeAdapter: fa, has: map[string]bool{"k1": tt.has}, errs: tt.errs}
			if tt.confirmer {
				adapter = ca
			}
			br := pipelineBroker{p: make(chan *bot.Pipeline, 1)}
			b, err := bot.New(bot.WithAdapters(adapter), bot.WithBroker(br), bot.WithLogger(bottest.Logger(t)),
				bot.WithOutbox(bot.OutboxConfig{BaseBackoff: time.Millisecond}))
			require.NoError(t, err)
			bottest.Run(t, b)
			p := <-br.p

			m := &bot.Message{Platform: "fake", Conversation: "c", Key: "k1", Text: "hello"}
			assert.Equal(t, tt.want, p.Deliver(t.Context(), m, tt.since))
			assert.Equal(t, tt.wantAsked, ca.asked.Load(), "Delivered calls")
			if tt.wantAsked > 0 {
				assert.True(t, ca.since.Load().Equal(tt.since), "Delivered is given the interrupted attempt's start")
			}
			if tt.wantSent {
				assert.Len(t, fa.Sent(), 1)
			} else {
				assert.Empty(t, fa.Sent())
			}
			st := b.Stats()
			if tt.want == bot.OutcomeFailed {
				require.Len(t, deadLetters(t, b), 1)
				assert.ErrorIs(t, deadLetters(t, b)[0].Err, errCannotTell)
				assert.ErrorIs(t, deadLetters(t, b)[0].Err, bot.ErrOutcomeUnknown, "it may be on the platform")
			} else {
				assert.Empty(t, deadLetters(t, b))
			}
			confirmed := int64(0)
			if tt.has && tt.wantAsked > 0 {
				confirmed = 1
			}
			assert.Equal(t, confirmed, st.Confirmed)
		})
	}
}

// A delivery that Pipeline.Deliver's ctx cuts short (the shutdown
// deadline) is left to the Broker, which hands the message out again: it
// is reported as interrupted and is not a dead letter as well, which a
// Replay would send once more. The in-memory outbox, whose queue ends with
// the process, dead-letters it instead.
func TestPipeline_DeliverInterrupted(t *testing.T) {
	fa := bottest.NewFakeAdapter("fake")
	br := pipelineBroker{p: make(chan *bot.Pipeline, 1)}
	b, err := bot.New(bot.WithAdapters(fa), bot.WithBroker(br), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	bottest.Run(t, b)
	p := <-br.p

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	m := &bot.Message{Platform: "fake", Conversation: "c", Key: "k1", Text: "hello"}
	assert.Equal(t, bot.OutcomeInterrupted, p.Deliver(ctx, m, time.Time{}))
	assert.Empty(t, deadLetters(t, b))
	assert.Zero(t, b.Stats().DeadLettered)
	assert.Equal(t, "interrupted", bot.OutcomeInterrupted.String())

	// A refusal by the platform is a failure, and a dead letter.
	fa.FailNext(errors.New("400 invalid phone"))
	assert.Equal(t, bot.OutcomeFailed, p.Deliver(t.Context(), m, time.Time{}))
	assert.Len(t, deadLetters(t, b), 1)
}

// Asking the platform follows the outbox's rules for rate limits: a 429
// is not one of the MaxAttempts tries but a wait, bounded by
// MaxRateLimitWait.
func TestPipeline_DeliverConfirmRateLimitIsNotAnAttempt(t *testing.T) {
	rl := &bot.RateLimitError{Platform: "fake", RetryAfter: time.Second}
	tests := []struct {
		name     string
		errs     []error
		maxWait  time.Duration
		want     bot.Outcome
		wantRL   bool // the dead letter is the rate limit's
		wantAskd int32
	}{
		{name: "five 429s, then held", errs: []error{rl, rl, rl, rl, rl}, want: bot.OutcomeSent, wantAskd: 6},
		{name: "429s past MaxRateLimitWait", errs: []error{rl, rl, rl, rl, rl}, maxWait: 3 * time.Second,
			want: bot.OutcomeFailed, wantRL: true, wantAskd: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fa := bottest.NewFakeAdapter("fake")
				ca := &confirmingAdapter{FakeAdapter: fa, has: map[string]bool{"k1": true}, errs: tt.errs}
				br := pipelineBroker{p: make(chan *bot.Pipeline, 1)}
				b, err := bot.New(bot.WithAdapters(ca), bot.WithBroker(br), bot.WithLogger(bottest.Logger(t)),
					bot.WithOutbox(bot.OutboxConfig{MaxAttempts: 3, MaxRateLimitWait: tt.maxWait}))
				require.NoError(t, err)
				bottest.Run(t, b)
				p := <-br.p

				m := &bot.Message{Platform: "fake", Conversation: "c", Key: "k1", Text: "hello"}
				assert.Equal(t, tt.want, p.Deliver(t.Context(), m, time.Now().Add(-time.Minute)))
				assert.Equal(t, tt.wantAskd, ca.asked.Load(), "Delivered calls")
				assert.Empty(t, fa.Sent())
				if tt.wantRL {
					dl := deadLetters(t, b)
					require.Len(t, dl, 1)
					var got *bot.RateLimitError
					assert.ErrorAs(t, dl[0].Err, &got)
					assert.ErrorIs(t, dl[0].Err, bot.ErrOutcomeUnknown)
				}
			})
		})
	}
}
