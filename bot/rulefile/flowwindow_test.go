package rulefile_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/flow"
	"github.com/parleybot/parley/bot/rulefile"
)

// followupFile is a flow whose reminder and timeout send approved
// templates (of the emulator's seeded ones) when the customer-service
// window is closed, and their say while it is open.
var followupFile = lines(
	"flows:",
	"  followup:",
	"    steps:",
	"      - name: email",
	`        ask: "Your e-mail, {{.Values.name}}?"`,
	"        save: email",
	"        remind:",
	"          after: 23h",
	`          say: "Still there, {{.Values.name}}? {{.Ask}}{{if .WindowOpen}} (open{{if not .WindowClosesAt.IsZero}}, closes later{{end}}){{end}}"`,
	`          template: {keyword: welcome, language: en, tags: {"1": "{{.Values.name}}"}}`,
	"        timeout:",
	"          after: 2d",
	"          then: cancel",
	`          say: "Let's talk later, {{.Values.name}}."`,
	"          template:",
	"            keyword: order_shipped",
	"            language: en",
	`            tags: {"1": "{{.Values.name}}", "2": "{{.Step}}"}`,
	`            button_tags: {"1": "{{.Flow}}-{{if .WindowOpen}}open{{else}}closed{{end}}"}`,
	"rules:",
	"  - name: start",
	`    when: lower(Text) == "demo"`,
	"    actions:",
	`      - start_flow: {name: followup, values: {name: "{{.Author.Name}}"}}`,
)

// sendbeeBot is a Bot on a Sendbee adapter wired to the emulator over
// loopback, with followupFile's rules engine and a flow engine on a
// settable clock.
type sendbeeBot struct {
	emu  *sendbeetest.Server
	b    *bot.Bot
	fe   *flow.Engine
	clk  *clock
	done sync.Map // IDs of the inbound messages the Bot has handled
}

func newSendbeeBot(t *testing.T, src string) *sendbeeBot {
	t.Helper()
	var adapter atomic.Pointer[sendbee.Adapter]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := adapter.Load(); a != nil {
			a.ServeHTTP(w, r)
			return
		}
		http.Error(w, "no adapter", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	emu := sendbeetest.NewServer(t, sendbeetest.WithWebhook(srv.URL),
		sendbeetest.WithRedelivery(20, 20*time.Millisecond), sendbeetest.WithRetryAfterCap(50*time.Millisecond),
		sendbeetest.WithRateLimit(6000, time.Minute))
	sb, err := sendbee.New(sendbee.AdapterConfig{Config: sendbee.Config{
		APIKey: emu.APIKey(), APISecret: emu.APISecret(), BaseURL: emu.URL(), Logger: bottest.Logger(t),
	}, RequestsPerMinute: 6000})
	require.NoError(t, err)
	adapter.Store(sb)
	s := &sendbeeBot{emu: emu, clk: &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}}
	s.b, err = bot.New(bot.WithAdapters(sb), bot.WithLogger(bottest.Logger(t)),
		bot.WithHooks(bot.Hooks{Handled: func(_ context.Context, m *bot.Message, _ time.Duration, _ error) { s.done.Store(m.ID, true) }}))
	require.NoError(t, err)
	s.fe = flow.New(s.b, flow.WithClock(s.clk.Now), flow.WithSweepInterval(time.Millisecond))
	require.NoError(t, rulefile.NewEngine(mustParse(t, src), rulefile.WithFlows(s.fe)).Install(s.b))
	s.fe.Install()
	bottest.Run(t, s.b)
	return s
}

// handled waits until the Bot has handled the inbound message id.
func (s *sendbeeBot) handled(t *testing.T, id string) {
	t.Helper()
	require.Eventually(t, func() bool { _, ok := s.done.Load(id); return ok }, 5*time.Second, time.Millisecond,
		"message %s not handled", id)
}

// gone waits until the conversation has no flow.
func (s *sendbeeBot) gone(t *testing.T, conv string) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, err := s.fe.State(t.Context(), sendbee.Name, conv)
		return err != nil
	}, 5*time.Second, time.Millisecond)
	_, err := s.fe.State(t.Context(), sendbee.Name, conv)
	require.ErrorIs(t, err, flow.ErrNoFlow)
}

// While the customer-service window is open, a reminder and a timeout
// say their texts, which see .WindowOpen and .WindowClosesAt; the
// templates are not sent.
func TestEngine_flowTimersWindowOpen(t *testing.T) {
	s := newSendbeeBot(t, followupFile)
	conv, id := s.emu.CustomerMessage("+385911000001", "Ana", "demo")
	s.handled(t, id)
	assert.Equal(t, "Your e-mail, Ana?", s.emu.WaitSent(t, 1)[0].Text)

	s.clk.Add(23 * time.Hour)
	sent := s.emu.WaitSent(t, 2)
	assert.Equal(t, "/conversations/messages/send", sent[1].Endpoint)
	assert.Equal(t, "Still there, Ana? Your e-mail, Ana? (open, closes later)", sent[1].Text)
	assert.Empty(t, sent[1].TemplateKeyword)

	s.clk.Add(25 * time.Hour)
	sent = s.emu.WaitSent(t, 3)
	assert.Equal(t, "Let's talk later, Ana.", sent[2].Text)
	assert.Empty(t, sent[2].TemplateKeyword)
	s.gone(t, conv)
	assert.Len(t, s.emu.Sent(), 3)
}

// When the customer last wrote 25 hours ago, the window is closed: the
// flow's question (a proactive start) is refused and not owed, and the
// reminder and the timeout send their approved templates instead of say,
// the placeholders filled from the flow's data.
func TestEngine_flowTimersWindowClosed(t *testing.T) {
	s := newSendbeeBot(t, followupFile)
	now := s.emu.Now()
	s.emu.SetTime(now.Add(-25 * time.Hour))
	conv, id := s.emu.CustomerMessage("+385911000002", "Ana", "hello")
	s.emu.SetTime(now)
	s.handled(t, id)
	w, err := s.b.Window(t.Context(), sendbee.Name, conv)
	require.NoError(t, err)
	require.True(t, w.Applies)
	require.False(t, w.Open)

	// Go code starts the flow: its free-form question cannot be sent.
	require.NoError(t, s.fe.Start(t.Context(), sendbee.Name, conv, "followup", flow.Values{"name": "Ana"}))
	st, err := s.fe.State(t.Context(), sendbee.Name, conv)
	require.NoError(t, err)
	assert.Equal(t, "email", st.Step)
	assert.Empty(t, s.emu.Sent())

	s.clk.Add(23 * time.Hour)
	sent := s.emu.WaitSent(t, 1)
	assert.Equal(t, "/conversations/messages/templates/send", sent[0].Endpoint)
	assert.Equal(t, "welcome", sent[0].TemplateKeyword)
	assert.Equal(t, "en", sent[0].TemplateLanguage)
	assert.Equal(t, map[string]string{"1": "Ana"}, sent[0].TemplateTags)
	assert.Equal(t, "Welcome Ana! How can we help you?", sent[0].Text)

	s.clk.Add(25 * time.Hour)
	sent = s.emu.WaitSent(t, 2)
	assert.Equal(t, "order_shipped", sent[1].TemplateKeyword)
	assert.Equal(t, map[string]string{"1": "Ana", "2": "email"}, sent[1].TemplateTags)
	assert.Equal(t, map[string]string{"1": "followup-closed"}, sent[1].ButtonTags)
	assert.Equal(t, "Hi Ana, your order email has shipped.", sent[1].Text)
	s.gone(t, conv)
	assert.Len(t, s.emu.Sent(), 2)
	assert.Zero(t, s.b.Stats().WindowFallbacks)
}

// On a platform without a window a timer's template is never sent: a
// reminder without say asks the question again, a timeout without say
// says nothing, and .WindowOpen is true with no .WindowClosesAt.
func TestEngine_flowTimersNoWindow(t *testing.T) {
	sb := bottest.NewFakeAdapter("sendbee")
	b, err := bot.New(bot.WithAdapters(sb), bot.WithLogger(bottest.Logger(t)))
	require.NoError(t, err)
	clk := &clock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	fe := flow.New(b, flow.WithClock(clk.Now), flow.WithSweepInterval(time.Millisecond))
	require.NoError(t, rulefile.NewEngine(mustParse(t, lines(
		"flows:",
		"  f:",
		"    steps:",
		"      - name: email",
		`        ask: "E-mail?{{if .WindowOpen}} open{{end}}{{if .WindowClosesAt.IsZero}} no end{{end}}"`,
		"        remind: {after: 10m, template: {keyword: welcome, language: en}}",
		"        timeout: {after: 1h, then: end, template: {keyword: welcome, language: en}}",
		`    done: "Bye."`,
		"rules:",
		"  - name: start",
		"    when: 'true'",
		"    actions:",
		"      - start_flow: f",
	)), rulefile.WithFlows(fe)).Install(b))
	fe.Install()
	bottest.Run(t, b)
	require.NoError(t, sb.Inject(t.Context(), bottest.NewMessage("hi", bottest.In("sendbee", "c1"))))
	assert.Equal(t, "E-mail? open no end", sb.WaitSent(t, 1)[0].Text)
	clk.Add(10 * time.Minute)
	assert.Equal(t, "E-mail? open no end", sb.WaitSent(t, 2)[1].Text)
	clk.Add(time.Hour)
	assert.Equal(t, "Bye.", sb.WaitSent(t, 3)[2].Text, "the timeout says nothing; its then ends the flow")
	for _, m := range sb.Sent() {
		assert.Nil(t, m.Payload)
	}
}

func TestParse_flowTimerTemplateProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "missing_keyword_and_language",
			src:  flowFile(`        remind: {after: 23h, template: {tags: {"1": x}}}`),
			want: []string{
				`rules.yaml:6:40: flow "f": step "a": remind: template: missing key "keyword"`,
				`rules.yaml:6:40: flow "f": step "a": remind: template: missing key "language"`,
			},
		},
		{
			name: "unknown_key",
			src:  flowFile("        timeout:", "          after: 1h", "          template: {keyword: k, language: en, tag: {}}"),
			want: []string{`rules.yaml:8:48: flow "f": step "a": timeout: template: unknown key "tag" (did you mean "tags"?)`},
		},
		{
			name: "not_a_mapping",
			src:  flowFile("        remind: {after: 1h, template: still_there}"),
			want: []string{`rules.yaml:6:39: flow "f": step "a": remind: template: want a mapping, got the string "still_there"`},
		},
		{
			name: "timeout_has_no_ask",
			src:  flowFile(`        timeout: {after: 1h, template: {keyword: k, language: en, tags: {"1": "{{.Ask}}"}}}`),
			want: []string{`rules.yaml:6:82: flow "f": step "a": timeout: template: tags: 1: bad template: the prompt data has no field Ask`},
		},
		{
			name: "bad_button_tag",
			src:  flowFile(`        remind: {after: 1h, template: {keyword: k, language: en, button_tags: {"1": "{{.Valus.x}}"}}}`),
			want: []string{`rules.yaml:6:94: flow "f": step "a": remind: template: button_tags: 1: bad template: the reminder data has no field Valus`},
		},
		{
			name: "not_on_retry",
			src:  flowFile("        retry: {template: {keyword: k, language: en}}"),
			want: []string{`rules.yaml:6:17: flow "f": step "a": retry: unknown key "template"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := problems(t, tt.src)
			assert.Equal(t, tt.want, got, "\n%s", strings.Join(got, "\n"))
		})
	}
}

// A reminder's template sees .Ask, and the prompt data's window fields
// load.
func TestParse_flowTimerTemplate(t *testing.T) {
	t.Parallel()
	_, err := rulefile.Parse("rules.yaml", []byte(flowFile(
		`        remind: {after: 23h, template: {keyword: k, language: en, tags: {"1": "{{.Ask}}", "2": "{{.WindowClosesAt.Format \"15:04\"}}"}}}`,
	)))
	require.NoError(t, err)
}
