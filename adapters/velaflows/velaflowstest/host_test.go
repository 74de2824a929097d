package velaflowstest_test

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

	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
)

const (
	tokenA     = "sk_test_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	tokenB     = "sk_test_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	workspaceA = "64f1a2b3c4d5e6f7a8b9c0aa"
	workspaceB = "64f1a2b3c4d5e6f7a8b9c0bb"
)

// newWorkspaces starts a host with the accounts "a" and "b", holding the
// workspaces workspaceA and workspaceB with the tokens tokenA and tokenB,
// each with the options of its own.
func newWorkspaces(t *testing.T, optsA, optsB []velaflowstest.Option) (*velaflowstest.Host, *velaflowstest.Server, *velaflowstest.Server) {
	t.Helper()
	h := velaflowstest.NewHost(t)
	a, err := h.Add("a", append([]velaflowstest.Option{velaflowstest.WithCredentials(tokenA, workspaceA)}, optsA...)...)
	require.NoError(t, err)
	b, err := h.Add("b", append([]velaflowstest.Option{velaflowstest.WithCredentials(tokenB, workspaceB)}, optsB...)...)
	require.NoError(t, err)
	return h, a, b
}

// clientOf makes a client with s's credentials.
func clientOf(t *testing.T, s *velaflowstest.Server) *client {
	c := newClient(t, s)
	c.token, c.workspace = s.Token(), s.WorkspaceID()
	return c
}

func TestHost_SendLandsInItsWorkspaceOnly(t *testing.T) {
	h, a, b := newWorkspaces(t, nil, nil)
	assert.Equal(t, h.URL(), a.URL(), "one listener")
	assert.Equal(t, h.URL(), b.URL())
	assert.Equal(t, h.RootURL(), b.RootURL())
	assert.Equal(t, h.RootURL()+"/api/v1", h.URL())
	assert.Same(t, a, h.Account("a"))
	assert.Same(t, b, h.Account("b"))
	assert.Nil(t, h.Account("c"))

	convA, _ := a.CustomerMessage("whatsapp", "Nina Simone", "+15550199", "to a")
	convB, _ := b.CustomerMessage("whatsapp", "Nina Simone", "+15550199", "to b")
	ca, cb := clientOf(t, a), clientOf(t, b)

	mustOK(t, ca.post("/inbox/conversations/"+convA+"/messages", map[string]any{"type": "text", "text": "from a"}))
	require.Len(t, a.Sent(), 1)
	assert.Equal(t, "from a", a.Sent()[0].Content)
	assert.Empty(t, b.Sent(), "a's send does not reach b")

	mustOK(t, cb.post("/inbox/conversations/"+convB+"/messages", map[string]any{"type": "text", "text": "from b"}))
	require.Len(t, b.Sent(), 1)
	assert.Equal(t, "from b", b.Sent()[0].Content)
	assert.Len(t, a.Sent(), 1, "b's send does not reach a")

	// a's token does not open b's workspace: a refuses it, as VelaFlows
	// refuses a workspace the token does not cover.
	ca.workspace = workspaceB
	r := mustFail(t, ca.post("/inbox/conversations/"+convB+"/messages", map[string]any{"type": "text", "text": "crossing"}),
		http.StatusForbidden, "FORBIDDEN")
	assert.Equal(t, "Token does not have access to workspace "+workspaceB, r.Body["error"].(map[string]any)["message"])
	assert.Len(t, a.Sent(), 1)
	assert.Len(t, b.Sent(), 1)
	assert.Len(t, a.Requests(), 2, "the refused request is a's")
	assert.Len(t, b.Requests(), 1)
	for _, s := range []*velaflowstest.Server{a, b} {
		for _, rq := range s.Requests() {
			assert.Equal(t, s.Token()[:16], rq.TokenPrefix, "an account records only requests with its tokens")
		}
	}
	assert.Empty(t, h.Unclaimed())
}

// A token that is no account's is answered as one Server answers an
// unknown token, and a workspace no account has as one Server answers an
// unknown workspace; no account sees the first kind.
func TestHost_UnknownTokenOrWorkspaceRefusedAsByOneServer(t *testing.T) {
	h, a, b := newWorkspaces(t, nil, nil)
	one := velaflowstest.NewServer(t, velaflowstest.WithCredentials(tokenA, workspaceA))
	const unknownToken = "sk_test_cccccccccccccccccccccccccccccccccccccccc"
	tests := []struct {
		name, method, path string
		hdr                []string
		status             int
		code, message      string
		unclaimed          bool
	}{
		{"unknown token", http.MethodGet, "/inbox/conversations", []string{"Authorization", "Bearer " + unknownToken}, http.StatusUnauthorized, "UNAUTHORIZED", "Invalid API token", true},
		{"no token", http.MethodGet, "/inbox/conversations", []string{"Authorization", ""}, http.StatusUnauthorized, "UNAUTHORIZED", "Missing Authorization header", true},
		{"not Bearer", http.MethodGet, "/inbox/conversations", []string{"Authorization", "Basic " + tokenA}, http.StatusUnauthorized, "UNAUTHORIZED", `Malformed Authorization header: want "Bearer <token>"`, true},
		{"unknown token, unknown route", http.MethodGet, "/nope", []string{"Authorization", "Bearer " + unknownToken}, http.StatusNotFound, "NOT_FOUND", "Route GET /api/v1/nope not found", true},
		{"unknown token, wrong method", http.MethodPut, "/inbox/conversations", []string{"Authorization", "Bearer " + unknownToken}, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "Method PUT is not allowed on /inbox/conversations", true},
		{"unknown workspace", http.MethodGet, "/inbox/conversations", []string{"X-Workspace-Id", "000000000000000000000001"}, http.StatusForbidden, "FORBIDDEN", "Token does not have access to workspace 000000000000000000000001", false},
		{"no workspace", http.MethodGet, "/inbox/conversations", []string{"X-Workspace-Id", ""}, http.StatusBadRequest, "BAD_REQUEST", "Missing x-workspace-id header", false},
	}
	unclaimed := 0
	for _, tt := range tests {
		if tt.unclaimed {
			unclaimed++
		}
		t.Run(tt.name, func(t *testing.T) {
			for _, base := range []*velaflowstest.Server{one, a} { // a: the host's URL
				r := mustFail(t, clientOf(t, base).do(tt.method, tt.path, nil, tt.hdr...), tt.status, tt.code)
				assert.Equal(t, tt.message, r.Body["error"].(map[string]any)["message"])
			}
		})
	}
	assert.Len(t, a.Requests(), len(tests)-unclaimed, "a has the requests with its token")
	assert.Empty(t, b.Requests())
	un := h.Unclaimed()
	require.Len(t, un, unclaimed)
	assert.False(t, un[0].Authenticated)
	assert.Equal(t, "Invalid API token", un[0].AuthError)
	assert.Empty(t, un[0].TokenPrefix)
}

func TestHost_WebhooksGoToTheirWorkspace(t *testing.T) {
	rcA, rcB := newReceiver(t, nil), newReceiver(t, nil)
	const secretA, secretB = "whsec_aaaa", "whsec_bbbb"
	_, a, b := newWorkspaces(t,
		[]velaflowstest.Option{velaflowstest.WithAllowHTTPWebhooks(), velaflowstest.WithSubscription(rcA.URL, secretA, "conversation.message.received")},
		[]velaflowstest.Option{velaflowstest.WithAllowHTTPWebhooks(), velaflowstest.WithSubscription(rcB.URL, secretB, "conversation.message.received")})

	convA, _ := a.CustomerMessage("whatsapp", "Nina", "+15550199", "to a")
	convB, _ := b.CustomerMessage("whatsapp", "Omar", "+15550100", "to b")
	a.CustomerMessage("whatsapp", "Nina", "+15550199", "to a again")
	require.Len(t, a.WaitDeliveries(t, 2), 2)
	require.Len(t, b.WaitDeliveries(t, 1), 1)

	for _, tt := range []struct {
		rc                  *receiver
		secret, otherSecret string
		workspace, conv     string
		n                   int
	}{
		{rcA, secretA, secretB, workspaceA, convA, 2},
		{rcB, secretB, secretA, workspaceB, convB, 1},
	} {
		got := tt.rc.all()
		require.Equal(t, tt.n, len(got))
		for _, r := range got {
			sig := r.Header.Get("X-Webhook-Signature")
			assert.True(t, verifySignature(tt.secret, r.Body, sig), "signed with its workspace's secret")
			assert.False(t, verifySignature(tt.otherSecret, r.Body, sig))
			assert.Equal(t, tt.workspace, r.Event["workspaceId"])
			assert.Equal(t, tt.conv, r.data()["conversationId"])
		}
	}
}

// The rate limits and the clocks of two workspaces are apart: moving a's
// clock past its window frees a, and b stays limited.
func TestHost_RateLimitsAndClocksApart(t *testing.T) {
	start := time.Unix(1774361700, 0)
	clkA, clkB := &clock{t: start}, &clock{t: start}
	_, a, b := newWorkspaces(t,
		[]velaflowstest.Option{velaflowstest.WithClock(clkA.Now), velaflowstest.WithRateLimits(2, 2, 2, time.Minute)},
		[]velaflowstest.Option{velaflowstest.WithClock(clkB.Now), velaflowstest.WithRateLimits(2, 2, 2, time.Minute)})
	ca, cb := clientOf(t, a), clientOf(t, b)

	mustOK(t, ca.get("/tags"))
	mustOK(t, ca.get("/tags"))
	mustFail(t, ca.get("/tags"), http.StatusTooManyRequests, "TOO_MANY_REQUESTS")
	assert.Equal(t, "1", mustOK(t, cb.get("/tags")).Header.Get("X-RateLimit-Remaining"), "b's counters are its own")
	mustOK(t, cb.get("/tags"))
	mustFail(t, cb.get("/tags"), http.StatusTooManyRequests, "TOO_MANY_REQUESTS")

	clkA.Advance(time.Minute)
	mustOK(t, ca.get("/tags"))
	mustFail(t, cb.get("/tags"), http.StatusTooManyRequests, "TOO_MANY_REQUESTS")

	// An unknown token uses no workspace's budget.
	for range 3 {
		mustFail(t, ca.do(http.MethodGet, "/tags", nil, "Authorization", "Bearer sk_test_nobody"), http.StatusUnauthorized, "UNAUTHORIZED")
	}
	assert.Equal(t, "0", mustOK(t, ca.get("/tags")).Header.Get("X-RateLimit-Remaining"))
}

func TestHost_FaultsApart(t *testing.T) {
	h, a, b := newWorkspaces(t, nil, nil)
	ca, cb := clientOf(t, a), clientOf(t, b)
	a.FailNext(http.StatusBadGateway, "BAD_GATEWAY", "upstream down")

	mustFail(t, ca.do(http.MethodGet, "/tags", nil, "Authorization", "Bearer sk_test_nobody"), http.StatusUnauthorized, "UNAUTHORIZED")
	mustOK(t, cb.get("/tags"))
	assert.Equal(t, 1, a.PendingFaults(), "neither an unknown token nor b took a's fault")
	mustFail(t, ca.get("/tags"), http.StatusBadGateway, "BAD_GATEWAY")
	mustOK(t, ca.get("/tags"))
	assert.Len(t, h.Unclaimed(), 1)
}

// hostSim calls a control endpoint of h without credentials.
func hostSim(t *testing.T, h *velaflowstest.Host, method, path, body string) (int, map[string]any) {
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
	var out map[string]any
	require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
	return resp.StatusCode, out
}

func TestHost_SimControlsNameTheAccount(t *testing.T) {
	h, a, b := newWorkspaces(t, []velaflowstest.Option{velaflowstest.WithoutDemoData()}, []velaflowstest.Option{velaflowstest.WithoutDemoData()})

	st, out := hostSim(t, h, http.MethodPost, "/_sim/customer?account=b", `{"channelType":"whatsapp","name":"Zoe","contact":"+15550111","text":"hi b"}`)
	require.Equal(t, http.StatusOK, st, "%v", out)
	assert.Len(t, b.Conversations(), 1)
	assert.Empty(t, a.Conversations(), "the customer wrote to b only")

	st, out = hostSim(t, h, http.MethodGet, "/_sim/?account=a", "")
	require.Equal(t, http.StatusOK, st, "%v", out)
	data := out["data"].(map[string]any)
	assert.Equal(t, "a", data["account"])
	assert.Equal(t, workspaceA, data["workspaceId"])
	assert.Equal(t, h.URL(), data["baseUrl"])

	for _, tt := range []struct {
		name, path string
		status     int
		code       string
		message    []string
	}{
		{"no account", "/_sim/sent", http.StatusBadRequest, "BAD_REQUEST", []string{"account=<name>", "(a, b)"}},
		{"empty account", "/_sim/sent?account=", http.StatusBadRequest, "BAD_REQUEST", []string{"account=<name>"}},
		{"unknown account", "/_sim/sent?account=c", http.StatusNotFound, "NOT_FOUND", []string{`No account "c"`, "a, b"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, out := hostSim(t, h, http.MethodGet, tt.path, "")
			require.Equal(t, tt.status, st, "%v", out)
			e := out["error"].(map[string]any)
			assert.Equal(t, tt.code, e["code"])
			for _, m := range tt.message {
				assert.Contains(t, e["message"], m)
			}
		})
	}

	// The controls refuse another site's page before they look at the account.
	req, err := http.NewRequest(http.MethodPost, h.RootURL()+"/_sim/customer?account=a", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "http://evil.example")
	resp, err := clientOf(t, a).hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Empty(t, a.Conversations())
}

func TestHost_SimControlsOfOneAccountNeedNoName(t *testing.T) {
	h := velaflowstest.NewHost(t)
	st, out := hostSim(t, h, http.MethodGet, "/_sim/sent", "")
	assert.Equal(t, http.StatusNotFound, st)
	assert.Contains(t, out["error"].(map[string]any)["message"], "no accounts")

	only, err := h.Add("only", velaflowstest.WithoutDemoData())
	require.NoError(t, err)
	st, out = hostSim(t, h, http.MethodPost, "/_sim/customer", `{"channelType":"whatsapp","name":"Zoe","contact":"+15550111","text":"hi"}`)
	require.Equal(t, http.StatusOK, st, "%v", out)
	assert.Len(t, only.Conversations(), 1)
}

func TestHost_AddRefuses(t *testing.T) {
	h, _, _ := newWorkspaces(t, nil, nil)
	const other = "sk_test_dddddddddddddddddddddddddddddddddddddddd"
	for _, tt := range []struct {
		name, account string
		opts          []velaflowstest.Option
		want          string
	}{
		{"a name taken", "a", nil, `account "a": the host already has an account of that name`},
		{"a workspace taken", "c", []velaflowstest.Option{velaflowstest.WithCredentials(other, workspaceB)}, `workspace ` + workspaceB + ` is account "b"'s`},
		{"a workspace taken, in capitals", "c", []velaflowstest.Option{velaflowstest.WithCredentials(other, strings.ToUpper(workspaceB))}, `is account "b"'s`},
		{"a token taken", "c", []velaflowstest.Option{velaflowstest.WithCredentials(tokenA, "")}, `token sk_test_aaaaaaaa… is account "a"'s`},
		{"an extra token taken", "c", []velaflowstest.Option{velaflowstest.WithToken(tokenB, "*")}, `is account "b"'s`},
		{"an empty name", "", nil, "account name"},
		{"a name with a slash", "a/b", nil, "account name"},
		{"a prefix", "c", []velaflowstest.Option{velaflowstest.WithPrefix("/api/v1")}, "WithPrefix does not apply to an account"},
		{"an invalid option", "c", []velaflowstest.Option{velaflowstest.WithPageSize(0)}, `page size 0 out of range 1..100 (account "c")`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := h.Add(tt.account, tt.opts...)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "velaflowstest: ")
			assert.NotContains(t, err.Error(), tokenA[16:], "a token is never shown whole")
		})
	}
	assert.Nil(t, h.Account("c"), "a refused account is not added")
	c, err := h.Add("c")
	require.NoError(t, err, "a random token and workspace are the account's own")
	assert.NotEqual(t, workspaceA, c.WorkspaceID())

	h.Close()
	_, err = h.Add("d")
	assert.ErrorContains(t, err, "the host is closed")
}

// Closing one account leaves the others serving; closing the host closes
// every account, its slow answers included.
func TestHost_Close(t *testing.T) {
	h, err := velaflowstest.StartHost("127.0.0.1:0", "api/v1/")
	require.NoError(t, err)
	assert.Equal(t, h.RootURL()+"/api/v1", h.URL())
	a, err := h.Add("a", velaflowstest.WithCredentials(tokenA, workspaceA))
	require.NoError(t, err)
	b, err := h.Add("b", velaflowstest.WithCredentials(tokenB, workspaceB))
	require.NoError(t, err)
	ca, cb := clientOf(t, a), clientOf(t, b)
	mustOK(t, ca.get("/tags"))

	b.Close()
	mustFail(t, cb.get("/tags"), http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE")
	mustOK(t, ca.get("/tags"))

	a.DelayNext(time.Hour)
	done := make(chan error, 1)
	go func() {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, h.URL()+"/tags", nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+tokenA)
			req.Header.Set("X-Workspace-Id", workspaceA)
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
	_, err = velaflowstest.StartHost("127.0.0.1:0", "/_sim")
	assert.Error(t, err)
}
