package fromenv_test

import (
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/fromenv"
)

func TestNewLogger(t *testing.T) {
	tests := []struct {
		level   string
		want    slog.Level // the lowest level enabled
		wantErr bool
	}{
		{level: "", want: slog.LevelWarn},
		{level: "debug", want: slog.LevelDebug},
		{level: "INFO", want: slog.LevelInfo},
		{level: "warn", want: slog.LevelWarn},
		{level: "error", want: slog.LevelError},
		{level: "warning", wantErr: true},
		{level: "-4", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			t.Parallel()
			l, err := fromenv.Logger(io.Discard, tt.level)
			if tt.wantErr {
				assert.ErrorContains(t, err, "PARLEY_LOG_LEVEL=")
				return
			}
			require.NoError(t, err)
			assert.True(t, l.Enabled(t.Context(), tt.want), "%v enabled", tt.want)
			assert.False(t, l.Enabled(t.Context(), tt.want-1), "%v disabled", tt.want-1)
		})
	}
}
