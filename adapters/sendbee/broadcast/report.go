package broadcast

import (
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// An Outcome is what became of one contact of a campaign.
type Outcome string

// Outcomes.
const (
	// Sent: the platform accepted the template for the contact (in this
	// run or an earlier one; see Result.Earlier).
	Sent Outcome = "sent"
	// Skipped: the contact was not sent the template, for Result.Reason
	// (such as ReasonUnsubscribed).
	Skipped Outcome = "skipped"
	// Failed: the platform refused the send, or it could not be made;
	// Result.Err says why. Running the campaign again tries again.
	Failed Outcome = "failed"
	// Unknown: a send was attempted (in this run or one that was
	// interrupted) and whether it reached the contact cannot be told from
	// the platform; Result.Reason says why. It is not sent again: check the
	// conversation, and resend by hand if needed.
	Unknown Outcome = "unknown"
	// Planned: a dry run would send the template to the contact.
	Planned Outcome = "planned"
)

// ReasonUnsubscribed is the Reason of a contact skipped because it is
// unsubscribed: by its status in the contact list, or because the
// platform refused the send as contact_unsubscribed.
const ReasonUnsubscribed = "unsubscribed"

// A Result is the outcome of one contact.
type Result struct {
	// Phone is the number the template goes to; ContactID and Name are
	// the contact's (empty for a number without a contact).
	Phone, ContactID, Name string
	Outcome                Outcome
	// MessageID and ConversationID identify the sent message (Sent).
	MessageID, ConversationID string
	// Reason says why a contact was Skipped or its outcome is Unknown.
	Reason string
	// Err is why a send Failed.
	Err error
	// Values are the body placeholders' values (when known).
	Values map[string]string
	// Earlier is true when an earlier run of the campaign sent the
	// template (Sent) or attempted it (Unknown).
	Earlier bool
}

// A Report says what a campaign did. It is returned by [Run] and
// [DryRun] and owned by the caller.
type Report struct {
	// Campaign, Template and Language are the campaign's.
	Campaign, Template, Language string
	// DryRun is true for a report of [DryRun].
	DryRun bool
	// Results has one entry per contact of the segment handled so far, in
	// the segment's order.
	Results []Result
	// Total is the number of contacts in the segment.
	Total int
	// Sent, Skipped, Failed, Unknown and Planned count the Results by
	// outcome; SentEarlier counts the Sent ones an earlier run sent.
	Sent, Skipped, Failed, Unknown, Planned, SentEarlier int
	// Started is when the run began; Elapsed how long it took.
	Started time.Time
	Elapsed time.Duration
	// Requests is the number of API requests the run made, and
	// RateLimited how many of them were answered 429.
	Requests, RateLimited int
	// AllowedRate is the rate limit the run paced itself to, in requests
	// per minute (0 when it took its budget from a bot.Pacer).
	AllowedRate float64
	// Rate is the rate the run achieved, in requests per minute, from its
	// first request to its last (0 with fewer than two requests).
	Rate float64
}

// Fraction returns Rate as a fraction of AllowedRate, 0 when either is 0.
func (r *Report) Fraction() float64 {
	if r.AllowedRate <= 0 {
		return 0
	}
	return r.Rate / r.AllowedRate
}

// SkipReasons counts the Skipped results by reason, for a summary.
func (r *Report) SkipReasons() map[string]int {
	out := map[string]int{}
	for _, res := range r.Results {
		if res.Outcome == Skipped {
			out[res.Reason]++
		}
	}
	return out
}

func (r *Report) add(res Result) {
	r.Results = append(r.Results, res)
	switch res.Outcome {
	case Sent:
		r.Sent++
		if res.Earlier {
			r.SentEarlier++
		}
	case Skipped:
		r.Skipped++
	case Failed:
		r.Failed++
	case Unknown:
		r.Unknown++
	case Planned:
		r.Planned++
	}
}

// CSVHeader is the header row [Report.WriteCSV] writes.
var CSVHeader = []string{"phone", "contact_id", "name", "outcome", "reason", "message_id", "conversation_id", "earlier", "values"}

// WriteCSV writes one row per Result, after the [CSVHeader] row. The
// values column lists the placeholders' values as "1=Ana; 2=Split", in
// placeholder order; reason holds the error of a failed send.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, res := range r.Results {
		reason := res.Reason
		if res.Err != nil {
			reason = res.Err.Error()
		}
		keys := make([]string, 0, len(res.Values))
		for k := range res.Values {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, comparePlaceholders)
		vals := make([]string, len(keys))
		for i, k := range keys {
			vals[i] = k + "=" + res.Values[k]
		}
		if err := cw.Write([]string{res.Phone, res.ContactID, res.Name, string(res.Outcome), reason,
			res.MessageID, res.ConversationID, strconv.FormatBool(res.Earlier), strings.Join(vals, "; ")}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// comparePlaceholders orders "2" before "10", and names after numbers.
func comparePlaceholders(a, b string) int {
	na, ea := strconv.Atoi(a)
	nb, eb := strconv.Atoi(b)
	switch {
	case ea == nil && eb == nil:
		return na - nb
	case ea == nil:
		return -1
	case eb == nil:
		return 1
	}
	return strings.Compare(a, b)
}
