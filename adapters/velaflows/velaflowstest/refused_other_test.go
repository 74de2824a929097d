//go:build !unix

package velaflowstest_test

import (
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// refusedURL returns a loopback URL where nothing listens (a port just
// closed; another listener may take it, which makes the test fail loudly).
func refusedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return "http://" + addr + "/webhooks/velaflows"
}
