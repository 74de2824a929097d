package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/bot"
)

const velaflowsLong = `Commands that work on a VelaFlows workspace through its API. Credentials
come from VELAFLOWS_API_TOKEN and VELAFLOWS_WORKSPACE_ID
(VELAFLOWS_BASE_URL points at another API root, such as the emulator of
"parley sim velaflows").`

const exportLeadsLong = `Exports every CRM lead of the workspace, newest first, to a CSV file with
the columns _id, firstName, lastName, email, phone, status, createdAt.
Credentials come from VELAFLOWS_API_TOKEN and VELAFLOWS_WORKSPACE_ID
(VELAFLOWS_BASE_URL points at another API root, such as the emulator of
"parley sim velaflows"). Rate limits are waited out, with a countdown beside
the progress. The file is written under a temporary name and renamed when
complete, so an interrupted export never leaves a truncated CSV.`

// defaultLeadsFile is where export-leads writes without -o.
const defaultLeadsFile = "leads.csv"

func newVelaflowsCmd(s *streams) *cobra.Command {
	c := &cobra.Command{
		Use:         "velaflows",
		Short:       "work on a VelaFlows workspace: export its leads",
		Long:        velaflowsLong,
		Example:     "  parley velaflows export-leads -o leads.csv",
		Annotations: map[string]string{group: "true"},
		Args:        commandArgs("command"),
		RunE:        groupRun,
	}
	var out string
	export := &cobra.Command{
		Use:   "export-leads [-o FILE]",
		Short: "export every VelaFlows CRM lead to a CSV file",
		Long:  exportLeadsLong,
		Example: `  parley velaflows export-leads
  parley velaflows export-leads -o /tmp/leads-$(date +%F).csv`,
		DisableFlagsInUseLine: true,
		Args:                  exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error {
			return runExportLeads(c.Context(), out, s.stdout, s.stderr, s.getenv)
		},
	}
	export.Flags().StringVarP(&out, "output", "o", defaultLeadsFile, "the CSV `FILE` to write")
	// The flag package took "-o" and "--o" alike.
	export.Flags().SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "o" {
			name = "output"
		}
		return pflag.NormalizedName(name)
	})
	export.MarkFlagFilename("output", "csv")
	c.AddCommand(export)
	return c
}

// runExportLeads runs "parley velaflows export-leads".
func runExportLeads(ctx context.Context, out string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg := velaflows.ConfigFromEnv(getenv)
	// Reads are idempotent: wait out 429s (a window is 15 minutes) and
	// retry transient failures.
	prog := newProgress(stderr, isTerminal(stderr))
	cfg.Retry = &velaflows.RetryPolicy{MaxAttempts: 20, BaseDelay: 500 * time.Millisecond, MaxDelay: 30 * time.Second,
		MaxRetryAfter: 16 * time.Minute, OnRetry: prog.waiting}
	client, err := velaflows.NewClient(cfg)
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()
	n, err := exportLeads(ctx, client, out, prog)
	if err != nil && ctx.Err() != nil {
		return &stoppedError{msg: fmt.Sprintf("export interrupted after %d leads; %s not written", n, out), cause: err}
	}
	if err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintln(stdout, "No leads found")
		return nil
	}
	fmt.Fprintf(stdout, "Exported %d leads to %s\n", n, out)
	return nil
}

// exportLeads writes the leads to path through a temporary file in the same
// directory, renamed over path only once every lead is written. With no
// leads it writes no file.
func exportLeads(ctx context.Context, c *velaflows.Client, path string, p *progress) (n int, err error) {
	tmp, err := createTemp(path)
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
	p.finish(n, err != nil && ctx.Err() == nil)
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

// createTemp creates a new file for writing beside path, with a hidden
// name derived from it, and the permissions of a file created anew (0644
// less the umask): os.CreateTemp's 0600 would make the CSV unreadable to
// the other users who could read the directory.
func createTemp(path string) (*os.File, error) {
	dir, base := filepath.Split(path)
	for range 100 {
		name := filepath.Join(dir, "."+base+"."+strconv.FormatUint(uint64(rand.Uint32()), 10)+".tmp")
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("cannot create a temporary file beside %s: every name tried exists", path)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// waitLineEvery is how often a wait is reported again when the progress
// goes to plain lines.
const waitLineEvery = 30 * time.Second

// progress reports an export's progress on w. On a terminal it is one line
// redrawn in place: a bar, the leads exported so far and, while the export
// waits out a rate limit or a failure, the seconds left. Elsewhere it is
// plain lines: at most one a second, and one when a wait starts and then
// every waitLineEvery while it lasts.
type progress struct {
	w        io.Writer
	terminal bool
	now      func() time.Time
	start    time.Time

	mu          sync.Mutex
	done, total int
	last        time.Time // when the last plain line was written
	until       time.Time // when the current wait ends; zero when none
	why         string    // what the current wait waits out
	left        int       // the seconds left last shown
	ticking     bool
	stop        chan struct{} // closed by finish to end the countdown
	stopped     chan struct{} // closed once the countdown has ended
}

func newProgress(w io.Writer, terminal bool) *progress {
	return newProgressAt(w, terminal, time.Now)
}

// newProgressAt returns a progress on w that reads the time from now.
func newProgressAt(w io.Writer, terminal bool, now func() time.Time) *progress {
	return &progress{w: w, terminal: terminal, now: now, start: now(),
		stop: make(chan struct{}), stopped: make(chan struct{})}
}

// update reports that done of total leads are exported; it ends a wait.
func (p *progress) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done, p.total, p.until = done, total, time.Time{}
	now := p.now()
	if p.terminal {
		p.draw(now)
		return
	}
	if now.Sub(p.last) >= time.Second || done == total {
		p.last = now
		rate := float64(done) / max(now.Sub(p.start).Seconds(), 1e-3)
		fmt.Fprintf(p.w, "exported %s (%.0f/s)\n", p.leads(), rate)
	}
}

// waiting says that the export waits out a rate limit or a failure, and
// counts the wait down until the next update. It is the RetryPolicy's
// OnRetry, so it does not block.
func (p *progress) waiting(_ int, wait time.Duration, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.why = "a failed request"
	if _, ok := errors.AsType[*bot.RateLimitError](err); ok {
		p.why = "the rate limit"
	}
	now := p.now()
	p.until = now.Add(wait)
	p.left = p.secondsLeft(now)
	if p.terminal {
		p.draw(now)
	} else {
		p.last = now
		fmt.Fprintf(p.w, "waiting %v for %s (%s so far)\n", time.Duration(p.left)*time.Second, p.why, p.leads())
	}
	if !p.ticking {
		p.ticking = true
		go p.countdown()
	}
}

// countdown ticks until finish.
func (p *progress) countdown() {
	defer close(p.stopped)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.tick()
		}
	}
}

// tick shows the seconds left of the current wait, if it has changed: in
// place on a terminal, else every waitLineEvery.
func (p *progress) tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.until.IsZero() {
		return
	}
	now := p.now()
	left := p.secondsLeft(now)
	if p.terminal {
		if left != p.left {
			p.left = left
			p.draw(now)
		}
		return
	}
	if now.Sub(p.last) >= waitLineEvery {
		p.last, p.left = now, left
		fmt.Fprintf(p.w, "waiting %v more for %s (%s so far)\n", time.Duration(left)*time.Second, p.why, p.leads())
	}
}

// secondsLeft returns the whole seconds, rounded up, until the current
// wait ends.
func (p *progress) secondsLeft(now time.Time) int {
	return max(0, int((p.until.Sub(now)+time.Second-1)/time.Second))
}

// leads says how many leads are exported: "300/1000 leads", or "0 leads"
// before the first page says how many there are.
func (p *progress) leads() string {
	if p.total > 0 {
		return fmt.Sprintf("%d/%d leads", p.done, p.total)
	}
	return fmt.Sprintf("%d leads", p.done)
}

// draw redraws the terminal line. p.mu is held.
func (p *progress) draw(now time.Time) {
	const width = 30
	filled := 0
	if p.total > 0 {
		filled = min(width, p.done*width/p.total)
	}
	line := fmt.Sprintf("\r\033[K[%s%s] %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.leads())
	if !p.until.IsZero() {
		line += fmt.Sprintf("  waiting %v for %s…", time.Duration(p.left)*time.Second, p.why)
	} else if p.done > 0 {
		line += fmt.Sprintf("  %.0f/s", float64(p.done)/max(now.Sub(p.start).Seconds(), 1e-3))
	}
	fmt.Fprint(p.w, line)
}

// finish ends the countdown and the progress, after n leads; failed says
// that the export failed (rather than ended or was interrupted).
func (p *progress) finish(n int, failed bool) {
	close(p.stop)
	p.mu.Lock()
	ticking := p.ticking
	p.mu.Unlock()
	if ticking {
		<-p.stopped
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal {
		p.until = time.Time{}
		p.draw(p.now())
		fmt.Fprintln(p.w)
	}
	if failed {
		fmt.Fprintf(p.w, "export stopped after %d leads\n", n)
	}
}
