package main

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows/velaflowstest"
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
}
