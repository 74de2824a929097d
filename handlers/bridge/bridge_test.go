package bridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/handlers/bridge"
)

const teamFlow = "flow-support"

// starter is a ThreadStarter that records its calls and names the threads
// "thread-1", "thread-2"…
type starter struct {
	mu    sync.Mutex
	calls []startCall
	err   error
}

type startCall struct{ Conversation, Key, Text string }

func (s *starter) StartThread(_ context.Context, conversation, key, text string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return "", s.err
	}
	s.calls = append(s.calls, startCall{conversation, key, text})
	return fmt.Sprintf("thread-%d", len(s.calls)), nil
}

func (s *starter) started() []startCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]startCall(nil), s.calls...)
}

// failingOwner is a platform whose ownership switch fails to switch to
// one owner.
type failingOwner struct {
	*bottest.FakeAdapter
	fails bot.Owner
}

func (f failingOwner) SetOwner(ctx context.Context, conversation string, o bot.Owner) error {
	if o == f.fails {
		return errors.New("chatbot switch: 500")
	}
	return f.FakeAdapter.SetOwner(ctx, conversation, o)
}

// fixture is a Bot that is never run, with fake sendbee, velaflows and
// flowdock adapters and the bridge installed; messages are routed through
// it directly with a Recorder. Besides the bridge it has a "/help" route
// and a fallback that echoes customers, to show what routing goes on to.
type fixture struct {
	b      *bot.Bot
	sb, vf *bottest.FakeAdapter
	st     *starter
	log    *bytes.Buffer
}

func newFixture(t *testing.T, tune ...func(*bridge.Handler)) *fixture {
	t.Helper()
	return newFixtureWith(t, bottest.NewFakeAdapter("sendbee"), tune...)
}

func newFixtureWith(t *testing.T, sendbee bot.Adapter, tune ...func(*bridge.Handler)) *fixture {
	t.Helper()
	f := &fixture{vf: bottest.NewFakeAdapter("velaflows"), st: &starter{}, log: &bytes.Buffer{}}
	switch a := sendbee.(type) {
	case *bottest.FakeAdapter:
		f.sb = a
	case failingOwner:
		f.sb = a.FakeAdapter
	}
	b, err := bot.New(bot.WithAdapters(sendbee, f.vf, bottest.NewFakeAdapter("flowdock")),
		bot.WithLogger(slog.New(slog.NewTextHandler(f.log, nil))))
	require.NoError(t, err)
	f.b = b
	h := bridge.Handler{Team: bridge.Team{Conversation: teamFlow}, Starter: f.st}
	for _, fn := range tune {
		fn(&h)
	}
	require.NoError(t, h.Install(b))
	b.HandleFunc(bot.Command("help"), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("help: …"))
	})
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		if m.Platform == "flowdock" || m.Kind.Or() != bot.KindMessage {
			return nil
		}
		return w.Send(ctx, m.Reply("echo: "+m.Text))
	}))
	return f
}

// route routes m through the Bot's router and returns what was sent.
func (f *fixture) route(t *testing.T, m *bot.Message) ([]*bot.Message, error) {
	t.Helper()
	var rec bottest.Recorder
	err := f.b.HandleMessage(t.Context(), &rec, m)
	return rec.Sent(), err
}

// link stores a mapping as the bridge does.
func (f *fixture) link(t *testing.T, platform, conversation, flow, thread string) {
	t.Helper()
	ctx := t.Context()
	tv, _ := json.Marshal(map[string]string{"flow": flow, "thread": thread})
	cv, _ := json.Marshal(map[string]string{"platform": platform, "conversation": conversation})
	require.NoError(t, f.b.Store().Set(ctx, "bridge:thread:"+platform+":"+conversation, tv, 0))
	require.NoError(t, f.b.Store().Set(ctx, "bridge:customer:"+flow+":"+thread, cv, 0))
}

func (f *fixture) get(t *testing.T, key string) map[string]string {
	t.Helper()
	raw, err := f.b.Store().Get(t.Context(), key)
	if errors.Is(err, bot.ErrNotFound) {
		return nil
	}
	require.NoError(t, err)
	var v map[string]string
	require.NoError(t, json.Unmarshal(raw, &v))
	return v
}

func (f *fixture) owner(t *testing.T, platform, conversation string) bot.Owner {
	t.Helper()
	o, err := f.b.Owner(t.Context(), platform, conversation)
	require.NoError(t, err)
	return o
}

var ana = bot.User{ID: "contact-1", Name: "Ana Horvat", Phone: "+385911234567"}

func customer(text string, opts ...bottest.MessageOption) *bot.Message {
	return bottest.NewMessage(text, append([]bottest.MessageOption{bottest.In("sendbee", "conv-1"), bottest.From(ana), bottest.Direct()}, opts...)...)
}

var dana = bot.User{ID: "1305", Name: "dana"}

func agent(thread, text string, opts ...bottest.MessageOption) *bot.Message {
	return bottest.NewMessage(text, append([]bottest.MessageOption{bottest.In("flowdock", teamFlow), bottest.From(dana), bottest.InThread(thread)}, opts...)...)
}

// sent is an outbound message reduced to what the tests compare.
type sent struct {
	Platform, Conversation, Thread, Text string
	Relay                                bool
}

func summarize(ms []*bot.Message) []sent {
	var out []sent
	for _, m := range ms {
		out = append(out, sent{m.Platform, m.Conversation, m.Thread, m.Text, m.Relay})
	}
	return out
}

func TestHandler_CustomerToTeam(t *testing.T) {
	tests := []struct {
		name        string
		linked      string // thread the conversation is already linked to in teamFlow
		linkedElse  bool   // linked to a thread of another flow
		startErr    error
		msg         *bot.Message
		wantStarted []startCall
		wantSent    []sent
		wantThread  map[string]string // bridge:thread:sendbee:conv-1 afterwards
		wantLog     string
	}{
		{
			name:        "the first message starts a thread",
			msg:         customer("Is the shop open?", bottest.WithID("m-1")),
			wantStarted: []startCall{{teamFlow, "sendbee:m-1", "[sendbee] Ana Horvat (+385911234567): Is the shop open?"}},
			wantSent:    []sent{{"sendbee", "conv-1", "", "echo: Is the shop open?", false}},
			wantThread:  map[string]string{"flow": teamFlow, "thread": "thread-1"},
		},
		{
			name:       "a later message goes into the thread",
			linked:     "thread-7",
			msg:        customer("Hello?"),
			wantSent:   []sent{{"flowdock", teamFlow, "thread-7", "[sendbee] Ana Horvat (+385911234567): Hello?", false}, {"sendbee", "conv-1", "", "echo: Hello?", false}},
			wantThread: map[string]string{"flow": teamFlow, "thread": "thread-7"},
		},
		{
			name:        "a thread in another flow counts as none",
			linkedElse:  true,
			msg:         customer("Hi", bottest.WithID("m-2")),
			wantStarted: []startCall{{teamFlow, "sendbee:m-2", "[sendbee] Ana Horvat (+385911234567): Hi"}},
			wantSent:    []sent{{"sendbee", "conv-1", "", "echo: Hi", false}},
			wantThread:  map[string]string{"flow": teamFlow, "thread": "thread-1"},
		},
		{
			name:     "a starter failure is logged and the bot still answers",
			startErr: errors.New("flowdock down"),
			msg:      customer("Hi"),
			wantSent: []sent{{"sendbee", "conv-1", "", "echo: Hi", false}},
			wantLog:  "flowdock down",
		},
		{
			name:     "platform events are not mirrored",
			msg:      customer("delivered", bottest.WithKind(bot.KindStatus)),
			wantSent: nil,
		},
		{
			name:     "the platform's agents are not mirrored",
			msg:      customer("Hi from the dashboard", bottest.From(bot.User{ID: "ag-1", Name: "Ivana", Agent: true})),
			wantSent: []sent{{"sendbee", "conv-1", "", "echo: Hi from the dashboard", false}},
		},
		{
			name:       "bots are not mirrored",
			linked:     "thread-7",
			msg:        customer("beep", bottest.From(bot.User{ID: "b-1", Bot: true})),
			wantSent:   []sent{{"sendbee", "conv-1", "", "echo: beep", false}},
			wantThread: map[string]string{"flow": teamFlow, "thread": "thread-7"},
		},
		{
			name:        "velaflows customers are bridged by default",
			msg:         bottest.NewMessage("Hello", bottest.In("velaflows", "vf-9"), bottest.WithID("v-1"), bottest.From(bot.User{ID: "u", Name: "Ivo", Email: "ivo@example.com"})),
			wantStarted: []startCall{{teamFlow, "velaflows:v-1", "[velaflows] Ivo (ivo@example.com): Hello"}},
			wantSent:    []sent{{"velaflows", "vf-9", "", "echo: Hello", false}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.st.err = tt.startErr
			if tt.linked != "" {
				f.link(t, "sendbee", "conv-1", teamFlow, tt.linked)
			}
			if tt.linkedElse {
				f.link(t, "sendbee", "conv-1", "old-flow", "old-thread")
			}

			got, err := f.route(t, tt.msg)
			require.NoError(t, err)

			assert.Equal(t, tt.wantStarted, f.st.started())
			assert.Equal(t, tt.wantSent, summarize(got))
			if tt.msg.Platform == "sendbee" {
				assert.Equal(t, tt.wantThread, f.get(t, "bridge:thread:sendbee:conv-1"))
			}
			for i := range tt.wantStarted {
				thread := fmt.Sprintf("thread-%d", i+1)
				assert.Equal(t, map[string]string{"platform": tt.msg.Platform, "conversation": tt.msg.Conversation},
					f.get(t, "bridge:customer:"+teamFlow+":"+thread), "the thread maps back to the customer")
			}
			if tt.wantLog != "" {
				assert.Contains(t, f.log.String(), tt.wantLog)
				assert.NotContains(t, f.log.String(), tt.msg.Text, "message text is never logged")
			}
		})
	}
}

// One conversation, one thread: the second message neither starts another
// thread nor loses the first mapping; a failed start is retried by the next
// message.
func TestHandler_CustomerToTeam_conversation(t *testing.T) {
	f := newFixture(t)
	f.st.err = errors.New("flowdock down")
	_, err := f.route(t, customer("one"))
	require.NoError(t, err)
	assert.Empty(t, f.st.started())

	f.st.err = nil
	_, err = f.route(t, customer("two"))
	require.NoError(t, err)
	got, err := f.route(t, customer("three"))
	require.NoError(t, err)
	other, err := f.route(t, customer("hi", bottest.In("sendbee", "conv-2"), bottest.From(bot.User{ID: "c-2", Phone: "+14155550123"})))
	require.NoError(t, err)

	started := f.st.started()
	require.Len(t, started, 2)
	assert.Equal(t, "[sendbee] Ana Horvat (+385911234567): two", started[0].Text)
	assert.Equal(t, "[sendbee] +14155550123: hi", started[1].Text)
	assert.Equal(t, []sent{
		{"flowdock", teamFlow, "thread-1", "[sendbee] Ana Horvat (+385911234567): three", false},
		{"sendbee", "conv-1", "", "echo: three", false},
	}, summarize(got))
	assert.Equal(t, []sent{{"sendbee", "conv-2", "", "echo: hi", false}}, summarize(other))
	assert.Equal(t, map[string]string{"platform": "sendbee", "conversation": "conv-2"}, f.get(t, "bridge:customer:"+teamFlow+":thread-2"))
}

func TestHandler_TeamToCustomer(t *testing.T) {
	const (
		handoffNotice = "dana took over: the bot is quiet in this conversation. Write /bot to give it back."
		resumedNotice = "The bot answers this customer again."
	)
	tests := []struct {
		name      string
		human     bool      // the customer conversation is human-owned already
		broken    bot.Owner // the customer platform's switch to this owner fails
		msg       *bot.Message
		wantSent  []sent
		wantOwner bot.Owner
		wantErr   string
	}{
		{
			name: "an agent's first message hands off and is relayed",
			msg:  agent("thread-1", "Hi Ana, we are open until 8pm."),
			wantSent: []sent{
				{"flowdock", teamFlow, "thread-1", handoffNotice, false},
				{"sendbee", "conv-1", "", "Hi Ana, we are open until 8pm.", true},
			},
			wantOwner: bot.OwnerHuman,
		},
		{
			name:      "later messages are relayed without a notice",
			human:     true,
			msg:       agent("thread-1", "Anything else?"),
			wantSent:  []sent{{"sendbee", "conv-1", "", "Anything else?", true}},
			wantOwner: bot.OwnerHuman,
		},
		{
			name:      "/bot gives the conversation back",
			human:     true,
			msg:       agent("thread-1", "/bot"),
			wantSent:  []sent{{"flowdock", teamFlow, "thread-1", resumedNotice, false}},
			wantOwner: bot.OwnerBot,
		},
		{
			name:      "/resume too",
			human:     true,
			msg:       agent("thread-1", "  /RESUME please"),
			wantSent:  []sent{{"flowdock", teamFlow, "thread-1", resumedNotice, false}},
			wantOwner: bot.OwnerBot,
		},
		{
			name:      "other commands go to the bot's routes, not to the customer",
			human:     true,
			msg:       agent("thread-1", "/help"),
			wantSent:  []sent{{"flowdock", teamFlow, "thread-1", "help: …", false}},
			wantOwner: bot.OwnerHuman,
		},
		{
			name:      "a '!' is no command",
			human:     true,
			msg:       agent("thread-1", "!!! sorry for the wait"),
			wantSent:  []sent{{"sendbee", "conv-1", "", "!!! sorry for the wait", true}},
			wantOwner: bot.OwnerHuman,
		},
		{
			name:      "an unmapped thread is not bridged",
			msg:       agent("thread-9", "lunch?"),
			wantOwner: bot.OwnerBot,
		},
		{
			name:      "another flow is not bridged",
			msg:       agent("thread-1", "hello", bottest.In("flowdock", "flow-random")),
			wantOwner: bot.OwnerBot,
		},
		{
			name:      "bots are never bridged back",
			msg:       agent("thread-1", "I am a bot", bottest.From(bot.User{ID: "99", Bot: true})),
			wantOwner: bot.OwnerBot,
		},
		{
			name:      "files are not relayed",
			msg:       agent("thread-1", "", func(m *bot.Message) { m.Attachments = []bot.Attachment{{Kind: "file", URL: "/files/1/ab/x.pdf"}} }),
			wantSent:  []sent{{"flowdock", teamFlow, "thread-1", "Files are not relayed to the customer; send a link instead.", false}},
			wantOwner: bot.OwnerBot,
		},
		{
			name:      "edits are not relayed",
			human:     true,
			msg:       agent("thread-1", "Hi Ana, open until 9pm", bottest.WithKind(bot.KindEdit)),
			wantSent:  []sent{{"flowdock", teamFlow, "thread-1", "Edits do not reach the customer; send a new message instead.", false}},
			wantOwner: bot.OwnerHuman,
		},
		{
			name:      "other events go on",
			msg:       agent("thread-1", "build failed", bottest.WithKind(bot.KindEvent)),
			wantOwner: bot.OwnerBot,
		},
		{
			name:   "a failed handoff sends nothing to the customer",
			broken: bot.OwnerHuman,
			msg:    agent("thread-1", "Hi Ana"),
			wantSent: []sent{{"flowdock", teamFlow, "thread-1",
				"Not sent to the customer: the conversation could not be taken over from the bot. Try again.", false}},
			wantOwner: bot.OwnerBot,
			wantErr:   "chatbot switch: 500",
		},
		{
			name:   "a failed resume leaves the humans in charge",
			broken: bot.OwnerBot,
			human:  true,
			msg:    agent("thread-1", "/bot"),
			wantSent: []sent{{"flowdock", teamFlow, "thread-1",
				"The conversation could not be given back to the bot. Try again.", false}},
			wantOwner: bot.OwnerHuman,
			wantErr:   "chatbot switch: 500",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixtureWith(t, failingOwner{bottest.NewFakeAdapter("sendbee"), tt.broken})
			f.link(t, "sendbee", "conv-1", teamFlow, "thread-1")
			if tt.human {
				require.NoError(t, f.b.Handoff(t.Context(), "sendbee", "conv-1"))
			}

			got, err := f.route(t, tt.msg)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantSent, summarize(got))
			assert.Equal(t, tt.wantOwner, f.owner(t, "sendbee", "conv-1"))
			assert.Equal(t, tt.wantOwner, f.sb.PlatformOwner("conv-1"), "mirrored to the platform's switch")
		})
	}
}

func TestHandler_Install(t *testing.T) {
	fd := func() *bottest.FakeAdapter { return bottest.NewFakeAdapter("flowdock") }
	realFD, err := flowdock.New(flowdock.AdapterConfig{Config: flowdock.Config{Token: "t", BaseURL: "http://127.0.0.1:1/api"}})
	require.NoError(t, err)
	st := bridge.ThreadStarterFunc(func(context.Context, string, string, string) (string, error) { return "t", nil })
	tests := []struct {
		name     string
		adapters []bot.Adapter
		h        bridge.Handler
		wantErr  string
		wantIs   error
		routes   []string // rules of the installed routes
	}{
		{
			name:     "defaults: the customer platforms the bot has",
			adapters: []bot.Adapter{bottest.NewFakeAdapter("sendbee"), fd()},
			h:        bridge.Handler{Team: bridge.Team{Conversation: "f"}, Starter: st},
			routes:   []string{`Platform("sendbee")`, `All(Platform("flowdock"), bridge.Team("f"))`},
		},
		{
			name:     "the flowdock adapter gives the default starter",
			adapters: []bot.Adapter{bottest.NewFakeAdapter("velaflows"), realFD},
			h:        bridge.Handler{Team: bridge.Team{Conversation: "f"}},
			routes:   []string{`Platform("velaflows")`, `All(Platform("flowdock"), bridge.Team("f"))`},
		},
		{
			name:     "explicit customers and team platform",
			adapters: []bot.Adapter{bottest.NewFakeAdapter("sendbee"), bottest.NewFakeAdapter("console"), bottest.NewFakeAdapter("slack")},
			h:        bridge.Handler{Team: bridge.Team{Platform: "slack", Conversation: "C1"}, Customers: []string{"console", "sendbee", "console"}, Starter: st},
			routes:   []string{`Platform("console", "sendbee")`, `All(Platform("slack"), bridge.Team("C1"))`},
		},
		{
			name:     "no team conversation",
			adapters: []bot.Adapter{bottest.NewFakeAdapter("sendbee"), fd()},
			h:        bridge.Handler{Starter: st},
			wantErr:  "bridge: Team.Conversation (the team flow id) is required",
		},
		{
			name:     "no team adapter",
			adapters: []bot.Adapter{bottest.NewFakeAdapter("sendbee")},
			h:        bridge.Handler{Team: bridge.Team{Conversation: "f"}, Starter: st},
			wantIs:   bot.ErrUnknownPlatform,
		},
		{
			name:     "a private chat has no threads",
			adapters: []bot.Adapter{bottest.NewFakeAdapter("sendbee"), fd()},
			h:        bridge.Handler{Team: bridge.Team{Conversation: "private:1305"}, Starter: st},
			wantErr:  "private chat",
		},
		{
			name:     "a private chat of a Flowdock instance has no threads either",
			adapters: []bot.Adapter{bottest.NewFakeAdapter("sendbee/acme"), bottest.NewFakeAdapter("flowdock/team")},
			h:        bridge.Handler{Team: bridge.Team{Platform: "flowdock/team", Conversation: "private:1305"}, Customers: []string{"sendbee/acme"}, Starter: st},
			wantErr:  "private chat",
		},
		{
			name:     "instances as customers",
			adapters: []bot.Adapter{bottest.NewFakeAdapter("sendbee/acme"), bottest.NewFakeAdapter("sendbee/globex"), fd()},
			h:        bridge.Handler{Team: bridge.Team{Conversation: "f"}, Customers: []string{"sendbee/acme", "sendbee/globex"}, Starter: st},
			routes:   []string{`Platform("sendbee/acme", "sendbee/globex")`, `All(Platform("flowdock"), bridge.Team("f"))`},
		},
		{
			name:     "no customer platform",
			adapters: []bot.Adapter{fd()},
			h:        bridge.Handler{Team: bridge.Team{Conversation: "f"}, Starter: st},
			wantErr:  "set Customers",
		},
		{
			name:     "an unknown customer platform",
			adapters: []bot.Adapter{bottest.NewFakeAdapter("sendbee"), fd()},
			h:        bridge.Handler{Team: bridge.Team{Conversation: "f"}, Customers: []string{"sendbee", "whatsapp"}, Starter: st},
			wantIs:   bot.ErrUnknownPlatform,
		},
		{
			name:     "empty customers",
			adapters: []bot.Adapter{bottest.NewFakeAdapter("sendbee"), fd()},
			h:        bridge.Handler{Team: bridge.Team{Conversation: "f"}, Customers: []string{}, Starter: st},
			wantErr:  "Customers is empty",
		},
		{
			name:     "the team among the customers",
			adapters: []bot.Adapter{bottest.NewFakeAdapter("sendbee"), fd()},
			h:        bridge.Handler{Team: bridge.Team{Conversation: "f"}, Customers: []string{"sendbee", "flowdock"}, Starter: st},
			wantErr:  "both the team's and a customer platform",
		},
		{
			name:     "a team adapter that is not flowdock needs a starter",
			adapters: []bot.Adapter{bottest.NewFakeAdapter("sendbee"), fd()},
			h:        bridge.Handler{Team: bridge.Team{Conversation: "f"}},
			wantErr:  "set Starter",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := bot.New(bot.WithAdapters(tt.adapters...), bot.WithLogger(bottest.Logger(t)))
			require.NoError(t, err)
			err = tt.h.Install(b)
			switch {
			case tt.wantIs != nil:
				assert.ErrorIs(t, err, tt.wantIs)
			case tt.wantErr != "":
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
			default:
				require.NoError(t, err)
			}
			var rules []string
			for _, r := range b.Routes() {
				assert.True(t, r.Observer, r.Rule)
				assert.Equal(t, bridge.RoutePriority, r.Priority, r.Rule)
				rules = append(rules, r.Rule)
			}
			assert.Equal(t, tt.routes, rules, "routes are registered only on success")
		})
	}
	assert.EqualError(t, bridge.Handler{}.Install(nil), "bridge: Install with a nil Bot")
}

func TestDefaultFormat(t *testing.T) {
	tests := []struct {
		name string
		m    *bot.Message
		want string
	}{
		{name: "name and phone", m: customer("Hi"), want: "[sendbee] Ana Horvat (+385911234567): Hi"},
		{name: "name and e-mail", m: bottest.NewMessage("Hi", bottest.In("velaflows", "c"), bottest.From(bot.User{Name: "Ivo", Email: "ivo@example.com"})),
			want: "[velaflows] Ivo (ivo@example.com): Hi"},
		{name: "name only", m: bottest.NewMessage("Hi", bottest.In("velaflows", "c"), bottest.From(bot.User{ID: "u", Name: "Ivo"})), want: "[velaflows] Ivo: Hi"},
		{name: "phone only", m: customer("Hi", bottest.From(bot.User{ID: "u", Phone: "+1415"})), want: "[sendbee] +1415: Hi"},
		{name: "id only", m: customer("Hi", bottest.From(bot.User{ID: "u-7"})), want: "[sendbee] u-7: Hi"},
		{name: "nobody", m: customer("Hi", bottest.From(bot.User{})), want: "[sendbee] customer: Hi"},
		{name: "caption and media", m: customer("my receipt", func(m *bot.Message) {
			m.Attachments = []bot.Attachment{{Kind: "image", URL: "https://cdn.example/r.jpg"}, {Name: "r.pdf", URL: "https://cdn.example/r.pdf"}}
		}), want: "[sendbee] Ana Horvat (+385911234567): my receipt\n[image] https://cdn.example/r.jpg\n[file] r.pdf https://cdn.example/r.pdf"},
		{name: "media only", m: customer("", func(m *bot.Message) {
			m.Attachments = []bot.Attachment{{Kind: "audio", URL: "https://cdn.example/v.ogg"}}
		}), want: "[sendbee] Ana Horvat (+385911234567): [audio] https://cdn.example/v.ogg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, bridge.DefaultFormat(tt.m))
		})
	}
}

// A custom Format is used, and what it renders is cut to Flowdock's
// longest message.
func TestHandler_Format(t *testing.T) {
	f := newFixture(t, func(h *bridge.Handler) {
		h.Format = func(m *bot.Message) string { return m.Author.Name + " wrote " + m.Text }
	})
	_, err := f.route(t, customer(strings.Repeat("ab", flowdock.MaxContentLength)))
	require.NoError(t, err)
	started := f.st.started()
	require.Len(t, started, 1)
	assert.True(t, strings.HasPrefix(started[0].Text, "Ana Horvat wrote abab"))
	assert.Equal(t, flowdock.MaxContentLength, len([]rune(started[0].Text)))
	assert.True(t, strings.HasSuffix(started[0].Text, "…"))
}
