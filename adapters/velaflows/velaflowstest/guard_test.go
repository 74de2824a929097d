package velaflowstest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
)

// The control endpoints answer no web page of another site: a request
// with another site's Origin, or (on a loopback listener) addressed to a
// name that is not a loopback one, as DNS rebinding sends, is refused.
func TestServer_controlsRefuseOtherSites(t *testing.T) {
	s := velaflowstest.NewServer(t)
	port := s.RootURL()[strings.LastIndexByte(s.RootURL(), ':')+1:]
	for _, tt := range []struct {
		name, host, origin string
		want               int
	}{
		{"the emulator itself", "", "", http.StatusOK},
		{"localhost", "localhost:" + port, "", http.StatusOK},
		{"its own page", "", s.RootURL(), http.StatusOK},
		{"another site's page", "", "http://evil.example", http.StatusForbidden},
		{"DNS rebinding", "evil.example:" + port, "http://evil.example:" + port, http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.RootURL()+"/_sim/conversations", nil)
			require.NoError(t, err)
			if tt.host != "" {
				req.Host = tt.host
			}
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.want, resp.StatusCode)
		})
	}
}
