package flowdock_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/bot"
)

func TestNewClient_config(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     flowdock.Config
		wantErr []string // substrings; nil means success
		wantURL string
	}{
		{name: "defaults", cfg: flowdock.Config{Token: "t"}, wantURL: "https://api.flowdock.com/"},
		{name: "flow token only", cfg: flowdock.Config{FlowToken: "f"}, wantURL: "https://api.flowdock.com/"},
		{name: "path prefix", cfg: flowdock.Config{Token: "t", BaseURL: "http://127.0.0.1:9/api"}, wantURL: "http://127.0.0.1:9/api/"},
		{name: "trailing slashes", cfg: flowdock.Config{Token: "t", BaseURL: "http://h/a/b//"}, wantURL: "http://h/a/b/"},
		{
			name: "no token", cfg: flowdock.Config{},
			wantErr: []string{"flowdock: missing token", "Config.Token", "FLOWDOCK_API_TOKEN", "Config.FlowToken", "FLOWDOCK_FLOW_TOKEN"},
		},
		{name: "blank tokens", cfg: flowdock.Config{Token: " ", FlowToken: "\t"}, wantErr: []string{"FLOWDOCK_API_TOKEN", "FLOWDOCK_FLOW_TOKEN"}},
		{name: "colon in token", cfg: flowdock.Config{Token: "a:b"}, wantErr: []string{"Config.Token", "colon"}},
		{name: "relative base URL", cfg: flowdock.Config{Token: "t", BaseURL: "api.flowdock.com"}, wantErr: []string{"Config.BaseURL", "http or https"}},
		{name: "no host", cfg: flowdock.Config{Token: "t", BaseURL: "http:///api"}, wantErr: []string{"Config.BaseURL", "missing host"}},
		{name: "query", cfg: flowdock.Config{Token: "t", BaseURL: "http://h/api?x=1"}, wantErr: []string{"Config.BaseURL", "query"}},
		{name: "user info", cfg: flowdock.Config{Token: "t", BaseURL: "https://SECRET@api.flowdock.com"}, wantErr: []string{"Config.BaseURL", "user information"}},
		{name: "unparseable", cfg: flowdock.Config{Token: "t", BaseURL: "http://[::1"}, wantErr: []string{"Config.BaseURL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := flowdock.NewClient(tt.cfg)
			if tt.wantErr != nil {
				require.Error(t, err)
				assert.Nil(t, c)
				for _, s := range tt.wantErr {
					assert.Contains(t, err.Error(), s)
				}
				assert.NotContains(t, err.Error(), "SECRET")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantURL, c.BaseURL().String())
			assert.Equal(t, tt.cfg.Token != "", c.HasToken())
			assert.Equal(t, tt.cfg.FlowToken != "", c.HasFlowToken())
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"FLOWDOCK_API_TOKEN":  " tok ",
		"FLOWDOCK_FLOW_TOKEN": "ftok\n",
		"FLOWDOCK_API_URL":    "http://127.0.0.1:1/api",
	}
	cfg := flowdock.ConfigFromEnv(func(k string) string { return env[k] })
	assert.Equal(t, flowdock.Config{Token: "tok", FlowToken: "ftok", BaseURL: "http://127.0.0.1:1/api"}, cfg)
}

// TestClient_baseURLPrefix is the absolute-URL guard: every request stays
// below the base URL's path, whatever its trailing slash.
func TestClient_baseURLPrefix(t *testing.T) {
	t.Parallel()
	for _, suffix := range []string{"", "/"} {
		t.Run("suffix "+suffix, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			f.reply("GET", "/user", 200, `{"id":1201,"nick":"opsbot"}`)
			f.reply("POST", "/flows/acme/ops/messages", 201, `{"id":1,"event":"message"}`)
			f.reply("POST", "/messages", 202, `{}`)
			c := f.newClient(t, func(cfg *flowdock.Config) { cfg.BaseURL = f.baseURL() + suffix })

			_, _, err := c.CurrentUser(t.Context())
			require.NoError(t, err)
			_, _, err = c.SendMessage(t.Context(), flowdock.FlowChat("acme", "ops"), flowdock.NewMessage{Content: "hi"})
			require.NoError(t, err)
			_, _, err = c.PostActivity(t.Context(), flowdock.Activity{ExternalThreadID: "X", Author: flowdock.NewAuthor("Ray", ""), Title: "did"})
			require.NoError(t, err)
			reqs := f.requests()
			require.Len(t, reqs, 3)
			assert.Equal(t, "/user", reqs[0].Path)
			assert.Equal(t, "/flows/acme/ops/messages", reqs[1].Path)
			assert.Equal(t, "/messages", reqs[2].Path)
		})
	}
}

func TestClient_headers(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/user", 200, `{"id":1201}`)
	f.reply("PUT", "/flows/acme/ops/messages/7", 200, `{}`)
	c := f.newClient(t, func(cfg *flowdock.Config) { cfg.UserAgent = "my-bot/1.2" })

	_, resp, err := c.CurrentUser(t.Context())
	require.NoError(t, err)
	assert.EqualValues(t, 1201, resp.UserID, "from the Flowdock-User header")
	_, err = c.EditMessage(t.Context(), flowdock.FlowChat("acme", "ops"), 7, flowdock.MessageUpdate{Tags: []string{"x"}})
	require.NoError(t, err)

	reqs := f.requests()
	require.Len(t, reqs, 2)
	get, put := reqs[0].Header, reqs[1].Header
	assert.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte(testToken+":")), get.Get("Authorization"),
		"token as the user name, empty password")
	assert.Equal(t, "application/json", get.Get("Accept"))
	assert.Empty(t, get.Get("Content-Type"), "no body, no Content-Type")
	assert.Equal(t, "my-bot/1.2", get.Get("User-Agent"))
	assert.Equal(t, "application/json", put.Get("Content-Type"))
}

func TestClient_defaultUserAgent(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/user", 200, `{"id":1}`)
	_, _, err := f.newClient(t).CurrentUser(t.Context())
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(f.last(t).Header.Get("User-Agent"), "parley-flowdock/"))
}

func TestClient_apiErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		body       string
		wantMsg    string
		wantFields map[string][]string
		wantText   string
		temporary  bool
	}{
		{
			name: "field errors", status: 400,
			body:       `{"message":"Validation error","errors":{"content":["can't be blank"],"tags":["is invalid","too long"]}}`,
			wantMsg:    "Validation error",
			wantFields: map[string][]string{"content": {"can't be blank"}, "tags": {"is invalid", "too long"}},
			wantText:   "flowdock: POST /flows/acme/ops/messages: 400 Bad Request (fields: content, tags)",
		},
		{
			name: "single-string field error", status: 400,
			body:       `{"message":"Validation error","errors":{"external_user_name":"should not contain whitespace"}}`,
			wantMsg:    "Validation error",
			wantFields: map[string][]string{"external_user_name": {"should not contain whitespace"}},
			wantText:   "flowdock: POST /flows/acme/ops/messages: 400 Bad Request (fields: external_user_name)",
		},
		{
			name: "unauthorized", status: 401, body: `{"message":"Unauthorized"}`, wantMsg: "Unauthorized",
			wantText: "flowdock: POST /flows/acme/ops/messages: 401 Unauthorized",
		},
		{
			name: "forbidden", status: 403, body: `{"message":"forbidden"}`, wantMsg: "forbidden",
			wantText: "flowdock: POST /flows/acme/ops/messages: 403 Forbidden",
		},
		{
			name: "not JSON", status: 404, body: `<html>Not Found</html>`,
			wantText: "flowdock: POST /flows/acme/ops/messages: 404 Not Found",
		},
		{
			name: "gone", status: 410, body: `{"message":"gone"}`, wantMsg: "gone",
			wantText: "flowdock: POST /flows/acme/ops/messages: 410 Gone",
		},
		{
			name: "500 empty", status: 500, temporary: true,
			wantText: "flowdock: POST /flows/acme/ops/messages: 500 Internal Server Error",
		},
		{
			name: "503", status: 503, body: `{"message":"maintenance"}`, wantMsg: "maintenance", temporary: true,
			wantText: "flowdock: POST /flows/acme/ops/messages: 503 Service Unavailable",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			f.reply("POST", "/flows/acme/ops/messages", tt.status, tt.body, "X-Request-Id", "r-1")
			c := f.newClient(t)

			m, resp, err := c.SendMessage(t.Context(), flowdock.FlowChat("acme", "ops"), flowdock.NewMessage{Content: "hi"})
			require.Error(t, err)
			assert.Nil(t, m)
			require.NotNil(t, resp)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.body, string(resp.Raw))

			var apiErr *flowdock.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "POST", apiErr.Method)
			assert.Equal(t, "/flows/acme/ops/messages", apiErr.Path)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			assert.Equal(t, tt.wantMsg, apiErr.Message)
			assert.Equal(t, tt.wantFields, apiErr.Errors)
			assert.Equal(t, tt.body, string(apiErr.Body))
			assert.Equal(t, "r-1", apiErr.Header.Get("X-Request-Id"))
			assert.Equal(t, tt.temporary, apiErr.Temporary())
			assert.Equal(t, tt.wantText, err.Error())
			var rl *bot.RateLimitError
			assert.False(t, errors.As(err, &rl))
		})
	}
}

func TestClient_errorBodyCapped(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/user", 502, strings.Repeat("x", 200<<10))
	_, resp, err := f.newClient(t).CurrentUser(t.Context())
	var apiErr *flowdock.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Len(t, apiErr.Body, 64<<10)
	assert.Len(t, resp.Raw, 64<<10)
	assert.True(t, apiErr.Temporary())
}

func TestClient_rateLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter string
		want       time.Duration
	}{
		{name: "seconds", retryAfter: "7", want: 7 * time.Second},
		{name: "fraction", retryAfter: "1.5", want: 1500 * time.Millisecond},
		{name: "absent", retryAfter: "", want: 0},
		{name: "garbage", retryAfter: "soon", want: 0},
		{name: "negative", retryAfter: "-3", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			hdr := []string{}
			if tt.retryAfter != "" {
				hdr = append(hdr, "Retry-After", tt.retryAfter)
			}
			f.reply("POST", "/flows/acme/ops/messages", 429, `{"message":"Too many requests"}`, hdr...)
			c := f.newClient(t)

			_, resp, err := c.SendMessage(t.Context(), flowdock.FlowChat("acme", "ops"), flowdock.NewMessage{Content: "hi"})
			var rl *bot.RateLimitError
			require.ErrorAs(t, err, &rl)
			assert.Equal(t, "flowdock", rl.Platform)
			assert.Equal(t, tt.want, rl.RetryAfter)
			assert.True(t, rl.Temporary())
			var apiErr *flowdock.APIError
			require.ErrorAs(t, err, &apiErr, "the RateLimitError wraps the APIError")
			assert.Equal(t, 429, apiErr.StatusCode)
			assert.Equal(t, "Too many requests", apiErr.Message)
			assert.Equal(t, 429, resp.StatusCode)
		})
	}
}

func TestClient_rateLimitHTTPDate(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.handle("GET", "/user", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
		writeError(w, 429, "slow down")
	})
	_, _, err := f.newClient(t).CurrentUser(t.Context())
	var rl *bot.RateLimitError
	require.ErrorAs(t, err, &rl)
	assert.InDelta(t, 90*time.Second, rl.RetryAfter, float64(5*time.Second))
}

func TestClient_cancelledContext(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/user", 200, `{"id":1}`)
	c := f.newClient(t)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	u, resp, err := c.CurrentUser(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, u)
	assert.Nil(t, resp)
	assert.Empty(t, f.requests(), "nothing is sent with a done context")
}

func TestClient_contextCancelledInFlight(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	entered := make(chan struct{})
	f.handle("POST", "/flows/acme/ops/messages", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done() // hold the answer until the client gives up
	})
	c := f.newClient(t)

	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-entered
		cancel()
	}()
	_, _, err := c.SendMessage(ctx, flowdock.FlowChat("acme", "ops"), flowdock.NewMessage{Content: "hi"})
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "flowdock: POST /flows/acme/ops/messages")
}

func TestClient_deadline(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.handle("GET", "/user", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, _, err := f.newClient(t).CurrentUser(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestClient_transportErrorHidesQuery(t *testing.T) {
	t.Parallel()
	c, err := flowdock.NewClient(flowdock.Config{Token: testToken, BaseURL: "http://127.0.0.1:1/api"})
	require.NoError(t, err)
	_, _, err = c.ListMessages(t.Context(), flowdock.FlowChat("acme", "ops"), flowdock.ListOptions{Search: "secret-words"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "flowdock: GET /flows/acme/ops/messages")
	assert.NotContains(t, err.Error(), "secret-words")
	assert.NotContains(t, err.Error(), testToken)
}

func TestClient_tokenRequirements(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	flowOnly := f.newClient(t, func(cfg *flowdock.Config) { cfg.Token = "" })
	userOnly := f.newClient(t, func(cfg *flowdock.Config) { cfg.FlowToken = "" })
	ctx := t.Context()
	chat := flowdock.FlowChat("acme", "ops")

	needUser := map[string]func() error{
		"current user": func() error { _, _, err := flowOnly.CurrentUser(ctx); return err },
		"send message": func() error {
			_, _, err := flowOnly.SendMessage(ctx, chat, flowdock.NewMessage{Content: "x"})
			return err
		},
		"list messages": func() error { _, _, err := flowOnly.ListMessages(ctx, chat, flowdock.ListOptions{}); return err },
		"download file": func() error { _, _, err := flowOnly.DownloadFile(ctx, "/files/1/a/b.txt"); return err },
		"message by uuid": func() error {
			_, _, err := flowOnly.MessageByUUID(ctx, chat, "u")
			return err
		},
		"do": func() error { _, err := flowOnly.Do(ctx, "GET", "/sources", nil, nil, nil); return err },
	}
	for name, call := range needUser {
		err := call()
		var te *flowdock.TokenError
		require.ErrorAs(t, err, &te, name)
		assert.False(t, te.FlowToken, name)
		assert.ErrorIs(t, err, flowdock.ErrNoToken, name)
		assert.Contains(t, err.Error(), "FLOWDOCK_API_TOKEN", name)
		assert.Contains(t, err.Error(), "Config.Token", name)
	}
	needFlow := map[string]func() error{
		"activity": func() error {
			_, _, err := userOnly.PostActivity(ctx, flowdock.Activity{ExternalThreadID: "X", Author: flowdock.NewAuthor("a", ""), Title: "t"})
			return err
		},
		"discussion": func() error {
			_, _, err := userOnly.PostDiscussion(ctx, flowdock.Discussion{ExternalThreadID: "X", Author: flowdock.NewAuthor("a", ""), Title: "t", Body: "b"})
			return err
		},
		"message": func() error {
			_, _, err := userOnly.PostMessage(ctx, flowdock.IntegrationMessage{NewMessage: flowdock.NewMessage{Content: "x"}})
			return err
		},
	}
	for name, call := range needFlow {
		err := call()
		var te *flowdock.TokenError
		require.ErrorAs(t, err, &te, name)
		assert.True(t, te.FlowToken, name)
		assert.Contains(t, err.Error(), "FLOWDOCK_FLOW_TOKEN", name)
	}
	assert.Empty(t, f.requests(), "a missing token sends nothing")
}

func TestClient_validationSendsNothing(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	c := f.newClient(t)
	ctx := t.Context()
	flow := flowdock.FlowChat("acme", "ops")

	tests := []struct {
		name  string
		call  func() error
		field string
	}{
		{"empty content", func() error { _, _, err := c.SendMessage(ctx, flow, flowdock.NewMessage{Content: " "}); return err }, "content"},
		{"content too long", func() error {
			_, _, err := c.SendMessage(ctx, flow, flowdock.NewMessage{Content: strings.Repeat("é", flowdock.MaxContentLength+1)})
			return err
		}, "content"},
		{"empty tag", func() error {
			_, _, err := c.SendMessage(ctx, flow, flowdock.NewMessage{Content: "x", Tags: []string{"a", ""}})
			return err
		}, "tags"},
		{"blank uuid", func() error {
			_, _, err := c.SendMessage(ctx, flow, flowdock.NewMessage{Content: "x", UUID: " u "})
			return err
		}, "uuid"},
		{"thread in private", func() error {
			_, _, err := c.SendMessage(ctx, flowdock.PrivateChat(5), flowdock.NewMessage{Content: "x", ThreadID: "T"})
			return err
		}, "thread_id"},
		{"no org", func() error {
			_, _, err := c.SendMessage(ctx, flowdock.FlowChat("", "ops"), flowdock.NewMessage{Content: "x"})
			return err
		}, "org"},
		{"dot flow", func() error { _, _, err := c.GetFlow(ctx, "acme", ".."); return err }, "flow"},
		{"both chat kinds", func() error {
			_, _, err := c.GetMessage(ctx, flowdock.Chat{Org: "a", Flow: "b", UserID: 3}, 1)
			return err
		}, "chat"},
		{"negative user", func() error { _, _, err := c.GetMessage(ctx, flowdock.PrivateChat(-1), 1); return err }, "user_id"},
		{"zero id", func() error { _, _, err := c.GetMessage(ctx, flow, 0); return err }, "id"},
		{"empty edit", func() error { _, err := c.EditMessage(ctx, flow, 1, flowdock.MessageUpdate{}); return err }, "content"},
		{"edit to empty", func() error {
			_, err := c.EditMessage(ctx, flow, 1, flowdock.MessageUpdate{Content: flowdock.Ptr("")})
			return err
		}, "content"},
		{"reply other thread", func() error {
			_, _, err := c.ReplyInThread(ctx, "acme", "ops", "T1", flowdock.NewMessage{Content: "x", ThreadID: "T2"})
			return err
		}, "thread_id"},
		{"reply no thread", func() error {
			_, _, err := c.ReplyInThread(ctx, "acme", "ops", "", flowdock.NewMessage{Content: "x"})
			return err
		}, "thread_id"},
		{"user id", func() error { _, _, err := c.GetUser(ctx, 0); return err }, "id"},
		{"find flow", func() error { _, _, err := c.FindFlow(ctx, ""); return err }, "id"},
		{"name", func() error { _, _, err := c.UserIDByName(ctx, "@"); return err }, "name"},
		{"uuid lookup", func() error { _, _, err := c.MessageByUUID(ctx, flow, ""); return err }, "uuid"},
		{"thread limit", func() error {
			_, _, err := c.ListThreads(ctx, "acme", "ops", flowdock.ThreadListOptions{Limit: -1})
			return err
		}, "limit"},
		{"thread range", func() error {
			now := time.Now()
			_, _, err := c.ListThreads(ctx, "acme", "ops", flowdock.ThreadListOptions{Since: now, Until: now.Add(-time.Hour)})
			return err
		}, "until"},
		{"do path", func() error { _, err := c.Do(ctx, "GET", "https://evil.test/x", nil, nil, nil); return err }, "path"},
		{"do dots", func() error { _, err := c.Do(ctx, "GET", "/a/../b", nil, nil, nil); return err }, "path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ve *flowdock.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
			assert.True(t, strings.HasPrefix(err.Error(), "flowdock: "))
		})
	}
	assert.Empty(t, f.requests(), "invalid input sends nothing")
}

func TestClient_debugLogging(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("POST", "/flows/acme/ops/messages", 201, `{"id":9,"event":"message","content":"the secret text"}`)
	f.reply("POST", "/messages", 202, `{}`)
	f.reply("GET", "/flows/acme/ops/messages", 200, `[]`)
	logger, buf := captureLogger()
	c := f.newClient(t, func(cfg *flowdock.Config) { cfg.Logger = logger; cfg.Debug = true })

	chat := flowdock.FlowChat("acme", "ops")
	_, _, err := c.SendMessage(t.Context(), chat, flowdock.NewMessage{Content: "the secret text", Tags: []string{"hidden-tag"}})
	require.NoError(t, err)
	_, _, err = c.PostActivity(t.Context(), flowdock.Activity{ExternalThreadID: "X", Author: flowdock.NewAuthor("Ray", ""), Title: "secret title"})
	require.NoError(t, err)
	_, _, err = c.ListMessages(t.Context(), chat, flowdock.ListOptions{Search: "secret-search"})
	require.NoError(t, err)

	out := buf.String()
	assert.Contains(t, out, "level=DEBUG")
	assert.Contains(t, out, "path=/flows/acme/ops/messages")
	assert.Contains(t, out, "status=201")
	assert.Contains(t, out, "status=202")
	assert.Contains(t, out, "auth=flow_token")
	assert.Contains(t, out, "query=search")
	for _, secret := range []string{testToken, testFlowToken, "secret", "hidden-tag", base64.StdEncoding.EncodeToString([]byte(testToken + ":"))} {
		assert.NotContains(t, out, secret)
	}
}

func TestClient_noDebugLogging(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/user", 200, `{"id":1}`)
	logger, buf := captureLogger()
	c := f.newClient(t, func(cfg *flowdock.Config) { cfg.Logger = logger })
	_, _, err := c.CurrentUser(t.Context())
	require.NoError(t, err)
	assert.Empty(t, buf.String())
}

func TestClient_Do(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.handle("PUT", "/flows/acme/ops/sources/3", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":3,"name":"CI"}`))
	})
	c := f.newClient(t)
	var out struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	resp, err := c.Do(t.Context(), "put", "/flows/acme/ops/sources/3", url.Values{"x": {"1"}}, map[string]string{"error_message": ""}, &out)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, 3, out.ID)
	assert.Equal(t, "CI", out.Name)
	r := f.last(t)
	assert.Equal(t, "PUT", r.Method)
	assert.Equal(t, "1", r.Query.Get("x"))
	assert.JSONEq(t, `{"error_message":""}`, string(r.Body))
}

func TestClient_redirectIsErrorForAPI(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.handle("GET", "/user", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.test/user", http.StatusFound)
	})
	_, _, err := f.newClient(t).CurrentUser(t.Context())
	var apiErr *flowdock.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 302, apiErr.StatusCode)
}

func TestClient_bodyTooLarge(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.handle("GET", "/users", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("["))
		chunk := []byte(strings.Repeat(`{"id":1},`, 1<<10))
		for range (17 << 20) / len(chunk) {
			_, _ = w.Write(chunk)
		}
		_, _ = w.Write([]byte(`{"id":1}]`))
	})
	_, _, err := f.newClient(t).Users(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exceeds")
}
