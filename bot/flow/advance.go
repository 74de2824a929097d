package flow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/parleybot/parley/bot"
)

// Text is a Prompt that says a fixed text.
type Text string

// Prompt returns a message with the text.
func (t Text) Prompt(context.Context, *State) (*bot.Message, error) {
	return &bot.Message{Text: string(t)}, nil
}

// handle is the engine's route: it advances the flow of m's conversation,
// or returns bot.ErrContinue when m is not for a flow (never for the
// engine's timer events, which no other route is to see).
func (e *Engine) handle(ctx context.Context, w bot.Sender, m *bot.Message) error {
	if bot.OwnerOf(ctx) == bot.OwnerHuman {
		// A human owns the conversation: the flow waits, paused.
		err := e.update(ctx, m.Platform, m.Conversation, func(rec *record) bool {
			if rec == nil || rec.Ended || (rec.Paused && !rec.Handoff) {
				return false
			}
			rec.Paused, rec.Handoff = true, false // a handoff owed is done
			return true
		})
		if err != nil || m.Kind == TimerKind {
			return err // the engine's timers are for no other route
		}
		return bot.ErrContinue
	}
	for range maxConflicts {
		rec, rev, err := e.states.load(ctx, m.Platform, m.Conversation)
		if err != nil {
			return err
		}
		replay := rec != nil && m.ID != "" && (rec.Last == m.ID ||
			m.Kind == TimerKind && rec.Fired != nil && rec.Fired.ID == timerOf(m.ID))
		if rec != nil && rec.tookBefore(m.ID) {
			return nil // a redelivery of an event taken before the last
		}
		if rec == nil || (rec.Ended && !replay) {
			if m.Kind == TimerKind {
				return nil // a flow gone since the timer was due
			}
			if rec != nil && len(rec.Pending) > 0 {
				// The run ended owing OnDone calls (or its closing
				// message): finish them, and let the message go on.
				if err := e.complete(ctx, w, m, nil, rec); err != nil {
					e.logger.LogAttrs(ctx, slog.LevelError, "flow: finishing an ended run", slog.Any("msg", m),
						slog.Any("error", err))
				}
			}
			return bot.ErrContinue
		}
		f := e.flow(rec.Flow)
		if f == nil {
			e.logger.LogAttrs(ctx, slog.LevelWarn, "conversation in a flow not defined here", slog.Any("msg", m),
				slog.String("flow", rec.Flow))
			if m.Kind == TimerKind {
				return nil
			}
			return bot.ErrContinue
		}
		if replay || rec.Handoff || (len(rec.Pending) > 0 && m.Kind != TimerKind && !rec.Paused) {
			// The event advanced the flow already (this is a redelivery),
			// or an earlier advance did not finish (its calls, or the
			// handoff it owes): finish it.
			by := m // a redelivery: the event the advance was made for
			if !replay {
				by = nil // an earlier event's advance
			}
			return e.completed(ctx, w, m, by, rec)
		}
		prev := rec.deadline(f)
		next, err := e.decide(ctx, m, rec, f)
		if next == nil || err != nil {
			return err
		}
		v, err := e.states.encode(next, rev)
		if errors.Is(err, ErrTooLarge) && m.Kind.Or() == bot.KindMessage && !rec.Paused {
			// The answer would not fit: refused like an invalid one.
			next = rec.clone()
			next.Seq++
			next.took(m.ID)
			e.refuse(next, f, f.step(rec.Step), &InvalidError{Reason: "answer too long", Reask: "That answer is too long."}, e.now())
			v, err = e.states.encode(next, rev)
		}
		if err != nil {
			return err
		}
		// The index has an entry at prev, unless prev has come (the sweep
		// may be done with it).
		if due := next.deadline(f); !due.IsZero() && (prev.IsZero() || due.Before(prev) || !prev.After(e.now())) {
			if err := e.index.addDue(ctx, m.Platform, m.Conversation, due); err != nil {
				return err
			}
		}
		err = e.states.write(ctx, next, v, rev, e.ttl(next))
		if errors.Is(err, bot.ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		e.stepped(rec, next, m.ID, "")
		if next.Ended {
			if err := e.index.unlist(ctx, m.Platform, m.Conversation); err != nil {
				e.b.Logger().LogAttrs(ctx, slog.LevelWarn, "flow: list of active flows not updated; its entry expires", slog.Any("error", err))
			}
		}
		return e.completed(ctx, w, m, m, next)
	}
	return fmt.Errorf("flow: advance %s/%s: %w %d times", m.Platform, m.Conversation, bot.ErrConflict, maxConflicts)
}

// decide returns the record m makes of rec, or nil when m changes
// nothing; the error bot.ErrContinue says m is not for the flow.
func (e *Engine) decide(ctx context.Context, m *bot.Message, rec *record, f *compiled) (*record, error) {
	now := e.now()
	n := rec.clone()
	n.Seq++
	n.took(m.ID)
	n.Fired = nil // a timer's advance not done is superseded
	st := f.step(rec.Step)
	if st == nil {
		return nil, fmt.Errorf("flow: %s/%s: flow %q has no step %q", m.Platform, m.Conversation, rec.Flow, rec.Step)
	}
	switch {
	case m.Kind == TimerKind:
		kind, fired := rec.firing(f, m, now)
		n.Fired = fired
		switch kind {
		case "timeout":
			if st.Timeout.Say != nil {
				n.Out = append(n.Out, outRef{Kind: outSay, Step: st.Name, Key: n.key(outSay)})
			}
			e.transition(n, f, or(st.Timeout.Then, Cancel), now)
		case "remind":
			n.Reminded = true
			n.Out = append(n.Out, outRef{Kind: outRemind, Step: st.Name, Key: n.key(outRemind)})
		default:
			return nil, nil // answered, paused or done since it was due
		}
		return n, nil
	case rec.Paused:
		// Back with the bot after a handoff.
		if f.OnHandoff == EndAfterHandoff {
			n.end()
			return n, nil
		}
		n.Paused, n.Asked, n.Reminded = false, now, false
		n.Out = append(n.Out, outRef{Kind: outAsk, Step: st.Name, Key: n.key(outAsk)})
		return n, nil
	case m.Kind.Or() != bot.KindMessage || m.Author.Bot || m.Author.Agent:
		return nil, bot.ErrContinue
	}

	text := strings.TrimSpace(m.Text)
	a := Answer{Message: m, Text: text, Values: rec.Values.clone()}
	var (
		v   any
		err error
	)
	if st.Check != nil {
		v, err = st.Check.Check(ctx, a)
	} else if text == "" {
		err = Invalid("empty answer", "")
	} else {
		v = text
	}
	var inv *InvalidError
	switch {
	case errors.As(err, &inv):
		e.refuse(n, f, st, inv, now)
		return n, nil
	case err != nil:
		return nil, fmt.Errorf("flow %q step %q: check: %w", rec.Flow, st.Name, err)
	}
	if st.Save != "" {
		if err := n.Values.merge(map[string]any{st.Save: v}); err != nil {
			return nil, fmt.Errorf("flow %q step %q: %w", rec.Flow, st.Name, err)
		}
	}
	for i := range st.Actions {
		n.Pending = append(n.Pending, pendingCall{Step: st.Name, Index: i, Action: st.Actions[i].Action,
			Key: n.key(fmt.Sprintf("act:%d", i))})
	}
	n.Message = prompted(m) // not stored: see State.Message
	to, err := e.choose(ctx, f, st, &n.State)
	if err != nil {
		return nil, err
	}
	e.transition(n, f, to, now)
	return n, nil
}

// refuse makes n the refusal of an answer to st: a re-ask, or, after
// Retry.Max refusals, Retry.Say and Retry.Then.
func (e *Engine) refuse(n *record, f *compiled, st *Step, inv *InvalidError, now time.Time) {
	n.Attempts++
	limit := st.Retry.Max
	if limit == 0 {
		limit = 2
	}
	if limit >= 0 && n.Attempts > limit {
		if st.Retry.Say != nil {
			n.Out = append(n.Out, outRef{Kind: outGiveUp, Step: st.Name, Key: n.key(outGiveUp)})
		}
		e.transition(n, f, or(st.Retry.Then, HandOff), now)
		return
	}
	n.Asked, n.Reminded = now, false
	n.Out = append(n.Out, outRef{Kind: outReask, Step: st.Name, Text: inv.Reask, Key: n.key(outReask)})
}

// choose returns the step after st: the first branch whose condition
// holds, else Default, else the following step, else End.
func (e *Engine) choose(ctx context.Context, f *compiled, st *Step, s *State) (string, error) {
	for i, br := range st.Next.Branches {
		ok, err := br.When.Holds(ctx, s)
		if err != nil {
			return "", fmt.Errorf("flow %q step %q: branch %d: %w", f.Name, st.Name, i+1, err)
		}
		if ok {
			return br.Goto, nil
		}
	}
	if st.Next.Default != "" {
		return st.Next.Default, nil
	}
	return f.following(f.index[st.Name]), nil
}

// transition moves n to target.
func (e *Engine) transition(n *record, f *compiled, target string, now time.Time) {
	switch target {
	case End:
		n.Ended = true
		for i := range f.OnDone {
			n.Pending = append(n.Pending, pendingCall{Index: i, Action: f.OnDone[i].Action, Key: n.key(fmt.Sprintf("done:%d", i))})
		}
		if f.Done != nil {
			n.Out = append(n.Out, outRef{Kind: outDone, Key: n.key(outDone)})
		}
	case Cancel:
		n.Ended = true
	case HandOff:
		n.Paused, n.Handoff = true, true
	default:
		n.Step, n.Attempts, n.Asked, n.Reminded = target, 0, now, false
		n.Out = append(n.Out, outRef{Kind: outAsk, Step: target, Key: n.key(outAsk)})
	}
}

// complete does what the advance recorded in rec owes: the pending
// action calls, the messages, then the handoff (on the last message, or
// after the messages, which a human-owned conversation would suppress). Each is done under its key,
// or recorded done, so doing it again (a replay, or the next event after
// a failure) repeats nothing that was done. m is the event being handled,
// or nil for Start; by is the event that made the advance (nil when it is
// not m), which the prompts see.
func (e *Engine) complete(ctx context.Context, w bot.Sender, m, by *bot.Message, rec *record) error {
	f := e.flow(rec.Flow)
	if f == nil {
		return fmt.Errorf("%w %q", ErrUnknownFlow, rec.Flow)
	}
	var errs []error
	for _, pc := range rec.Pending {
		if err := e.call(ctx, w, m, rec, f, pc); err != nil {
			if !errors.Is(err, errGaveUp) {
				return err // tried again with the next event
			}
			errs = append(errs, err)
		}
	}
	carried := false // the handoff rides on the last message
	for i, o := range rec.Out {
		last := rec.Handoff && i == len(rec.Out)-1
		sent, err := e.say(ctx, w, rec, f, o, by, last)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		carried = last && sent
	}
	if rec.Handoff {
		if err := e.handoff(ctx, rec, carried); err != nil {
			return errors.Join(append(errs, err)...)
		}
	}
	return errors.Join(errs...)
}

// handoff hands rec's conversation to humans and records the handoff
// done; when it fails, the record still owes it and the next event of
// the conversation tries again. carried says the advance's last message
// carries the handoff (bot.Message.Handoff), so that the outbox hands
// off once it is delivered rather than suppressing it.
func (e *Engine) handoff(ctx context.Context, rec *record, carried bool) error {
	if !carried {
		if err := e.b.Handoff(ctx, rec.Platform, rec.Conversation); err != nil {
			return fmt.Errorf("flow %q: hand off %s/%s (tried again with the next event): %w",
				rec.Flow, rec.Platform, rec.Conversation, err)
		}
	}
	return e.update(ctx, rec.Platform, rec.Conversation, func(cur *record) bool {
		if cur == nil || cur.Run != rec.Run || !cur.Handoff {
			return false
		}
		cur.Handoff = false
		return true
	})
}

// completed is complete for the advance m made, or its replay; the
// advance of a timer is then marked done (see record.Fired).
func (e *Engine) completed(ctx context.Context, w bot.Sender, m, by *bot.Message, rec *record) error {
	if err := e.complete(ctx, w, m, by, rec); err != nil || m.Kind != TimerKind {
		return err
	}
	return e.timerDone(ctx, m)
}

var errGaveUp = errors.New("flow: action failed; the flow goes on without it")

// call runs one pending action call and records it done (or tried).
func (e *Engine) call(ctx context.Context, w bot.Sender, m *bot.Message, rec *record, f *compiled, pc pendingCall) error {
	c := f.call(pc)
	var err error
	if c == nil || (pc.Action != "" && c.Action != pc.Action) {
		// The flow was defined again without this call: run nothing
		// under its key rather than another action.
		e.logger.LogAttrs(ctx, slog.LevelWarn, "flow: pending action call skipped: the flow's definition changed",
			slog.String("flow", f.Name), slog.String("step", pc.Step), slog.Int("call", pc.Index),
			slog.String("action", pc.Action), slog.String("key", pc.Key))
		return e.update(ctx, rec.Platform, rec.Conversation, func(cur *record) bool {
			if cur == nil || cur.Run != rec.Run || len(cur.Pending) == 0 || cur.Pending[0].Key != pc.Key {
				return false
			}
			cur.Pending = cur.Pending[1:]
			return true
		})
	} else if a := e.action(c.Action); a == nil {
		err = fmt.Errorf("flow %q: action %q is not registered", f.Name, c.Action)
	} else {
		ac := ActionCall{Key: pc.Key, Flow: rec.Flow, Step: pc.Step, Platform: rec.Platform,
			Conversation: rec.Conversation, Values: rec.Values.clone(), Args: maps.Clone(c.Args), Sender: w}
		if m != nil {
			ac.Contact = m.Author
		}
		err = a.Run(ctx, ac)
		if err != nil {
			err = fmt.Errorf("flow %q: action %q (key %s): %w", f.Name, c.Action, pc.Key, err)
		}
	}
	gaveUp := false
	uerr := e.update(ctx, rec.Platform, rec.Conversation, func(cur *record) bool {
		if cur == nil || cur.Run != rec.Run || len(cur.Pending) == 0 || cur.Pending[0].Key != pc.Key {
			return false
		}
		if err == nil || cur.Pending[0].Tries+1 >= maxActionTries {
			cur.Pending = cur.Pending[1:]
			gaveUp = err != nil
		} else {
			cur.Pending[0].Tries++
		}
		return true
	})
	switch {
	case gaveUp:
		return fmt.Errorf("%w: %w", errGaveUp, err)
	case err != nil:
		return err
	}
	return uerr
}

// say sends one of an advance's messages under its key, with Handoff set
// when handoff says so, and reports whether there was one to send; by is
// the event that led to it (see State.Message).
func (e *Engine) say(ctx context.Context, w bot.Sender, rec *record, f *compiled, o outRef, by *bot.Message, handoff bool) (bool, error) {
	st := f.step(o.Step)
	var p Prompt
	switch o.Kind {
	case outAsk:
		if st != nil {
			p = st.Ask
		}
	case outReask:
		switch {
		case o.Text != "":
			p = Text(o.Text)
		case st != nil && st.Retry.Message != "":
			p = Text(st.Retry.Message)
		case st != nil:
			p = st.Ask
		}
	case outRemind:
		if st != nil && st.Remind != nil && st.Remind.Ask != nil {
			p = st.Remind.Ask
		} else if st != nil {
			p = st.Ask
		}
	case outSay:
		if st != nil && st.Timeout != nil {
			p = st.Timeout.Say
		}
	case outGiveUp:
		if st != nil {
			p = st.Retry.Say
		}
	case outDone:
		p = f.Done
	}
	if p == nil {
		return false, nil
	}
	s := rec.State
	s.Values = s.Values.clone()
	s.Message = prompted(by)
	if win, err := e.b.Window(ctx, rec.Platform, rec.Conversation); err == nil {
		s.Window = win
	}
	msg, err := p.Prompt(ctx, &s)
	if err != nil {
		return false, fmt.Errorf("flow %q step %q: prompt: %w", rec.Flow, o.Step, err)
	}
	if msg == nil {
		return false, nil
	}
	msg.Platform, msg.Conversation, msg.Key = rec.Platform, rec.Conversation, o.Key
	msg.Handoff = msg.Handoff || handoff
	if s.Message != nil && !s.Message.Author.Bot && !s.Message.Author.Agent {
		// An answer to the customer's message; a reminder or a
		// proactive start is not one (see bot.OptOutController).
		msg.ReplyTo = s.Message.ID
	}
	err = w.Send(ctx, msg)
	if errors.Is(err, bot.ErrOptedOut) || errors.Is(err, bot.ErrWindowClosed) {
		// The platform's rules forbid it: the prompt is not owed.
		e.logger.LogAttrs(ctx, slog.LevelInfo, "flow: prompt not sent", slog.String("platform", rec.Platform),
			slog.String("conversation", rec.Conversation), slog.String("flow", rec.Flow), slog.String("step", o.Step),
			slog.String("why", err.Error()))
		return false, nil
	}
	return true, err
}

// interrupted applies the flow's Interrupt policy after a global route
// handled m; run is the run that waited before it.
func (e *Engine) interrupted(ctx context.Context, w bot.Sender, m *bot.Message, run string, handoff bool) error {
	var ask *record
	ended := false
	err := e.update(ctx, m.Platform, m.Conversation, func(rec *record) bool {
		if rec == nil || rec.Ended || rec.Paused || rec.Run != run {
			return false // cancelled, paused or replaced by the handler
		}
		f := e.flow(rec.Flow)
		switch {
		case f == nil:
			return false
		case handoff:
			rec.Paused = true
			return true
		case f.Interrupt == CancelOnInterrupt:
			rec.end()
			ended = true
			return true
		}
		ask = rec
		return false
	})
	if err != nil {
		return err
	}
	if ended {
		return e.index.unlist(ctx, m.Platform, m.Conversation)
	}
	if ask == nil {
		return nil
	}
	key := ask.key("int")
	if m.ID != "" {
		key += ":" + m.ID
	} else {
		key = "" // the Bot gives it one
	}
	_, err = e.say(ctx, w, ask, e.flow(ask.Flow), outRef{Kind: outAsk, Step: ask.Step, Key: key}, m, false)
	return err
}

// prompted returns m when it is a message that prompts may see (see
// State.Message): of Kind message, not a timer or another event.
func prompted(m *bot.Message) *bot.Message {
	if m == nil || m.Kind.Or() != bot.KindMessage {
		return nil
	}
	return m
}

// stepped tells the Bot's event feed, when someone listens, that the
// event with ID id moved the run from prev (nil: it started) to next:
// an EventFlowStep with the step next waits at ("" once it ended), its
// attempts, and how (reason, or one made of prev and next).
func (e *Engine) stepped(prev, next *record, id, reason string) {
	if !e.b.Watched(bot.EventFlowStep) {
		return
	}
	ev := bot.Event{Type: bot.EventFlowStep, Platform: next.Platform, Conversation: next.Conversation, Message: id,
		Flow: next.Flow, Step: next.Step, Attempt: next.Attempts, Reason: reason}
	switch {
	case reason != "":
	case next.Ended:
		ev.Step, ev.Reason = "", "ended after "+prev.Step
	case next.Paused && !prev.Paused:
		ev.Reason = "paused: a person took over"
	case prev.Paused && !next.Paused:
		ev.Reason = "resumed"
	case next.Step != prev.Step:
		ev.Reason = "answered " + prev.Step
	case next.Attempts > prev.Attempts:
		ev.Reason = "answer refused"
	case next.Reminded && !prev.Reminded:
		ev.Reason = "reminded"
	default:
		ev.Reason = "asked again"
	}
	e.b.Emit(ev)
}
