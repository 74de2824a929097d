package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/parleybot/parley/bot"
)

// The Broker is the Bot's dead-letter store: its dead letters live in the
// stream "<name>_DEAD", one message each, so that every replica lists,
// replays and discards the same letters and they survive restarts. A
// letter's ID is its stream sequence. The stream keeps at most
// [WithDeadLetterLimit] letters (default DefaultDeadLetterLimit), dropping
// the oldest beyond that. A letter keeps its error's text, and whether the
// error wraps bot.ErrOutcomeUnknown: the error read back wraps it too.
var _ bot.DeadLetterStore = (*Broker)(nil)

// DefaultDeadLetterLimit is how many dead letters a Broker keeps by default.
const DefaultDeadLetterLimit = 10_000

// WithDeadLetterLimit sets how many dead letters the stream keeps (default
// DefaultDeadLetterLimit); beyond it the oldest are dropped. It applies when
// the stream is created.
func WithDeadLetterLimit(n int) BrokerOption { return func(c *brokerConfig) { c.deadLimit = n } }

// deadRecord is a dead letter as stored: the message in the Broker's
// message encoding, and the error's text and whether it wraps
// bot.ErrOutcomeUnknown (its type does not survive).
type deadRecord struct {
	Message        json.RawMessage `json:"message"`
	Err            string          `json:"error"`
	OutcomeUnknown bool            `json:"outcome_unknown,omitempty"`
	Attempts       int             `json:"attempts"`
	Time           time.Time       `json:"time"`
}

// storedError is a dead letter's error read back from the stream: its
// text, wrapping bot.ErrOutcomeUnknown when the stored error did.
type storedError struct {
	text    string
	unknown bool
}

func (e *storedError) Error() string { return e.text }

func (e *storedError) Unwrap() error {
	if e.unknown {
		return bot.ErrOutcomeUnknown
	}
	return nil
}

// deadStreamName returns the name of the dead-letter stream.
func (b *Broker) deadStreamName() string { return b.cfg.name + "_DEAD" }

// createDeadStream creates the dead-letter stream unless it exists.
func (b *Broker) createDeadStream(ctx context.Context) error {
	_, err := b.js.CreateStream(ctx, jetstream.StreamConfig{
		Name:        b.deadStreamName(),
		Description: "Parley broker " + b.cfg.name + " dead letters",
		Subjects:    []string{b.prefix + "dead"},
		Retention:   jetstream.LimitsPolicy,
		MaxMsgs:     int64(b.cfg.deadLimit),
		Discard:     jetstream.DiscardOld,
		Storage:     b.cfg.storage,
		Replicas:    b.cfg.replicas,
	})
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("jetstream: create stream %s: %w", b.deadStreamName(), err)
	}
	return nil
}

// AddDeadLetter implements bot.DeadLetterStore.
func (b *Broker) AddDeadLetter(ctx context.Context, d bot.DeadLetter) (string, error) {
	msg, err := bot.MarshalMessage(d.Message)
	if err != nil {
		return "", fmt.Errorf("jetstream: dead letter: %w", err)
	}
	rec := deadRecord{Message: msg, Attempts: d.Attempts, Time: d.Time.UTC()}
	if d.Err != nil {
		rec.Err = d.Err.Error()
		rec.OutcomeUnknown = errors.Is(d.Err, bot.ErrOutcomeUnknown)
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return "", fmt.Errorf("jetstream: dead letter: %w", err)
	}
	ack, err := b.js.Publish(ctx, b.prefix+"dead", data)
	if err != nil {
		return "", fmt.Errorf("jetstream: store dead letter: %w", err)
	}
	return strconv.FormatUint(ack.Sequence, 10), nil
}

// DeadLetters implements bot.DeadLetterStore. It reads the letters one
// request each, oldest first.
func (b *Broker) DeadLetters(ctx context.Context, limit int) ([]bot.DeadLetter, int, error) {
	s, err := b.js.Stream(ctx, b.deadStreamName())
	if err != nil {
		return nil, 0, fmt.Errorf("jetstream: dead letters: %w", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("jetstream: dead letters: %w", err)
	}
	total := int(info.State.Msgs)
	if limit < 0 || limit > total {
		limit = total
	}
	list := make([]bot.DeadLetter, 0, limit)
	for seq := info.State.FirstSeq; len(list) < limit && seq <= info.State.LastSeq; {
		raw, err := s.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(b.prefix+"dead"))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break // taken since the count
		}
		if err != nil {
			return nil, 0, fmt.Errorf("jetstream: dead letters: %w", err)
		}
		d, err := decodeDead(raw)
		if err != nil {
			return nil, 0, err
		}
		list = append(list, d)
		seq = raw.Sequence + 1
	}
	return list, total, nil
}

// TakeDeadLetter implements bot.DeadLetterStore. The removal is the
// stream's deletion of the letter's sequence, which succeeds once.
func (b *Broker) TakeDeadLetter(ctx context.Context, id string) (bot.DeadLetter, error) {
	seq, err := strconv.ParseUint(id, 10, 64)
	if err != nil || seq == 0 {
		return bot.DeadLetter{}, fmt.Errorf("jetstream: dead letter %q: %w", id, bot.ErrNotFound)
	}
	s, err := b.js.Stream(ctx, b.deadStreamName())
	if err != nil {
		return bot.DeadLetter{}, fmt.Errorf("jetstream: dead letter %s: %w", id, err)
	}
	raw, err := s.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return bot.DeadLetter{}, fmt.Errorf("jetstream: dead letter %s: %w", id, bot.ErrNotFound)
	}
	if err != nil {
		return bot.DeadLetter{}, fmt.Errorf("jetstream: dead letter %s: %w", id, err)
	}
	d, err := decodeDead(raw)
	if err != nil {
		return bot.DeadLetter{}, err
	}
	if err := s.DeleteMsg(ctx, seq); err != nil {
		if errors.Is(err, jetstream.ErrMsgDeleteUnsuccessful) || errors.Is(err, jetstream.ErrMsgNotFound) {
			// Another replica took it between the read and the delete.
			return bot.DeadLetter{}, fmt.Errorf("jetstream: dead letter %s: %w", id, bot.ErrNotFound)
		}
		return bot.DeadLetter{}, fmt.Errorf("jetstream: dead letter %s: %w", id, err)
	}
	return d, nil
}

func decodeDead(raw *jetstream.RawStreamMsg) (bot.DeadLetter, error) {
	var rec deadRecord
	if err := json.Unmarshal(raw.Data, &rec); err != nil {
		return bot.DeadLetter{}, fmt.Errorf("jetstream: dead letter %d: %w", raw.Sequence, err)
	}
	m, err := bot.UnmarshalMessage(rec.Message)
	if err != nil {
		return bot.DeadLetter{}, fmt.Errorf("jetstream: dead letter %d: %w", raw.Sequence, err)
	}
	d := bot.DeadLetter{ID: strconv.FormatUint(raw.Sequence, 10), Message: m, Attempts: rec.Attempts, Time: rec.Time}
	if rec.Err != "" {
		d.Err = &storedError{text: rec.Err, unknown: rec.OutcomeUnknown}
	}
	return d, nil
}
