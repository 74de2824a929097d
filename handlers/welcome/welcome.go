package welcome

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/parleybot/parley/bot"
)

// Defaults of a Handler's zero fields.
const (
	// DefaultText is the greeting when Handler.Text is empty.
	DefaultText = "Hello{{with .Author.Name}} {{.}}{{end}}! I'm an automated assistant. How can I help?"
	// DefaultTTL is how long a conversation is remembered when Handler.TTL
	// is zero.
	DefaultTTL = 180 * 24 * time.Hour
)

// Priority is the route priority Install registers the handler with: above
// every other handler of this module (hours.Priority is 90), so that the
// greeting is the first reply of a conversation.
const Priority = 100

// Handler greets the first message of each conversation and lets every
// message continue to the other routes; see the package documentation.
//
// The zero Handler sends DefaultText, but needs a Store: set one, or
// register the handler with [Handler.Install], which takes the Bot's. A
// Handler holds no state of its own (it keeps it in Store) and is safe for
// concurrent use as long as its fields are not modified.
type Handler struct {
	// Text is the greeting, a text/template executed with the inbound
	// *bot.Message: {{.Author.Name}}, {{.Platform}}. Default DefaultText.
	Text string
	// Store remembers the conversations already greeted, under
	// "welcome:seen:<platform>:<conversation>". Required; Install uses the
	// Bot's.
	Store bot.Store
	// TTL is how long a conversation stays greeted. Default DefaultTTL
	// (180 days); a negative TTL means forever.
	TTL time.Duration
}

// Interface guard.
var _ bot.Handler = Handler{}

// DefaultRule returns the rule the handler is usually registered on:
// [bot.Always], since every conversation's first message counts.
func DefaultRule() bot.Rule { return bot.Always() }

// Install registers h on the Bot's router with DefaultRule and [Priority],
// with the Bot's Store if h has none. It returns an error for an invalid
// Text template, and panics, as bot.Router.Handle does, if the Bot is
// already running.
func (h Handler) Install(b *bot.Bot) error {
	if h.Store == nil {
		h.Store = b.Store()
	}
	if _, err := h.template(); err != nil {
		return err
	}
	b.Handle(DefaultRule(), h, bot.Priority(Priority))
	return nil
}

func (h Handler) template() (*template.Template, error) {
	src := h.Text
	if src == "" {
		src = DefaultText
	}
	t, err := template.New("welcome").Parse(src)
	if err != nil {
		return nil, fmt.Errorf("welcome: parse Text: %w", err)
	}
	return t, nil
}

// HandleMessage implements [bot.Handler]: it sends the greeting as a reply
// to the first message of m's conversation. It returns [bot.ErrContinue]
// after a greeting and for every message that gets none, and an error when
// Store is nil, Text is invalid, or the Store or w fails.
func (h Handler) HandleMessage(ctx context.Context, w bot.Sender, m *bot.Message) error {
	if m.Author.Bot || m.Author.Agent || m.Kind.Or() != bot.KindMessage {
		return bot.ErrContinue
	}
	if h.Store == nil {
		return errors.New("welcome: Handler.Store is nil")
	}
	ttl := h.TTL
	switch {
	case ttl == 0:
		ttl = DefaultTTL
	case ttl < 0:
		ttl = 0 // no expiry
	}
	key := "welcome:seen:" + m.Platform + ":" + m.Conversation
	first, err := h.Store.SetIfAbsent(ctx, key, nil, ttl)
	if err != nil {
		return fmt.Errorf("welcome: remember conversation: %w", err)
	}
	if !first {
		return bot.ErrContinue
	}
	if err := h.greet(ctx, w, m); err != nil {
		// Forget the conversation so that its next message tries again.
		if derr := h.Store.Delete(ctx, key); derr != nil {
			err = errors.Join(err, fmt.Errorf("welcome: forget conversation: %w", derr))
		}
		return err
	}
	return bot.ErrContinue
}

func (h Handler) greet(ctx context.Context, w bot.Sender, m *bot.Message) error {
	tmpl, err := h.template()
	if err != nil {
		return err
	}
	var text strings.Builder
	if err := tmpl.Execute(&text, m); err != nil {
		return fmt.Errorf("welcome: execute Text: %w", err)
	}
	return w.Send(ctx, m.Reply(text.String()))
}
