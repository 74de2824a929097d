package jetstream_test

import (
	"testing"

	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/storage/jetstream"
)

func TestOpenEmbedded(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(jetstream.EnvURL, "")
	t.Setenv(jetstream.EnvDataDir, dir)
	for i, want := range []string{"", "v"} {
		c, err := jetstream.Open()
		require.NoError(t, err)
		require.NotNil(t, c.Server)
		js, err := njs.New(c.Conn)
		require.NoError(t, err)
		s, err := jetstream.NewStore(t.Context(), js, "parley")
		require.NoError(t, err)
		if i == 0 {
			require.NoError(t, s.Set(t.Context(), "k", []byte("v"), 0))
		} else {
			v, err := s.Get(t.Context(), "k")
			require.NoError(t, err, "the value survives a restart in PARLEY_DATA_DIR")
			assert.Equal(t, want, string(v))
		}
		c.Close()
	}
}

func TestOpenURL(t *testing.T) {
	srv := startServer(t, t.TempDir())
	t.Setenv(jetstream.EnvURL, srv.ClientURL())
	t.Setenv(jetstream.EnvDataDir, "")
	c, err := jetstream.Open()
	require.NoError(t, err)
	assert.Nil(t, c.Server)
	assert.Equal(t, srv.ClientURL(), c.ConnectedUrl())
	c.Close()
}

func TestOpenUnconfigured(t *testing.T) {
	t.Setenv(jetstream.EnvURL, "")
	t.Setenv(jetstream.EnvDataDir, "")
	_, err := jetstream.Open()
	require.ErrorContains(t, err, "NATS_URL")
}
