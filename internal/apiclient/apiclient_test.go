package apiclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBaseURL(t *testing.T) {
	tests := []struct {
		raw, ref, want, wantErr string
	}{
		{raw: "http://h:8080/api", ref: "contacts/tags", want: "http://h:8080/api/contacts/tags"},
		{raw: "https://api-v2.sendbee.io", ref: "contacts", want: "https://api-v2.sendbee.io/contacts"},
		{raw: "https://api.velaflows.com/api/v1///", ref: "crm/leads", want: "https://api.velaflows.com/api/v1/crm/leads"},
		{raw: "ftp://h/", wantErr: "absolute http or https"},
		{raw: "/api", wantErr: "absolute http or https"},
		{raw: "http:///api", wantErr: "missing host"},
		{raw: "http://u:p@h/", wantErr: "user information"},
		{raw: "http://h/?x=1", wantErr: "query or fragment"},
		{raw: "http://h/#f", wantErr: "query or fragment"},
		{raw: "http://h/?token=secret", wantErr: "query or fragment"},
		{raw: "ftp://h/?token=secret", wantErr: "absolute http or https"},
		{raw: "http://h/%zz", wantErr: "cannot parse"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			u, err := BaseURL("demo", tt.raw)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.True(t, strings.HasPrefix(err.Error(), "demo: invalid Config.BaseURL"), err.Error())
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.NotContains(t, err.Error(), "u:p@", "credentials never reach an error")
				assert.NotContains(t, err.Error(), "secret", "nor a query's token")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, u.ResolveReference(&url.URL{Path: tt.ref}).String())
		})
	}
}

func TestUserAgent(t *testing.T) {
	ua := UserAgent("demo")
	assert.True(t, strings.HasPrefix(ua, "parley-demo/"), ua)
	assert.NotEqual(t, "parley-demo/", ua)
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		want time.Duration
	}{
		{"empty", "", 0},
		{"seconds", "30", 30 * time.Second},
		{"padded", " 7 ", 7 * time.Second},
		{"fraction", "1.5", 1500 * time.Millisecond},
		{"zero", "0", 0},
		{"negative", "-5", 0},
		{"NaN", "NaN", 0},
		{"infinite", "Inf", 0},
		{"absurd", "1e40", 0},
		{"beyond 2^31 seconds", "1e12", 0},
		{"HTTP date", "Thu, 02 May 2024 10:02:00 GMT", 2 * time.Minute},
		{"formatted date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"RFC 850 date", "Thursday, 02-May-24 10:00:30 GMT", 30 * time.Second},
		{"past date", "Thu, 02 May 2024 09:00:00 GMT", 0},
		{"garbage", "soon", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, RetryAfter(tt.in, now))
		})
	}
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		code   string
		fields []string
		want   string
	}{
		{"status only", 502, "", nil, "demo: POST /p: 502 Bad Gateway"},
		{"code", 400, "validation_error", nil, "demo: POST /p: 400 Bad Request (validation_error)"},
		{"code and fields", 400, "VALIDATION_ERROR", []string{"phone", "contacts[0].email", "phone"},
			"demo: POST /p: 400 Bad Request (VALIDATION_ERROR; fields: contacts[0].email, phone)"},
		{"fields only", 422, "", []string{"content"}, "demo: POST /p: 422 Unprocessable Entity (fields: content)"},
		{"text for people is left out", 400, "phone +385911234567 is invalid", []string{"ana@example.com", "385911234567", "tags"},
			"demo: POST /p: 400 Bad Request (fields: tags)"},
		{"unknown status", 599, "odd", nil, "demo: POST /p: 599 (odd)"},
		{"many fields", 400, "", []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"},
			"demo: POST /p: 400 Bad Request (fields: a, b, c, d, e, f, g, h, …)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, ErrorText("demo", "POST", "/p", tt.status, tt.code, tt.fields))
		})
	}
}

func TestIdentifier(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"validation_error", "VALIDATION_ERROR", "contacts[0].email", "x-y", "a1"} {
		assert.True(t, Identifier(s), s)
	}
	for _, s := range []string{"", "+385911234567", "385911234567", "ana@example.com", "Ana Horvat", "a:b", strings.Repeat("a", 65), "é"} {
		assert.False(t, Identifier(s), s)
	}
}

// A request without an answer is a net.Error without the URL (whose query
// may hold values), keeps its cause, and says so when the caller's context
// ended instead.
func TestTransport(t *testing.T) {
	cause := errors.New("http: server closed idle connection")
	ue := &url.Error{Op: "Post", URL: "https://api.example.test/send?token=secret", Err: cause}

	err := Transport(context.Background(), ue)
	var ne net.Error
	require.ErrorAs(t, err, &ne, "a request without an answer is a net.Error")
	assert.False(t, ne.Timeout())
	assert.ErrorIs(t, err, cause)
	assert.NotContains(t, err.Error(), "secret")
	assert.NotContains(t, err.Error(), "api.example.test")

	timeout := &url.Error{Op: "Post", URL: "https://x.test/", Err: &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}}
	require.ErrorAs(t, Transport(context.Background(), timeout), &ne)
	assert.True(t, ne.Timeout())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = Transport(ctx, ue)
	assert.ErrorIs(t, err, context.Canceled, "the caller's end comes first")
	var te *TransportError
	assert.False(t, errors.As(err, &te), "a request the caller ended is not a transport failure")
	assert.Contains(t, err.Error(), "server closed idle connection")
}
