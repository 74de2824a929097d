package apiclient

import (
	"net/url"
	"strings"
	"testing"

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
