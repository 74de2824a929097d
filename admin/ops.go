package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley/bot"
)

// A DeadLetter is a dead letter as the API shows it: where it was going,
// under which key, why it was given up and after how many attempts.
type DeadLetter struct {
	ID           string `json:"id"`
	Platform     string `json:"platform"`
	Conversation string `json:"conversation"`
	Thread       string `json:"thread,omitempty"`
	// Key is the message's idempotency key; ReplyTo the inbound message
	// it answers, if any.
	Key     string `json:"key"`
	ReplyTo string `json:"reply_to,omitempty"`
	Error   string `json:"error"`
	// OutcomeUnknown: the message may be on the platform already (see
	// bot.ErrOutcomeUnknown); a replay may deliver it twice.
	OutcomeUnknown bool      `json:"outcome_unknown"`
	Attempts       int       `json:"attempts"`
	Time           time.Time `json:"time"`
	Handoff        bool      `json:"handoff,omitempty"`
	Relay          bool      `json:"relay,omitempty"`
	Attachments    int       `json:"attachments,omitempty"`
	// Payload is the Go type of the message's platform payload (a
	// template, say), if it has one.
	Payload string `json:"payload,omitempty"`
	// Text is the message's text, only with WithMessageText.
	Text *string `json:"text,omitempty"`
}

func (s *server) letter(d bot.DeadLetter) DeadLetter {
	out := DeadLetter{ID: d.ID, Attempts: d.Attempts, Time: d.Time}
	if d.Err != nil {
		out.Error = d.Err.Error()
		out.OutcomeUnknown = errors.Is(d.Err, bot.ErrOutcomeUnknown)
	}
	if m := d.Message; m != nil {
		out.Platform, out.Conversation, out.Thread = m.Platform, m.Conversation, m.Thread
		out.Key, out.ReplyTo, out.Handoff, out.Relay = m.Key, m.ReplyTo, m.Handoff, m.Relay
		out.Attachments = len(m.Attachments)
		if m.Payload != nil {
			out.Payload = fmt.Sprintf("%T", m.Payload)
		}
		if s.cfg.text {
			out.Text = &m.Text
		}
	}
	return out
}

// deadLetterList is the answer of GET /admin/v1/dead-letters.
type deadLetterList struct {
	DeadLetters []DeadLetter `json:"dead_letters"`
	Total       int          `json:"total"`
}

// maxListLimit bounds the limit parameter of a list.
const maxListLimit = 1000

func (s *server) deadLetters(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			s.fail(w, r, badRequest("limit=%q: want a whole number from 1 to %d", v, maxListLimit))
			return
		}
		limit = n
	}
	list, err := s.b.DeadLetters(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := deadLetterList{DeadLetters: []DeadLetter{}, Total: len(list)}
	for _, d := range list[:min(limit, len(list))] {
		out.DeadLetters = append(out.DeadLetters, s.letter(d))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) deadLetter(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	list, err := s.b.DeadLetters(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, d := range list {
		if d.ID == id {
			writeJSON(w, http.StatusOK, s.letter(d))
			return
		}
	}
	s.fail(w, r, fmt.Errorf("admin: dead letter %q: %w", id, bot.ErrNotFound))
}

// letterDone is the answer of a replay or a discard.
type letterDone struct {
	ID     string `json:"id"`
	Status string `json:"status"` // "replayed" or "discarded"
}

func (s *server) replay(w http.ResponseWriter, r *http.Request) {
	if err := decodeBody(r, &struct{}{}); err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	if err := s.b.Replay(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, letterDone{ID: id, Status: "replayed"})
}

func (s *server) discard(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.b.Discard(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, letterDone{ID: id, Status: "discarded"})
}

// job is a scheduled job as the API shows it.
type job struct {
	Name string `json:"name"`
	Spec string `json:"spec"`
	// Next is the next fire time; null when there is none.
	Next *time.Time `json:"next"`
}

func (s *server) jobs(w http.ResponseWriter, _ *http.Request) {
	out := struct {
		Jobs []job `json:"jobs"`
	}{Jobs: []job{}}
	for _, j := range s.b.Jobs() {
		v := job{Name: j.Name, Spec: j.Spec}
		if !j.Next.IsZero() {
			v.Next = &j.Next
		}
		out.Jobs = append(out.Jobs, v)
	}
	writeJSON(w, http.StatusOK, out)
}

// jobRun is the answer of POST /admin/v1/jobs/{name}/run.
type jobRun struct {
	Job      string        `json:"job"`
	Duration time.Duration `json:"duration"` // in nanoseconds
}

func (s *server) runJob(w http.ResponseWriter, r *http.Request) {
	if err := decodeBody(r, &struct{}{}); err != nil {
		s.fail(w, r, err)
		return
	}
	name := r.PathValue("name")
	// The run goes on if the client goes (the job's timeout and the
	// Bot's shutdown bound it), and its answer may come after the
	// server's write timeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	start := time.Now()
	if err := s.b.RunJob(context.WithoutCancel(r.Context()), name); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, jobRun{Job: name, Duration: time.Since(start)})
}

// route is a route of the Bot as the API shows it.
type route struct {
	Name        string `json:"name,omitempty"`
	Rule        string `json:"rule"`
	Usage       string `json:"usage,omitempty"`
	Description string `json:"description,omitempty"`
	Priority    int    `json:"priority"`
	Observer    bool   `json:"observer,omitempty"`
}

func (s *server) rules(w http.ResponseWriter, _ *http.Request) {
	out := struct {
		Routes []route `json:"routes"`
	}{Routes: []route{}}
	for _, rt := range s.b.Routes() {
		out.Routes = append(out.Routes, route{Name: rt.Name, Rule: rt.Rule, Usage: rt.Usage, Description: rt.Description,
			Priority: rt.Priority, Observer: rt.Observer})
	}
	writeJSON(w, http.StatusOK, out)
}

// explainRequest is the body of POST /admin/v1/explain.
type explainRequest struct {
	Text         string `json:"text"`
	Platform     string `json:"platform"`
	Conversation string `json:"conversation"`
	Kind         string `json:"kind"`
	Direct       bool   `json:"direct"`
	Owner        string `json:"owner"`
	Author       string `json:"author"`
}

func (s *server) explainMessage(w http.ResponseWriter, r *http.Request) {
	if s.cfg.explain == nil {
		writeError(w, http.StatusNotImplemented, "admin: explain is not available: the handler was built without an explainer")
		return
	}
	var req explainRequest
	if err := decodeBody(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if strings.TrimSpace(req.Text) == "" {
		s.fail(w, r, badRequest(`the body: want {"text": "…"} and optionally platform, conversation, kind, direct, owner, author`))
		return
	}
	m := &bot.Message{ID: "explain", Platform: req.Platform, Conversation: req.Conversation, Text: req.Text,
		Kind: bot.Kind(req.Kind), Direct: req.Direct, Time: time.Now(),
		Author: bot.User{ID: "someone", Name: "Someone"}}
	if req.Author != "" {
		m.Author = bot.User{ID: req.Author, Name: req.Author}
	}
	if m.Conversation == "" {
		m.Conversation = "explain"
	}
	switch req.Owner {
	case "":
		if req.Conversation != "" && s.b.Adapter(req.Platform) != nil {
			owner, err := s.b.Owner(r.Context(), req.Platform, req.Conversation)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			m.Owner = owner
		}
	case "bot", "human":
		_ = m.Owner.UnmarshalText([]byte(req.Owner))
	default:
		s.fail(w, r, badRequest(`owner %q: want "bot" or "human"`, req.Owner))
		return
	}
	x, err := s.cfg.explain(r.Context(), m)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, x)
}

// statsAnswer is the answer of GET /admin/v1/stats.
type statsAnswer struct {
	Received      int64 `json:"received"`
	Duplicates    int64 `json:"duplicates"`
	Handled       int64 `json:"handled"`
	HandlerErrors int64 `json:"handler_errors"`
	Panics        int64 `json:"panics"`
	Queued        int64 `json:"queued"`
	Sent          int64 `json:"sent"`
	SendSkipped   int64 `json:"send_skipped"`
	Confirmed     int64 `json:"confirmed"`
	Suppressed    int64 `json:"suppressed"`
	Retries       int64 `json:"retries"`
	DeadLettered  int64 `json:"dead_lettered"`
	Replayed      int64 `json:"replayed"`
	Handoffs      int64 `json:"handoffs"`
	Resumes       int64 `json:"resumes"`
	JobRuns       int64 `json:"job_runs"`
	// PendingInbound and PendingOutbound wait in this process's queues.
	PendingInbound  int `json:"pending_inbound"`
	PendingOutbound int `json:"pending_outbound"`
	// FeedDropped counts the events the feed's subscribers lost.
	FeedDropped uint64 `json:"feed_dropped"`
}

func (s *server) stats(w http.ResponseWriter, _ *http.Request) {
	st := s.b.Stats()
	in, out := s.b.Pending()
	writeJSON(w, http.StatusOK, statsAnswer{
		Received: st.Received, Duplicates: st.Duplicates, Handled: st.Handled, HandlerErrors: st.HandlerErrors,
		Panics: st.Panics, Queued: st.Queued, Sent: st.Sent, SendSkipped: st.SendSkipped, Confirmed: st.Confirmed,
		Suppressed: st.Suppressed, Retries: st.Retries, DeadLettered: st.DeadLettered, Replayed: st.Replayed,
		Handoffs: st.Handoffs, Resumes: st.Resumes, JobRuns: st.JobRuns,
		PendingInbound: in, PendingOutbound: out, FeedDropped: s.b.FeedDropped(),
	})
}
