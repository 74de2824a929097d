package velaflows_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/bot"
)

// clearEnv makes NewClient see no credentials in the environment.
func clearEnv(t *testing.T) {
	t.Setenv(velaflows.EnvToken, "")
	t.Setenv(velaflows.EnvWorkspaceID, "")
}

func TestNewClient_config(t *testing.T) {
	clearEnv(t) // no t.Parallel: NewClient reads the environment
	const ws = testWorkspace
	tests := []struct {
		name    string
		cfg     velaflows.Config
		wantErr []string // substrings; nil means success
		wantURL string
	}{
		{name: "defaults", cfg: velaflows.Config{Token: testToken, WorkspaceID: ws}, wantURL: "https://api.velaflows.com/api/v1/"},
		{name: "path prefix", cfg: velaflows.Config{Token: testToken, WorkspaceID: ws, BaseURL: "http://127.0.0.1:4000/api/v1"}, wantURL: "http://127.0.0.1:4000/api/v1/"},
		{name: "trailing slashes", cfg: velaflows.Config{Token: testToken, WorkspaceID: ws, BaseURL: "http://h/api/v1//"}, wantURL: "http://h/api/v1/"},
		{name: "root", cfg: velaflows.Config{Token: testToken, WorkspaceID: ws, BaseURL: "http://h"}, wantURL: "http://h/"},
		{name: "live token of any length", cfg: velaflows.Config{Token: "sk_live_x", WorkspaceID: ws}, wantURL: velaflows.DefaultBaseURL + "/"},
		{name: "JWT", cfg: velaflows.Config{Token: "eyJhbGciOiJIUzI1NiIs.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", WorkspaceID: ws}, wantURL: velaflows.DefaultBaseURL + "/"},
		{name: "upper-case workspace", cfg: velaflows.Config{Token: testToken, WorkspaceID: strings.ToUpper(ws)}, wantURL: velaflows.DefaultBaseURL + "/"},
		{name: "missing token", cfg: velaflows.Config{WorkspaceID: ws},
			wantErr: []string{"velaflows: missing API token: set VELAFLOWS_API_TOKEN (or Config.Token)"}},
		{name: "blank token", cfg: velaflows.Config{Token: "  ", WorkspaceID: ws}, wantErr: []string{"missing API token", "VELAFLOWS_API_TOKEN"}},
		{name: "missing workspace", cfg: velaflows.Config{Token: testToken},
			wantErr: []string{"velaflows: missing workspace ID: set VELAFLOWS_WORKSPACE_ID (or Config.WorkspaceID)"}},
		{name: "token without prefix", cfg: velaflows.Config{Token: "pk_live_abcdefgh", WorkspaceID: ws},
			wantErr: []string{"invalid API token", `"sk_live_"`, "JWT", "VELAFLOWS_API_TOKEN", "Config.Token"}},
		{name: "token with a space", cfg: velaflows.Config{Token: "sk_live_abc def", WorkspaceID: ws}, wantErr: []string{"invalid API token", "spaces"}},
		{name: "short workspace", cfg: velaflows.Config{Token: testToken, WorkspaceID: "64f1a2b3"},
			wantErr: []string{"invalid workspace ID", "24 hexadecimal digits", "VELAFLOWS_WORKSPACE_ID", "Config.WorkspaceID"}},
		{name: "non-hex workspace", cfg: velaflows.Config{Token: testToken, WorkspaceID: "64f1a2b3c4d5e6f7a8b9c0zz"}, wantErr: []string{"24 hexadecimal digits"}},
		{name: "ws_ workspace", cfg: velaflows.Config{Token: testToken, WorkspaceID: "ws_" + ws}, wantErr: []string{"ws_ prefix", "use " + ws}},
		{name: "relative base URL", cfg: velaflows.Config{Token: testToken, WorkspaceID: ws, BaseURL: "api.velaflows.com/api/v1"}, wantErr: []string{"Config.BaseURL", "absolute http or https"}},
		{name: "ftp base URL", cfg: velaflows.Config{Token: testToken, WorkspaceID: ws, BaseURL: "ftp://h/"}, wantErr: []string{"Config.BaseURL", "http or https"}},
		{name: "no host", cfg: velaflows.Config{Token: testToken, WorkspaceID: ws, BaseURL: "http:///api/v1"}, wantErr: []string{"Config.BaseURL", "missing host"}},
		{name: "query", cfg: velaflows.Config{Token: testToken, WorkspaceID: ws, BaseURL: "http://h/api/v1?x=1"}, wantErr: []string{"Config.BaseURL", "query"}},
		{name: "user info", cfg: velaflows.Config{Token: testToken, WorkspaceID: ws, BaseURL: "http://u:p@h/"}, wantErr: []string{"Config.BaseURL", "user information"}},
		{name: "unparseable", cfg: velaflows.Config{Token: testToken, WorkspaceID: ws, BaseURL: "http://[::1"}, wantErr: []string{"Config.BaseURL"}},
		{name: "subscriptions path", cfg: velaflows.Config{Token: testToken, WorkspaceID: ws, SubscriptionsPath: "/hooks"}, wantErr: []string{"Config.SubscriptionsPath"}},
		{name: "negative retry", cfg: velaflows.Config{Token: testToken, WorkspaceID: ws, Retry: &velaflows.RetryPolicy{MaxAttempts: -1}}, wantErr: []string{"RetryPolicy", "negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := velaflows.NewClient(tt.cfg)
			if tt.wantErr != nil {
				require.Error(t, err)
				assert.Nil(t, c)
				for _, s := range tt.wantErr {
					assert.Contains(t, err.Error(), s)
				}
				if tt.cfg.Token != "" && strings.TrimSpace(tt.cfg.Token) != "" {
					assert.NotContains(t, err.Error(), tt.cfg.Token, "errors never contain the token")
				}
				assert.NotContains(t, err.Error(), "u:p")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantURL, c.BaseURL().String())
		})
	}
}

func TestNewClient_configErrorType(t *testing.T) {
	clearEnv(t)
	_, err := velaflows.NewClient(velaflows.Config{Token: testToken})
	var ce *velaflows.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "WorkspaceID", ce.Field)
	assert.Equal(t, "VELAFLOWS_WORKSPACE_ID", ce.Env)
}

// TestNewClient_env: an empty Token or WorkspaceID is read from the
// environment, and a Config value wins over the environment.
func TestNewClient_env(t *testing.T) {
	f := newFakeAPI(t)
	f.reply("GET", "/inbox/conversations/c1", 200, ok(`{"conversation":{"_id":"c1"}}`))

	t.Setenv(velaflows.EnvToken, testToken)
	t.Setenv(velaflows.EnvWorkspaceID, testWorkspace)
	c, err := velaflows.NewClient(velaflows.Config{BaseURL: f.baseURL()})
	require.NoError(t, err)
	_, _, err = c.Conversation(t.Context(), "c1")
	require.NoError(t, err)
	assert.Equal(t, testWorkspace, c.WorkspaceID())

	// Config wins: a bad environment token is not read when Token is set.
	t.Setenv(velaflows.EnvToken, "not-a-token")
	c, err = velaflows.NewClient(velaflows.Config{Token: testToken, BaseURL: f.baseURL()})
	require.NoError(t, err)
	_, _, err = c.Conversation(t.Context(), "c1")
	require.NoError(t, err)

	// The environment's value is validated like a Config value.
	_, err = velaflows.NewClient(velaflows.Config{BaseURL: f.baseURL()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "invalid API token")
	assert.Contains(t, err.Error(), "VELAFLOWS_API_TOKEN")
	assert.NotContains(t, err.Error(), "not-a-token")

	t.Setenv(velaflows.EnvToken, "")
	_, err = velaflows.NewClient(velaflows.Config{BaseURL: f.baseURL()})
	require.EqualError(t, err, "velaflows: missing API token: set VELAFLOWS_API_TOKEN (or Config.Token)")
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"VELAFLOWS_API_TOKEN":    " " + testToken + "\n",
		"VELAFLOWS_WORKSPACE_ID": testWorkspace,
		"VELAFLOWS_BASE_URL":     "http://localhost:4000/api/v1",
		"VELAFLOWS_TOKEN":        "ignored: the cURL recipes' name",
	}
	cfg := velaflows.ConfigFromEnv(func(k string) string { return env[k] })
	assert.Equal(t, velaflows.Config{Token: testToken, WorkspaceID: testWorkspace, BaseURL: "http://localhost:4000/api/v1"}, cfg)

	assert.Equal(t, velaflows.Config{}, velaflows.ConfigFromEnv(func(string) string { return "" }))
}

// TestClient_baseURLPrefix is the absolute-URL guard: every request must
// stay below the base URL's path ("/api/v1"), whatever its trailing slash.
func TestClient_baseURLPrefix(t *testing.T) {
	t.Parallel()
	for _, suffix := range []string{"", "/"} {
		t.Run("suffix "+suffix, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			f.reply("GET", "/inbox/conversations", 200, pageJSON(`[]`, 1, 20, 0))
			f.reply("POST", "/crm/leads", 201, ok(`{"lead":{"_id":"l1"}}`))
			f.reply("POST", "/webhooks/subscriptions", 201, ok(`{"subscription":{"_id":"s1"}}`))
			c := f.newClient(t, func(cfg *velaflows.Config) { cfg.BaseURL = f.baseURL() + suffix })

			_, _, err := c.Conversations(t.Context(), velaflows.ConversationsOptions{})
			require.NoError(t, err)
			_, _, err = c.CreateLead(t.Context(), velaflows.LeadRequest{FirstName: "A", PipelineID: "p", StageID: "s"})
			require.NoError(t, err)
			_, _, err = c.CreateWebhookSubscription(t.Context(), "https://bot.example/hook", []string{"conversation.created"}, "whsec_x")
			require.NoError(t, err)
			var paths []string
			for _, r := range f.requests() {
				paths = append(paths, r.Method+" "+r.Path)
			}
			assert.Equal(t, []string{"GET /inbox/conversations", "POST /crm/leads", "POST /webhooks/subscriptions"}, paths)
		})
	}
}

func TestClient_Do_pathGuard(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	c := f.newClient(t)
	for _, p := range []string{"inbox/conversations", "//evil.example/x", "/../../x", "/a/../../x", "http://evil.example/x"} {
		_, err := c.Do(t.Context(), "GET", p, nil, nil, nil)
		assert.Error(t, err, p)
	}
	assert.Empty(t, f.requests(), "nothing may leave the base URL")
}

func TestClient_Do(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/workflows", 200, ok(`{"items":[{"_id":"w1"}],"pagination":{"page":1,"limit":20,"total":1,"totalPages":1}}`))
	f.handle("POST", "/workflows/w1/execute", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		assert.JSONEq(t, `{"input":{"orderId":"1042"}}`, string(body))
		writeJSON(w, 200, ok(`{"execution":{"_id":"e1","status":"running"}}`))
	})
	c := f.newClient(t)

	var list struct {
		Items []struct {
			ID string `json:"_id"`
		} `json:"items"`
	}
	resp, err := c.Do(t.Context(), "get", "/workflows", url.Values{"active": {"true"}}, nil, &list)
	require.NoError(t, err)
	assert.Equal(t, "w1", list.Items[0].ID)
	assert.Equal(t, velaflows.Pagination{Page: 1, Limit: 20, Total: 1, TotalPages: 1}, resp.Pagination)
	assert.Equal(t, "true", f.last(t).Query.Get("active"))

	var out struct {
		Execution struct{ ID, Status string } `json:"execution"`
	}
	_, err = c.Do(t.Context(), "POST", "/workflows/w1/execute", nil, map[string]any{"input": map[string]string{"orderId": "1042"}}, &out)
	require.NoError(t, err)
	assert.Equal(t, "running", out.Execution.Status)

	// data nil skips decoding.
	_, err = c.Do(t.Context(), "GET", "/workflows", nil, nil, nil)
	require.NoError(t, err)
}

func TestClient_headers(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/inbox/conversations/c1", 200, ok(`{"conversation":{"_id":"c1"}}`))

	c := f.newClient(t)
	_, _, err := c.Conversation(t.Context(), "c1")
	require.NoError(t, err)
	h := f.last(t).Header
	assert.Equal(t, "Bearer "+testToken, h.Get("Authorization"))
	assert.Equal(t, testWorkspace, h.Get("x-workspace-id"))
	assert.Equal(t, "application/json", h.Get("Content-Type"))
	assert.Equal(t, "application/json", h.Get("Accept"))
	assert.True(t, strings.HasPrefix(h.Get("User-Agent"), "parley-velaflows/"), h.Get("User-Agent"))

	c = f.newClient(t, func(cfg *velaflows.Config) { cfg.UserAgent = "custom-agent/1" })
	_, _, err = c.Conversation(t.Context(), "c1")
	require.NoError(t, err)
	assert.Equal(t, "custom-agent/1", f.last(t).Header.Get("User-Agent"))
}

func TestClient_rate(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/inbox/conversations/c1", 200, ok(`{"conversation":{"_id":"c1"}}`),
		"X-RateLimit-Limit", "100", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "1774362600")
	c := f.newClient(t)
	_, resp, err := c.Conversation(t.Context(), "c1")
	require.NoError(t, err)
	assert.Equal(t, velaflows.Rate{Limit: 100, Remaining: 0, Reset: time.Unix(1774362600, 0)}, resp.Rate)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, 1, resp.Attempts)
	assert.JSONEq(t, ok(`{"conversation":{"_id":"c1"}}`), string(resp.Raw))
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
}

func TestClient_apiErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		status      int
		body        string
		wantCode    string
		wantMessage string
		wantDetails string // JSON; "" means none
		temporary   bool
		validation  bool
	}{
		{
			name: "validation 400", status: 400,
			body:     `{"success":false,"error":{"code":"VALIDATION_ERROR","message":"Request body failed validation","details":{"errors":[{"path":"email","message":"Invalid email"}]}}}`,
			wantCode: velaflows.CodeValidation, wantMessage: "Request body failed validation",
			wantDetails: `{"errors":[{"path":"email","message":"Invalid email"}]}`, validation: true,
		},
		{
			name: "validation 422", status: 422,
			body:     `{"success":false,"error":{"code":"VALIDATION_ERROR","message":"bad"}}`,
			wantCode: velaflows.CodeValidation, wantMessage: "bad", validation: true,
		},
		{
			name: "bad request", status: 400,
			body:     `{"success":false,"error":{"code":"BAD_REQUEST","message":"limit must be at most 100"}}`,
			wantCode: velaflows.CodeBadRequest, wantMessage: "limit must be at most 100", validation: true,
		},
		{
			name: "unauthorized", status: 401,
			body:     `{"success":false,"error":{"code":"UNAUTHORIZED","message":"Invalid API token"}}`,
			wantCode: velaflows.CodeUnauthorized, wantMessage: "Invalid API token",
		},
		{
			name: "unauthorized without body", status: 401, body: ``,
			wantCode: velaflows.CodeUnauthorized, wantMessage: "Unauthorized",
		},
		{
			name: "forbidden", status: 403,
			body:     `{"success":false,"error":{"code":"FORBIDDEN","message":"Token lacks scope crm:write"}}`,
			wantCode: velaflows.CodeForbidden, wantMessage: "Token lacks scope crm:write",
		},
		{
			name: "not found", status: 404,
			body:     `{"success":false,"error":{"code":"NOT_FOUND","message":"Lead not found","details":{"resourceId":"65f0c0ffee0000000000d009"}}}`,
			wantCode: velaflows.CodeNotFound, wantMessage: "Lead not found", wantDetails: `{"resourceId":"65f0c0ffee0000000000d009"}`,
		},
		{
			name: "conflict", status: 409,
			body:     `{"success":false,"error":{"code":"CONFLICT","message":"Conversation is closed"}}`,
			wantCode: velaflows.CodeConflict, wantMessage: "Conversation is closed",
		},
		{
			name: "internal", status: 500,
			body:     `{"success":false,"error":{"code":"INTERNAL_ERROR","message":"boom"}}`,
			wantCode: velaflows.CodeInternal, wantMessage: "boom", temporary: true,
		},
		{
			name: "gateway HTML", status: 502, body: `<html>Bad Gateway</html>`,
			wantCode: velaflows.CodeUnknown, wantMessage: "Bad Gateway", temporary: true,
		},
		{
			name: "success false with 200", status: 200,
			body:     `{"success":false}`,
			wantCode: velaflows.CodeUnknown, wantMessage: "Unknown error",
		},
		{
			name: "success missing with 200", status: 200,
			body:     `{"data":{"lead":{"_id":"x"}}}`,
			wantCode: velaflows.CodeUnknown, wantMessage: "Unknown error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			f.handle("GET", "/crm/leads/l1", func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("X-Request-Id", "req-1")
				writeJSON(w, tt.status, tt.body)
			})
			c := f.newClient(t)
			lead, resp, err := c.Lead(t.Context(), "l1")
			require.Error(t, err)
			assert.Nil(t, lead)
			require.NotNil(t, resp, "the Response is returned with API errors")
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.body, string(resp.Raw))

			var apiErr *velaflows.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "GET", apiErr.Method)
			assert.Equal(t, "/crm/leads/l1", apiErr.Path)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			assert.Equal(t, tt.wantCode, apiErr.Code)
			assert.Equal(t, tt.wantMessage, apiErr.Message)
			if tt.wantDetails == "" {
				assert.Nil(t, apiErr.Details)
			} else {
				assert.JSONEq(t, tt.wantDetails, string(apiErr.Details))
			}
			assert.Equal(t, tt.body, string(apiErr.Body))
			assert.Equal(t, "req-1", apiErr.Header.Get("X-Request-Id"))
			assert.Equal(t, tt.temporary, apiErr.Temporary())
			assert.True(t, velaflows.IsCode(err, tt.wantCode))
			assert.False(t, velaflows.IsCode(err, "SOMETHING_ELSE"))
			assert.Equal(t, tt.validation, velaflows.IsValidation(err))
			var rl *bot.RateLimitError
			assert.False(t, errors.As(err, &rl))
			assert.Contains(t, err.Error(), "velaflows: GET /crm/leads/l1: ")
		})
	}
}

func TestAPIError_details(t *testing.T) {
	t.Parallel()
	e := &velaflows.APIError{
		Method: "POST", Path: "/crm/leads", StatusCode: 400, Code: velaflows.CodeValidation,
		Message: "Request body failed validation",
		Details: []byte(`{"errors":[{"path":"email","message":"Invalid email"},{"path":"phone","message":"Invalid phone number"}]}`),
	}
	assert.Equal(t, "velaflows: POST /crm/leads: 400 Bad Request (VALIDATION_ERROR; fields: email, phone)", e.Error())
	assert.Equal(t, []velaflows.FieldError{{Path: "email", Message: "Invalid email"}, {Path: "phone", Message: "Invalid phone number"}}, e.FieldErrors())
	assert.Empty(t, e.ResourceID())
	assert.Contains(t, e.DetailsMap(), "errors")

	e = &velaflows.APIError{Method: "GET", Path: "/crm/leads/x", StatusCode: 404, Details: []byte(`{"resourceId":"x"}`)}
	assert.Equal(t, "x", e.ResourceID())
	assert.Nil(t, e.FieldErrors())
	assert.Equal(t, "velaflows: GET /crm/leads/x: 404 Not Found", e.Error())

	e = &velaflows.APIError{Details: []byte(`["odd"]`)}
	assert.Nil(t, e.FieldErrors())
	assert.Nil(t, e.DetailsMap())
	assert.Empty(t, e.ResourceID())
}

func TestClient_rateLimited(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		header  func() []string
		wantMin time.Duration
		wantMax time.Duration
	}{
		{name: "Retry-After seconds", header: func() []string { return []string{"Retry-After", "45"} }, wantMin: 45 * time.Second, wantMax: 45 * time.Second},
		{name: "Retry-After date", header: func() []string {
			return []string{"Retry-After", time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)}
		}, wantMin: 80 * time.Second, wantMax: 91 * time.Second},
		{name: "reset without Retry-After", header: func() []string {
			return []string{"X-RateLimit-Remaining", "0", "X-RateLimit-Reset", itoa(time.Now().Add(120 * time.Second).Unix())}
		}, wantMin: 110 * time.Second, wantMax: 121 * time.Second},
		{name: "no hint", header: func() []string { return nil }, wantMin: 0, wantMax: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			f.handle("POST", "/inbox/conversations/c1/messages", func(w http.ResponseWriter, _ *http.Request) {
				writeError(w, 429, "TOO_MANY_REQUESTS", "Rate limit exceeded. Try again in 45 seconds.", "", tt.header()...)
			})
			c := f.newClient(t)
			msg, resp, err := c.SendMessage(t.Context(), "c1", velaflows.MessageRequest{Content: "hi"})
			require.Error(t, err)
			assert.Nil(t, msg)
			require.NotNil(t, resp)
			assert.Equal(t, 429, resp.StatusCode)

			var rl *bot.RateLimitError
			require.ErrorAs(t, err, &rl)
			assert.Equal(t, "velaflows", rl.Platform)
			assert.GreaterOrEqual(t, rl.RetryAfter, tt.wantMin)
			assert.LessOrEqual(t, rl.RetryAfter, tt.wantMax)
			var apiErr *velaflows.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, velaflows.CodeTooManyRequests, apiErr.Code)
			assert.Equal(t, "Rate limit exceeded. Try again in 45 seconds.", apiErr.Message)
			assert.True(t, velaflows.IsCode(err, velaflows.CodeTooManyRequests))
			assert.True(t, rl.Temporary())
			assert.Len(t, f.requests(), 1, "no retry without Config.Retry")
		})
	}
}

func TestClient_cancelledContext(t *testing.T) {
	t.Parallel()
	t.Run("before the call", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t)
		c := f.newClient(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, resp, err := c.Conversations(ctx, velaflows.ConversationsOptions{})
		require.ErrorIs(t, err, context.Canceled)
		assert.Nil(t, resp)
		_, _, err = c.SendMessage(ctx, "c1", velaflows.MessageRequest{Content: "hi"})
		require.ErrorIs(t, err, context.Canceled)
		assert.Empty(t, f.requests())
	})
	t.Run("during the call", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t)
		started := make(chan struct{})
		f.handle("GET", "/crm/leads", func(w http.ResponseWriter, r *http.Request) {
			close(started)
			<-r.Context().Done() // the client hangs up
		})
		c := f.newClient(t)
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			<-started
			cancel()
		}()
		_, _, err := c.Leads(ctx, velaflows.LeadsOptions{})
		require.ErrorIs(t, err, context.Canceled)
		assert.Contains(t, err.Error(), "velaflows: GET /crm/leads")
	})
	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t)
		f.handle("GET", "/crm/leads", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		c := f.newClient(t)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, _, err := c.Leads(ctx, velaflows.LeadsOptions{})
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestClient_transportError(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	c := f.newClient(t)
	f.srv.Close()
	_, resp, err := c.Conversations(t.Context(), velaflows.ConversationsOptions{ListOptions: velaflows.ListOptions{Search: "secret-search"}})
	require.Error(t, err)
	assert.Nil(t, resp)
	assert.Contains(t, err.Error(), "velaflows: GET /inbox/conversations: ")
	assert.NotContains(t, err.Error(), "secret-search", "errors carry no query values")
}

func TestClient_responseDecoding(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/crm/leads/bad", 200, `{"success":true,"data":`)
	f.reply("GET", "/crm/leads/nomember", 200, ok(`{"customer":{"_id":"x"}}`))
	f.reply("GET", "/crm/leads/nulldata", 200, ok(`null`))
	f.reply("GET", "/crm/leads/wrongtype", 200, ok(`{"lead":{"_id":42}}`))
	c := f.newClient(t)
	for _, id := range []string{"bad", "nomember", "nulldata", "wrongtype"} {
		lead, resp, err := c.Lead(t.Context(), id)
		require.Error(t, err, id)
		assert.Nil(t, lead, id)
		require.NotNil(t, resp, id)
		assert.Contains(t, err.Error(), "velaflows: GET /crm/leads/"+id+": decode", id)
	}
}

func TestClient_idEscaping(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/inbox/conversations/conv_a%2Fb%3Fc", 200, ok(`{"conversation":{"_id":"conv_a/b?c"}}`))
	c := f.newClient(t)
	conv, _, err := c.Conversation(t.Context(), "conv_a/b?c")
	require.NoError(t, err)
	assert.Equal(t, "conv_a/b?c", conv.ID)
	assert.Empty(t, f.last(t).Query)

	for _, id := range []string{"", "  ", ".", ".."} {
		_, _, err := c.Conversation(t.Context(), id)
		var ve *velaflows.ValidationError
		require.ErrorAs(t, err, &ve, "id %q", id)
		assert.Equal(t, "id", ve.Field)
	}
	assert.Len(t, f.requests(), 1)
}

// TestClient_debugLog: with Debug, one record per request with method,
// path, query names, status, duration and rate headers — never the token,
// query values or bodies.
func TestClient_debugLog(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/inbox/conversations", 200, pageJSON(`[]`, 1, 20, 0))
	f.reply("POST", "/inbox/conversations/c1/messages", 201, ok(`{"message":{"_id":"m1","content":"very private words"}}`))
	f.reply("GET", "/crm/leads/l1", 401, `{"success":false,"error":{"code":"UNAUTHORIZED","message":"Invalid API token"}}`)
	logger, buf := captureLogger()
	c := f.newClient(t, func(cfg *velaflows.Config) {
		cfg.Logger = logger
		cfg.Debug = true
	})

	_, _, err := c.Conversations(t.Context(), velaflows.ConversationsOptions{Status: "open", ListOptions: velaflows.ListOptions{Search: "ada@example.org"}})
	require.NoError(t, err)
	_, _, err = c.SendMessage(t.Context(), "c1", velaflows.MessageRequest{Content: "very private words"})
	require.NoError(t, err)
	_, _, err = c.Lead(t.Context(), "l1")
	require.Error(t, err)

	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, out)
	assert.Contains(t, lines[0], "method=GET")
	assert.Contains(t, lines[0], "path=/inbox/conversations")
	assert.Contains(t, lines[0], "query=search,status")
	assert.Contains(t, lines[0], "status=200")
	assert.Contains(t, lines[0], "duration=")
	assert.Contains(t, lines[0], "rate_limit=300")
	assert.Contains(t, lines[0], "rate_remaining=297")
	assert.Contains(t, lines[0], "rate_reset=")
	assert.Contains(t, lines[1], "method=POST")
	assert.Contains(t, lines[1], "status=201")
	assert.Contains(t, lines[2], "status=401")
	for _, secret := range []string{testToken, testToken[8:], "Bearer", "ada@example.org", "very private words", "open"} {
		assert.NotContains(t, out, secret)
	}

	// Without Debug nothing is logged.
	logger, buf = captureLogger()
	c = f.newClient(t, func(cfg *velaflows.Config) { cfg.Logger = logger })
	_, _, err = c.Conversations(t.Context(), velaflows.ConversationsOptions{})
	require.NoError(t, err)
	assert.Empty(t, buf.String())
}

func TestClient_TokenPrefix(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	c := f.newClient(t)
	assert.Equal(t, testToken[:16], c.TokenPrefix())
	c.CloseIdleConnections()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
