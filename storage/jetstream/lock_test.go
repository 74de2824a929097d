package jetstream_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/storage/jetstream"
)

// Two embedded servers never share a data directory: the second is refused
// with an error naming the directory, as often as it tries, for as long as
// the first runs; once the first has shut down, the directory is free.
func TestStartEmbedded_dataDirInUse(t *testing.T) {
	dir := t.TempDir()
	first, err := jetstream.StartEmbedded(dir)
	require.NoError(t, err)

	for range 2 {
		srv, err := jetstream.StartEmbedded(dir)
		if srv != nil {
			srv.Shutdown()
		}
		require.Error(t, err)
		var inUse *jetstream.DataDirInUseError
		require.ErrorAs(t, err, &inUse)
		assert.Equal(t, dir, inUse.Dir)
		assert.Equal(t, os.Getpid(), inUse.PID, "the holder is this process")
		assert.EqualError(t, err, "jetstream: data directory "+dir+" is in use by this process (pid "+strconv.Itoa(os.Getpid())+
			"); two embedded servers cannot share one")
	}

	first.Shutdown()
	first.Shutdown() // twice is allowed, and releases nothing twice
	again, err := jetstream.StartEmbedded(dir)
	require.NoError(t, err, "the directory is free once its server has shut down")
	again.Shutdown()
}

// A relative data directory is named by its absolute path.
func TestStartEmbedded_dataDirInUseRelative(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(filepath.Dir(dir))
	first, err := jetstream.StartEmbedded(filepath.Base(dir))
	require.NoError(t, err)
	defer first.Shutdown()
	_, err = jetstream.StartEmbedded(dir)
	var inUse *jetstream.DataDirInUseError
	require.ErrorAs(t, err, &inUse)
	assert.Equal(t, dir, inUse.Dir)
}

// Open with PARLEY_DATA_DIR takes the directory for the life of the
// connection, and Close gives it back.
func TestOpen_dataDirInUse(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(jetstream.EnvURL, "")
	t.Setenv(jetstream.EnvDataDir, dir)
	c, err := jetstream.Open()
	require.NoError(t, err)
	_, err = jetstream.Open()
	var inUse *jetstream.DataDirInUseError
	require.ErrorAs(t, err, &inUse)
	assert.Equal(t, dir, inUse.Dir)
	c.Close()
	c, err = jetstream.Open()
	require.NoError(t, err)
	c.Close()
}
