package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/handlers/echo"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// The local walk-through: the simulator plays Sendbee and the customer, a
// bot on the Sendbee adapter answers, and the simulator prints the answers.
func TestSimSendbee_withABot(t *testing.T) {
	// The bot's side: a webhook receiver whose adapter is set once the
	// simulator has printed its address.
	var (
		mu sync.Mutex
		sb *sendbee.Adapter
	)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		a := sb
		mu.Unlock()
		if a == nil {
			w.WriteHeader(503)
			return
		}
		a.ServeHTTP(w, r)
	}))
	defer rcv.Close()

	stdinR, stdinW := io.Pipe()
	var out syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"sim", "sendbee", "-sendbee-addr", "127.0.0.1:0"}, stdinR, &out, &out, env(
			"SENDBEE_API_KEY", "k1", "SENDBEE_API_SECRET", "s1", "SENDBEE_WEBHOOK_URL", rcv.URL+"/webhooks/sendbee"))
	}()
	var base string
	require.Eventually(t, func() bool {
		m := regexp.MustCompile(`export SENDBEE_BASE_URL=(\S+)`).FindStringSubmatch(out.String())
		if m != nil {
			base = m[1]
		}
		return m != nil
	}, 5*time.Second, 5*time.Millisecond)
	assert.Contains(t, out.String(), "export SENDBEE_API_KEY=k1\n")
	assert.Contains(t, out.String(), "export SENDBEE_API_SECRET=s1\n")

	a, err := sendbee.New(sendbee.AdapterConfig{Config: sendbee.Config{APIKey: "k1", APISecret: "s1", BaseURL: base}})
	require.NoError(t, err)
	b, err := bot.New(bot.WithAdapters(a))
	require.NoError(t, err)
	b.NotFound(echo.Handler{Prefix: "echo: "})
	mu.Lock()
	sb = a
	mu.Unlock()
	botCtx, stopBot := context.WithCancel(context.Background())
	botDone := make(chan error, 1)
	go func() { botDone <- b.Run(botCtx) }()

	_, err = io.WriteString(stdinW, "hello\n")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return strings.Contains(out.String(), "bot → +385911234567: echo: hello   (prevent_bot_off=true; chatbot on)")
	}, 10*time.Second, 10*time.Millisecond, out.String())

	_, err = io.WriteString(stdinW, "/bogus\n/bot maybe\n")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		s := out.String()
		return strings.Contains(s, "unknown command /bogus") && strings.Contains(s, "usage: /bot on|off")
	}, 5*time.Second, 5*time.Millisecond)

	stopBot()
	require.NoError(t, <-botDone)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("sim did not stop")
	}
	require.NoError(t, stdinW.Close())
}

// parley sim with no platform runs the three emulators; /use switches the
// console between them.
func TestSimAll(t *testing.T) {
	stdinR, stdinW := io.Pipe()
	var out syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"sim", "-sendbee-addr", "127.0.0.1:0", "-velaflows-addr", "127.0.0.1:0", "-flowdock-addr", "127.0.0.1:0"},
			stdinR, &out, &out, env())
	}()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "All emulators run") }, 5*time.Second, 5*time.Millisecond)
	for _, v := range []string{"SENDBEE_BASE_URL", "VELAFLOWS_BASE_URL", "FLOWDOCK_STREAM_URL"} {
		assert.Contains(t, out.String(), "export "+v+"=")
	}
	_, err := io.WriteString(stdinW, "/use flowdock\n/use myspace\n")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return strings.Contains(out.String(), "lines now go to flowdock") && strings.Contains(out.String(), `unknown platform "myspace"`)
	}, 5*time.Second, 5*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	require.NoError(t, stdinW.Close())
}
