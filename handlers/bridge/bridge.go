package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/bot"
)

// RoutePriority is the priority of the bridge's two routes. The customer
// route is an observer that must see every customer message before a route
// of the bot answers it (the first match wins), and the team route must
// claim the agents' messages in mapped threads before the bot's other
// routes do, so both are tried early. Routes with a higher priority run
// before them.
const RoutePriority = 1000

// Team names the conversation where the team works: for Flowdock, the flow
// whose threads mirror the customer conversations. It is a plain value.
type Team struct {
	// Platform is the team's adapter name ("flowdock/team" for an
	// instance). Default: "flowdock".
	Platform string
	// Conversation is the team conversation, as in Message.Conversation:
	// for Flowdock the flow id (not "org/flow"). Required.
	Conversation string
}

// Handler bridges customer conversations to threads of a team conversation
// and back; see the package documentation. Its fields are its settings;
// only Team.Conversation is required. Install registers it on a Bot.
//
// A Handler holds no state: the mappings live in the Store. It is safe to
// install on several Bots, and its fields must not be modified once
// installed.
type Handler struct {
	// Team is the team conversation. Team.Conversation is required.
	Team Team
	// Customers are the platforms whose conversations are bridged, by
	// adapter name. Default: "sendbee" and "velaflows", those of the two
	// the Bot has (the default instances); name a platform's other
	// instances ("sendbee/acme") explicitly. An explicit list must name
	// adapters of the Bot.
	Customers []string
	// Store keeps the mappings between customer conversations and team
	// threads (see the package documentation for the keys). Default: the
	// Bot's Store. Share it between processes that share a team flow.
	Store bot.Store
	// Starter starts a team thread for a new customer conversation.
	// Default: NewFlowdockStarter with the client of the Bot's adapter
	// named Team.Platform, which must then be a *flowdock.Adapter.
	Starter ThreadStarter
	// Format renders a customer message for the team. It must be safe for
	// concurrent use. Default: DefaultFormat.
	Format func(m *bot.Message) string
}

// The texts the bridge posts in a thread for the team. They are English
// constants; the team, not the customer, reads them.
const (
	noticeHandoff    = "%s took over: the bot is quiet in this conversation. Write /bot to give it back."
	noticeResumed    = "The bot answers this customer again."
	noticeNotSent    = "Not sent to the customer: the conversation could not be taken over from the bot. Try again."
	noticeNotResumed = "The conversation could not be given back to the bot. Try again."
	noticeNoFiles    = "Files are not relayed to the customer; send a link instead."
	noticeNoEdits    = "Edits do not reach the customer; send a new message instead."
)

// Install registers the bridge on b: a route for the customer platforms
// and one for the team conversation, both [bot.Observer] routes (they run
// whoever owns the conversation) at RoutePriority. The bridge uses b to
// hand conversations off and resume them, and b's Store unless Store is
// set. Call Install before b.Run, like any registration.
//
// It returns an error, and registers nothing, when a setting is wrong: no
// Team.Conversation, a team or customer platform b has no adapter for, the
// team platform among the customers, no customer platform at all, or no
// Starter and a team adapter that is not Flowdock's.
func (h Handler) Install(b *bot.Bot) error {
	br, err := h.build(b)
	if err != nil {
		return err
	}
	b.Handle(bot.Platform(br.customers...), bot.HandlerFunc(br.fromCustomer), bot.Observer(), bot.Priority(RoutePriority))
	b.Handle(bot.All(bot.Platform(br.team.Platform), teamRule{conversation: br.team.Conversation}),
		bot.HandlerFunc(br.fromTeam), bot.Observer(), bot.Priority(RoutePriority))
	return nil
}

// build checks the settings and fills in the defaults.
func (h Handler) build(b *bot.Bot) (*bridge, error) {
	if b == nil {
		return nil, errors.New("bridge: Install with a nil Bot")
	}
	team := h.Team
	if team.Platform == "" {
		team.Platform = flowdock.Name
	}
	if team.Conversation == "" {
		return nil, errors.New("bridge: Team.Conversation (the team flow id) is required")
	}
	ta := b.Adapter(team.Platform)
	if ta == nil {
		return nil, fmt.Errorf("bridge: team platform %q: %w", team.Platform, bot.ErrUnknownPlatform)
	}
	if bot.PlatformOf(team.Platform) == flowdock.Name && strings.HasPrefix(team.Conversation, "private:") {
		return nil, fmt.Errorf("bridge: team conversation %q is a private chat, which has no threads; use a flow id", team.Conversation)
	}

	var customers []string
	if h.Customers == nil {
		for _, p := range []string{"sendbee", "velaflows"} {
			if b.Adapter(p) != nil {
				customers = append(customers, p)
			}
		}
		if len(customers) == 0 {
			return nil, errors.New("bridge: the Bot has neither a sendbee nor a velaflows adapter: set Customers")
		}
	} else {
		for _, p := range h.Customers {
			if b.Adapter(p) == nil {
				return nil, fmt.Errorf("bridge: customer platform %q: %w", p, bot.ErrUnknownPlatform)
			}
			if !slices.Contains(customers, p) {
				customers = append(customers, p)
			}
		}
		if len(customers) == 0 {
			return nil, errors.New("bridge: Customers is empty")
		}
	}
	if slices.Contains(customers, team.Platform) {
		return nil, fmt.Errorf("bridge: platform %q is both the team's and a customer platform", team.Platform)
	}

	starter := h.Starter
	if starter == nil {
		fd, ok := ta.(interface{ Client() *flowdock.Client })
		if !ok {
			return nil, fmt.Errorf("bridge: team adapter %q is not Flowdock's: set Starter", team.Platform)
		}
		starter = NewFlowdockStarter(fd.Client())
	}
	store := h.Store
	if store == nil {
		store = b.Store()
	}
	format := h.Format
	if format == nil {
		format = DefaultFormat
	}
	return &bridge{
		b: b, team: team, customers: customers, store: store, starter: starter, format: format,
		commands: bot.CommandSyntax{Prefixes: []string{"/"}},
		logger:   b.Logger().With("handler", "bridge"),
	}, nil
}

// bridge is an installed Handler.
type bridge struct {
	b         *bot.Bot
	team      Team
	customers []string
	store     bot.Store
	starter   ThreadStarter
	format    func(*bot.Message) string
	// commands is how agents type commands in a thread: only with "/", so
	// that "!!! sorry" goes to the customer.
	commands bot.CommandSyntax
	logger   *slog.Logger
}

// teamRule matches the messages of the team conversation.
type teamRule struct{ conversation string }

func (r teamRule) Match(_ context.Context, m *bot.Message) (bool, error) {
	return m.Conversation == r.conversation, nil
}

func (r teamRule) String() string { return fmt.Sprintf("bridge.Team(%q)", r.conversation) }

// fromCustomer mirrors a customer's message into the conversation's team
// thread, starting the thread first if there is none. It always lets
// routing go on, so that the bot still answers the customer; a failure is
// logged here, because the Router drops the error of an ErrContinue.
func (br *bridge) fromCustomer(ctx context.Context, w bot.Sender, m *bot.Message) error {
	if m.Kind.Or() != bot.KindMessage || m.Author.Bot || m.Author.Agent {
		return bot.ErrContinue
	}
	if err := br.mirror(ctx, w, m); err != nil {
		br.logger.LogAttrs(ctx, slog.LevelError, "bridge: mirroring a customer message to the team failed",
			slog.Any("msg", m), slog.Any("error", err))
	}
	return bot.ErrContinue
}

func (br *bridge) mirror(ctx context.Context, w bot.Sender, m *bot.Message) error {
	text := truncate(br.format(m), flowdock.MaxContentLength)
	ref, ok, err := br.threadOf(ctx, m.Platform, m.Conversation)
	if err != nil {
		return err
	}
	if ok {
		return w.Send(ctx, &bot.Message{
			Platform: br.team.Platform, Conversation: br.team.Conversation, Thread: ref.Thread, Text: text,
		})
	}
	key := ""
	if m.ID != "" {
		key = m.Platform + ":" + m.ID
	}
	thread, err := br.starter.StartThread(ctx, br.team.Conversation, key, text)
	if err != nil {
		return err
	}
	if thread == "" {
		return errors.New("bridge: the starter returned no thread id")
	}
	return br.link(ctx, customerRef{Platform: m.Platform, Conversation: m.Conversation}, threadRef{Flow: br.team.Conversation, Thread: thread})
}

// fromTeam handles a message of the team conversation. In a thread that
// mirrors a customer conversation, a human's message goes to the customer
// and makes the conversation human-owned, and "/bot" or "/resume" gives it
// back; anything else (unmapped threads, other commands, events) goes on
// to the bot's other routes.
func (br *bridge) fromTeam(ctx context.Context, w bot.Sender, m *bot.Message) error {
	if m.Thread == "" || m.Author.Bot {
		return bot.ErrContinue
	}
	kind := m.Kind.Or()
	if kind != bot.KindMessage && kind != bot.KindEdit {
		return bot.ErrContinue
	}
	c, ok, err := br.customerOf(ctx, m.Thread)
	if err != nil {
		return err
	}
	if !ok {
		return bot.ErrContinue
	}
	if kind == bot.KindEdit {
		return w.Send(ctx, m.Reply(noticeNoEdits))
	}
	if name, _, isCmd := br.commands.Parse(m.Text, false); isCmd {
		if name != "bot" && name != "resume" {
			return bot.ErrContinue // the bot's own commands, never relayed
		}
		if err := br.b.Resume(ctx, c.Platform, c.Conversation); err != nil {
			return errors.Join(fmt.Errorf("bridge: resume: %w", err), w.Send(ctx, m.Reply(noticeNotResumed)))
		}
		return w.Send(ctx, m.Reply(noticeResumed))
	}
	if strings.TrimSpace(m.Text) == "" {
		if len(m.Attachments) > 0 {
			return w.Send(ctx, m.Reply(noticeNoFiles))
		}
		return nil
	}

	// Take the conversation over before relaying: from now on the bot's own
	// replies to the customer are suppressed, and on Sendbee the platform
	// chatbot is off. The relay itself is delivered to the human-owned
	// conversation because it is marked Relay.
	owner, err := br.b.Owner(ctx, c.Platform, c.Conversation)
	if err != nil {
		return fmt.Errorf("bridge: %w", err)
	}
	if owner != bot.OwnerHuman {
		if err := br.b.Handoff(ctx, c.Platform, c.Conversation); err != nil {
			return errors.Join(fmt.Errorf("bridge: hand off: %w", err), w.Send(ctx, m.Reply(noticeNotSent)))
		}
		who := m.Author.Name
		if who == "" {
			who = "An agent"
		}
		if err := w.Send(ctx, m.Reply(fmt.Sprintf(noticeHandoff, who))); err != nil {
			return err
		}
	}
	return w.Send(ctx, &bot.Message{Platform: c.Platform, Conversation: c.Conversation, Text: m.Text, Relay: true})
}

// DefaultFormat renders a customer message for the team: the platform in
// brackets, the customer's name with the phone number or e-mail address in
// parentheses, the text, and one line per attachment with its kind, name
// and URL:
//
//	[sendbee] Ana Horvat (+385911234567): here is my receipt
//	[image] https://media.example/r.jpg
//
// Parts the message lacks are left out; a customer with neither name nor
// contact is shown by ID. It is a pure function, safe for concurrent use.
func DefaultFormat(m *bot.Message) string {
	var sb strings.Builder
	sb.WriteString("[" + m.Platform + "] ")
	contact := m.Author.Phone
	if contact == "" {
		contact = m.Author.Email
	}
	switch {
	case m.Author.Name != "" && contact != "":
		sb.WriteString(m.Author.Name + " (" + contact + ")")
	case m.Author.Name != "":
		sb.WriteString(m.Author.Name)
	case contact != "":
		sb.WriteString(contact)
	case m.Author.ID != "":
		sb.WriteString(m.Author.ID)
	default:
		sb.WriteString("customer")
	}
	sb.WriteString(":")
	if m.Text != "" {
		sb.WriteString(" " + m.Text)
	}
	for i, a := range m.Attachments {
		if i > 0 || m.Text != "" {
			sb.WriteString("\n")
		} else {
			sb.WriteString(" ")
		}
		kind := a.Kind
		if kind == "" {
			kind = "file"
		}
		sb.WriteString("[" + kind + "]")
		for _, s := range []string{a.Name, a.URL} {
			if s != "" {
				sb.WriteString(" " + s)
			}
		}
	}
	return sb.String()
}

// truncate cuts s to at most n characters, the last one an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// The mappings in the Store.
//
//	bridge:thread:<platform>:<conversation> → {"flow": …, "thread": …}
//	bridge:customer:<flow>:<thread>         → {"platform": …, "conversation": …}
type (
	threadRef struct {
		Flow   string `json:"flow"`
		Thread string `json:"thread"`
	}
	customerRef struct {
		Platform     string `json:"platform"`
		Conversation string `json:"conversation"`
	}
)

func threadKey(platform, conversation string) string {
	return "bridge:thread:" + platform + ":" + conversation
}

func customerKey(flow, thread string) string { return "bridge:customer:" + flow + ":" + thread }

// threadOf returns the team thread of a customer conversation, if it has
// one in the current team conversation. A mapping into another team
// conversation (the setting changed) counts as none.
func (br *bridge) threadOf(ctx context.Context, platform, conversation string) (threadRef, bool, error) {
	var ref threadRef
	ok, err := getJSON(ctx, br.store, threadKey(platform, conversation), &ref)
	if err != nil || !ok || ref.Flow != br.team.Conversation || ref.Thread == "" {
		return threadRef{}, false, err
	}
	return ref, true, nil
}

// customerOf returns the customer conversation a team thread mirrors.
func (br *bridge) customerOf(ctx context.Context, thread string) (customerRef, bool, error) {
	var ref customerRef
	ok, err := getJSON(ctx, br.store, customerKey(br.team.Conversation, thread), &ref)
	if err != nil || !ok || ref.Platform == "" || ref.Conversation == "" {
		return customerRef{}, false, err
	}
	return ref, true, nil
}

// link stores both directions of a new mapping. The thread → customer
// direction goes first and always, so that agents' answers in the thread
// reach the customer even if another process linked the conversation to a
// thread of its own at the same moment. The customer → thread direction is
// set only if absent, so that all processes then post into the thread that
// was linked first; an entry into another team conversation is replaced.
func (br *bridge) link(ctx context.Context, c customerRef, t threadRef) error {
	cv, err := json.Marshal(c)
	if err != nil {
		return err
	}
	tv, err := json.Marshal(t)
	if err != nil {
		return err
	}
	if err := br.store.Set(ctx, customerKey(t.Flow, t.Thread), cv, 0); err != nil {
		return fmt.Errorf("bridge: store the thread's customer: %w", err)
	}
	key := threadKey(c.Platform, c.Conversation)
	fresh, err := br.store.SetIfAbsent(ctx, key, tv, 0)
	if err != nil {
		return fmt.Errorf("bridge: store the conversation's thread: %w", err)
	}
	if fresh {
		return nil
	}
	if _, ok, err := br.threadOf(ctx, c.Platform, c.Conversation); err != nil || ok {
		return err // ok: another process linked a thread first; keep it
	}
	if err := br.store.Set(ctx, key, tv, 0); err != nil {
		return fmt.Errorf("bridge: store the conversation's thread: %w", err)
	}
	return nil
}

// getJSON reads key into v and reports whether it was there.
func getJSON(ctx context.Context, s bot.Store, key string, v any) (bool, error) {
	raw, err := s.Get(ctx, key)
	if errors.Is(err, bot.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("bridge: read %s: %w", key, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("bridge: read %s: %w", key, err)
	}
	return true, nil
}
