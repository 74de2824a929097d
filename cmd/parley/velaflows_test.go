package main

import (
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
	"github.com/parleybot/parley/bot"
)

func velaflowsEnv(emu *velaflowstest.Server) func(string) string {
	return env("VELAFLOWS_API_TOKEN", emu.Token(), "VELAFLOWS_WORKSPACE_ID", emu.WorkspaceID(), "VELAFLOWS_BASE_URL", emu.URL())
}

// The export of 10,000 leads through a rate limit that answers 429 many
// times produces a complete CSV, newest first, with the columns _id,
// firstName, lastName, email, phone, status and createdAt.
//
// The emulator's clock stands still, so every 26th read of a window meets
// the limit however fast the export runs, with Retry-After 1s; a proxy in
// front of it ends the window when it passes that 429 on, which is what
// the second the export then waits does to a real window.
func TestExportLeads_complete(t *testing.T) {
	if testing.Short() {
		t.Skip("long soak test: four one-second rate-limit waits; run without -short")
	}
	now := time.Now()
	emu := velaflowstest.NewServer(t, velaflowstest.WithRateLimits(25, 10, 10, time.Second),
		velaflowstest.WithClock(func() time.Time { return now }))
	emu.AddLeads(10_000)
	target, err := url.Parse(emu.URL())
	require.NoError(t, err)
	tr := &http.Transport{}
	front := httptest.NewServer(&httputil.ReverseProxy{
		Transport: tr,
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(&url.URL{Scheme: target.Scheme, Host: target.Host}) },
		ModifyResponse: func(resp *http.Response) error {
			if resp.StatusCode == http.StatusTooManyRequests {
				emu.ResetRateLimits()
			}
			return nil
		},
	})
	t.Cleanup(tr.CloseIdleConnections)
	t.Cleanup(front.Close)
	path := filepath.Join(t.TempDir(), "leads.csv")
	var stdout, stderr strings.Builder
	getenv := env("VELAFLOWS_API_TOKEN", emu.Token(), "VELAFLOWS_WORKSPACE_ID", emu.WorkspaceID(),
		"VELAFLOWS_BASE_URL", front.URL+target.Path)
	require.NoError(t, run(t.Context(), []string{"velaflows", "export-leads", "-o", path}, strings.NewReader(""), &stdout, &stderr, getenv))

	leads := emu.Leads()
	assert.Equal(t, "Exported "+strconv.Itoa(len(leads))+" leads to "+path+"\n", stdout.String())
	assert.Contains(t, stderr.String(), "exported "+strconv.Itoa(len(leads))+"/"+strconv.Itoa(len(leads))+" leads")

	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"_id", "firstName", "lastName", "email", "phone", "status", "createdAt"}, rows[0])
	rows = rows[1:]
	require.Len(t, rows, len(leads), "every lead, once")

	// Newest first, and each row is the lead's own data.
	slices.SortStableFunc(leads, func(a, b velaflowstest.Lead) int { return b.CreatedAt.Compare(a.CreatedAt) })
	seen := map[string]bool{}
	for i, row := range rows {
		require.False(t, seen[row[0]], "lead %s exported twice", row[0])
		seen[row[0]] = true
		l := leads[i]
		require.Equal(t, []string{l.ID, l.FirstName, l.LastName, l.Email, l.Phone, l.Status}, row[:6], "row %d", i)
		ts, err := time.Parse(time.RFC3339, row[6])
		require.NoError(t, err)
		require.True(t, ts.Equal(l.CreatedAt.Truncate(time.Millisecond)), "row %d createdAt %s, want %s", i, row[6], l.CreatedAt)
	}

	var throttled int
	for _, r := range emu.Requests() {
		if r.Status == 429 {
			throttled++
		}
	}
	assert.Greater(t, throttled, 0, "the run met rate limits and waited them out")
	assert.Contains(t, stderr.String(), "for the rate limit")
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".leads.csv.*"))
	assert.Empty(t, leftovers, "no temporary file is left")
}

// An interrupted export leaves neither the CSV nor a temporary file.
func TestExportLeads_interrupted(t *testing.T) {
	emu := velaflowstest.NewServer(t, velaflowstest.WithRateLimits(3, 10, 10, time.Hour))
	emu.AddLeads(1_000)
	dir := t.TempDir()
	path := filepath.Join(dir, "leads.csv")
	require.NoError(t, os.WriteFile(path, []byte("the previous export\n"), 0o644))
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond) // the 4th page waits an hour
	defer cancel()
	var stdout, stderr strings.Builder
	err := run(ctx, []string{"velaflows", "export-leads", "-o", path}, strings.NewReader(""), &stdout, &stderr, velaflowsEnv(emu))
	require.Error(t, err)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "the previous export\n", string(got), "the old file is untouched")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left")
}

func TestExportLeads_errors(t *testing.T) {
	emu := velaflowstest.NewServer(t, velaflowstest.WithoutDemoData())
	var out strings.Builder
	err := run(t.Context(), []string{"velaflows", "export-leads"}, strings.NewReader(""), &out, &out, env())
	assert.ErrorContains(t, err, "VELAFLOWS_API_TOKEN")
	err = run(t.Context(), []string{"velaflows", "export-leads"}, strings.NewReader(""), &out, &out,
		env("VELAFLOWS_API_TOKEN", emu.Token(), "VELAFLOWS_BASE_URL", emu.URL()))
	assert.ErrorContains(t, err, "VELAFLOWS_WORKSPACE_ID")
	err = run(t.Context(), []string{"velaflows", "import-leads"}, strings.NewReader(""), &out, &out, velaflowsEnv(emu))
	assert.ErrorContains(t, err, `unknown command "import-leads"`)

	path := filepath.Join(t.TempDir(), "none.csv")
	var stdout strings.Builder
	require.NoError(t, run(t.Context(), []string{"velaflows", "export-leads", "-o", path}, strings.NewReader(""), &stdout, &out, velaflowsEnv(emu)))
	assert.Equal(t, "No leads found\n", stdout.String())
	assert.NoFileExists(t, path)
	for _, o := range []string{"--o", "--output", "-output", "-o=" + path} {
		stdout.Reset()
		args := []string{"velaflows", "export-leads", o, path}
		if strings.Contains(o, "=") {
			args = args[:3]
		}
		require.NoError(t, run(t.Context(), args, strings.NewReader(""), &stdout, &out, velaflowsEnv(emu)), "%s", args)
		assert.Equal(t, "No leads found\n", stdout.String())
	}
}

// The CSV is readable by whoever may read a file created anew (0644 less
// the umask), and without -o it is leads.csv, as the help says.
func TestExportLeads_fileModeAndDefaultName(t *testing.T) {
	emu := velaflowstest.NewServer(t, velaflowstest.WithoutDemoData())
	emu.AddLeads(3)
	dir := t.TempDir()
	t.Chdir(dir)
	stdout, stderr, code := parleyEnv(t, velaflowsEnv(emu), "velaflows", "export-leads")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "Exported 3 leads to leads.csv\n", stdout)
	st, err := os.Stat(filepath.Join(dir, "leads.csv"))
	require.NoError(t, err)
	ref, err := os.OpenFile(filepath.Join(t.TempDir(), "ref"), os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	refSt, err := ref.Stat()
	require.NoError(t, err)
	require.NoError(t, ref.Close())
	assert.Equal(t, refSt.Mode().Perm(), st.Mode().Perm(), "0644 less the umask")
	assert.NotZero(t, st.Mode().Perm()&0o044, "readable by group and others (unless the umask says otherwise)")
}

// parleyEnv is parley with the environment getenv.
func parleyEnv(t *testing.T, getenv func(string) string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut strings.Builder
	err := run(t.Context(), args, strings.NewReader(""), &out, &errOut, getenv)
	code, msg := exitStatus(err, nil)
	if msg != "" {
		errOut.WriteString(msg + "\n")
	}
	return out.String(), errOut.String(), code
}

// An export interrupted while it waits out a rate limit ends with one line
// saying what it left, and the status of the signal.
func TestExportLeads_interruptedInAWait(t *testing.T) {
	emu := velaflowstest.NewServer(t, velaflowstest.WithRateLimits(3, 10, 10, 10*time.Minute))
	emu.AddLeads(1_000)
	path := filepath.Join(t.TempDir(), "leads.csv")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"velaflows", "export-leads", "-o", path}, strings.NewReader(""), &stdout, &stderr, velaflowsEnv(emu))
	}()
	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "for the rate limit") }, 10*time.Second, 5*time.Millisecond)
	cancel() // as SIGINT does
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the export did not stop")
	}
	code, msg := exitStatus(err, os.Interrupt)
	assert.Equal(t, 130, code)
	assert.Equal(t, "parley: export interrupted after 300 leads; "+path+" not written", msg)
	assert.Empty(t, stdout.String())
	assert.NotContains(t, stderr.String(), "export stopped", "the interruption is reported once")
	assert.NoFileExists(t, path)
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// On a terminal the progress line counts a wait down in place, beside the
// leads exported so far.
func TestProgress_countdownOnATerminal(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 12, 7, 21, 0, 0, 0, time.UTC)}
	var out syncBuffer
	p := newProgressAt(&out, true, clk.now)
	bar := "\r\033[K[###...........................] 100/1000 leads"
	clk.add(time.Second)
	p.update(100, 1000)
	assert.Equal(t, bar+"  100/s", out.String())

	p.waiting(1, 15*time.Second, &bot.RateLimitError{Platform: "velaflows", RetryAfter: 15 * time.Second})
	want := bar + "  100/s" + bar + "  waiting 15s for the rate limit…"
	assert.Equal(t, want, out.String())
	clk.add(1500 * time.Millisecond)
	p.tick()
	want += bar + "  waiting 14s for the rate limit…"
	assert.Equal(t, want, out.String())
	clk.add(200 * time.Millisecond)
	p.tick()
	assert.Equal(t, want, out.String(), "redrawn only when the seconds change")
	clk.add(13*time.Second + 300*time.Millisecond)
	p.tick()
	want += bar + "  waiting 0s for the rate limit…"
	assert.Equal(t, want, out.String())

	clk.add(500 * time.Millisecond)
	p.update(200, 1000)
	want += "\r\033[K[######........................] 200/1000 leads  12/s"
	assert.Equal(t, want, out.String())
	p.waiting(2, 2*time.Second, errors.New("velaflows: 503"))
	want += "\r\033[K[######........................] 200/1000 leads  waiting 2s for a failed request…"
	assert.Equal(t, want, out.String())
	p.finish(200, false)
	want += "\r\033[K[######........................] 200/1000 leads  12/s\n"
	assert.Equal(t, want, out.String(), "the countdown is cleared and the line ended")
}

// Elsewhere a wait is one line when it starts, and one every
// waitLineEvery while it lasts.
func TestProgress_countdownInPlainLines(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 12, 7, 21, 0, 0, 0, time.UTC)}
	var out syncBuffer
	p := newProgressAt(&out, false, clk.now)
	p.waiting(1, 2*time.Minute, &bot.RateLimitError{Platform: "velaflows", RetryAfter: 2 * time.Minute})
	want := "waiting 2m0s for the rate limit (0 leads so far)\n"
	assert.Equal(t, want, out.String())
	clk.add(waitLineEvery - time.Millisecond)
	p.tick()
	assert.Equal(t, want, out.String())
	clk.add(time.Millisecond)
	p.tick()
	want += "waiting 1m30s more for the rate limit (0 leads so far)\n"
	assert.Equal(t, want, out.String())
	clk.add(90 * time.Second)
	p.update(100, 1000)
	want += "exported 100/1000 leads (1/s)\n"
	assert.Equal(t, want, out.String())
	clk.add(waitLineEvery)
	p.tick()
	assert.Equal(t, want, out.String(), "no wait, no countdown")
	p.finish(100, true)
	want += "export stopped after 100 leads\n"
	assert.Equal(t, want, out.String())
}
