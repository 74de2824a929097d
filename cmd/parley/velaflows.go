package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/bot"
)

const velaflowsUsage = `usage: parley velaflows export-leads [-o leads.csv]

Exports every CRM lead of the workspace, newest first, to a CSV file with
the columns _id, firstName, lastName, email, phone, status, createdAt.
Credentials come from VELAFLOWS_API_TOKEN and VELAFLOWS_WORKSPACE_ID
(VELAFLOWS_BASE_URL points at another API root, such as the emulator of
"parley sim velaflows"). Rate limits are waited out. The file is written
under a temporary name and renamed when complete, so an interrupted export
never leaves a truncated CSV.

flags:
`

// runVelaflows runs "parley velaflows <command>".
func runVelaflows(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("parley velaflows export-leads", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "leads_export.csv", "the CSV file to write")
	fs.Usage = func() { fmt.Fprint(stderr, velaflowsUsage); fs.PrintDefaults() }
	if len(args) == 0 || args[0] != "export-leads" {
		fs.Usage()
		if len(args) == 0 {
			return usageError{errors.New("velaflows: no command given (known: export-leads)")}
		}
		return usageError{fmt.Errorf("velaflows: unknown command %q (known: export-leads)", args[0])}
	}
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return usageError{fmt.Errorf("velaflows export-leads: unexpected argument %q", fs.Arg(0))}
	}
	cfg := velaflows.ConfigFromEnv(getenv)
	// Reads are idempotent: wait out 429s (a window is 15 minutes) and
	// retry transient failures.
	prog := newProgress(stderr)
	cfg.Retry = &velaflows.RetryPolicy{MaxAttempts: 20, BaseDelay: 500 * time.Millisecond, MaxDelay: 30 * time.Second,
		MaxRetryAfter: 16 * time.Minute, OnRetry: prog.waiting}
	client, err := velaflows.NewClient(cfg)
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()
	n, err := exportLeads(ctx, client, *out, prog)
	if err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintln(stdout, "No leads found")
		return nil
	}
	fmt.Fprintf(stdout, "Exported %d leads to %s\n", n, *out)
	return nil
}

// exportLeads writes the leads to path through a temporary file in the same
// directory, renamed over path only once every lead is written. With no
// leads it writes no file.
func exportLeads(ctx context.Context, c *velaflows.Client, path string, p *progress) (n int, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return 0, fmt.Errorf("export leads: %w", err)
	}
	defer func() {
		if err != nil || n == 0 {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err = c.ExportLeadsCSV(ctx, tmp, p.update)
	p.done(n, err)
	if err != nil {
		return n, fmt.Errorf("export leads (after %d): %w", n, err)
	}
	if n == 0 {
		return 0, nil
	}
	if err := tmp.Sync(); err != nil {
		return n, fmt.Errorf("export leads: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return n, fmt.Errorf("export leads: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return n, fmt.Errorf("export leads: %w", err)
	}
	return n, nil
}

// progress reports an export's progress on w: a bar redrawn in place on a
// terminal, else a plain line at most once a second.
type progress struct {
	w        io.Writer
	terminal bool
	start    time.Time
	last     time.Time
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *progress) update(done, total int) {
	now := time.Now()
	rate := float64(done) / max(now.Sub(p.start).Seconds(), 1e-3)
	if p.terminal {
		const width = 30
		filled := width
		if total > 0 {
			filled = min(width, done*width/total)
		}
		fmt.Fprintf(p.w, "\r[%s%s] %d/%d leads  %.0f/s ", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total, rate)
		return
	}
	if now.Sub(p.last) >= time.Second || done == total {
		p.last = now
		fmt.Fprintf(p.w, "exported %d/%d leads (%.0f/s)\n", done, total, rate)
	}
}

// waiting says that the export waits out a rate limit or a failure.
func (p *progress) waiting(_ int, wait time.Duration, err error) {
	why := "a failed request"
	if _, ok := errors.AsType[*bot.RateLimitError](err); ok {
		why = "the rate limit"
	}
	if p.terminal {
		fmt.Fprintf(p.w, "\r\033[Kwaiting %v for %s… ", wait.Round(time.Second), why)
		return
	}
	fmt.Fprintf(p.w, "waiting %v for %s\n", wait.Round(time.Second), why)
}

func (p *progress) done(n int, err error) {
	if p.terminal {
		fmt.Fprintln(p.w)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(p.w, "export stopped after %d leads\n", n)
	}
}
