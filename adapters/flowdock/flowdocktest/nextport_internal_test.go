package flowdocktest

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNextPortAddr(t *testing.T) {
	tests := []struct {
		name, requested string
		got             int
		want            string
	}{
		{"fixed port", "127.0.0.1:8703", 8703, "127.0.0.1:8704"},
		{"all interfaces", ":8703", 8703, ":8704"},
		{"any port", "127.0.0.1:0", 41234, "127.0.0.1:0"},
		{"last port", "127.0.0.1:65535", 65535, "127.0.0.1:0"},
		{"ipv6", "[::1]:8703", 8703, "[::1]:8704"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, nextPortAddr(tt.requested, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: tt.got}))
		})
	}
}
