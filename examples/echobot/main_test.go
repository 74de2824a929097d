package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// env is a getenv over a fixed set of variables.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// runBot calls run and returns its error, failing the test if it does not
// return within 10 seconds.
func runBot(t *testing.T, ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- run(ctx, stdin, stdout, stderr, getenv) }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return within 10s")
		return nil
	}
}

func TestRun_console(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{
			name:  "plain text is echoed, help lists the commands",
			input: "hello\nhelp\n",
			want: "bot: hello\n" +
				"bot: Commands:\n" +
				"     help         — list the commands\n" +
				"     echo <text>  — repeat <text>\n",
		},
		{
			name:  "the echo command repeats its arguments",
			input: "/echo hi there\necho bare command\n\n/help\n",
			want: "bot: hi there\n" +
				"bot: bare command\n" +
				"bot: Commands:\n" +
				"     help         — list the commands\n" +
				"     echo <text>  — repeat <text>\n",
		},
		{name: "no input", input: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := runBot(t, t.Context(), strings.NewReader(tt.input), &stdout, &stderr, env())
			require.NoError(t, err, "end of input ends the bot cleanly")
			assert.Equal(t, tt.want, stdout.String())
			assert.Empty(t, stderr.String(), "nothing is logged at the default level")
		})
	}
}

func TestRun_cancel(t *testing.T) {
	in, feed := io.Pipe()
	defer feed.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	var stdout, stderr bytes.Buffer
	go func() { done <- run(ctx, in, &stdout, &stderr, env()) }()
	cancel() // Ctrl-C
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return within 10s of cancellation")
	}
}

func TestRun_logLevel(t *testing.T) {
	tests := []struct {
		name      string
		level     string
		wantErr   string
		wantInLog string
	}{
		{name: "debug", level: "debug", wantInLog: "level=INFO"},
		{name: "info, any case", level: " Info ", wantInLog: `level=INFO msg="bot started"`},
		{name: "warn", level: "warn"},
		{name: "error", level: "ERROR"},
		{name: "unknown", level: "loud", wantErr: `PARLEY_LOG_LEVEL="loud": want debug, info, warn or error`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := runBot(t, t.Context(), strings.NewReader("hello\n"), &stdout, &stderr, env("PARLEY_LOG_LEVEL", tt.level))
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				assert.Empty(t, stdout.String(), "the bot does not start")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "bot: hello\n", stdout.String())
			if tt.wantInLog != "" {
				assert.Contains(t, stderr.String(), tt.wantInLog)
			} else {
				assert.Empty(t, stderr.String())
			}
		})
	}
}
