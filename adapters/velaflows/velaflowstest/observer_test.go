package velaflowstest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
)

// observed collects what a delivery observer is told.
type observed struct {
	mu sync.Mutex
	ds []velaflowstest.Delivery
}

func (o *observed) observe(d velaflowstest.Delivery) {
	o.mu.Lock()
	o.ds = append(o.ds, d)
	o.mu.Unlock()
}

func (o *observed) all() []velaflowstest.Delivery {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]velaflowstest.Delivery(nil), o.ds...)
}

// answering returns the URL of a receiver that answers every request with
// status.
func answering(t *testing.T, status int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/webhooks/velaflows"
}

// hanging returns the URL of a receiver that never answers; it returns
// when the emulator gives up on the request.
func hanging(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/webhooks/velaflows"
}

func TestServer_DeliveryObserver(t *testing.T) {
	tests := []struct {
		name     string
		url      func(t *testing.T) string
		outcome  velaflowstest.Outcome
		status   int
		attempts int
		explain  []string // substrings of Explain; none for a success
	}{
		{"ok", func(t *testing.T) string { return answering(t, http.StatusOK) }, velaflowstest.OutcomeOK, 200, 1, nil},
		{"refused", refusedURL, velaflowstest.OutcomeRefused, 0, 2,
			[]string{"delivery of conversation.message.received to http://127.0.0.1:", "failed: connection refused", "is the bot running and listening on 127.0.0.1:", "(PARLEY_ADDR)"}},
		{"unauthorized", func(t *testing.T) string { return answering(t, http.StatusUnauthorized) }, velaflowstest.OutcomeRejected, 401, 2,
			[]string{"rejected 401", "VELAFLOWS_WEBHOOK_SECRET", `eval "$(parley sim env)"`}},
		{"gone", func(t *testing.T) string { return answering(t, http.StatusGone) }, velaflowstest.OutcomeRejected, 410, 1,
			[]string{"rejected 410", "deactivated"}},
		{"server error", func(t *testing.T) string { return answering(t, http.StatusInternalServerError) }, velaflowstest.OutcomeServerError, 500, 2,
			[]string{"answered 500", "bot's log"}},
		{"redirect", func(t *testing.T) string { return answering(t, http.StatusFound) }, velaflowstest.OutcomeFailed, 302, 2,
			[]string{"failed: answered 302"}},
		{"timeout", hanging, velaflowstest.OutcomeTimeout, 0, 2,
			[]string{"timed out after ", "did not answer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var obs observed
			s := newServer(t, velaflowstest.WithSubscription(tt.url(t), "whsec_test", velaflowstest.EventMessageReceived),
				velaflowstest.WithRetrySchedule(time.Millisecond), velaflowstest.WithRedeliveryWindow(0),
				velaflowstest.WithDeliveryTimeout(200*time.Millisecond), velaflowstest.WithDeliveryObserver(obs.observe))
			s.CustomerMessage("whatsapp", "Ana", "+385911234567", "hello")
			ds := s.WaitDeliveries(t, tt.attempts)
			s.Close() // waits for delivery: no attempt or report is pending

			require.Len(t, s.Deliveries(), tt.attempts)
			got := obs.all()
			require.Len(t, got, tt.attempts, "one report per attempt")
			for i, d := range got {
				assert.Equal(t, ds[i].EventID, d.EventID)
				assert.Equal(t, i+1, d.Attempt)
				assert.Equal(t, velaflowstest.EventMessageReceived, d.EventType)
				assert.Equal(t, ds[i].URL, d.URL)
				assert.Equal(t, tt.outcome, d.Outcome)
				assert.Equal(t, tt.outcome, ds[i].Outcome, "Deliveries records the outcome too")
				assert.Equal(t, tt.status, d.StatusCode)
				assert.Positive(t, d.Duration)
				assert.Equal(t, tt.outcome == velaflowstest.OutcomeOK, d.OK())
				line := d.Explain()
				if tt.explain == nil {
					assert.Empty(t, line)
				}
				for _, want := range tt.explain {
					assert.Contains(t, line, want)
				}
				assert.NotContains(t, line, "\n")
			}
		})
	}
}

func TestDelivery_Explain(t *testing.T) {
	const url = "http://127.0.0.1:8080/webhooks/velaflows"
	const what = "delivery of conversation.message.received to " + url
	d := func(o velaflowstest.Outcome, status int, err string, dur time.Duration) velaflowstest.Delivery {
		return velaflowstest.Delivery{EventType: velaflowstest.EventMessageReceived, URL: url, Attempt: 1, Outcome: o, StatusCode: status, Error: err, Duration: dur}
	}
	tests := []struct {
		name string
		d    velaflowstest.Delivery
		want string
	}{
		{"ok", d(velaflowstest.OutcomeOK, 200, "", time.Millisecond), ""},
		{"refused", d(velaflowstest.OutcomeRefused, 0, `Post "`+url+`": dial tcp 127.0.0.1:8080: connect: connection refused`, time.Millisecond),
			what + " failed: connection refused — is the bot running and listening on 127.0.0.1:8080 (PARLEY_ADDR)?"},
		{"unauthorized", d(velaflowstest.OutcomeRejected, 401, "", time.Millisecond),
			what + ` rejected 401 — the bot's webhook secret (VELAFLOWS_WEBHOOK_SECRET) differs from the subscription's; run: eval "$(parley sim env)" and restart the bot`},
		{"not found", d(velaflowstest.OutcomeRejected, 404, "", time.Millisecond),
			what + " rejected 404 — nothing serves that path: is VELAFLOWS_API_TOKEN set in the bot's environment, and does PARLEY_PUBLIC_URL point at the bot?"},
		{"gone", d(velaflowstest.OutcomeRejected, 410, "", time.Millisecond),
			what + " rejected 410 — the subscription is deactivated; restart the bot with PARLEY_PUBLIC_URL set to register its webhook again"},
		{"bad request", d(velaflowstest.OutcomeRejected, 400, "", time.Millisecond),
			what + " rejected 400 — the bot refused the payload; see the bot's log"},
		{"busy", d(velaflowstest.OutcomeServerError, 503, "", time.Millisecond),
			what + " answered 503 — the bot is busy or stopping; the emulator retries"},
		{"server error", d(velaflowstest.OutcomeServerError, 500, "", time.Millisecond),
			what + " answered 500 — the bot failed to handle it; see the bot's log"},
		{"timeout", d(velaflowstest.OutcomeTimeout, 0, "context deadline exceeded (Client.Timeout exceeded while awaiting headers)", 10*time.Second+1234*time.Microsecond),
			what + " timed out after 10s — the bot took the connection but did not answer; is a handler stuck? see the bot's log"},
		{"other", d(velaflowstest.OutcomeFailed, 0, `Post "`+url+`": EOF`, time.Millisecond),
			what + " failed: EOF — check the subscription's URL (PARLEY_PUBLIC_URL) and the bot's log"},
		{"retry", velaflowstest.Delivery{EventType: "inbox.message.sent", URL: url, Attempt: 3, Outcome: velaflowstest.OutcomeServerError, StatusCode: 502},
			"delivery of inbox.message.sent to " + url + " (attempt 3) answered 502 — the bot failed to handle it; see the bot's log"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tt.d.Explain())
		})
	}
}

// A webhook URL's user information and query can hold a secret: Explain
// leaves them out, also of the client's error (which masks only the
// password).
func TestDelivery_Explain_redactsURL(t *testing.T) {
	const raw = "http://hook:pw-secret@127.0.0.1:8080/webhooks/velaflows?token=q-secret"
	const clean = "http://127.0.0.1:8080/webhooks/velaflows"
	tests := []struct {
		name    string
		outcome velaflowstest.Outcome
		err     string
		want    string
	}{
		{"refused", velaflowstest.OutcomeRefused, `Post "http://hook:***@127.0.0.1:8080/webhooks/velaflows?token=q-secret": dial tcp 127.0.0.1:8080: connect: connection refused`,
			"delivery of conversation.message.received to " + clean + " failed: connection refused — is the bot running and listening on 127.0.0.1:8080 (PARLEY_ADDR)?"},
		{"other", velaflowstest.OutcomeFailed, `Post "http://hook:***@127.0.0.1:8080/webhooks/velaflows?token=q-secret": EOF`,
			"delivery of conversation.message.received to " + clean + " failed: EOF — check the subscription's URL (PARLEY_PUBLIC_URL) and the bot's log"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := velaflowstest.Delivery{EventType: velaflowstest.EventMessageReceived, URL: raw, Attempt: 1, Outcome: tt.outcome, Error: tt.err, Duration: time.Millisecond}
			assert.Equal(t, tt.want, d.Explain())
			assert.NotContains(t, d.Explain(), "secret")
		})
	}
}

// within fails t unless ch is closed within 5 seconds.
func within(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: not within 5s", what)
	}
}

// An observer that stops the server at the first failed delivery calls
// Close in a new goroutine, as it must (Close waits for the observer's
// calls). Close returns, no call is made after it returned, and every
// attempt reported is recorded, in the order of the reports.
func TestServer_DeliveryObserverCallsClose(t *testing.T) {
	var (
		s        *velaflowstest.Server
		obs      observed
		first    atomic.Bool
		returned atomic.Bool  // the observer's Close has returned
		late     atomic.Int32 // calls made after that
		closed   = make(chan struct{})
	)
	s, err := velaflowstest.Start("127.0.0.1:0",
		velaflowstest.WithSubscription(answering(t, http.StatusInternalServerError), "whsec_test", velaflowstest.EventMessageReceived),
		velaflowstest.WithRetrySchedule(time.Millisecond, time.Millisecond), velaflowstest.WithRedeliveryWindow(0),
		velaflowstest.WithDeliveryObserver(func(d velaflowstest.Delivery) {
			if returned.Load() {
				late.Add(1)
			}
			obs.observe(d)
			if d.OK() || !first.CompareAndSwap(false, true) {
				return
			}
			go func() {
				defer close(closed)
				s.Close()
				returned.Store(true)
			}()
		}))
	require.NoError(t, err)
	s.CustomerMessage("whatsapp", "Ana", "+385911234567", "hello")
	s.CustomerMessage("whatsapp", "Ivo", "+385921112233", "hello") // another lane, in parallel

	within(t, closed, "Close, called by the observer in a new goroutine, returns")
	s.Close() // from the test too: returns at once

	assert.Zero(t, late.Load(), "no call after Close returned")
	got := obs.all()
	require.NotEmpty(t, got)
	assert.False(t, got[0].OK())
	i := 0
	for _, d := range s.Deliveries() {
		if i < len(got) && d.DeliveryID == got[i].DeliveryID {
			i++
		}
	}
	assert.Equal(t, len(got), i, "every attempt reported is recorded, in the order of the reports")
}

// An observer that blocks does not hold up delivery; Close waits for the
// observer's call and returns once it is released, with every attempt
// that finished before it reported.
func TestServer_DeliveryObserverBlocks(t *testing.T) {
	var hits atomic.Int32
	second := make(chan struct{})
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if hits.Add(1) == 2 {
			close(second)
		}
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(rc.Close)

	var obs observed
	entered, release := make(chan struct{}), make(chan struct{})
	s, err := velaflowstest.Start("127.0.0.1:0",
		velaflowstest.WithSubscription(rc.URL, "whsec_test", velaflowstest.EventMessageReceived),
		velaflowstest.WithRetrySchedule(time.Millisecond, time.Hour), velaflowstest.WithRedeliveryWindow(0),
		velaflowstest.WithDeliveryObserver(func(d velaflowstest.Delivery) {
			obs.observe(d)
			if d.Attempt == 1 {
				close(entered)
				<-release
			}
		}))
	require.NoError(t, err)
	s.CustomerMessage("whatsapp", "Ana", "+385911234567", "hello")
	within(t, entered, "the first attempt is reported")
	within(t, second, "the second attempt is made while the observer blocks")

	closeReturned := make(chan struct{})
	go func() {
		s.Close()
		close(closeReturned)
	}()
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	require.Eventually(t, func() bool { // Close stopped the server while the observer blocks
		resp, err := hc.Get(s.URL() + "/inbox/conversations")
		if err != nil {
			return true
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	}, 5*time.Second, time.Millisecond)
	select {
	case <-closeReturned:
		t.Fatal("Close returned while an observer call was running")
	default:
	}
	close(release)
	within(t, closeReturned, "Close returns once the observer is released")

	got := obs.all()
	require.Len(t, got, 2, "both attempts are reported before Close returns")
	assert.Equal(t, []int{1, 2}, []int{got[0].Attempt, got[1].Attempt})
	ds := s.Deliveries()
	require.Len(t, ds, 2)
	assert.Equal(t, int32(2), hits.Load(), "the retry waiting an hour was abandoned")
}
