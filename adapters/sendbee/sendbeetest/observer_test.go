package sendbeetest_test

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

	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
)

// observed collects what a delivery observer is told.
type observed struct {
	mu sync.Mutex
	ds []sendbeetest.Delivery
}

func (o *observed) observe(d sendbeetest.Delivery) {
	o.mu.Lock()
	o.ds = append(o.ds, d)
	o.mu.Unlock()
}

func (o *observed) all() []sendbeetest.Delivery {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]sendbeetest.Delivery(nil), o.ds...)
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
	return srv.URL + "/webhooks/sendbee"
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
	return srv.URL + "/webhooks/sendbee"
}

func TestServer_DeliveryObserver(t *testing.T) {
	tests := []struct {
		name     string
		url      func(t *testing.T) string
		outcome  sendbeetest.Outcome
		status   int
		attempts int
		explain  []string // substrings of Explain; none for a success
	}{
		{"ok", func(t *testing.T) string { return answering(t, http.StatusOK) }, sendbeetest.OutcomeOK, 200, 1, nil},
		{"refused", refusedURL, sendbeetest.OutcomeRefused, 0, 2,
			[]string{"delivery of message.received to http://127.0.0.1:", "failed: connection refused", "is the bot running and listening on 127.0.0.1:", "(PARLEY_ADDR)"}},
		{"unauthorized", func(t *testing.T) string { return answering(t, http.StatusUnauthorized) }, sendbeetest.OutcomeRejected, 401, 2,
			[]string{"rejected 401", "SENDBEE_API_SECRET differs", `eval "$(parley sim env)"`}},
		{"not found", func(t *testing.T) string { return answering(t, http.StatusNotFound) }, sendbeetest.OutcomeRejected, 404, 2,
			[]string{"rejected 404", "SENDBEE_API_KEY"}},
		{"server error", func(t *testing.T) string { return answering(t, http.StatusInternalServerError) }, sendbeetest.OutcomeServerError, 500, 2,
			[]string{"answered 500", "bot's log"}},
		{"timeout", hanging, sendbeetest.OutcomeTimeout, 0, 2,
			[]string{"timed out after ", "did not answer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var obs observed
			s := sendbeetest.NewServer(t, sendbeetest.WithWebhook(tt.url(t)), sendbeetest.WithRedelivery(2, time.Millisecond),
				sendbeetest.WithDeliveryTimeout(200*time.Millisecond), sendbeetest.WithDeliveryObserver(obs.observe))
			s.CustomerMessage("+385911234567", "Ana", "hello")
			ds := s.WaitDeliveries(t, tt.attempts)
			s.Close() // waits for delivery: no attempt or report is pending

			require.Len(t, s.Deliveries(), tt.attempts)
			got := obs.all()
			require.Len(t, got, tt.attempts, "one report per attempt")
			for i, d := range got {
				assert.Equal(t, ds[i].EventID, d.EventID)
				assert.Equal(t, i+1, d.Attempt)
				assert.Equal(t, sendbeetest.EventMessageReceived, d.Type)
				assert.Equal(t, ds[i].URL, d.URL)
				assert.Equal(t, tt.outcome, d.Outcome)
				assert.Equal(t, tt.outcome, ds[i].Outcome, "Deliveries records the outcome too")
				assert.Equal(t, tt.status, d.StatusCode)
				assert.Positive(t, d.Duration)
				assert.Equal(t, tt.outcome == sendbeetest.OutcomeOK, d.OK())
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
	const url = "http://127.0.0.1:8080/webhooks/sendbee"
	d := func(o sendbeetest.Outcome, status int, err string, dur time.Duration) sendbeetest.Delivery {
		return sendbeetest.Delivery{Type: "message.received", URL: url, Attempt: 1, Outcome: o, StatusCode: status, Error: err, Duration: dur}
	}
	tests := []struct {
		name string
		d    sendbeetest.Delivery
		want string
	}{
		{"ok", d(sendbeetest.OutcomeOK, 200, "", time.Millisecond), ""},
		{"refused", d(sendbeetest.OutcomeRefused, 0, `Post "`+url+`": dial tcp 127.0.0.1:8080: connect: connection refused`, time.Millisecond),
			"delivery of message.received to " + url + " failed: connection refused — is the bot running and listening on 127.0.0.1:8080 (PARLEY_ADDR)?"},
		{"unauthorized", d(sendbeetest.OutcomeRejected, 401, "", time.Millisecond),
			"delivery of message.received to " + url + ` rejected 401 — the bot's SENDBEE_API_SECRET differs from the emulator's (or the clocks differ); run: eval "$(parley sim env)" and restart the bot`},
		{"not found", d(sendbeetest.OutcomeRejected, 404, "", time.Millisecond),
			"delivery of message.received to " + url + " rejected 404 — nothing serves that path: is SENDBEE_API_KEY set in the bot's environment, and is the webhook URL right (SENDBEE_WEBHOOK_URL)?"},
		{"bad request", d(sendbeetest.OutcomeRejected, 400, "", time.Millisecond),
			"delivery of message.received to " + url + " rejected 400 — the bot refused the payload; see the bot's log"},
		{"busy", d(sendbeetest.OutcomeServerError, 503, "", time.Millisecond),
			"delivery of message.received to " + url + " answered 503 — the bot is busy or stopping; the emulator retries"},
		{"server error", d(sendbeetest.OutcomeServerError, 500, "", time.Millisecond),
			"delivery of message.received to " + url + " answered 500 — the bot failed to handle it; see the bot's log"},
		{"timeout", d(sendbeetest.OutcomeTimeout, 0, "context deadline exceeded (Client.Timeout exceeded while awaiting headers)", 10*time.Second+1234*time.Microsecond),
			"delivery of message.received to " + url + " timed out after 10s — the bot took the connection but did not answer; is a handler stuck? see the bot's log"},
		{"other", d(sendbeetest.OutcomeFailed, 0, `Post "`+url+`": EOF`, time.Millisecond),
			"delivery of message.received to " + url + " failed: EOF — check the webhook URL (SENDBEE_WEBHOOK_URL) and the bot's log"},
		{"redirect", d(sendbeetest.OutcomeFailed, 302, "", time.Millisecond),
			"delivery of message.received to " + url + " failed: answered 302 — check the webhook URL (SENDBEE_WEBHOOK_URL) and the bot's log"},
		{"retry", sendbeetest.Delivery{Type: "message.sent", URL: url, Attempt: 3, Outcome: sendbeetest.OutcomeServerError, StatusCode: 502},
			"delivery of message.sent to " + url + " (attempt 3) answered 502 — the bot failed to handle it; see the bot's log"},
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
	const raw = "http://hook:pw-secret@127.0.0.1:8080/webhooks/sendbee?token=q-secret"
	const clean = "http://127.0.0.1:8080/webhooks/sendbee"
	tests := []struct {
		name    string
		outcome sendbeetest.Outcome
		err     string
		want    string
	}{
		{"refused", sendbeetest.OutcomeRefused, `Post "http://hook:***@127.0.0.1:8080/webhooks/sendbee?token=q-secret": dial tcp 127.0.0.1:8080: connect: connection refused`,
			"delivery of message.received to " + clean + " failed: connection refused — is the bot running and listening on 127.0.0.1:8080 (PARLEY_ADDR)?"},
		{"other", sendbeetest.OutcomeFailed, `Post "http://hook:***@127.0.0.1:8080/webhooks/sendbee?token=q-secret": EOF`,
			"delivery of message.received to " + clean + " failed: EOF — check the webhook URL (SENDBEE_WEBHOOK_URL) and the bot's log"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := sendbeetest.Delivery{Type: "message.received", URL: raw, Attempt: 1, Outcome: tt.outcome, Error: tt.err, Duration: time.Millisecond}
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
		s        *sendbeetest.Server
		obs      observed
		first    atomic.Bool
		returned atomic.Bool  // the observer's Close has returned
		late     atomic.Int32 // calls made after that
		closed   = make(chan struct{})
	)
	s, err := sendbeetest.Start("127.0.0.1:0", sendbeetest.WithWebhook(answering(t, http.StatusInternalServerError)),
		sendbeetest.WithRedelivery(3, time.Millisecond),
		sendbeetest.WithDeliveryObserver(func(d sendbeetest.Delivery) {
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
	s.CustomerMessage("+385911234567", "Ana", "hello")
	s.CustomerMessage("+385921112233", "Ivo", "hello") // another lane, in parallel

	within(t, closed, "Close, called by the observer in a new goroutine, returns")
	s.Close() // from the test too: returns at once

	assert.Zero(t, late.Load(), "no call after Close returned")
	got := obs.all()
	require.NotEmpty(t, got)
	assert.False(t, got[0].OK())
	i := 0
	for _, d := range s.Deliveries() {
		if i < len(got) && d.EventID == got[i].EventID && d.Copy == got[i].Copy && d.Attempt == got[i].Attempt {
			i++
		}
	}
	assert.Equal(t, len(got), i, "every attempt reported is recorded, in the order of the reports")
}

// An observer that blocks does not hold up delivery, and Close stops
// deliveries while it blocks; Close then waits for the observer's call
// and returns once it is released.
func TestServer_DeliveryObserverBlocks(t *testing.T) {
	var hits atomic.Int32
	second, gaveUp := make(chan struct{}), make(chan struct{})
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		close(second)
		<-r.Context().Done() // until the emulator gives up
		close(gaveUp)
	}))
	t.Cleanup(rc.Close)

	var obs observed
	entered, release := make(chan struct{}), make(chan struct{})
	s, err := sendbeetest.Start("127.0.0.1:0", sendbeetest.WithWebhook(rc.URL),
		sendbeetest.WithRedelivery(3, time.Millisecond),
		sendbeetest.WithDeliveryObserver(func(d sendbeetest.Delivery) {
			obs.observe(d)
			if d.Attempt == 1 {
				close(entered)
				<-release
			}
		}))
	require.NoError(t, err)
	s.CustomerMessage("+385911234567", "Ana", "hello")
	within(t, entered, "the first attempt is reported")
	within(t, second, "the second attempt starts while the observer blocks")

	closeReturned := make(chan struct{})
	go func() {
		s.Close()
		close(closeReturned)
	}()
	within(t, gaveUp, "Close cancels the attempt in flight while the observer blocks")
	select {
	case <-closeReturned:
		t.Fatal("Close returned while an observer call was running")
	default:
	}
	close(release)
	within(t, closeReturned, "Close returns once the observer is released")

	got := obs.all()
	require.Len(t, got, 1, "the attempt Close cut short is not reported")
	ds := s.Deliveries()
	require.Len(t, ds, 2)
	assert.Equal(t, http.StatusInternalServerError, ds[0].StatusCode)
	assert.Equal(t, 2, ds[1].Attempt)
	assert.False(t, ds[1].OK())
}
