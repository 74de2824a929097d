package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"

	"github.com/parleybot/parley/adapters/flowdock"
)

// A ThreadStarter posts the first message about a customer conversation as
// a new top-level message of the team conversation (a Flowdock flow) and
// returns the id of the thread it started, which later messages name in
// Message.Thread.
//
// The bridge needs the thread id before it can store the mapping, so this
// one post is made synchronously, outside the Bot's outbox (which sends
// asynchronously and reports no result to handlers): it has no outbox
// retries, rate limiting or dead-letter list. key identifies the post: when
// StartThread is called again with the same key after a failure whose
// outcome was unknown, it must not start a second thread where the platform
// lets it check. StartThread must be safe for concurrent use and return
// promptly once ctx is done.
type ThreadStarter interface {
	StartThread(ctx context.Context, conversation, key, text string) (thread string, err error)
}

// ThreadStarterFunc lets an ordinary function serve as a ThreadStarter.
type ThreadStarterFunc func(ctx context.Context, conversation, key, text string) (string, error)

// StartThread calls f(ctx, conversation, key, text).
func (f ThreadStarterFunc) StartThread(ctx context.Context, conversation, key, text string) (string, error) {
	return f(ctx, conversation, key, text)
}

// NewFlowdockStarter returns the ThreadStarter of a Flowdock team flow: it
// posts with c (the bot user's client, so that the Flowdock adapter drops
// the post's echo as its own) and reads the new thread's id from Flowdock's
// answer. The post carries a uuid derived from key; when the answer is lost
// or has no thread id (Flowdock accepted it with 202), or the uuid was taken
// by an earlier attempt, it finds the message with
// [flowdock.Client.MessageByUUID] instead of posting again. conversation is
// the flow id, as in Message.Conversation; its organization and flow names
// are looked up once (GET /flows/find) and cached.
//
// The returned ThreadStarter is safe for concurrent use.
// NewFlowdockStarter panics if c is nil.
func NewFlowdockStarter(c *flowdock.Client) ThreadStarter {
	if c == nil {
		panic("bridge: NewFlowdockStarter with a nil client")
	}
	return &flowdockStarter{c: c, chats: map[string]flowdock.Chat{}}
}

type flowdockStarter struct {
	c     *flowdock.Client
	mu    sync.Mutex
	chats map[string]flowdock.Chat // flow id → its names
}

func (s *flowdockStarter) StartThread(ctx context.Context, flow, key, text string) (string, error) {
	chat, err := s.chat(ctx, flow)
	if err != nil {
		return "", err
	}
	uuid := flowdock.NewUUID()
	if key != "" {
		sum := sha256.Sum256([]byte("parley-bridge:" + key))
		uuid = "bridge-" + base64.RawURLEncoding.EncodeToString(sum[:16])
	}
	msg, _, err := s.c.SendMessage(ctx, chat, flowdock.NewMessage{Content: text, UUID: uuid})
	if err == nil {
		if t := threadOf(msg); t != "" {
			return t, nil
		}
	} else if !worthLookingUp(ctx, err) {
		return "", fmt.Errorf("bridge: start a thread in flow %s: %w", flow, err)
	}
	// Accepted without an answer, answer lost, or the uuid was taken by an
	// earlier attempt: the message may be there.
	found, _, lookErr := s.c.MessageByUUID(ctx, chat, uuid)
	if lookErr == nil {
		if t := threadOf(found); t != "" {
			return t, nil
		}
		lookErr = errors.New("the message has no thread id")
	}
	if err == nil {
		err = lookErr
	} else {
		err = fmt.Errorf("%w (looking the post up: %v)", err, lookErr)
	}
	return "", fmt.Errorf("bridge: start a thread in flow %s: %w", flow, err)
}

// chat returns the names of a flow, looked up once.
func (s *flowdockStarter) chat(ctx context.Context, flow string) (flowdock.Chat, error) {
	s.mu.Lock()
	c, ok := s.chats[flow]
	s.mu.Unlock()
	if ok {
		return c, nil
	}
	f, _, err := s.c.FindFlow(ctx, flow)
	if err != nil {
		return flowdock.Chat{}, fmt.Errorf("bridge: find flow %s: %w", flow, err)
	}
	c = f.Chat()
	s.mu.Lock()
	s.chats[flow] = c
	s.mu.Unlock()
	return c, nil
}

// worthLookingUp reports whether a failed post may still have created the
// message: not when the client refused it before sending, nor when ctx is
// done (the lookup would fail too).
func worthLookingUp(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if _, ok := errors.AsType[*flowdock.ValidationError](err); ok {
		return false
	}
	if _, ok := errors.AsType[*flowdock.TokenError](err); ok {
		return false
	}
	return true
}

func threadOf(m *flowdock.Message) string {
	switch {
	case m == nil:
		return ""
	case m.ThreadID != "":
		return m.ThreadID
	case m.Thread != nil:
		return m.Thread.ID
	}
	return ""
}
