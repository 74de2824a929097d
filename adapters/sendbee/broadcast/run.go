package broadcast

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/bot"
)

// Options are how a campaign runs. The zero value is usable.
type Options struct {
	// RateLimit is the account's limit in requests per minute, which the
	// run paces every request to (at 98% of it, as headroom for network
	// jitter) unless Pacer is set. Default: sendbee.DefaultRateLimit (60).
	RateLimit int
	// Pacer, when set, gives each request its turn instead of the run's own
	// limiter: a Bot running the same Sendbee adapter (a bot.Bot is a
	// Pacer), so that the campaign and the bot's replies share one budget.
	Pacer bot.Pacer
	// Platform is the name of that adapter in the Bot. Default: "sendbee".
	Platform string
	// Progress, when set, is called after each contact and when a wait
	// for the rate limit begins, on Run's goroutine: it must return
	// quickly.
	Progress func(Progress)
	// StateTTL is how long the per-contact records are kept in the Store.
	// Default: DefaultStateTTL (90 days).
	StateTTL time.Duration
	// Logger receives a warning for each rate-limit answer (never message
	// text or phone numbers). Default: slog.Default().
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.RateLimit <= 0 {
		o.RateLimit = sendbee.DefaultRateLimit
	}
	if o.Platform == "" {
		o.Platform = "sendbee"
	}
	if o.StateTTL <= 0 {
		o.StateTTL = DefaultStateTTL
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Progress is a campaign's progress, for a progress bar.
type Progress struct {
	// Done of Total contacts are handled.
	Done, Total int
	// Sent, Skipped, Failed and Unknown count the handled contacts by
	// outcome.
	Sent, Skipped, Failed, Unknown int
	// WaitUntil is when the current wait for the rate limit ends; zero when
	// the run is not waiting.
	WaitUntil time.Time
}

// Run sends the campaign's template to every contact of its segment, one
// at a time, and returns what became of each.
//
// Before anything is sent it checks the campaign: its fields, the template
// (it must exist in the language and be approved), that Fill and
// ButtonFill cover exactly the template's placeholders, and that the
// segment matches somebody; bad input is an error wrapping [ErrInvalid]
// and a nil Report.
//
// Every request is paced (see [Options.RateLimit] and [Options.Pacer]); a
// 429 answer is waited out (Retry-After) and the same request made again,
// so no contact is skipped or sent twice because of the rate limit.
//
// Contacts that are unsubscribed, by the contact list or by the platform's
// refusal (contact_unsubscribed), are skipped, as are contacts without a
// value for a placeholder.
//
// # Resuming
//
// store keeps a record per campaign name and contact: the attempt is
// written before the send, the result after it. Running a campaign of the
// same name again (after a crash, a Ctrl-C, or to catch up with failed
// sends) skips the contacts already sent, tries failed ones again, and for
// a contact whose attempt has no result — the process stopped between the
// send and its record, or the answer to the send was lost — looks at the
// contact's conversation on the platform: if an outbound message with the
// template's text reached it since the attempt began, it is Sent; if no
// outbound message did, the template is sent; otherwise the outcome is
// Unknown and nothing is sent, rather than risk sending twice.
//
// Cancelling ctx stops the run after the send in flight (which is not cut
// short) with ctx's error and the Report so far. An error of the Store
// also stops it. The Report is nil only when the run stopped before it
// knew the segment.
func Run(ctx context.Context, client *sendbee.Client, store bot.Store, c Campaign, opts Options) (*Report, error) {
	if store == nil {
		return nil, errors.New("broadcast: Run needs a Store to keep the campaign's progress (bot.NewMemoryStore for a run that need not survive the process)")
	}
	r := newRunner(client, store, c, opts, false)
	if err := r.prepare(ctx); err != nil {
		return nil, err
	}
	err := r.send(ctx)
	r.finish()
	return r.report, err
}

// DryRun checks the campaign as [Run] does and returns the Report Run
// would start from, without sending anything or writing to store: each
// contact is Planned (with the values its placeholders would get) or
// Skipped, or Sent with Earlier set when store (which may be nil) records
// that an earlier run sent it. A contact whose earlier attempt has no
// result is Planned, with a Reason saying that Run will check the
// platform first.
func DryRun(ctx context.Context, client *sendbee.Client, store bot.Store, c Campaign, opts Options) (*Report, error) {
	r := newRunner(client, store, c, opts, true)
	if err := r.prepare(ctx); err != nil {
		return nil, err
	}
	for _, rc := range r.recipients {
		if err := ctx.Err(); err != nil {
			r.finish()
			return r.report, err
		}
		res := rc.result()
		if rc.skip == "" && rc.failErr == nil {
			res.Outcome = Planned
			if store != nil {
				rec, err := load(ctx, store, recordKey(c.Name, rc.key))
				if err != nil {
					r.finish()
					return r.report, err
				}
				switch rec.State {
				case stateSent:
					res.Outcome, res.Earlier, res.MessageID, res.ConversationID = Sent, true, rec.MessageID, rec.ConversationID
				case stateAttempt:
					res.Reason = "an earlier attempt has no result: Run checks the conversation before sending"
				}
			}
		}
		r.report.add(res)
		r.progress(time.Time{})
	}
	r.finish()
	return r.report, nil
}

// runner is one Run or DryRun.
type runner struct {
	client *sendbee.Client
	store  bot.Store
	c      Campaign
	opts   Options
	p      *pacer

	tpl          sendbee.MessageTemplate
	fill, button filler
	recipients   []*recipient
	report       *Report
	started      time.Time
}

// recipient is one contact of the segment.
type recipient struct {
	key     string // the phone number, or "wa:" and the WhatsApp user ID
	contact sendbee.Contact
	values  map[string]string
	buttons map[string]string
	skip    string // why it is skipped, if it is
	failErr error  // why it fails without a send, if it does
}

func (rc *recipient) result() Result {
	res := Result{Phone: rc.contact.Phone, ContactID: rc.contact.ID, Name: rc.contact.Name, Values: rc.values}
	if res.Phone == "" {
		res.Phone = rc.key
	}
	switch {
	case rc.skip != "":
		res.Outcome, res.Reason = Skipped, rc.skip
	case rc.failErr != nil:
		res.Outcome, res.Err = Failed, rc.failErr
	}
	return res
}

func newRunner(client *sendbee.Client, store bot.Store, c Campaign, opts Options, dry bool) *runner {
	opts.defaults()
	r := &runner{client: client, store: store, c: c, opts: opts, started: time.Now()}
	r.report = &Report{Campaign: c.Name, Template: c.Template, Language: c.Language, DryRun: dry, Started: r.started}
	if opts.Pacer == nil {
		r.report.AllowedRate = float64(opts.RateLimit)
	}
	r.p = newPacer(&r.opts, r.waiting)
	return r
}

func (r *runner) finish() {
	r.report.Elapsed = time.Since(r.started)
	r.report.Requests = r.p.requests
	r.report.RateLimited = r.p.limited
	r.report.Rate = r.p.rate()
}

func (r *runner) progress(until time.Time) {
	if r.opts.Progress == nil {
		return
	}
	rep := r.report
	r.opts.Progress(Progress{Done: len(rep.Results), Total: rep.Total, Sent: rep.Sent, Skipped: rep.Skipped,
		Failed: rep.Failed, Unknown: rep.Unknown, WaitUntil: until})
}

func (r *runner) waiting(until time.Time) { r.progress(until) }

// prepare checks the campaign, finds the template and the segment's
// contacts, and works out each contact's values.
func (r *runner) prepare(ctx context.Context) error {
	if err := r.c.checkStatic(); err != nil {
		return err
	}
	if err := r.findTemplate(ctx); err != nil {
		return err
	}
	contacts, extra, err := r.segment(ctx)
	if err != nil {
		return err
	}
	if len(contacts)+len(extra) == 0 {
		return &SegmentError{Segment: r.c.Segment}
	}
	seen := map[string]bool{}
	add := func(ct sendbee.Contact) {
		rc := &recipient{contact: ct}
		if p, ok := normalizePhone(ct.Phone); ok {
			rc.key = p
			rc.contact.Phone = p
		} else if ct.WhatsAppUserID != "" && ct.Phone == "" {
			rc.key = "wa:" + ct.WhatsAppUserID
		} else {
			rc.key = "id:" + ct.ID
			rc.skip = "no phone number in international format"
		}
		if seen[rc.key] {
			return
		}
		seen[rc.key] = true
		r.plan(rc)
		r.recipients = append(r.recipients, rc)
	}
	for _, ct := range contacts {
		add(ct)
	}
	for _, p := range extra {
		add(sendbee.Contact{Phone: p})
	}
	r.report.Total = len(r.recipients)
	return nil
}

// plan works out rc's values, or why it is skipped.
func (r *runner) plan(rc *recipient) {
	if rc.skip != "" {
		return
	}
	if rc.contact.Status == sendbee.ContactUnsubscribed {
		rc.skip = ReasonUnsubscribed
		return
	}
	if r.c.FillFunc != nil {
		vals, err := r.c.FillFunc(rc.contact)
		if err != nil {
			rc.skip = "FillFunc: " + err.Error()
			return
		}
		want := tagNames(r.tpl.Tags)
		for k, v := range vals {
			if !slices.Contains(want, k) {
				rc.failErr = &FillError{Unknown: []string{k}, Template: want}
				return
			}
			if strings.TrimSpace(v) == "" {
				rc.skip = fmt.Sprintf("no value for {{%s}} (FillFunc)", k)
				return
			}
		}
		for _, k := range want {
			if _, ok := vals[k]; !ok {
				rc.skip = fmt.Sprintf("no value for {{%s}} (FillFunc)", k)
				return
			}
		}
		rc.values = vals
	} else {
		vals, why := r.fill.values(rc.contact)
		if why != "" {
			rc.skip = why
			return
		}
		rc.values = vals
	}
	btn, why := r.button.values(rc.contact)
	if why != "" {
		rc.skip = "button " + why
		return
	}
	rc.buttons = btn
}

// findTemplate reads the account's templates and checks the campaign's.
func (r *runner) findTemplate(ctx context.Context) error {
	var langs []string
	var found *sendbee.MessageTemplate
	for page := 1; ; page++ {
		p, _, err := call(ctx, r.p, false, func(ctx context.Context) (*sendbee.Page[sendbee.MessageTemplate], *sendbee.Response, error) {
			return r.client.MessageTemplates(ctx, sendbee.MessageTemplatesOptions{Page: page, Limit: sendbee.MaxLimit})
		})
		if errors.Is(err, sendbee.ErrPagination) {
			break
		}
		if err != nil {
			return fmt.Errorf("broadcast: list templates: %w", err)
		}
		for i, t := range p.Items {
			if t.Keyword != r.c.Template {
				continue
			}
			langs = append(langs, t.Language)
			if t.Language == r.c.Language && found == nil {
				found = &p.Items[i]
			}
		}
		if !p.HasNext() {
			break
		}
	}
	e := &TemplateError{Keyword: r.c.Template, Language: r.c.Language}
	switch {
	case found == nil && len(langs) == 0:
		e.Problem = TemplateUnknown
		return e
	case found == nil:
		e.Problem, e.Languages = LanguageUnknown, langs
		return e
	case found.Status != sendbee.TemplateApproved:
		e.Problem, e.Status, e.RejectedReason = TemplateNotApproved, found.Status, found.RejectedReason
		return e
	case (found.Attachment == sendbee.AttachmentNone) != (r.c.Attachment == ""):
		e.Problem, e.Attachment = AttachmentMismatch, found.Attachment
		return e
	}
	r.tpl = *found
	var err error
	if r.c.FillFunc == nil {
		if r.fill, err = checkFill(r.c.Fill, tagNames(found.Tags), false); err != nil {
			return err
		}
	}
	r.button, err = checkFill(r.c.ButtonFill, tagNames(found.ButtonTags), true)
	return err
}

// segment returns the segment's contacts, and the phone numbers of
// Segment.Phones that have no contact (only when Phones is the segment's
// one criterion).
func (r *runner) segment(ctx context.Context) ([]sendbee.Contact, []string, error) {
	s := r.c.Segment
	phones := make([]string, len(s.Phones))
	for i, p := range s.Phones {
		phones[i], _ = normalizePhone(p) // checked by checkStatic
	}
	onlyPhones := len(s.Tags) == 0 && s.Status == "" && s.Search == ""
	opts := sendbee.ContactsOptions{Tags: s.Tags, Status: s.Status, SearchQuery: s.Search, Limit: sendbee.MaxLimit}
	if !onlyPhones {
		all, _, err := r.listContacts(ctx, opts, 0)
		if err != nil || len(phones) == 0 {
			return all, nil, err
		}
		byPhone := indexByPhone(all)
		var out []sendbee.Contact
		for _, p := range phones {
			if ct, ok := byPhone[p]; ok {
				out = append(out, ct)
			}
		}
		return out, nil, nil
	}
	// Only phone numbers: read the whole contact list if that takes fewer
	// requests than a search per number.
	first, lastPage, err := r.listContacts(ctx, opts, 1)
	if err != nil {
		return nil, nil, err
	}
	var byPhone map[string]sendbee.Contact
	if lastPage <= len(phones) {
		rest, _, err := r.listContacts(ctx, opts, 0)
		if err != nil {
			return nil, nil, err
		}
		byPhone = indexByPhone(rest)
	} else {
		byPhone = indexByPhone(first)
		for _, p := range phones {
			if _, ok := byPhone[p]; ok {
				continue
			}
			found, _, err := r.listContacts(ctx, sendbee.ContactsOptions{SearchQuery: p, Limit: sendbee.MaxLimit}, 0)
			if err != nil {
				return nil, nil, err
			}
			for _, ct := range found {
				if q, ok := normalizePhone(ct.Phone); ok && q == p {
					byPhone[p] = ct
				}
			}
		}
	}
	var out []sendbee.Contact
	var extra []string
	for _, p := range phones {
		if ct, ok := byPhone[p]; ok {
			out = append(out, ct)
		} else {
			extra = append(extra, p)
		}
	}
	return out, extra, nil
}

// listContacts reads the contacts of opts, every page, or only the first
// maxPages (0 for every page), and returns them and the last page's
// number.
func (r *runner) listContacts(ctx context.Context, opts sendbee.ContactsOptions, maxPages int) ([]sendbee.Contact, int, error) {
	var out []sendbee.Contact
	last := 0
	for page := 1; maxPages == 0 || page <= maxPages; page++ {
		opts.Page = page
		p, _, err := call(ctx, r.p, false, func(ctx context.Context) (*sendbee.Page[sendbee.Contact], *sendbee.Response, error) {
			return r.client.Contacts(ctx, opts)
		})
		if errors.Is(err, sendbee.ErrPagination) {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("broadcast: list contacts: %w", err)
		}
		out = append(out, p.Items...)
		last = p.Meta.LastPage
		if !p.HasNext() {
			break
		}
	}
	return out, last, nil
}

func indexByPhone(cs []sendbee.Contact) map[string]sendbee.Contact {
	m := make(map[string]sendbee.Contact, len(cs))
	for _, ct := range cs {
		if p, ok := normalizePhone(ct.Phone); ok {
			if _, dup := m[p]; !dup {
				m[p] = ct
			}
		}
	}
	return m
}

// send handles every recipient in turn.
func (r *runner) send(ctx context.Context) error {
	for _, rc := range r.recipients {
		if err := ctx.Err(); err != nil {
			return err
		}
		res, err := r.one(ctx, rc)
		if err != nil {
			return err
		}
		r.report.add(res)
		r.progress(time.Time{})
	}
	return nil
}

// maxAmbiguous is how many times one contact is sent the template after
// a send whose answer was lost and the platform showed it had not
// arrived.
const maxAmbiguous = 3

// one handles one recipient; an error stops the run (ctx's, or the
// Store's).
func (r *runner) one(ctx context.Context, rc *recipient) (Result, error) {
	res := rc.result()
	if res.Outcome != "" {
		return res, nil
	}
	key := recordKey(r.c.Name, rc.key)
	rec, err := load(ctx, r.store, key)
	if err != nil {
		return res, err
	}
	switch rec.State {
	case stateSent:
		res.Outcome, res.Earlier, res.MessageID, res.ConversationID = Sent, true, rec.MessageID, rec.ConversationID
		return res, nil
	case stateAttempt:
		done, err := r.settle(ctx, rc, key, rec, &res, true)
		if done || err != nil {
			return res, err
		}
	}
	for try := 1; ; try++ {
		rec := record{State: stateAttempt, Attempt: time.Now()}
		if err := save(ctx, r.store, key, rec, r.opts.StateTTL); err != nil {
			return res, err
		}
		sent, _, err := call(ctx, r.p, true, func(ctx context.Context) (*sendbee.SentMessage, *sendbee.Response, error) {
			return r.client.SendTemplateMessage(ctx, r.request(rc))
		})
		wctx := context.WithoutCancel(ctx) // the send happened: record it even when stopping
		if err == nil {
			res.Outcome, res.MessageID, res.ConversationID = Sent, sent.MessageID, sent.ConversationID
			return res, save(wctx, r.store, key, record{State: stateSent, Attempt: rec.Attempt,
				MessageID: sent.MessageID, ConversationID: sent.ConversationID}, r.opts.StateTTL)
		}
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			// Stopped while waiting for the rate limit: nothing was sent
			// (the send itself is never cancelled). Should the record stay,
			// the next run checks the conversation first.
			_ = r.store.Delete(wctx, key)
			return res, err
		}
		apiErr, isAPI := errors.AsType[*sendbee.APIError](err)
		_, isInvalid := errors.AsType[*sendbee.ValidationError](err)
		_, isRate := errors.AsType[*bot.RateLimitError](err)
		switch {
		case isRate:
			// Refused again and again: stop, to be resumed later.
			if serr := save(wctx, r.store, key, record{State: stateRefused, Attempt: rec.Attempt}, r.opts.StateTTL); serr != nil {
				return res, serr
			}
			return res, err
		case isInvalid || (isAPI && apiErr.StatusCode < 500):
			// Refused: nothing was sent.
			if isAPI && apiErr.Type == "contact_unsubscribed" {
				res.Outcome, res.Reason = Skipped, ReasonUnsubscribed
			} else {
				res.Outcome, res.Err = Failed, err
			}
			return res, save(wctx, r.store, key, record{State: stateRefused, Attempt: rec.Attempt}, r.opts.StateTTL)
		}
		// A 5xx or a lost answer: the send may have happened. Look.
		if try >= maxAmbiguous {
			res.Outcome, res.Err = Failed, err
			return res, nil // the attempt stays unresolved: the next run looks again
		}
		done, serr := r.settle(ctx, rc, key, rec, &res, false)
		if done || serr != nil {
			return res, serr
		}
	}
}

// settle looks on the platform for the template sent to rc by the
// attempt rec. It reports whether res is final: Sent (recorded), or
// Unknown; otherwise the template did not arrive and may be sent.
func (r *runner) settle(ctx context.Context, rc *recipient, key string, rec record, res *Result, earlier bool) (bool, error) {
	v, err := r.confirm(ctx, rc, rec.Attempt)
	if err != nil {
		if ctx.Err() != nil {
			return true, ctx.Err()
		}
		res.Outcome, res.Earlier, res.Reason = Unknown, earlier, "the platform could not be asked whether the earlier attempt arrived: "+err.Error()
		return true, nil
	}
	switch v.verdict {
	case arrived:
		res.Outcome, res.Earlier, res.MessageID, res.ConversationID = Sent, earlier, v.messageID, v.conversationID
		return true, save(context.WithoutCancel(ctx), r.store, key, record{State: stateSent, Attempt: rec.Attempt,
			MessageID: v.messageID, ConversationID: v.conversationID}, r.opts.StateTTL)
	case unclear:
		res.Outcome, res.Earlier, res.Reason = Unknown, earlier, v.reason
		return true, nil
	}
	return false, nil
}

// request builds the send of rc.
func (r *runner) request(rc *recipient) sendbee.SendTemplateMessageRequest {
	req := sendbee.SendTemplateMessageRequest{
		TemplateKeyword: r.tpl.Keyword, Language: r.tpl.Language,
		Tags: rc.values, ButtonTags: rc.buttons, Attachment: r.c.Attachment,
	}
	if strings.HasPrefix(rc.key, "wa:") {
		req.WhatsAppUserID = rc.contact.WhatsAppUserID
	} else {
		req.Phone = rc.key
	}
	if r.c.PreventBotOff {
		req.PreventBotOff = sendbee.Bool(true)
	}
	return req
}
