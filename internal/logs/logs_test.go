package logs

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSlot_Set(t *testing.T) {
	var before, after bytes.Buffer
	s := New(nil)
	s.Set(slog.New(slog.NewTextHandler(&before, nil)))
	l := s.Logger().With("adapter", "x").WithGroup("g")
	l.Info("one", "k", 1)
	s.Set(slog.New(slog.NewTextHandler(&after, &slog.HandlerOptions{Level: slog.LevelWarn})))
	l.Info("two")
	l.Warn("three", "k", 3)
	s.Set(nil) // ignored

	assert.Contains(t, before.String(), "msg=one adapter=x g.k=1")
	assert.NotContains(t, before.String(), "three")
	assert.NotContains(t, after.String(), "two")
	assert.Contains(t, after.String(), "msg=three adapter=x g.k=3")
}

func TestSlot_configuredWins(t *testing.T) {
	var own, other bytes.Buffer
	s := New(slog.New(slog.NewTextHandler(&own, nil)))
	s.Set(slog.New(slog.NewTextHandler(&other, nil)))
	s.Logger().Info("hello")
	assert.True(t, s.Configured())
	assert.Contains(t, own.String(), "msg=hello")
	assert.Empty(t, other.String())
}

// TestSlot_handler checks the forwarding handler against the log/slog
// handler conformance tests.
func TestSlot_handler(t *testing.T) {
	var buf bytes.Buffer
	s := New(nil)
	s.Set(slog.New(slog.NewJSONHandler(&buf, nil)))
	slogtest.Run(t, func(*testing.T) slog.Handler {
		buf.Reset()
		return s.Logger().Handler()
	}, func(t *testing.T) map[string]any {
		var m map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &m))
		return m
	})
}

func TestEvery_Allow(t *testing.T) {
	e := Every{Interval: time.Minute}
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	ok, held := e.Allow(t0)
	assert.True(t, ok)
	assert.Zero(t, held)
	for i := range 5 {
		ok, _ := e.Allow(t0.Add(time.Duration(i) * time.Second))
		assert.False(t, ok)
	}
	ok, held = e.Allow(t0.Add(time.Minute))
	assert.True(t, ok)
	assert.Equal(t, 5, held)
	ok, held = e.Allow(t0.Add(3 * time.Minute))
	assert.True(t, ok)
	assert.Zero(t, held)
}
