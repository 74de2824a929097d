package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee/broadcast"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
)

// broadcastEmulator starts a Sendbee emulator with n contacts tagged
// "spring" (every 5th unsubscribed) and returns it with the environment
// of a parley that talks to it.
func broadcastEmulator(t *testing.T, n int, kv ...string) (*sendbeetest.Server, func(string) string) {
	t.Helper()
	emu := sendbeetest.NewServer(t, sendbeetest.WithRateLimit(1_000_000, time.Minute))
	cs := make([]sendbeetest.SeedContact, n)
	for i := range cs {
		cs[i] = sendbeetest.SeedContact{Phone: broadcastPhone(i), Name: fmt.Sprintf("Name %d", i), Tags: []string{"spring"},
			Fields: map[string]string{"city": fmt.Sprintf("City %d", i)}}
		if i%5 == 0 {
			cs[i].Status = "unsubscribed"
		}
	}
	require.NoError(t, emu.SeedContacts(cs...))
	vars := append([]string{"SENDBEE_API_KEY", emu.APIKey(), "SENDBEE_API_SECRET", emu.APISecret(),
		"SENDBEE_BASE_URL", emu.URL(), "SENDBEE_RATE_LIMIT", "1000000"}, kv...)
	return emu, env(vars...)
}

func broadcastPhone(i int) string { return fmt.Sprintf("+38591%07d", i) }

var broadcastArgs = []string{"sendbee", "broadcast", "--campaign", "spring", "--template", "order_shipped", "--language", "en",
	"--tag", "spring", "--fill", "1=name", "--fill", "2=field:city", "--button-fill", "1=phone"}

func runParley(ctx context.Context, getenv func(string) string, args ...string) (stdout, stderr string, code int) {
	var out, errOut strings.Builder
	err := run(ctx, args, strings.NewReader(""), &out, &errOut, getenv)
	code, msg := exitStatus(err, nil)
	if msg != "" {
		errOut.WriteString(msg + "\n")
	}
	return out.String(), errOut.String(), code
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	return rows
}

// --dry-run needs no durable store, sends nothing, and prints who would
// get what; --report writes a row per contact.
func TestSendbeeBroadcast_dryRun(t *testing.T) {
	emu, getenv := broadcastEmulator(t, 10)
	report := filepath.Join(t.TempDir(), "dry.csv")
	stdout, stderr, code := runParley(t.Context(), getenv, append(broadcastArgs, "--dry-run", "--report", report)...)
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, emu.Sent())
	assert.Contains(t, stdout, `would send  +385910000009    Name 9                   {{1}}="Name 9" {{2}}="City 9"`+"\n")
	assert.Contains(t, stdout, "skip        +385910000005    Name 5                   unsubscribed\n")
	assert.Contains(t, stdout, `Dry run of broadcast "spring" (order_shipped, en): 10 of 10 contacts handled in `)
	assert.Contains(t, stdout, "  would send: 8\n  sent:       0\n  skipped:    2\n    2 unsubscribed\n  failed:     0\n")
	assert.Contains(t, stdout, "Report written to "+report+"\n")
	assert.Contains(t, stderr, "10/10 contacts: sent 0, skipped 2\n", "plain progress lines off a terminal")
	rows := readCSV(t, report)
	require.Len(t, rows, 11)
	assert.Equal(t, []string{"phone", "contact_id", "name", "outcome", "reason", "message_id", "conversation_id", "earlier", "values"}, rows[0])
	assert.Equal(t, []string{"+385910000009", rows[1][1], "Name 9", "planned", "", "", "", "false", "1=Name 9; 2=City 9"}, rows[1])
}

// A broadcast sends each subscribed contact the template once, keeps its
// progress in PARLEY_DATA_DIR, prints a summary and writes the report; run
// again, it sends nobody twice.
func TestSendbeeBroadcast_run(t *testing.T) {
	emu, getenv := broadcastEmulator(t, 10, "PARLEY_DATA_DIR", t.TempDir())
	report := filepath.Join(t.TempDir(), "report.csv")
	stdout, stderr, code := runParley(t.Context(), getenv, append(broadcastArgs, "--report", report)...)
	require.Equal(t, 0, code, stderr)
	require.Len(t, emu.Sent(), 8)
	assert.Equal(t, "Hi Name 9, your order City 9 has shipped.", emu.Sent()[0].Text)
	assert.Contains(t, stdout, `Broadcast "spring" (order_shipped, en): 10 of 10 contacts handled in `)
	assert.Contains(t, stdout, "  sent:       8\n  skipped:    2\n    2 unsubscribed\n  failed:     0\n")
	assert.Regexp(t, `  rate:       [0-9.]+ requests/min of 1000000 allowed \([0-9]+%\), 10 requests, 0 rate-limited\n`, stdout)
	rows := readCSV(t, report)
	require.Len(t, rows, 11)
	assert.Equal(t, "sent", rows[1][3])
	assert.Equal(t, emu.Sent()[0].MessageID, rows[1][5])

	stdout, stderr, code = runParley(t.Context(), getenv, broadcastArgs...)
	require.Equal(t, 0, code, stderr)
	assert.Len(t, emu.Sent(), 8, "nobody twice")
	assert.Contains(t, stdout, "  sent:       8 (8 by an earlier run)\n")
}

// Interrupted, a broadcast stops after the send in flight and says how to
// resume; the same command resumes it.
func TestSendbeeBroadcast_interrupted(t *testing.T) {
	emu, getenv := broadcastEmulator(t, 40, "PARLEY_DATA_DIR", t.TempDir())
	slow := func(k string) string {
		if k == "SENDBEE_RATE_LIMIT" {
			return "1200" // 20 a second
		}
		return getenv(k)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		emu.WaitSent(t, 3)
		cancel()
	}()
	var out, errOut strings.Builder
	err := run(ctx, broadcastArgs, strings.NewReader(""), &out, &errOut, slow)
	<-done
	code, msg := exitStatus(err, os.Interrupt)
	assert.Equal(t, 130, code)
	assert.Regexp(t, `^parley: broadcast "spring" stopped after \d+ of 40 contacts; run the same command again to resume \(nobody is sent the template twice\)$`, msg)
	first := len(emu.Sent())
	require.Less(t, first, 32)

	stdout, stderr, code := runParley(t.Context(), getenv, broadcastArgs...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, fmt.Sprintf("  sent:       32 (%d by an earlier run)\n", first))
	seen := map[string]int{}
	for _, s := range emu.Sent() {
		seen[s.Phone]++
	}
	assert.Len(t, seen, 32)
	for p, n := range seen {
		assert.Equal(t, 1, n, p)
	}
}

// Bad input is refused before anything is sent, each with what to do.
func TestSendbeeBroadcast_badInput(t *testing.T) {
	emu, getenv := broadcastEmulator(t, 3)
	dir := t.TempDir()
	badCSV := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(badCSV, []byte("phone\n+385910000001\n385910000002\n"), 0o644))
	without := func(name string) func(string) string {
		return func(k string) string {
			if k == name {
				return ""
			}
			return getenv(k)
		}
	}
	tests := []struct {
		name   string
		getenv func(string) string
		args   []string
		code   int
		err    string
	}{
		{"missing API key", without("SENDBEE_API_KEY"), append(broadcastArgs, "--dry-run"), 1,
			"parley: SENDBEE_API_KEY is not set: it is the account's API key, from the Sendbee dashboard"},
		{"missing API secret", without("SENDBEE_API_SECRET"), append(broadcastArgs, "--dry-run"), 1,
			"parley: SENDBEE_API_SECRET is not set"},
		{"no durable store", getenv, broadcastArgs, 1,
			"parley: set PARLEY_DATA_DIR (a directory for an embedded store) or NATS_URL (a NATS system) to keep the campaign's progress"},
		{"bad rate", func(k string) string {
			if k == "SENDBEE_RATE_LIMIT" {
				return "fast"
			}
			return getenv(k)
		}, append(broadcastArgs, "--dry-run"), 1, `parley: SENDBEE_RATE_LIMIT="fast": want a number of requests per minute, such as 60`},
		{"no campaign", getenv, []string{"sendbee", "broadcast", "--template", "welcome", "--language", "en", "--tag", "x"}, 2,
			"parley: --campaign is required\nRun 'parley sendbee broadcast --help' for usage."},
		{"no segment", getenv, []string{"sendbee", "broadcast", "--campaign", "c", "--template", "welcome", "--language", "en"}, 2,
			"parley: no segment: give --tag, --status, --search or --csv"},
		{"bad fill", getenv, append(broadcastArgs, "--fill", "name"), 2,
			`parley: --fill "name": want PLACEHOLDER=SOURCE, such as 1=name or 2=field:city`},
		{"bad CSV line", getenv, []string{"sendbee", "broadcast", "--campaign", "c", "--template", "welcome", "--language", "en", "--csv", badCSV, "--fill", "1=name", "--dry-run"}, 1,
			"parley: " + badCSV + `:3: "385910000002" is not a phone number in international format`},
		{"unknown template", getenv, []string{"sendbee", "broadcast", "--campaign", "c", "--template", "nope", "--language", "en", "--tag", "spring", "--dry-run"}, 1,
			`parley: broadcast: no message template "nope"`},
		{"fill does not fit", getenv, []string{"sendbee", "broadcast", "--campaign", "c", "--template", "welcome", "--language", "en", "--tag", "spring", "--fill", "2=name", "--dry-run"}, 1,
			"parley: broadcast: Fill does not fit the template, which has the placeholders {{1}}: no source for {{1}}; no placeholder {{2}} in the template"},
		{"nobody", getenv, []string{"sendbee", "broadcast", "--campaign", "c", "--template", "welcome", "--language", "en", "--tag", "nobody", "--fill", "1=name", "--dry-run"}, 1,
			"parley: broadcast: the segment matches no contact (tags nobody)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runParley(t.Context(), tt.getenv, tt.args...)
			assert.Equal(t, tt.code, code)
			assert.Empty(t, stdout)
			assert.True(t, strings.HasPrefix(stderr, tt.err), "stderr:\n%s", stderr)
		})
	}
	assert.Empty(t, emu.Sent())
}

// On a terminal the progress is one line redrawn in place, with a
// countdown while the run waits for the rate limit.
func TestBroadcastProgress_terminal(t *testing.T) {
	var b strings.Builder
	p := newBroadcastProgress(&b, true)
	p.update(broadcast.Progress{Done: 1, Total: 2, Sent: 1})
	p.update(broadcast.Progress{Done: 1, Total: 2, Sent: 1, WaitUntil: time.Now().Add(30 * time.Second)})
	p.update(broadcast.Progress{Done: 2, Total: 2, Sent: 1, Skipped: 1})
	p.finish()
	out := b.String()
	assert.True(t, strings.HasPrefix(out, "\r\033[K[###############...............] 1/2 contacts: sent 1, skipped 0"), out)
	assert.Contains(t, out, "\r\033[K[###############...............] 1/2 contacts: sent 1, skipped 0  waiting 30s for the rate limit…")
	assert.True(t, strings.HasSuffix(out, "\r\033[K[##############################] 2/2 contacts: sent 1, skipped 1\n"), out)
}
