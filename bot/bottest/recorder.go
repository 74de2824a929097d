package bottest

import (
	"context"
	"sync"

	"github.com/parleybot/parley/bot"
)

// A Recorder is a bot.Sender that records what a handler sends, the
// counterpart of httptest.ResponseRecorder: pass it as w to drive a Handler
// or Router without a Bot. It is safe for concurrent use.
type Recorder struct {
	mu   sync.Mutex
	sent []*bot.Message
	// Err, if set, is returned by Send instead of recording.
	Err error
}

// Send records m. It returns ctx's error when ctx is done, and r.Err when set.
func (r *Recorder) Send(ctx context.Context, m *bot.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Err != nil {
		return r.Err
	}
	r.sent = append(r.sent, m)
	return nil
}

// Sent returns the recorded messages in the order they were sent.
func (r *Recorder) Sent() []*bot.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*bot.Message(nil), r.sent...)
}

// Texts returns the Text of each recorded message.
func (r *Recorder) Texts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.sent))
	for i, m := range r.sent {
		out[i] = m.Text
	}
	return out
}

// Reset forgets the recorded messages.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.sent = nil
	r.mu.Unlock()
}
