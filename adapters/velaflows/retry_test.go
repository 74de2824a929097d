package velaflows_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/bot"
)

// The retry tests run in a synctest bubble against the in-process fake, so
// that backoff waits pass on the fake clock: no wall-clock sleeps.

// failingThen answers the first n requests with status (and header
// pairs), then with ok.
func failingThen(n int, status int, okBody string, header ...string) http.HandlerFunc {
	var calls atomic.Int32
	return func(w http.ResponseWriter, _ *http.Request) {
		if int(calls.Add(1)) <= n {
			code := "INTERNAL_ERROR"
			if status == 429 {
				code = "TOO_MANY_REQUESTS"
			}
			writeError(w, status, code, "try again", "", header...)
			return
		}
		writeJSON(w, 200, okBody)
	}
}

// gaps returns the time between consecutive recorded requests.
func gaps(reqs []fakeRequest) []time.Duration {
	var d []time.Duration
	for i := 1; i < len(reqs); i++ {
		d = append(d, reqs[i].Time.Sub(reqs[i-1].Time))
	}
	return d
}

// assertBackoff checks that gap n (0-based) is base·2^n plus jitter in
// [0, base).
func assertBackoff(t *testing.T, base time.Duration, got []time.Duration) {
	t.Helper()
	for n, g := range got {
		lo := base << n
		assert.GreaterOrEqual(t, g, lo, "gap %d", n)
		assert.Less(t, g, lo+base, "gap %d", n)
	}
}

func retryClient(t *testing.T, f *fakeAPI, p velaflows.RetryPolicy) *velaflows.Client {
	t.Helper()
	return f.newClient(t, func(cfg *velaflows.Config) { cfg.Retry = &p })
}

func TestRetry_serverErrorsOnGET(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newInProcessFake(t)
		f.handle("GET", "/inbox/conversations/c1", failingThen(2, 503, ok(`{"conversation":{"_id":"c1"}}`)))
		c := retryClient(t, f, velaflows.RetryPolicy{})

		conv, resp, err := c.Conversation(t.Context(), "c1")
		require.NoError(t, err)
		assert.Equal(t, "c1", conv.ID)
		assert.Equal(t, 3, resp.Attempts)
		assert.Equal(t, 200, resp.StatusCode)
		reqs := f.requests()
		require.Len(t, reqs, 3)
		// The schedule of VelaFlows' Python examples: 2^attempt seconds plus up to 1s of jitter.
		assertBackoff(t, time.Second, gaps(reqs))
	})
}

func TestRetry_exhausted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newInProcessFake(t)
		f.handle("GET", "/crm/leads", failingThen(100, 500, ""))
		c := retryClient(t, f, velaflows.RetryPolicy{})

		start := time.Now()
		_, resp, err := c.Leads(t.Context(), velaflows.LeadsOptions{})
		var apiErr *velaflows.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 500, apiErr.StatusCode)
		assert.Equal(t, velaflows.DefaultMaxAttempts, resp.Attempts)
		reqs := f.requests()
		require.Len(t, reqs, 4, "one try and three retries, like with_retry(max_retries=3)")
		assertBackoff(t, time.Second, gaps(reqs))
		assert.Less(t, time.Since(start), 10*time.Second)
	})
}

func TestRetry_maxDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newInProcessFake(t)
		f.handle("GET", "/crm/leads", failingThen(100, 502, ""))
		c := retryClient(t, f, velaflows.RetryPolicy{MaxAttempts: 5, BaseDelay: 10 * time.Second, MaxDelay: 15 * time.Second})
		_, resp, err := c.Leads(t.Context(), velaflows.LeadsOptions{})
		require.Error(t, err)
		assert.Equal(t, 5, resp.Attempts)
		g := gaps(f.requests())
		require.Len(t, g, 4)
		assert.GreaterOrEqual(t, g[0], 10*time.Second)
		for _, d := range g {
			assert.LessOrEqual(t, d, 15*time.Second)
		}
		assert.Equal(t, []time.Duration{15 * time.Second, 15 * time.Second, 15 * time.Second}, g[1:])
	})
}

func TestRetry_honoursRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newInProcessFake(t)
		f.handle("GET", "/tags", failingThen(1, 429, pageJSON(`[]`, 1, 20, 0), "Retry-After", "7"))
		c := retryClient(t, f, velaflows.RetryPolicy{})

		_, resp, err := c.Tags(t.Context(), velaflows.TagsOptions{})
		require.NoError(t, err)
		assert.Equal(t, 2, resp.Attempts)
		assert.Equal(t, []time.Duration{7 * time.Second}, gaps(f.requests()))
	})
}

func TestRetry_429WithoutRetryAfterBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newInProcessFake(t)
		f.handle("GET", "/tags", failingThen(1, 429, pageJSON(`[]`, 1, 20, 0), "X-RateLimit-Remaining", "5"))
		c := retryClient(t, f, velaflows.RetryPolicy{BaseDelay: 2 * time.Second})
		_, _, err := c.Tags(t.Context(), velaflows.TagsOptions{})
		require.NoError(t, err)
		assertBackoff(t, 2*time.Second, gaps(f.requests()))
	})
}

func TestRetry_retryAfterBeyondCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newInProcessFake(t)
		f.handle("GET", "/tags", failingThen(1, 429, pageJSON(`[]`, 1, 20, 0), "Retry-After", "600"))
		c := retryClient(t, f, velaflows.RetryPolicy{MaxRetryAfter: time.Minute})

		start := time.Now()
		_, resp, err := c.Tags(t.Context(), velaflows.TagsOptions{})
		var rl *bot.RateLimitError
		require.ErrorAs(t, err, &rl)
		assert.Equal(t, 10*time.Minute, rl.RetryAfter)
		assert.Equal(t, 1, resp.Attempts)
		assert.Len(t, f.requests(), 1)
		assert.Zero(t, time.Since(start), "a wait beyond MaxRetryAfter is left to the caller")
	})
}

func TestRetry_neverNonIdempotent(t *testing.T) {
	for _, status := range []int{429, 500, 503} {
		synctest.Test(t, func(t *testing.T) {
			f := newInProcessFake(t)
			f.handle("POST", "/inbox/conversations/c1/messages", failingThen(1, status, ok(`{"message":{"_id":"m1"}}`), "Retry-After", "1"))
			f.handle("POST", "/crm/leads", failingThen(1, status, ok(`{"lead":{"_id":"l1"}}`), "Retry-After", "1"))
			f.handle("POST", "/webhooks/subscriptions", failingThen(1, status, ok(`{"subscription":{"_id":"s1"}}`), "Retry-After", "1"))
			f.handle("PATCH", "/crm/leads/l1", failingThen(1, status, ok(`{"lead":{"_id":"l1"}}`), "Retry-After", "1"))
			f.handle("PATCH", "/customers/k1", failingThen(1, status, ok(`{"customer":{"_id":"k1"}}`), "Retry-After", "1"))
			c := retryClient(t, f, velaflows.RetryPolicy{})
			ctx := t.Context()

			_, resp, err := c.SendMessage(ctx, "c1", velaflows.MessageRequest{Content: "hi"})
			require.Error(t, err, "status %d", status)
			assert.Equal(t, 1, resp.Attempts)
			_, _, err = c.CreateLead(ctx, velaflows.LeadRequest{FirstName: "J", PipelineID: "p", StageID: "s"})
			require.Error(t, err)
			_, _, err = c.CreateWebhookSubscription(ctx, "https://bot.example/h", []string{"conversation.created"}, "s")
			require.Error(t, err)
			_, _, err = c.UpdateLead(ctx, "l1", velaflows.LeadUpdate{Status: "won"})
			require.Error(t, err)
			_, _, err = c.UpdateCustomer(ctx, "k1", velaflows.CustomerUpdate{Email: "a@b"})
			require.Error(t, err)
			assert.Len(t, f.requests(), 5, "POST and PATCH are sent once (status %d)", status)
		})
	}
}

func TestRetry_never4xx(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 409, 422} {
		synctest.Test(t, func(t *testing.T) {
			f := newInProcessFake(t)
			f.handle("GET", "/crm/leads/l1", failingThen(1, status, ok(`{"lead":{"_id":"l1"}}`)))
			c := retryClient(t, f, velaflows.RetryPolicy{})
			_, resp, err := c.Lead(t.Context(), "l1")
			var apiErr *velaflows.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, status, apiErr.StatusCode)
			assert.Equal(t, 1, resp.Attempts)
			assert.Len(t, f.requests(), 1, "status %d", status)
		})
	}
}

func TestRetry_idempotentMethods(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newInProcessFake(t)
		f.handle("DELETE", "/crm/leads/l1", failingThen(1, 500, ok(`{}`)))
		f.handle("PUT", "/custom/thing", failingThen(1, 503, ok(`{"thing":{}}`)))
		c := retryClient(t, f, velaflows.RetryPolicy{})

		resp, err := c.DeleteLead(t.Context(), "l1")
		require.NoError(t, err)
		assert.Equal(t, 2, resp.Attempts)
		resp, err = c.Do(t.Context(), "PUT", "/custom/thing", nil, map[string]string{"a": "b"}, nil)
		require.NoError(t, err)
		assert.Equal(t, 2, resp.Attempts)
		reqs := f.requests()
		require.Len(t, reqs, 4)
		assert.JSONEq(t, `{"a":"b"}`, string(reqs[3].Body), "the body is sent again")
	})
}

// flakyTransport fails the first n round trips with a connection error.
type flakyTransport struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (t *flakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.n.Add(-1) >= 0 {
		return nil, syscall.ECONNREFUSED
	}
	return t.next.RoundTrip(r)
}

func TestRetry_transportErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newInProcessFake(t)
		f.reply("GET", "/inbox/conversations/c1", 200, ok(`{"conversation":{"_id":"c1"}}`))
		f.reply("POST", "/inbox/conversations/c1/messages", 201, ok(`{"message":{"_id":"m1"}}`))
		ft := &flakyTransport{next: handlerTransport{f}}
		c := f.newClient(t, func(cfg *velaflows.Config) {
			cfg.Retry = &velaflows.RetryPolicy{}
			cfg.HTTPClient = &http.Client{Transport: ft}
		})

		ft.n.Store(2)
		_, resp, err := c.Conversation(t.Context(), "c1")
		require.NoError(t, err)
		assert.Equal(t, 3, resp.Attempts)

		ft.n.Store(1)
		_, resp, err = c.SendMessage(t.Context(), "c1", velaflows.MessageRequest{Content: "hi"})
		require.ErrorIs(t, err, syscall.ECONNREFUSED)
		assert.Nil(t, resp)
		assert.Len(t, f.requests(), 1, "the POST is not sent again")
	})
}

func TestRetry_contextEndsWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newInProcessFake(t)
		f.handle("GET", "/tags", failingThen(100, 429, "", "Retry-After", "30"))
		c := retryClient(t, f, velaflows.RetryPolicy{})

		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		start := time.Now()
		_, _, err := c.Tags(ctx, velaflows.TagsOptions{})
		assert.Equal(t, 3*time.Second, time.Since(start))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		var rl *bot.RateLimitError
		require.ErrorAs(t, err, &rl, "the last answer is kept in the error")
		assert.Contains(t, err.Error(), "retry wait")
		assert.Len(t, f.requests(), 1)
	})
}

func TestRetry_off(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newInProcessFake(t)
		f.handle("GET", "/tags", failingThen(1, 503, pageJSON(`[]`, 1, 20, 0)))
		c := f.newClient(t)
		_, resp, err := c.Tags(t.Context(), velaflows.TagsOptions{})
		require.Error(t, err)
		assert.Equal(t, 1, resp.Attempts)
		assert.Len(t, f.requests(), 1)
	})
}

func TestRetry_iterator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newInProcessFake(t)
		list := pagedList(t, "l", 250)
		var failed atomic.Bool
		f.handle("GET", "/crm/leads", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("page") == "2" && failed.CompareAndSwap(false, true) {
				writeError(w, 502, "BAD_GATEWAY", "upstream", "")
				return
			}
			list(w, r)
		})
		c := retryClient(t, f, velaflows.RetryPolicy{})
		leads, err := velaflows.Collect(c.AllLeads(t.Context(), velaflows.LeadsOptions{}))
		require.NoError(t, err)
		assert.Len(t, leads, 250)
		assert.Len(t, f.requests(), 4)
	})
}

func TestWithRetry(t *testing.T) {
	t.Run("the guide's schedule, POST included", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newInProcessFake(t)
			f.handle("POST", "/crm/leads", failingThen(3, 503, ok(`{"lead":{"_id":"l1"}}`)))
			c := f.newClient(t)
			var lead *velaflows.Lead
			calls := 0
			err := velaflows.WithRetry(t.Context(), velaflows.RetryPolicy{}, func(ctx context.Context) error {
				calls++
				var err error
				lead, _, err = c.CreateLead(ctx, velaflows.LeadRequest{FirstName: "J", PipelineID: "p", StageID: "s"})
				return err
			})
			require.NoError(t, err)
			assert.Equal(t, "l1", lead.ID)
			assert.Equal(t, 4, calls)
			assertBackoff(t, time.Second, gaps(f.requests()))
		})
	})
	t.Run("gives up after MaxAttempts", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			apiErr := &velaflows.APIError{StatusCode: 500}
			calls := 0
			err := velaflows.WithRetry(t.Context(), velaflows.RetryPolicy{MaxAttempts: 2}, func(context.Context) error {
				calls++
				return apiErr
			})
			assert.Same(t, apiErr, err)
			assert.Equal(t, 2, calls)
		})
	})
	t.Run("not on client errors", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			for _, e := range []error{
				&velaflows.APIError{StatusCode: 400, Code: velaflows.CodeValidation},
				&velaflows.APIError{StatusCode: 401},
				&velaflows.ValidationError{Op: "x", Field: "y", Problem: "z"},
				errors.New("some other error"),
				context.Canceled,
			} {
				calls := 0
				err := velaflows.WithRetry(t.Context(), velaflows.RetryPolicy{}, func(context.Context) error {
					calls++
					return e
				})
				assert.Same(t, e, err)
				assert.Equal(t, 1, calls, "%v", e)
			}
		})
	})
	t.Run("honours Retry-After", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			calls := 0
			err := velaflows.WithRetry(t.Context(), velaflows.RetryPolicy{}, func(context.Context) error {
				calls++
				if calls == 1 {
					return &bot.RateLimitError{Platform: "velaflows", RetryAfter: 45 * time.Second}
				}
				return nil
			})
			require.NoError(t, err)
			assert.Equal(t, 45*time.Second, time.Since(start))
		})
	})
	t.Run("context ends the wait", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			go func() {
				time.Sleep(500 * time.Millisecond) // fake clock
				cancel()
			}()
			start := time.Now()
			err := velaflows.WithRetry(ctx, velaflows.RetryPolicy{BaseDelay: time.Hour, MaxDelay: 2 * time.Hour}, func(context.Context) error {
				return &velaflows.APIError{StatusCode: 503}
			})
			require.ErrorIs(t, err, context.Canceled)
			var apiErr *velaflows.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, 500*time.Millisecond, time.Since(start))
		})
	})
	t.Run("invalid policy", func(t *testing.T) {
		err := velaflows.WithRetry(t.Context(), velaflows.RetryPolicy{BaseDelay: -1}, func(context.Context) error {
			t.Error("fn called")
			return nil
		})
		require.Error(t, err)
	})
}
