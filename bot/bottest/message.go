package bottest

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/parleybot/parley/bot"
)

// Defaults of the messages NewMessage builds.
const (
	DefaultPlatform     = "fake"
	DefaultConversation = "conversation-1"
)

var messageSeq atomic.Uint64

// NewMessage returns an inbound message with text, a unique ID, platform
// DefaultPlatform, conversation DefaultConversation, an author "user-1"
// named "Test User", KindMessage and a fixed time, changed by opts.
func NewMessage(text string, opts ...MessageOption) *bot.Message {
	m := &bot.Message{
		ID:           "msg-" + strconv.FormatUint(messageSeq.Add(1), 10),
		Platform:     DefaultPlatform,
		Conversation: DefaultConversation,
		Author:       bot.User{ID: "user-1", Name: "Test User"},
		Text:         text,
		Kind:         bot.KindMessage,
		Time:         time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC),
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

// A MessageOption changes a message built by NewMessage.
type MessageOption func(*bot.Message)

// In sets the platform and conversation.
func In(platform, conversation string) MessageOption {
	return func(m *bot.Message) { m.Platform, m.Conversation = platform, conversation }
}

// From sets the author.
func From(u bot.User) MessageOption { return func(m *bot.Message) { m.Author = u } }

// WithID sets the message ID.
func WithID(id string) MessageOption { return func(m *bot.Message) { m.ID = id } }

// WithKind sets the kind.
func WithKind(k bot.Kind) MessageOption { return func(m *bot.Message) { m.Kind = k } }

// WithTags sets the tags.
func WithTags(tags ...string) MessageOption { return func(m *bot.Message) { m.Tags = tags } }

// WithOwner sets the ownership signal the message carries.
func WithOwner(o bot.Owner) MessageOption { return func(m *bot.Message) { m.Owner = o } }

// WithTime sets the message time.
func WithTime(t time.Time) MessageOption { return func(m *bot.Message) { m.Time = t } }

// Direct marks the message as sent in a one-to-one conversation.
func Direct() MessageOption { return func(m *bot.Message) { m.Direct = true } }

// InThread sets the thread.
func InThread(thread string) MessageOption { return func(m *bot.Message) { m.Thread = thread } }
