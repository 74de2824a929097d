package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/broadcast"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/storage/jetstream"
)

const sendbeeLong = `Commands that work on a Sendbee (AI Number) account through its API.
Credentials come from SENDBEE_API_KEY and SENDBEE_API_SECRET
(SENDBEE_BASE_URL points at another API root, such as the emulator of
"parley sim sendbee").`

const broadcastLong = `Sends an approved WhatsApp template to a segment of the account's contacts:
those with a tag (--tag, repeatable: any of the tags), a subscription status
(--status), matching a search (--search), or whose numbers a CSV file lists
(--csv FILE: one number a line in the first column, in international format;
a header line is allowed). The criteria combine: --tag lead --csv FILE is
the listed numbers that have the tag lead.

Each placeholder of the template is filled per contact with --fill
PLACEHOLDER=SOURCE, where SOURCE is name, phone, field:<contact field> or a
text (text:<text> for a text that would read as one of those):
--fill 1=name --fill 2=field:city. The template's button placeholders take
--button-fill the same way. Every placeholder needs a source; a contact
without a value (no name, no value of the field) is skipped and reported,
as are unsubscribed contacts.

Everything is checked before the first send: the template must exist in
the language and be approved, the fills must fit its placeholders, the
segment must match somebody and the CSV's numbers must be valid (the error
gives the line). --dry-run checks, then prints who would get what, and
sends nothing.

Sends are paced to the account's rate limit, SENDBEE_RATE_LIMIT requests
per minute (default 60, Sendbee's documented limit); a rate-limit answer is
waited out, with a countdown, and the same contact sent again. A bot
answering on the same number meanwhile spends the same budget: the command
also waits whenever Sendbee reports no requests left, and a campaign run
from the bot's own process (package adapters/sendbee/broadcast, with the
Bot as its Pacer) shares the bot's budget exactly.

The campaign's progress is kept in the durable store of PARLEY_DATA_DIR (a
directory, for an embedded store) or NATS_URL (a NATS system), one of which
is required unless --dry-run: stopped by Ctrl-C (after the send in flight)
or by a crash, the same command run again resumes the campaign --campaign
names, and sends nobody the template twice. A contact whose send was under
way when the process died is checked in its conversation first, and
reported as unknown, not sent again, when the platform cannot tell.

At the end it prints a summary (sent, skipped and why, failed, unknown)
and, with --report FILE, writes a CSV with a row per contact: phone,
contact_id, name, outcome, reason, message_id, conversation_id, earlier,
values. It exits with status 1 when a send failed or its outcome is
unknown.`

const broadcastExample = `  parley sendbee broadcast --campaign spring-sale --template spring_sale --language en \
    --tag newsletter --status subscribed --fill 1=20% \
    --attachment https://shop.example.com/sale.jpg --dry-run
  PARLEY_DATA_DIR=~/.parley parley sendbee broadcast --campaign shipped-0412 \
    --template order_shipped --language en --csv shipped.csv \
    --fill 1=name --fill 2=field:order --button-fill 1=field:order --report shipped-report.csv`

// envRateLimit is the variable that sets the account's rate limit.
const envRateLimit = "SENDBEE_RATE_LIMIT"

func newSendbeeCmd(s *streams) *cobra.Command {
	c := &cobra.Command{
		Use:         "sendbee",
		Short:       "work on a Sendbee account: broadcast a template",
		Long:        sendbeeLong,
		Example:     "  parley sendbee broadcast --campaign welcome-leads --template welcome --language en --tag lead --fill 1=name --dry-run",
		Annotations: map[string]string{group: "true"},
		Args:        commandArgs("command"),
		RunE:        groupRun,
	}
	var f broadcastFlags
	bc := &cobra.Command{
		Use:     "broadcast --campaign NAME --template KEYWORD --language CODE [--tag T] [--status S] [--search Q] [--csv FILE] [--fill P=SOURCE]… [flags]",
		Short:   "send an approved template to a segment of contacts, resumably",
		Long:    broadcastLong,
		Example: broadcastExample,
		Args:    exactArgs(),
		RunE: func(c *cobra.Command, _ []string) error {
			return runBroadcast(c.Context(), c, f, s)
		},
		DisableFlagsInUseLine: true,
	}
	fl := bc.Flags()
	fl.StringVar(&f.campaign, "campaign", "", "the campaign's `NAME`; the same name resumes it (required)")
	fl.StringVar(&f.template, "template", "", "the template's `KEYWORD` (required)")
	fl.StringVar(&f.language, "language", "", "the template's language `CODE`, such as en (required)")
	fl.StringArrayVar(&f.tags, "tag", nil, "contacts with this `TAG` (repeatable: any of them)")
	fl.StringVar(&f.status, "status", "", "contacts with this `STATUS`: subscribed or unsubscribed")
	fl.StringVar(&f.search, "search", "", "contacts matching this `TEXT`")
	fl.StringVar(&f.csv, "csv", "", "contacts whose numbers this CSV `FILE` lists")
	fl.StringArrayVar(&f.fill, "fill", nil, "fill a placeholder: `P=SOURCE`, SOURCE name, phone, field:NAME or a text (repeatable)")
	fl.StringArrayVar(&f.buttonFill, "button-fill", nil, "fill a button placeholder: `P=SOURCE` (repeatable)")
	fl.StringVar(&f.attachment, "attachment", "", "the media `URL` of an image, video or document template")
	fl.BoolVar(&f.preventBotOff, "prevent-bot-off", true, "keep each conversation's platform chatbot on (false hands the answers to agents)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "check, print who would get what, send nothing")
	fl.StringVar(&f.report, "report", "", "write a CSV report, a row per contact, to `FILE`")
	bc.MarkFlagFilename("csv", "csv")
	bc.MarkFlagFilename("report", "csv")
	c.AddCommand(bc)
	return c
}

type broadcastFlags struct {
	campaign, template, language string
	tags                         []string
	status, search, csv          string
	fill, buttonFill             []string
	attachment                   string
	preventBotOff, dryRun        bool
	report                       string
}

// runBroadcast runs "parley sendbee broadcast".
func runBroadcast(ctx context.Context, c *cobra.Command, f broadcastFlags, s *streams) error {
	for _, req := range []struct{ name, v string }{{"campaign", f.campaign}, {"template", f.template}, {"language", f.language}} {
		if strings.TrimSpace(req.v) == "" {
			return usageErrorf(c, "--%s is required", req.name)
		}
	}
	if len(f.tags) == 0 && f.status == "" && f.search == "" && f.csv == "" {
		return usageErrorf(c, "no segment: give --tag, --status, --search or --csv (--status subscribed is every subscribed contact)")
	}
	fill, err := parseFills(c, "fill", f.fill)
	if err != nil {
		return err
	}
	buttons, err := parseFills(c, "button-fill", f.buttonFill)
	if err != nil {
		return err
	}
	camp := broadcast.Campaign{
		Name: f.campaign, Template: f.template, Language: f.language,
		Segment:    broadcast.Segment{Tags: f.tags, Status: sendbee.ContactStatus(f.status), Search: f.search},
		Fill:       fill,
		ButtonFill: buttons,
		Attachment: f.attachment, PreventBotOff: f.preventBotOff,
	}
	if f.csv != "" {
		if camp.Segment.Phones, err = readPhonesFile(f.csv); err != nil {
			return err
		}
	}

	cfg := sendbee.Config{APIKey: s.getenv("SENDBEE_API_KEY"), APISecret: s.getenv("SENDBEE_API_SECRET"), BaseURL: s.getenv("SENDBEE_BASE_URL")}
	for _, v := range []struct{ name, val, what string }{
		{"SENDBEE_API_KEY", cfg.APIKey, "the account's API key"},
		{"SENDBEE_API_SECRET", cfg.APISecret, "the account's API secret"},
	} {
		if strings.TrimSpace(v.val) == "" {
			return fmt.Errorf("%s is not set: it is %s, from the Sendbee dashboard (for the emulator of parley sim sendbee: eval \"$(parley sim env sendbee)\")", v.name, v.what)
		}
	}
	opts := broadcast.Options{RateLimit: sendbee.DefaultRateLimit}
	if v := strings.TrimSpace(s.getenv(envRateLimit)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("%s=%q: want a number of requests per minute, such as 60", envRateLimit, v)
		}
		opts.RateLimit = n
	}
	client, err := sendbee.NewClient(cfg)
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()

	store, closeStore, err := openCampaignStore(ctx, s.getenv)
	if err != nil {
		return err
	}
	defer closeStore()
	if store == nil && !f.dryRun {
		return fmt.Errorf("set %s (a directory for an embedded store) or %s (a NATS system) to keep the campaign's progress: "+
			"without it, a broadcast stopped by a crash could not be resumed without sending some contacts the template twice (--dry-run needs neither)",
			jetstream.EnvDataDir, jetstream.EnvURL)
	}

	prog := newBroadcastProgress(s.stderr, isTerminal(s.stderr))
	opts.Progress = prog.update
	var rep *broadcast.Report
	if f.dryRun {
		rep, err = broadcast.DryRun(ctx, client, store, camp, opts)
	} else {
		rep, err = broadcast.Run(ctx, client, store, camp, opts)
	}
	prog.finish()
	if rep == nil {
		return err
	}
	if f.dryRun && err == nil {
		printDryRun(s.stdout, rep)
	}
	printBroadcastSummary(s.stdout, rep)
	if f.report != "" {
		if werr := writeBroadcastReport(f.report, rep); werr != nil {
			return errors.Join(err, werr)
		}
		fmt.Fprintf(s.stdout, "Report written to %s\n", f.report)
	}
	switch {
	case err != nil && ctx.Err() != nil:
		return &stoppedError{msg: fmt.Sprintf("broadcast %q stopped after %d of %d contacts; run the same command again to resume (nobody is sent the template twice)",
			rep.Campaign, len(rep.Results), rep.Total), cause: err}
	case err != nil:
		return fmt.Errorf("broadcast %q stopped after %d of %d contacts: %w; run the same command again to resume", rep.Campaign, len(rep.Results), rep.Total, err)
	case rep.Failed > 0 || rep.Unknown > 0:
		return fmt.Errorf("broadcast %q: %d sends failed and %d have an unknown outcome (see the summary); run the same command again to retry the failed ones",
			rep.Campaign, rep.Failed, rep.Unknown)
	}
	return nil
}

// parseFills reads --fill P=SOURCE flags.
func parseFills(c *cobra.Command, flag string, vals []string) (map[string]string, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(vals))
	for _, v := range vals {
		k, src, ok := strings.Cut(v, "=")
		k = strings.Trim(strings.TrimSpace(k), "{}")
		if !ok || k == "" || src == "" {
			return nil, usageErrorf(c, "--%s %q: want PLACEHOLDER=SOURCE, such as 1=name or 2=field:city", flag, v)
		}
		if _, dup := out[k]; dup {
			return nil, usageErrorf(c, "--%s: placeholder %s is filled twice", flag, k)
		}
		out[k] = src
	}
	return out, nil
}

// readPhonesFile reads the --csv file.
func readPhonesFile(path string) ([]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--csv: %w", err)
	}
	defer fh.Close()
	phones, err := broadcast.ReadPhones(fh)
	if pe, ok := errors.AsType[*broadcast.PhoneError](err); ok {
		return nil, fmt.Errorf("%s:%d: %q is not a phone number in international format (+ and 7 to 15 digits, such as +385911234567)", path, pe.Line, pe.Phone)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(phones) == 0 {
		return nil, fmt.Errorf("%s: no phone numbers", path)
	}
	return phones, nil
}

// openCampaignStore opens the durable store PARLEY_DATA_DIR or NATS_URL
// names, the one a bot of this machine keeps its state in (bucket
// <PARLEY_NAME>_STATE); nil with neither set.
func openCampaignStore(ctx context.Context, getenv func(string) string) (bot.Store, func(), error) {
	st, conn, err := jetstream.StateFromEnv(ctx, getenv)
	if err != nil || st == nil {
		return nil, func() {}, err
	}
	return st, conn.Close, nil
}

// printDryRun lists who would get what.
func printDryRun(w io.Writer, rep *broadcast.Report) {
	for _, r := range rep.Results {
		name := r.Name
		if name == "" {
			name = "-"
		}
		switch r.Outcome {
		case broadcast.Planned:
			keys := make([]string, 0, len(r.Values))
			for k := range r.Values {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			vals := make([]string, len(keys))
			for i, k := range keys {
				vals[i] = fmt.Sprintf("{{%s}}=%q", k, r.Values[k])
			}
			line := fmt.Sprintf("would send  %-16s %-24s %s", r.Phone, name, strings.Join(vals, " "))
			if r.Reason != "" {
				line += "  (" + r.Reason + ")"
			}
			fmt.Fprintln(w, strings.TrimRight(line, " "))
		case broadcast.Sent:
			fmt.Fprintf(w, "already     %-16s %-24s sent by an earlier run\n", r.Phone, name)
		case broadcast.Skipped:
			fmt.Fprintf(w, "skip        %-16s %-24s %s\n", r.Phone, name, r.Reason)
		case broadcast.Failed:
			fmt.Fprintf(w, "fail        %-16s %-24s %v\n", r.Phone, name, r.Err)
		}
	}
}

// printBroadcastSummary prints the totals, the skips by reason, the
// failures and unknown outcomes, and the rate.
func printBroadcastSummary(w io.Writer, rep *broadcast.Report) {
	verb := "Broadcast"
	if rep.DryRun {
		verb = "Dry run of broadcast"
	}
	fmt.Fprintf(w, "%s %q (%s, %s): %d of %d contacts handled in %v\n", verb, rep.Campaign, rep.Template, rep.Language,
		len(rep.Results), rep.Total, rep.Elapsed.Round(time.Millisecond))
	if rep.DryRun {
		fmt.Fprintf(w, "  would send: %d\n", rep.Planned)
	}
	sent := fmt.Sprintf("  sent:       %d", rep.Sent)
	if rep.SentEarlier > 0 {
		sent += fmt.Sprintf(" (%d by an earlier run)", rep.SentEarlier)
	}
	fmt.Fprintln(w, sent)
	fmt.Fprintf(w, "  skipped:    %d\n", rep.Skipped)
	reasons := rep.SkipReasons()
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return reasons[b] - reasons[a] })
	for _, k := range keys {
		fmt.Fprintf(w, "    %d %s\n", reasons[k], k)
	}
	fmt.Fprintf(w, "  failed:     %d\n", rep.Failed)
	for _, r := range rep.Results {
		if r.Outcome == broadcast.Failed {
			fmt.Fprintf(w, "    %s: %v\n", r.Phone, r.Err)
		}
	}
	if rep.Unknown > 0 {
		fmt.Fprintf(w, "  unknown:    %d (check these conversations; they are not sent again)\n", rep.Unknown)
		for _, r := range rep.Results {
			if r.Outcome == broadcast.Unknown {
				fmt.Fprintf(w, "    %s: %s\n", r.Phone, r.Reason)
			}
		}
	}
	if !rep.DryRun && rep.AllowedRate > 0 && rep.Rate > 0 {
		fmt.Fprintf(w, "  rate:       %.1f requests/min of %.0f allowed (%.0f%%), %d requests, %d rate-limited\n",
			rep.Rate, rep.AllowedRate, 100*rep.Fraction(), rep.Requests, rep.RateLimited)
	}
}

// writeBroadcastReport writes the CSV report through a temporary file.
func writeBroadcastReport(path string, rep *broadcast.Report) (err error) {
	tmp, err := createTemp(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := rep.WriteCSV(tmp); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// broadcastProgress shows a broadcast's progress on w: on a terminal one
// line redrawn in place, with a bar, the counts and, while the run waits
// for the rate limit, a countdown; elsewhere plain lines, at most one a
// second, and one when a wait begins.
type broadcastProgress struct {
	w        io.Writer
	terminal bool

	mu      sync.Mutex
	p       broadcast.Progress
	last    time.Time // the last plain line
	left    int       // the seconds left last drawn
	stop    chan struct{}
	stopped chan struct{}
	ticking bool
}

func newBroadcastProgress(w io.Writer, terminal bool) *broadcastProgress {
	return &broadcastProgress{w: w, terminal: terminal, stop: make(chan struct{}), stopped: make(chan struct{})}
}

// update is the run's Progress callback.
func (b *broadcastProgress) update(p broadcast.Progress) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.p = p
	now := time.Now()
	if !p.WaitUntil.IsZero() {
		b.left = secondsUntil(p.WaitUntil, now)
		if b.terminal {
			b.draw()
			if !b.ticking {
				b.ticking = true
				go b.countdown()
			}
		} else {
			b.last = now
			fmt.Fprintf(b.w, "waiting %ds for the rate limit (%s)\n", b.left, b.counts())
		}
		return
	}
	if b.terminal {
		b.draw()
		return
	}
	if now.Sub(b.last) >= time.Second || p.Done == p.Total {
		b.last = now
		fmt.Fprintln(b.w, b.counts())
	}
}

// countdown redraws the seconds left of a wait until finish.
func (b *broadcastProgress) countdown() {
	defer close(b.stopped)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.mu.Lock()
			if !b.p.WaitUntil.IsZero() {
				if left := secondsUntil(b.p.WaitUntil, time.Now()); left != b.left {
					b.left = left
					b.draw()
				}
			}
			b.mu.Unlock()
		}
	}
}

func secondsUntil(t, now time.Time) int {
	return max(0, int((t.Sub(now)+time.Second-1)/time.Second))
}

func (b *broadcastProgress) counts() string {
	p := b.p
	s := fmt.Sprintf("%d/%d contacts: sent %d, skipped %d", p.Done, p.Total, p.Sent, p.Skipped)
	if p.Failed > 0 {
		s += fmt.Sprintf(", failed %d", p.Failed)
	}
	if p.Unknown > 0 {
		s += fmt.Sprintf(", unknown %d", p.Unknown)
	}
	return s
}

// draw redraws the terminal line. b.mu is held.
func (b *broadcastProgress) draw() {
	const width = 30
	filled := 0
	if b.p.Total > 0 {
		filled = min(width, b.p.Done*width/b.p.Total)
	}
	line := fmt.Sprintf("\r\033[K[%s%s] %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), b.counts())
	if !b.p.WaitUntil.IsZero() {
		line += fmt.Sprintf("  waiting %ds for the rate limit…", b.left)
	}
	fmt.Fprint(b.w, line)
}

// finish ends the countdown and the progress line.
func (b *broadcastProgress) finish() {
	close(b.stop)
	b.mu.Lock()
	ticking := b.ticking
	b.mu.Unlock()
	if ticking {
		<-b.stopped
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.terminal && b.p.Total > 0 {
		b.p.WaitUntil = time.Time{}
		b.draw()
		fmt.Fprintln(b.w)
	}
}
