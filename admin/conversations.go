package admin

import (
	"container/list"
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/flow"
)

// A Conversation is what the handler saw of a conversation on the event
// feed since it was built.
type Conversation struct {
	Platform     string    `json:"platform"`
	Conversation string    `json:"conversation"`
	FirstSeen    time.Time `json:"first_seen"`
	LastActivity time.Time `json:"last_activity"`
	// Owner is the owner its latest owner event said ("bot" or "human");
	// empty when none came.
	Owner string `json:"owner,omitempty"`
	// Events counts its events by type.
	Events map[bot.EventType]int64 `json:"events"`
}

type convKey struct{ platform, conversation string }

// tracker keeps the conversations of the event feed, the most recently
// active first, forgetting the least recently active beyond limit.
type tracker struct {
	mu      sync.Mutex
	since   time.Time         // when it started to follow the feed; zero before
	sub     *bot.Subscription // nil before
	limit   int
	order   *list.List // of *Conversation, the most recently active first
	byKey   map[convKey]*list.Element
	dropped uint64 // by the subscriptions of Runs before
}

func newTracker(limit int) *tracker {
	return &tracker{limit: limit, order: list.New(), byKey: map[convKey]*list.Element{}}
}

// start makes t follow b's event feed while b runs, from a Background
// task of b (which starts at once when b runs already), so that nothing
// of it outlives b's Run. Built once b has begun its shutdown, t follows
// nothing: Background panics then, and there is nothing left to follow.
func (t *tracker) start(b *bot.Bot) {
	defer func() { _ = recover() }()
	b.Background(func(ctx context.Context) { t.read(ctx, t.subscribe(b)) })
}

// trackedTypes are the events the conversation list follows: three a
// message answered once (received, owner, sent), so that serving the API
// costs the Bot little, as a step nobody subscribed to costs it nothing.
var trackedTypes = []bot.EventType{bot.EventReceived, bot.EventDuplicate, bot.EventOwner, bot.EventSent,
	bot.EventSuppressed, bot.EventDeadLettered, bot.EventOwnerChanged, bot.EventFlowStep}

func (t *tracker) subscribe(b *bot.Bot) *bot.Subscription {
	sub := b.Subscribe(0, trackedTypes...)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sub != nil {
		t.dropped += t.sub.Dropped()
	}
	t.since, t.sub = time.Now(), sub
	return sub
}

// read counts sub's events until ctx is done or the subscription ends.
func (t *tracker) read(ctx context.Context, sub *bot.Subscription) {
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.Events():
			if !ok {
				return
			}
			t.add(&e)
		}
	}
}

// state returns when t started to follow the feed and the events it lost.
func (t *tracker) state() (since time.Time, dropped uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	dropped = t.dropped
	if t.sub != nil {
		dropped += t.sub.Dropped()
	}
	return t.since, dropped
}

// add counts e for its conversation.
func (t *tracker) add(e *bot.Event) {
	if e.Platform == "" || e.Conversation == "" {
		return // a job's event, or an adapter's
	}
	k := convKey{e.Platform, e.Conversation}
	t.mu.Lock()
	defer t.mu.Unlock()
	el := t.byKey[k]
	if el == nil {
		el = t.order.PushFront(&Conversation{Platform: e.Platform, Conversation: e.Conversation,
			FirstSeen: e.Time, Events: map[bot.EventType]int64{}})
		t.byKey[k] = el
		for t.order.Len() > t.limit {
			last := t.order.Back()
			c := t.order.Remove(last).(*Conversation)
			delete(t.byKey, convKey{c.Platform, c.Conversation})
		}
	} else {
		t.order.MoveToFront(el)
	}
	c := el.Value.(*Conversation)
	if e.Time.After(c.LastActivity) {
		c.LastActivity = e.Time
	}
	if e.Owner != "" && (e.Type == bot.EventOwner || e.Type == bot.EventOwnerChanged) {
		c.Owner = e.Owner
	}
	c.Events[e.Type]++
}

// list returns copies of the conversations, the most recently active
// first.
func (t *tracker) list() []Conversation {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Conversation, 0, t.order.Len())
	for el := t.order.Front(); el != nil; el = el.Next() {
		out = append(out, copyConversation(el.Value.(*Conversation)))
	}
	return out
}

// get returns a copy of a conversation, or nil.
func (t *tracker) get(platform, conversation string) *Conversation {
	t.mu.Lock()
	defer t.mu.Unlock()
	el := t.byKey[convKey{platform, conversation}]
	if el == nil {
		return nil
	}
	c := copyConversation(el.Value.(*Conversation))
	return &c
}

func copyConversation(c *Conversation) Conversation {
	out := *c
	out.Events = maps.Clone(c.Events)
	return out
}

// conversationList is the answer of GET /admin/v1/conversations.
type conversationList struct {
	Conversations []Conversation `json:"conversations"`
	// Since is when the handler started to follow the feed: when the
	// Bot's Run started (null before).
	Since *time.Time `json:"since"`
	Limit int        `json:"limit"`
	// Dropped counts the events the handler lost (it fell behind).
	Dropped uint64 `json:"dropped"`
}

func (s *server) conversations(w http.ResponseWriter, _ *http.Request) {
	since, dropped := s.convs.state()
	out := conversationList{Conversations: s.convs.list(), Limit: s.convs.limit, Dropped: dropped}
	if !since.IsZero() {
		out.Since = &since
	}
	writeJSON(w, http.StatusOK, out)
}

// conversationDetail is the answer of GET
// /admin/v1/conversations/{platform}/{conversation}.
type conversationDetail struct {
	Platform     string `json:"platform"`
	Conversation string `json:"conversation"`
	// Owner is the owner the Bot records.
	Owner string `json:"owner"`
	// Seen is what the handler saw of it; nil when nothing since it started.
	Seen *Conversation `json:"seen"`
	// Window is its customer-service window, on a platform that has one
	// (WhatsApp, through Sendbee); absent elsewhere, and when neither the
	// Bot nor the platform can tell.
	Window *windowState `json:"window,omitempty"`
	// OptedOut is when its customer opted out of proactive messages;
	// absent when they did not (or the platform keeps no opt-outs).
	OptedOut *time.Time `json:"opted_out,omitempty"`
	// Flow is its active flow: present (null when none) only when the
	// handler has a flow engine.
	Flow *flowState `json:"flow,omitempty"`
}

// windowState is a conversation's customer-service window, as the API
// shows it: whether free-form messages may be sent, when the customer
// last wrote and when the window closes (null when the customer never
// wrote).
type windowState struct {
	Open        bool       `json:"open"`
	LastInbound *time.Time `json:"last_inbound"`
	ClosesAt    *time.Time `json:"closes_at"`
}

// policy adds the window and the opt-out of d's conversation to d.
func (s *server) policy(ctx context.Context, d *conversationDetail) error {
	if w, err := s.b.Window(ctx, d.Platform, d.Conversation); err == nil && w.Applies {
		ws := &windowState{Open: w.Open}
		if !w.LastInbound.IsZero() {
			ws.LastInbound, ws.ClosesAt = &w.LastInbound, &w.ClosesAt
		}
		d.Window = ws
	}
	out, since, err := s.b.OptedOut(ctx, d.Platform, d.Conversation)
	if err != nil {
		return err
	}
	if out {
		d.OptedOut = &since
	}
	return nil
}

// flowState is a conversation's flow, as the API shows it.
type flowState struct {
	Flow     string    `json:"flow"`
	Run      string    `json:"run"`
	Step     string    `json:"step"`
	Attempts int       `json:"attempts"`
	Paused   bool      `json:"paused"`
	Started  time.Time `json:"started"`
	Asked    time.Time `json:"asked"`
	// ValueNames name the values saved; Values are the values, only with
	// WithMessageText.
	ValueNames []string       `json:"value_names"`
	Values     map[string]any `json:"values,omitempty"`
}

func (s *server) conversation(w http.ResponseWriter, r *http.Request) {
	platform, conv := r.PathValue("platform"), r.PathValue("conversation")
	owner, err := s.b.Owner(r.Context(), platform, conv)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := conversationDetail{Platform: platform, Conversation: conv, Owner: owner.String(), Seen: s.convs.get(platform, conv)}
	if err := s.policy(r.Context(), &d); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.cfg.flows == nil {
		writeJSON(w, http.StatusOK, d)
		return
	}
	st, err := s.cfg.flows.State(r.Context(), platform, conv)
	switch {
	case errors.Is(err, flow.ErrNoFlow):
	case err != nil:
		s.fail(w, r, err)
		return
	default:
		names := slices.Sorted(maps.Keys(st.Values))
		d.Flow = &flowState{Flow: st.Flow, Run: st.Run, Step: st.Step, Attempts: st.Attempts, Paused: st.Paused,
			Started: st.Started, Asked: st.Asked, ValueNames: names}
		if s.cfg.text {
			d.Flow.Values = st.Values
		}
	}
	// With a flow engine, "flow" is always there: null when none runs.
	type withFlow struct {
		conversationDetail
		Flow *flowState `json:"flow"`
	}
	writeJSON(w, http.StatusOK, withFlow{conversationDetail: d, Flow: d.Flow})
}

// ownerChange is the answer of a handoff or a resume.
type ownerChange struct {
	Platform     string `json:"platform"`
	Conversation string `json:"conversation"`
	Owner        string `json:"owner"`
}

// setOwner returns the handler of POST …/handoff (who is OwnerHuman) and
// …/resume (OwnerBot).
func (s *server) setOwner(who bot.Owner) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := decodeBody(r, &struct{}{}); err != nil {
			s.fail(w, r, err)
			return
		}
		platform, conv := r.PathValue("platform"), r.PathValue("conversation")
		change := s.b.Resume
		if who == bot.OwnerHuman {
			change = s.b.Handoff
		}
		if err := change(r.Context(), platform, conv); err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, ownerChange{Platform: platform, Conversation: conv, Owner: who.String()})
	}
}
