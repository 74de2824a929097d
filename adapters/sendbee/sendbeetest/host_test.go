package sendbeetest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
)

// newAccounts starts a host with the accounts "a" and "b", keyed "key-a"
// and "key-b" and signed with "secret-a" and "secret-b", each with the
// options of its own.
func newAccounts(t *testing.T, optsA, optsB []sendbeetest.Option) (*sendbeetest.Host, *sendbeetest.Server, *sendbeetest.Server) {
	t.Helper()
	h := sendbeetest.NewHost(t)
	a, err := h.Add("a", append([]sendbeetest.Option{sendbeetest.WithCredentials("key-a", "secret-a")}, optsA...)...)
	require.NoError(t, err)
	b, err := h.Add("b", append([]sendbeetest.Option{sendbeetest.WithCredentials("key-b", "secret-b")}, optsB...)...)
	require.NoError(t, err)
	return h, a, b
}

func TestHost_SendLandsInItsAccountOnly(t *testing.T) {
	h, a, b := newAccounts(t, []sendbeetest.Option{sendbeetest.WithoutServiceWindow()},
		[]sendbeetest.Option{sendbeetest.WithoutServiceWindow()})
	assert.Equal(t, h.URL(), a.URL(), "one listener")
	assert.Equal(t, h.URL(), b.URL())
	assert.Equal(t, h.RootURL(), a.RootURL())
	assert.Equal(t, h.RootURL()+"/api", h.URL())
	assert.Same(t, a, h.Account("a"))
	assert.Same(t, b, h.Account("b"))
	assert.Nil(t, h.Account("c"))

	ca, cb := newClient(t, a), newClient(t, b)
	mustOK(t, ca.post("/conversations/messages/send", map[string]any{"phone": "+385911234567", "text": "from a"}))
	require.Len(t, a.Sent(), 1)
	assert.Equal(t, "from a", a.Sent()[0].Text)
	assert.Empty(t, b.Sent(), "a's send does not reach b")

	mustOK(t, cb.post("/conversations/messages/send", map[string]any{"phone": "+385911234567", "text": "from b"}))
	require.Len(t, b.Sent(), 1)
	assert.Equal(t, "from b", b.Sent()[0].Text)
	require.Len(t, a.Sent(), 1, "b's send does not reach a")
	for _, s := range []*sendbeetest.Server{a, b} {
		for _, rq := range s.Requests() {
			assert.Equal(t, s.APIKey(), rq.APIKey, "an account records only requests with its key")
		}
	}

	// a's key signed with b's secret is a's request, refused by a.
	ca.secret = "secret-b"
	r := ca.get("/teams/teams", "")
	assert.Equal(t, http.StatusUnauthorized, r.Status)
	assert.Contains(t, r.err(t).Detail, "signature")
	assert.Len(t, a.Requests(), 2)
	assert.Len(t, b.Requests(), 1)
	assert.Empty(t, h.Unclaimed())
}

// A key that is no account's is answered as one Server answers a wrong
// key, and no account sees the request.
func TestHost_UnknownKeyRefusedAsByOneServer(t *testing.T) {
	h, a, b := newAccounts(t, nil, nil)
	one := sendbeetest.NewServer(t, sendbeetest.WithCredentials("key-a", "secret-a"))
	tests := []struct {
		name, path string
		hdr        map[string]string
		wantStatus int
		wantType   string
		wantDetail string
	}{
		{"unknown key", "/teams/teams", map[string]string{"X-Api-Key": "key-c"}, http.StatusUnauthorized, "authentication_error", "invalid API key"},
		{"no key", "/teams/teams", map[string]string{"X-Api-Key": ""}, http.StatusUnauthorized, "authentication_error", "missing X-Api-Key header"},
		{"unknown key, unknown path", "/nope", map[string]string{"X-Api-Key": "key-c"}, http.StatusNotFound, "not_found", "endpoint not found: GET /nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, base := range []*sendbeetest.Server{one, a} { // a: the host's URL
				c := newClient(t, base)
				r := c.request(http.MethodGet, tt.path, "", nil, tt.hdr)
				require.Equal(t, tt.wantStatus, r.Status, "body %s", r.Raw)
				e := r.err(t)
				assert.Equal(t, tt.wantType, e.Type)
				assert.Equal(t, tt.wantDetail, e.Detail)
				assert.Nil(t, r.Data)
			}
		})
	}
	assert.Empty(t, a.Requests())
	assert.Empty(t, b.Requests())
	un := h.Unclaimed()
	require.Len(t, un, len(tests))
	assert.Equal(t, "key-c", un[0].APIKey)
	assert.False(t, un[0].Authenticated)
	assert.Equal(t, "invalid API key", un[0].AuthError)

	// Outside the prefix, the answer names the host's API URL.
	c := newClient(t, a)
	c.base = h.RootURL()
	r := c.request(http.MethodGet, "/contacts", "", nil, map[string]string{"X-Api-Key": "key-c"})
	require.Equal(t, http.StatusNotFound, r.Status, "body %s", r.Raw)
	assert.Contains(t, r.err(t).Detail, "the API is served under "+h.URL())
}

func TestHost_WebhooksGoToTheirAccount(t *testing.T) {
	rcA := newReceiver(t, "hook-a", nil)
	rcB := newReceiver(t, "hook-b", nil)
	const bizA, bizB = "aaaaaaaa-0000-4000-8000-000000000000", "bbbbbbbb-0000-4000-8000-000000000000"
	_, a, b := newAccounts(t,
		[]sendbeetest.Option{sendbeetest.WithWebhook(rcA.srv.URL), sendbeetest.WithWebhookSecret("hook-a"), sendbeetest.WithBusinessID(bizA)},
		[]sendbeetest.Option{sendbeetest.WithWebhook(rcB.srv.URL), sendbeetest.WithWebhookSecret("hook-b"), sendbeetest.WithBusinessID(bizB)})

	convA, _ := a.CustomerMessage("+385911234567", "Ana", "to a")
	convB, _ := b.CustomerMessage("+385921234567", "Bruno", "to b")
	a.CustomerMessage("+385911234567", "Ana", "to a again")
	require.Len(t, a.WaitDeliveries(t, 2), 2)
	require.Len(t, b.WaitDeliveries(t, 1), 1)

	for _, tt := range []struct {
		rc          *receiver
		biz, conv   string
		n           int
		otherSecret string
	}{
		{rcA, bizA, convA, 2, "hook-b"},
		{rcB, bizB, convB, 1, "hook-a"},
	} {
		got := tt.rc.got()
		require.Equal(t, tt.n, len(got))
		for _, hk := range got {
			require.NoError(t, hk.SigErr, "signed with its account's webhook secret")
			assert.Error(t, verifyToken(tt.otherSecret, hk.Header.Get("X-Authorization"), time.Now()))
			assert.Equal(t, tt.biz, hk.Envelope.BusinessID)
			var data struct {
				ConversationID string `json:"conversation_id"`
			}
			require.NoError(t, json.Unmarshal(hk.Envelope.Data, &data))
			assert.Equal(t, tt.conv, data.ConversationID)
		}
	}
	assert.Equal(t, 2, len(a.Events()))
	assert.Equal(t, 1, len(b.Events()))
}

func TestHost_RateLimitsApart(t *testing.T) {
	clk := newClock(clockStart)
	opts := []sendbeetest.Option{sendbeetest.WithClock(clk.Now), sendbeetest.WithRateLimit(2, time.Minute)}
	_, a, b := newAccounts(t, opts, opts)
	ca, cb := newClient(t, a), newClient(t, b)
	ca.now, cb.now = clk.Now, clk.Now

	mustOK(t, ca.get("/teams/teams", ""))
	mustOK(t, ca.get("/teams/teams", ""))
	r := ca.get("/teams/teams", "")
	require.Equal(t, http.StatusTooManyRequests, r.Status, "body %s", r.Raw)
	assert.Equal(t, "60", r.Header.Get("Retry-After"))

	r = mustOK(t, cb.get("/teams/teams", ""))
	assert.Equal(t, "1", r.Header.Get("X-RateLimit-Remaining"), "b's window is its own")
	mustOK(t, cb.get("/teams/teams", ""))
	assert.Equal(t, http.StatusTooManyRequests, cb.get("/teams/teams", "").Status)

	// An unknown key uses no account's budget.
	clk.Advance(time.Minute)
	for range 3 {
		assert.Equal(t, http.StatusUnauthorized, ca.request(http.MethodGet, "/teams/teams", "", nil, map[string]string{"X-Api-Key": "key-c"}).Status)
	}
	mustOK(t, ca.get("/teams/teams", ""))
	mustOK(t, ca.get("/teams/teams", ""))
}

func TestHost_ClocksApart(t *testing.T) {
	clk := newClock(clockStart)
	opts := []sendbeetest.Option{sendbeetest.WithClock(clk.Now)}
	h, a, b := newAccounts(t, opts, opts)
	ca, cb := newClient(t, a), newClient(t, b)
	ca.now, cb.now = clk.Now, clk.Now
	a.CustomerMessage("+385911234567", "Ana", "hi a")
	b.CustomerMessage("+385911234567", "Ana", "hi b")

	a.Advance(25 * time.Hour)
	assert.Equal(t, clockStart.Add(25*time.Hour), a.Now())
	assert.Equal(t, clockStart, b.Now(), "b's business clock did not move")
	assert.False(t, a.WindowOpen("+385911234567"))
	assert.True(t, b.WindowOpen("+385911234567"))

	r := ca.post("/conversations/messages/send", map[string]any{"phone": "+385911234567", "text": "late"})
	require.Equal(t, http.StatusBadRequest, r.Status, "body %s", r.Raw)
	assert.Equal(t, "re_engagement_required", r.err(t).Type)
	mustOK(t, cb.post("/conversations/messages/send", map[string]any{"phone": "+385911234567", "text": "in time"}))

	// The control endpoint moves the account it names.
	status, raw := hostSim(t, h, http.MethodPost, "/_sim/clock?account=b", `{"advance":"2h"}`)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	assert.Equal(t, clockStart.Add(2*time.Hour), b.Now())
	assert.Equal(t, clockStart.Add(25*time.Hour), a.Now())
}

func TestHost_FaultsApart(t *testing.T) {
	h, a, b := newAccounts(t, nil, nil)
	ca, cb := newClient(t, a), newClient(t, b)
	a.FailNext(http.StatusBadGateway, "")

	r := ca.request(http.MethodGet, "/teams/teams", "", nil, map[string]string{"X-Api-Key": "key-c"})
	assert.Equal(t, http.StatusUnauthorized, r.Status, "an unknown key does not take a's fault")
	mustOK(t, cb.get("/teams/teams", ""))
	assert.Equal(t, 1, a.PendingFaults())
	assert.Equal(t, http.StatusBadGateway, ca.get("/teams/teams", "").Status)
	mustOK(t, ca.get("/teams/teams", ""))
	assert.Len(t, h.Unclaimed(), 1)
}

// hostSim calls a control endpoint of h without credentials.
func hostSim(t *testing.T, h *sendbeetest.Host, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, h.RootURL()+path, strings.NewReader(body))
	require.NoError(t, err)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, raw
}

func TestHost_SimControlsNameTheAccount(t *testing.T) {
	h, a, b := newAccounts(t, nil, nil)

	status, raw := hostSim(t, h, http.MethodPost, "/_sim/customer?account=b", `{"phone":"+385981234567","name":"Iva","text":"Bok!"}`)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	_, inB := b.ConversationByPhone("+385981234567")
	_, inA := a.ConversationByPhone("+385981234567")
	assert.True(t, inB)
	assert.False(t, inA, "the customer wrote to b only")

	status, raw = hostSim(t, h, http.MethodGet, "/_sim/?account=a", "")
	require.Equal(t, http.StatusOK, status, "%s", raw)
	var index struct {
		Account string `json:"account"`
		APIKey  string `json:"api_key"`
		APIURL  string `json:"api_url"`
	}
	require.NoError(t, json.Unmarshal(raw, &index))
	assert.Equal(t, "a", index.Account)
	assert.Equal(t, "key-a", index.APIKey)
	assert.Equal(t, h.URL(), index.APIURL)

	for _, tt := range []struct {
		name, path string
		status     int
		typ        string
		detail     []string
	}{
		{"no account", "/_sim/sent", http.StatusBadRequest, "validation_error", []string{"account=<name>", "(a, b)"}},
		{"empty account", "/_sim/sent?account=", http.StatusBadRequest, "validation_error", []string{"account=<name>"}},
		{"unknown account", "/_sim/sent?account=c", http.StatusNotFound, "not_found", []string{`no account "c"`, "a, b"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, raw := hostSim(t, h, http.MethodGet, tt.path, "")
			require.Equal(t, tt.status, status, "%s", raw)
			var body struct {
				Error struct{ Detail, Type string } `json:"error"`
			}
			require.NoError(t, json.Unmarshal(raw, &body), "%s", raw)
			assert.Equal(t, tt.typ, body.Error.Type)
			for _, d := range tt.detail {
				assert.Contains(t, body.Error.Detail, d)
			}
		})
	}
	// The controls refuse another site's page before they look at the account.
	req, err := http.NewRequest(http.MethodPost, h.RootURL()+"/_sim/customer?account=a", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "http://evil.example")
	resp, err := newClient(t, a).hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Empty(t, a.Events())
}

func TestHost_SimControlsOfOneAccountNeedNoName(t *testing.T) {
	h := sendbeetest.NewHost(t)
	status, raw := hostSim(t, h, http.MethodGet, "/_sim/sent", "")
	assert.Equal(t, http.StatusNotFound, status, "%s", raw)
	assert.Contains(t, string(raw), "no accounts")

	only, err := h.Add("only")
	require.NoError(t, err)
	status, raw = hostSim(t, h, http.MethodPost, "/_sim/customer", `{"phone":"+385981234567","text":"Bok!"}`)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	_, ok := only.ConversationByPhone("+385981234567")
	assert.True(t, ok)
}

func TestHost_AddRefuses(t *testing.T) {
	h, _, _ := newAccounts(t, nil, nil)
	for _, tt := range []struct {
		name, account string
		opts          []sendbeetest.Option
		want          string
	}{
		{"a name taken", "a", nil, `account "a": the host already has an account of that name`},
		{"a key taken", "c", []sendbeetest.Option{sendbeetest.WithCredentials("key-b", "other")}, `account "c": its API key is account "b"'s`},
		{"an empty name", "", nil, "account name"},
		{"a name with a space", "a b", nil, "account name"},
		{"a prefix", "c", []sendbeetest.Option{sendbeetest.WithPrefix("/v2")}, "WithPrefix does not apply to an account"},
		{"an invalid option", "c", []sendbeetest.Option{sendbeetest.WithPageSize(0)}, `page size 0 out of range 1..100 (account "c")`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := h.Add(tt.account, tt.opts...)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "sendbeetest: ")
		})
	}
	assert.Nil(t, h.Account("c"), "a refused account is not added")
	c, err := h.Add("c")
	require.NoError(t, err, "a random key is a key of its own")
	assert.NotEqual(t, "key-a", c.APIKey())

	h.Close()
	_, err = h.Add("d")
	assert.ErrorContains(t, err, "the host is closed")
}

// Closing one account leaves the others serving; closing the host closes
// every account, its delayed answers included.
func TestHost_Close(t *testing.T) {
	h, err := sendbeetest.StartHost("127.0.0.1:0", "")
	require.NoError(t, err)
	assert.Equal(t, h.RootURL(), h.URL(), "the API at the root")
	a, err := h.Add("a", sendbeetest.WithCredentials("key-a", "secret-a"))
	require.NoError(t, err)
	b, err := h.Add("b", sendbeetest.WithCredentials("key-b", "secret-b"))
	require.NoError(t, err)
	ca, cb := newClient(t, a), newClient(t, b)
	mustOK(t, ca.get("/teams/teams", ""))

	b.Close()
	req, err := http.NewRequest(http.MethodGet, h.URL()+"/teams/teams", nil)
	require.NoError(t, err)
	req.Header.Set("X-Api-Key", "key-b")
	resp, err := cb.hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	mustOK(t, ca.get("/teams/teams", ""))

	a.DelayNext(time.Hour)
	done := make(chan error, 1)
	go func() {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, h.URL()+"/teams/teams", nil)
		if err == nil {
			req.Header.Set("X-Api-Key", "key-a")
			var resp *http.Response
			if resp, err = ca.hc.Do(req); err == nil {
				resp.Body.Close()
			}
		}
		done <- err
	}()
	require.Eventually(t, func() bool { return a.PendingFaults() == 0 }, 2*time.Second, 5*time.Millisecond)
	start := time.Now()
	h.Close()
	h.Close() // idempotent; goleak (TestMain) checks that nothing is left running
	assert.Less(t, time.Since(start), 2*time.Second)
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("the delayed request did not end")
	}
	_, err = sendbeetest.StartHost("127.0.0.1:0", "/_sim/x")
	assert.Error(t, err)
}
