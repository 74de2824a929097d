package sendbee_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/bot"
)

func TestNewClient_config(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     sendbee.Config
		wantErr []string // substrings; nil means success
		wantURL string
	}{
		{name: "defaults", cfg: sendbee.Config{APIKey: "k", APISecret: "s"}, wantURL: "https://api-v2.sendbee.io/"},
		{name: "path prefix", cfg: sendbee.Config{APIKey: "k", APISecret: "s", BaseURL: "http://127.0.0.1:9/api"}, wantURL: "http://127.0.0.1:9/api/"},
		{name: "trailing slashes", cfg: sendbee.Config{APIKey: "k", APISecret: "s", BaseURL: "http://h/a/b//"}, wantURL: "http://h/a/b/"},
		{name: "missing key", cfg: sendbee.Config{APISecret: "s"}, wantErr: []string{"sendbee: missing API key", "Config.APIKey", "SENDBEE_API_KEY"}},
		{name: "blank key", cfg: sendbee.Config{APIKey: "  ", APISecret: "s"}, wantErr: []string{"SENDBEE_API_KEY"}},
		{name: "missing secret", cfg: sendbee.Config{APIKey: "k"}, wantErr: []string{"sendbee: missing API secret", "Config.APISecret", "SENDBEE_API_SECRET"}},
		{name: "relative base URL", cfg: sendbee.Config{APIKey: "k", APISecret: "s", BaseURL: "api-v2.sendbee.io"}, wantErr: []string{"Config.BaseURL", "http or https"}},
		{name: "ftp base URL", cfg: sendbee.Config{APIKey: "k", APISecret: "s", BaseURL: "ftp://h/"}, wantErr: []string{"Config.BaseURL", "http or https"}},
		{name: "no host", cfg: sendbee.Config{APIKey: "k", APISecret: "s", BaseURL: "http:///api"}, wantErr: []string{"Config.BaseURL", "missing host"}},
		{name: "query", cfg: sendbee.Config{APIKey: "k", APISecret: "s", BaseURL: "http://h/api?x=1"}, wantErr: []string{"Config.BaseURL", "query"}},
		{name: "user info", cfg: sendbee.Config{APIKey: "k", APISecret: "s", BaseURL: "http://u:p@h/"}, wantErr: []string{"Config.BaseURL", "user information"}},
		{name: "unparseable", cfg: sendbee.Config{APIKey: "k", APISecret: "s", BaseURL: "http://[::1"}, wantErr: []string{"Config.BaseURL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := sendbee.NewClient(tt.cfg)
			if tt.wantErr != nil {
				require.Error(t, err)
				assert.Nil(t, c)
				for _, s := range tt.wantErr {
					assert.Contains(t, err.Error(), s)
				}
				assert.NotContains(t, err.Error(), "u:p")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantURL, c.BaseURL().String())
		})
	}
}

// TestClient_baseURLPrefix is the absolute-URL guard: every request must
// stay below the base URL's path, whatever its trailing slash.
func TestClient_baseURLPrefix(t *testing.T) {
	t.Parallel()
	for _, suffix := range []string{"", "/"} {
		t.Run("suffix "+suffix, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			f.reply("GET", "/contacts", 200, `{"data": []}`)
			f.reply("POST", "/conversations/messages/send", 200, sentJSON)
			c := f.newClient(t, func(cfg *sendbee.Config) { cfg.BaseURL = f.baseURL() + suffix })

			_, _, err := c.Contacts(t.Context(), sendbee.ContactsOptions{})
			require.NoError(t, err)
			_, _, err = c.SendMessage(t.Context(), sendbee.SendMessageRequest{Phone: "+1", Text: "hi"})
			require.NoError(t, err)
			reqs := f.requests()
			require.Len(t, reqs, 2)
			assert.Equal(t, "/contacts", reqs[0].Path)
			assert.Equal(t, "/conversations/messages/send", reqs[1].Path)
		})
	}
}

func TestClient_headers(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/teams/teams", 200, `{"data": []}`)
	c := f.newClient(t, func(cfg *sendbee.Config) { cfg.UserAgent = "my-bot/1.2" })

	for range 2 {
		_, _, err := c.Teams(t.Context(), sendbee.TeamsOptions{})
		require.NoError(t, err)
	}
	reqs := f.requests()
	require.Len(t, reqs, 2)
	h := reqs[0].Header
	assert.Equal(t, testKey, h.Get("X-Api-Key"))
	assert.Equal(t, "application/json", h.Get("Accept"))
	assert.Equal(t, "application/json", h.Get("Content-Type"))
	assert.Equal(t, "my-bot/1.2", h.Get("User-Agent"))
	assert.Len(t, h.Get("X-Auth-Token"), 100, "Base64 of a 75-byte plain text")
	for _, r := range reqs {
		assert.NoError(t, sendbee.CheckToken(testSecret, r.Header.Get("X-Auth-Token"), time.Now(), 0))
	}
}

func TestClient_apiErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		body       string
		wantType   string
		wantDetail string
		wantText   string
		temporary  bool
	}{
		{
			name: "object form", status: 400,
			body:     `{"error": {"detail": "phone is required", "type": "validation_error"}}`,
			wantType: "validation_error", wantDetail: "phone is required",
			wantText: "sendbee: POST /conversations/messages/send: 400 Bad Request (validation_error)",
		},
		{
			name: "flat form", status: 403,
			body:     `{"detail": "You do not have permission.", "error": true, "type": "permission_denied"}`,
			wantType: "permission_denied", wantDetail: "You do not have permission.",
			wantText: "sendbee: POST /conversations/messages/send: 403 Forbidden (permission_denied)",
		},
		{
			name: "detail only", status: 401,
			body: `{"detail": "Invalid token."}`, wantDetail: "Invalid token.",
			wantText: "sendbee: POST /conversations/messages/send: 401 Unauthorized",
		},
		{
			name: "404 unparseable", status: 404, body: `<html>Not Found</html>`,
			wantDetail: "endpoint not found",
			wantText:   "sendbee: POST /conversations/messages/send: 404 Not Found",
		},
		{
			name: "404 with body", status: 404,
			body:     `{"error": {"detail": "conversation not found", "type": "not_found"}}`,
			wantType: "not_found", wantDetail: "conversation not found",
			wantText: "sendbee: POST /conversations/messages/send: 404 Not Found (not_found)",
		},
		{
			name: "500 empty", status: 500, body: ``, temporary: true,
			wantText: "sendbee: POST /conversations/messages/send: 500 Internal Server Error",
		},
		{
			name: "503 object", status: 503, temporary: true,
			body:     `{"error": {"detail": "maintenance", "type": "unavailable"}}`,
			wantType: "unavailable", wantDetail: "maintenance",
			wantText: "sendbee: POST /conversations/messages/send: 503 Service Unavailable (unavailable)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			f.reply("POST", "/conversations/messages/send", tt.status, tt.body, "X-Request-Id", "r-1")
			c := f.newClient(t)

			sent, resp, err := c.SendMessage(t.Context(), sendbee.SendMessageRequest{Phone: "+385911234567", Text: "hi"})
			require.Error(t, err)
			assert.Nil(t, sent)
			require.NotNil(t, resp)
			assert.Equal(t, tt.status, resp.StatusCode)

			var apiErr *sendbee.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "POST", apiErr.Method)
			assert.Equal(t, "/conversations/messages/send", apiErr.Path)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			assert.Equal(t, tt.wantType, apiErr.Type)
			assert.Equal(t, tt.wantDetail, apiErr.Detail)
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
	f.reply("GET", "/contacts", 502, strings.Repeat("x", 200<<10))
	c := f.newClient(t)

	_, resp, err := c.Contacts(t.Context(), sendbee.ContactsOptions{})
	var apiErr *sendbee.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Len(t, apiErr.Body, 64<<10)
	assert.Len(t, resp.Raw, 64<<10)
	assert.True(t, apiErr.Temporary())
}

func TestClient_rateLimited(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter func() string
		want       time.Duration
		tolerance  time.Duration
	}{
		{name: "seconds", retryAfter: func() string { return "30" }, want: 30 * time.Second},
		{name: "HTTP date", retryAfter: func() string { return time.Now().Add(2 * time.Minute).UTC().Format(http.TimeFormat) }, want: 2 * time.Minute, tolerance: 2 * time.Second},
		{name: "missing", retryAfter: func() string { return "" }, want: 0},
		{name: "garbage", retryAfter: func() string { return "soon" }, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			f.handle("GET", "/rate-limit/error-test", func(w http.ResponseWriter, _ *http.Request) {
				if v := tt.retryAfter(); v != "" {
					w.Header().Set("Retry-After", v)
				}
				w.Header().Set("X-RateLimit-Limit", "60")
				w.Header().Set("X-RateLimit-Remaining", "0")
				w.Header().Set("X-RateLimit-Reset", "1714645000")
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = io.WriteString(w, `{"detail": "Request was throttled.", "error": true, "type": "throttled"}`)
			})
			c := f.newClient(t)

			res, resp, err := c.RateLimitErrorTest(t.Context())
			require.Error(t, err)
			assert.Nil(t, res)
			var rl *bot.RateLimitError
			require.ErrorAs(t, err, &rl)
			assert.Equal(t, "sendbee", rl.Platform)
			assert.InDelta(t, tt.want, rl.RetryAfter, float64(tt.tolerance))
			assert.True(t, rl.Temporary())

			var apiErr *sendbee.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
			assert.Equal(t, "throttled", apiErr.Type)
			assert.Equal(t, "Request was throttled.", apiErr.Detail)
			assert.Equal(t, "/rate-limit/error-test", apiErr.Path)

			require.NotNil(t, resp)
			assert.Equal(t, sendbee.Rate{Limit: 60, Remaining: 0, Reset: time.Unix(1714645000, 0)}, resp.Rate)
		})
	}
}

func TestClient_warning(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/contacts", 200, `{"data": [], "warning": "This endpoint is deprecated"}`)
	f.reply("POST", "/contacts/tags", 200, `{"data": {"id": "t", "name": "n"}, "warning": "Tag name was trimmed"}`)
	logger, logs := captureLogger()
	c := f.newClient(t, func(cfg *sendbee.Config) { cfg.Logger = logger })

	_, resp, err := c.Contacts(t.Context(), sendbee.ContactsOptions{})
	require.NoError(t, err)
	assert.Equal(t, "This endpoint is deprecated", resp.Warning)
	_, resp, err = c.CreateContactTag(t.Context(), "n")
	require.NoError(t, err)
	assert.Equal(t, "Tag name was trimmed", resp.Warning)

	out := logs.String()
	assert.Equal(t, 2, strings.Count(out, "sendbee: API warning"), out)
	assert.Equal(t, 1, strings.Count(out, "This endpoint is deprecated"), out)
	assert.Equal(t, 1, strings.Count(out, "Tag name was trimmed"), out)
	assert.Contains(t, out, "level=WARN")
	assert.Contains(t, out, "path=/contacts")
	assert.NotContains(t, out, "level=DEBUG", "no request logs without Config.Debug")
}

func TestClient_contextCanceled(t *testing.T) {
	t.Parallel()

	t.Run("before the call", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t)
		f.reply("POST", "/conversations/messages/send", 200, sentJSON)
		c := f.newClient(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()

		sent, resp, err := c.SendMessage(ctx, sendbee.SendMessageRequest{Phone: "+1", Text: "hi"})
		require.ErrorIs(t, err, context.Canceled)
		assert.Nil(t, sent)
		assert.Nil(t, resp)
		assert.Contains(t, err.Error(), "sendbee: POST /conversations/messages/send: ")
		assert.Empty(t, f.requests(), "nothing is sent with a cancelled ctx")
	})

	t.Run("during the call", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t)
		started := make(chan struct{})
		f.handle("GET", "/contacts", func(w http.ResponseWriter, r *http.Request) {
			close(started)
			<-r.Context().Done()
		})
		c := f.newClient(t)
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			<-started
			cancel()
		}()

		_, _, err := c.Contacts(ctx, sendbee.ContactsOptions{SearchQuery: "private words"})
		require.ErrorIs(t, err, context.Canceled)
		assert.Contains(t, err.Error(), "sendbee: GET /contacts: ")
		assert.NotContains(t, err.Error(), "private")
	})

	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t)
		f.reply("GET", "/contacts", 200, `{"data": []}`)
		c := f.newClient(t)
		ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
		defer cancel()

		_, _, err := c.Contacts(ctx, sendbee.ContactsOptions{})
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestClient_connectionError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL + "/api"
	srv.Close()
	c, err := sendbee.NewClient(sendbee.Config{APIKey: testKey, APISecret: testSecret, BaseURL: base})
	require.NoError(t, err)

	_, resp, err := c.Contacts(t.Context(), sendbee.ContactsOptions{SearchQuery: "private words"})
	require.Error(t, err)
	assert.Nil(t, resp)
	assert.True(t, strings.HasPrefix(err.Error(), "sendbee: GET /contacts: "), err.Error())
	assert.NotContains(t, err.Error(), "private")
	var apiErr *sendbee.APIError
	assert.False(t, errors.As(err, &apiErr))
}

func TestClient_doesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("credentials followed a redirect to another host: %s", r.URL)
	}))
	defer other.Close()
	f := newFakeAPI(t)
	f.handle("GET", "/contacts", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
	})
	c, err := sendbee.NewClient(sendbee.Config{APIKey: testKey, APISecret: testSecret, BaseURL: f.baseURL()})
	require.NoError(t, err)

	_, _, err = c.Contacts(t.Context(), sendbee.ContactsOptions{})
	var apiErr *sendbee.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusFound, apiErr.StatusCode)
}

func TestClient_debugLogging(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/contacts", 200, `{"data": [`+contactJSON+`]}`, "X-RateLimit-Limit", "60", "X-RateLimit-Remaining", "41")
	f.reply("POST", "/conversations/messages/send", 200, sentJSON)
	f.reply("PUT", "/contacts", 422, `{"error": {"detail": "bad phone +385911234567", "type": "validation_error"}}`)
	logger, logs := captureLogger()
	c := f.newClient(t, func(cfg *sendbee.Config) {
		cfg.Logger = logger
		cfg.Debug = true
	})

	_, _, err := c.Contacts(t.Context(), sendbee.ContactsOptions{SearchQuery: "needle-query", Tags: []string{"needle-tag"}})
	require.NoError(t, err)
	_, _, err = c.SendMessage(t.Context(), sendbee.SendMessageRequest{Phone: "+385911234567", Text: "needle message text"})
	require.NoError(t, err)
	_, _, err = c.UpdateContact(t.Context(), sendbee.UpdateContactRequest{ID: "6a1c", Name: "needle name"})
	require.Error(t, err)

	out := logs.String()
	assert.Equal(t, 3, strings.Count(out, `msg="sendbee: request"`), out)
	assert.Contains(t, out, "level=DEBUG")
	assert.Contains(t, out, "method=GET path=/contacts query=search_query,tags status=200")
	assert.Contains(t, out, "method=POST path=/conversations/messages/send")
	assert.Contains(t, out, "status=422")
	assert.Contains(t, out, "rate_remaining=41")
	assert.Contains(t, out, "duration=")

	secrets := []string{testKey, testSecret, "needle", "+385911234567", "Ana", "bad phone"}
	for _, r := range f.requests() {
		secrets = append(secrets, r.Header.Get("X-Auth-Token"))
	}
	for _, s := range secrets {
		assert.NotContains(t, out, s)
	}
}

func TestClient_decoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		reply string
		want  *sendbee.ChatbotStatus
		err   string
	}{
		{name: "object", reply: `{"data": {"conversation_id": "c", "chatbot_active": true}}`, want: &sendbee.ChatbotStatus{ConversationID: "c", ChatbotActive: true}},
		{name: "one-element array", reply: `{"data": [{"conversation_id": "c", "chatbot_active": false}]}`, want: &sendbee.ChatbotStatus{ConversationID: "c"}},
		{name: "empty array", reply: `{"data": []}`, want: &sendbee.ChatbotStatus{}},
		{name: "null data", reply: `{"data": null}`, want: &sendbee.ChatbotStatus{}},
		{name: "empty body", reply: ``, want: &sendbee.ChatbotStatus{}},
		{name: "unknown fields", reply: `{"data": {"conversation_id": "c", "new_field": [1]}, "extra": 1}`, want: &sendbee.ChatbotStatus{ConversationID: "c"}},
		{name: "not JSON", reply: `<html>`, err: "sendbee: GET /automation/chatbot/activity/status: decode response: "},
		{name: "wrong type", reply: `{"data": {"chatbot_active": "maybe"}}`, err: "sendbee: GET /automation/chatbot/activity/status: decode data: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			f.reply("GET", "/automation/chatbot/activity/status", 200, tt.reply)
			c := f.newClient(t)

			got, resp, err := c.ChatbotStatus(t.Context(), "c")
			require.NotNil(t, resp)
			assert.Equal(t, tt.reply, string(resp.Raw))
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestClient_validation(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	tests := []struct {
		name  string
		call  func(c *sendbee.Client) error
		field string
	}{
		{"contacts negative page", func(c *sendbee.Client) error { _, _, e := c.Contacts(ctx, sendbee.ContactsOptions{Page: -1}); return e }, "page"},
		{"contacts limit too big", func(c *sendbee.Client) error {
			_, _, e := c.Contacts(ctx, sendbee.ContactsOptions{Limit: 101})
			return e
		}, "limit"},
		{"subscribe without phone", func(c *sendbee.Client) error {
			_, _, e := c.SubscribeContact(ctx, sendbee.SubscribeContactRequest{Name: "Ana"})
			return e
		}, "phone"},
		{"update contact without id", func(c *sendbee.Client) error {
			_, _, e := c.UpdateContact(ctx, sendbee.UpdateContactRequest{Name: "Ana"})
			return e
		}, "id"},
		{"tags negative limit", func(c *sendbee.Client) error {
			_, _, e := c.ContactTags(ctx, sendbee.ContactTagsOptions{Limit: -5})
			return e
		}, "limit"},
		{"create tag without name", func(c *sendbee.Client) error { _, _, e := c.CreateContactTag(ctx, " "); return e }, "name"},
		{"update tag without id", func(c *sendbee.Client) error { _, _, e := c.UpdateContactTag(ctx, "", "n"); return e }, "id"},
		{"update tag without name", func(c *sendbee.Client) error { _, _, e := c.UpdateContactTag(ctx, "i", ""); return e }, "name"},
		{"delete tag without id", func(c *sendbee.Client) error { _, _, e := c.DeleteContactTag(ctx, ""); return e }, "id"},
		{"fields limit too big", func(c *sendbee.Client) error {
			_, _, e := c.ContactFields(ctx, sendbee.ContactFieldsOptions{Limit: 1000})
			return e
		}, "limit"},
		{"create field without name", func(c *sendbee.Client) error {
			_, _, e := c.CreateContactField(ctx, sendbee.CreateContactFieldRequest{Type: sendbee.FieldText})
			return e
		}, "name"},
		{"create field without type", func(c *sendbee.Client) error {
			_, _, e := c.CreateContactField(ctx, sendbee.CreateContactFieldRequest{Name: "x"})
			return e
		}, "type"},
		{"create field unknown type", func(c *sendbee.Client) error {
			_, _, e := c.CreateContactField(ctx, sendbee.CreateContactFieldRequest{Name: "x", Type: "float"})
			return e
		}, "type"},
		{"create list field without options", func(c *sendbee.Client) error {
			_, _, e := c.CreateContactField(ctx, sendbee.CreateContactFieldRequest{Name: "x", Type: sendbee.FieldList})
			return e
		}, "options"},
		{"create list field with blank option", func(c *sendbee.Client) error {
			_, _, e := c.CreateContactField(ctx, sendbee.CreateContactFieldRequest{Name: "x", Type: sendbee.FieldList, Options: []string{"a", ""}})
			return e
		}, "options"},
		{"create text field with options", func(c *sendbee.Client) error {
			_, _, e := c.CreateContactField(ctx, sendbee.CreateContactFieldRequest{Name: "x", Type: sendbee.FieldText, Options: []string{"a"}})
			return e
		}, "options"},
		{"update field without id", func(c *sendbee.Client) error {
			_, _, e := c.UpdateContactField(ctx, sendbee.UpdateContactFieldRequest{Name: "x"})
			return e
		}, "id"},
		{"update field unknown type", func(c *sendbee.Client) error {
			_, _, e := c.UpdateContactField(ctx, sendbee.UpdateContactFieldRequest{ID: "f", Type: "enum"})
			return e
		}, "type"},
		{"update list field without options", func(c *sendbee.Client) error {
			_, _, e := c.UpdateContactField(ctx, sendbee.UpdateContactFieldRequest{ID: "f", Type: sendbee.FieldList})
			return e
		}, "options"},
		{"delete field without id", func(c *sendbee.Client) error { _, _, e := c.DeleteContactField(ctx, ""); return e }, "id"},
		{"conversations dates reversed", func(c *sendbee.Client) error {
			_, _, e := c.Conversations(ctx, sendbee.ConversationsOptions{DateFrom: time.Unix(200, 0), DateTo: time.Unix(100, 0)})
			return e
		}, "date_to"},
		{"conversation without id", func(c *sendbee.Client) error { _, _, e := c.Conversation(ctx, ""); return e }, "conversation_id"},
		{"update conversation without id", func(c *sendbee.Client) error {
			_, _, e := c.UpdateConversation(ctx, "", sendbee.FolderDone)
			return e
		}, "conversation_id"},
		{"update conversation to spam", func(c *sendbee.Client) error {
			_, _, e := c.UpdateConversation(ctx, "c", sendbee.FolderSpam)
			return e
		}, "folder"},
		{"messages without conversation", func(c *sendbee.Client) error {
			_, _, e := c.ConversationMessages(ctx, sendbee.MessagesOptions{Page: 2})
			return e
		}, "conversation_id"},
		{"templates negative page", func(c *sendbee.Client) error {
			_, _, e := c.MessageTemplates(ctx, sendbee.MessageTemplatesOptions{Page: -2})
			return e
		}, "page"},
		{"template without recipient", func(c *sendbee.Client) error {
			_, _, e := c.SendTemplateMessage(ctx, sendbee.SendTemplateMessageRequest{TemplateKeyword: "k", Language: "en"})
			return e
		}, "phone"},
		{"template without keyword", func(c *sendbee.Client) error {
			_, _, e := c.SendTemplateMessage(ctx, sendbee.SendTemplateMessageRequest{Phone: "+1", Language: "en"})
			return e
		}, "template_keyword"},
		{"template without language", func(c *sendbee.Client) error {
			_, _, e := c.SendTemplateMessage(ctx, sendbee.SendTemplateMessageRequest{Phone: "+1", TemplateKeyword: "k"})
			return e
		}, "language"},
		{"template with relative attachment", func(c *sendbee.Client) error {
			_, _, e := c.SendTemplateMessage(ctx, sendbee.SendTemplateMessageRequest{Phone: "+1", TemplateKeyword: "k", Language: "en", Attachment: "x.png"})
			return e
		}, "attachment"},
		{"message without recipient", func(c *sendbee.Client) error {
			_, _, e := c.SendMessage(ctx, sendbee.SendMessageRequest{Text: "hi"})
			return e
		}, "phone"},
		{"message without content", func(c *sendbee.Client) error {
			_, _, e := c.SendMessage(ctx, sendbee.SendMessageRequest{Phone: "+1", PreventBotOff: sendbee.Bool(true)})
			return e
		}, "text"},
		{"message with bad media URL", func(c *sendbee.Client) error {
			_, _, e := c.SendMessage(ctx, sendbee.SendMessageRequest{Phone: "+1", MediaURL: "file:///etc/passwd"})
			return e
		}, "media_url"},
		{"teams negative page", func(c *sendbee.Client) error { _, _, e := c.Teams(ctx, sendbee.TeamsOptions{Page: -1}); return e }, "page"},
		{"members negative page", func(c *sendbee.Client) error { _, _, e := c.Members(ctx, sendbee.MembersOptions{Page: -1}); return e }, "page"},
		{"chatbot activity without id", func(c *sendbee.Client) error { _, _, e := c.SetChatbotActivity(ctx, "", true); return e }, "conversation_id"},
		{"chatbot status without id", func(c *sendbee.Client) error { _, _, e := c.ChatbotStatus(ctx, " "); return e }, "conversation_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t)
			c := f.newClient(t)

			err := tt.call(c)
			var ve *sendbee.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
			assert.True(t, strings.HasPrefix(err.Error(), "sendbee: "+ve.Op+": "+tt.field+" "), err.Error())
			assert.Empty(t, f.requests(), "invalid input must not reach the API")
		})
	}
}

func TestClient_responseTooLarge(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.handle("GET", "/contacts", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"data": [`)
		chunk := strings.Repeat(" ", 1<<20)
		for range 17 {
			_, _ = io.WriteString(w, chunk)
		}
		_, _ = io.WriteString(w, `]}`)
	})
	c := f.newClient(t)

	_, resp, err := c.Contacts(t.Context(), sendbee.ContactsOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sendbee: GET /contacts: response body exceeds")
	require.NotNil(t, resp)
}

func TestClient_CheckToken(t *testing.T) {
	t.Parallel()
	c, err := sendbee.NewClient(sendbee.Config{APIKey: "k", APISecret: testSecret, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)

	assert.NoError(t, c.CheckToken(sendbee.Token(testSecret, time.Now())))
	assert.ErrorIs(t, c.CheckToken(sendbee.Token("other", time.Now())), sendbee.ErrTokenInvalid)
	assert.ErrorIs(t, c.CheckToken(sendbee.Token(testSecret, time.Now().Add(-time.Hour))), sendbee.ErrTokenExpired)
	assert.ErrorIs(t, c.CheckToken(""), sendbee.ErrTokenMissing)
}

func TestClient_CloseIdleConnections(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t)
	f.reply("GET", "/teams/members", 200, `{"data": []}`)
	c := f.newClient(t)

	_, _, err := c.Members(t.Context(), sendbee.MembersOptions{})
	require.NoError(t, err)
	c.CloseIdleConnections()
	_, _, err = c.Members(t.Context(), sendbee.MembersOptions{})
	require.NoError(t, err, "the client stays usable")
	assert.Len(t, f.requests(), 2)
}
