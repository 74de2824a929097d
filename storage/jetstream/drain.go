package jetstream

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// drainPoll is how often a draining Consume looks again at the streams
// when none of its own consumers has finished a message meanwhile: the
// message it waits for may be in another replica's hands, or given back
// to be taken again after a delay.
const drainPoll = 200 * time.Millisecond

// storedMarks records, for each subject, the highest stream sequence this
// Broker stored on it. The streams are work queues: a message is removed
// once it is acknowledged (done) or terminated, so a subject's stored
// messages are all done once it holds no message at or below its mark.
// Marks are cleared when found done; a subject has at most one, so there
// are at most as many as partitions and outbound lanes.
type storedMarks struct {
	mu    sync.Mutex
	marks map[string]uint64
}

// add records that seq was stored on subject.
func (s *storedMarks) add(subject string, seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.marks == nil {
		s.marks = map[string]uint64{}
	}
	s.marks[subject] = max(s.marks[subject], seq)
}

// under returns the marks of the subjects starting with prefix.
func (s *storedMarks) under(prefix string) map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]uint64{}
	for subj, seq := range s.marks {
		if strings.HasPrefix(subj, prefix) {
			m[subj] = seq
		}
	}
	return m
}

// clear forgets subject's mark if it is still seq.
func (s *storedMarks) clear(subject string, seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.marks[subject] == seq {
		delete(s.marks, subject)
	}
}

// drain returns once every message this Broker stored is done — by this
// process or another replica —, or when ctx ends. It looks at the streams
// again each time progress receives (one of this process's consumers
// finished a message), and every drainPoll.
func (b *Broker) drain(ctx context.Context, progress <-chan struct{}) {
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for {
		left, err := b.undone(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			b.logger.LogAttrs(ctx, slog.LevelDebug, "drain: stream lookup failed; looking again", slog.Any("error", err))
		case err == nil && left == 0:
			return
		}
		select {
		case <-progress:
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// undone returns how many subjects still hold a message this Broker
// stored. It looks at the inbound subjects first, and at the outbound ones
// only when every inbound message is done: inbound messages are
// acknowledged after their handlers' replies are stored, so the outbound
// marks read then include every reply of the handled messages.
func (b *Broker) undone(ctx context.Context) (int, error) {
	for _, dir := range []struct{ stream, prefix string }{
		{b.cfg.name + "_IN", b.prefix + "in."},
		{b.cfg.name + "_OUT", b.prefix + "out."},
	} {
		marks := b.stored.under(dir.prefix)
		if len(marks) == 0 {
			continue
		}
		s, err := b.js.Stream(ctx, dir.stream)
		if err != nil {
			return 0, err
		}
		left := 0
		for subj, seq := range marks {
			// The first message left on the subject, at any sequence.
			msg, err := s.GetMsg(ctx, 1, jetstream.WithGetMsgSubject(subj))
			switch {
			case errors.Is(err, jetstream.ErrMsgNotFound) || err == nil && msg.Sequence > seq:
				b.stored.clear(subj, seq)
			case err != nil:
				return 0, err
			default:
				left++
			}
		}
		if left > 0 {
			return left, nil
		}
	}
	return 0, nil
}
