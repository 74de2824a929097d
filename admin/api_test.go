package admin_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/admin"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/flow"
)

// deadLetter makes the fake platform refuse a message sent under key and
// returns the ID of the dead letter it becomes.
func deadLetter(t *testing.T, b *bot.Bot, fa *bottest.FakeAdapter, key string) string {
	t.Helper()
	fa.FailNext(errors.New("400 refused by the platform"))
	n, err := b.DeadLetterCount(t.Context())
	require.NoError(t, err)
	require.NoError(t, b.Send(t.Context(), &bot.Message{Platform: "fake", Conversation: "c1", Key: key, Text: "the secret text"}))
	require.Eventually(t, func() bool {
		m, err := b.DeadLetterCount(t.Context())
		return err == nil && m == n+1
	}, 5*time.Second, time.Millisecond)
	list, err := b.DeadLetters(t.Context())
	require.NoError(t, err)
	return list[len(list)-1].ID
}

// A dead letter is listed with what makes it useful and no text; one is
// read by ID; a replay delivers it under its key; a discard removes it;
// an unknown ID is 404.
func TestDeadLetters(t *testing.T) {
	b, fa, url := start(t)
	id := deadLetter(t, b, fa, "k1")

	a := call(t, http.MethodGet, url+"/admin/v1/dead-letters", "")
	require.Equal(t, http.StatusOK, a.status, a.body)
	assert.NotContains(t, a.body, "the secret text")
	list := a.object(t)
	assert.EqualValues(t, 1, list["total"])
	letters := list["dead_letters"].([]any)
	require.Len(t, letters, 1)
	d := letters[0].(map[string]any)
	assert.Equal(t, id, d["id"])
	assert.Equal(t, "fake", d["platform"])
	assert.Equal(t, "c1", d["conversation"])
	assert.Equal(t, "k1", d["key"])
	assert.Contains(t, d["error"], "400 refused by the platform")
	assert.EqualValues(t, 1, d["attempts"])
	assert.Equal(t, false, d["outcome_unknown"])
	assert.NotEmpty(t, d["time"])
	assert.NotContains(t, d, "text")

	a = call(t, http.MethodGet, url+"/admin/v1/dead-letters/"+id, "")
	require.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, d, a.object(t))

	a = call(t, http.MethodPost, url+"/admin/v1/dead-letters/"+id+"/replay", "")
	require.Equal(t, http.StatusOK, a.status, a.body)
	assert.JSONEq(t, `{"id":"`+id+`","status":"replayed"}`, a.body)
	sent := fa.WaitSent(t, 1)
	assert.Equal(t, "k1", sent[0].Key)
	assert.Equal(t, "the secret text", sent[0].Text)
	requireError(t, call(t, http.MethodPost, url+"/admin/v1/dead-letters/"+id+"/replay", ""), http.StatusNotFound, "not found")
	requireError(t, call(t, http.MethodGet, url+"/admin/v1/dead-letters/"+id, ""), http.StatusNotFound, "not found")

	id = deadLetter(t, b, fa, "k2")
	a = call(t, http.MethodDelete, url+"/admin/v1/dead-letters/"+id, "")
	require.Equal(t, http.StatusOK, a.status, a.body)
	assert.JSONEq(t, `{"id":"`+id+`","status":"discarded"}`, a.body)
	requireError(t, call(t, http.MethodDelete, url+"/admin/v1/dead-letters/"+id, ""), http.StatusNotFound, "not found")
	a = call(t, http.MethodGet, url+"/admin/v1/dead-letters", "")
	assert.JSONEq(t, `{"dead_letters":[],"total":0}`, a.body)

	requireError(t, call(t, http.MethodGet, url+"/admin/v1/dead-letters?limit=0", ""), http.StatusBadRequest, "limit")
}

// WithMessageText shows a dead letter's text.
func TestDeadLetters_withMessageText(t *testing.T) {
	b, fa, url := start(t, admin.WithMessageText())
	id := deadLetter(t, b, fa, "k1")
	a := call(t, http.MethodGet, url+"/admin/v1/dead-letters/"+id, "")
	require.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, "the secret text", a.object(t)["text"])
}

// The conversations the handler saw are listed, the latest first, with
// their owner and event counts; the oldest are forgotten past the limit.
func TestConversations(t *testing.T) {
	b, fa := newBot(t)
	url := serve(t, b, admin.WithConversationLimit(2))
	bottest.Run(t, b)
	following(t, url)
	for i, c := range []string{"c1", "c2", "c3"} {
		require.NoError(t, fa.Inject(t.Context(), bottest.NewMessage("/echo hi", bottest.In("fake", c), bottest.WithID("m"+c))))
		fa.WaitSent(t, i+1)
	}
	var convs []any
	require.Eventually(t, func() bool {
		a := call(t, http.MethodGet, url+"/admin/v1/conversations", "")
		convs = a.object(t)["conversations"].([]any)
		if len(convs) != 2 {
			return false
		}
		events := convs[0].(map[string]any)["events"].(map[string]any)
		return events["sent"] != nil
	}, 5*time.Second, time.Millisecond)
	c3 := convs[0].(map[string]any)
	assert.Equal(t, "c3", c3["conversation"])
	assert.Equal(t, "fake", c3["platform"])
	assert.Equal(t, "bot", c3["owner"])
	assert.Equal(t, map[string]any{"received": 1.0, "owner": 1.0, "sent": 1.0}, c3["events"],
		"the events the list follows")
	assert.NotEmpty(t, c3["last_activity"])
	assert.Equal(t, "c2", convs[1].(map[string]any)["conversation"], "c1, the least recently active, is forgotten")
}

// Handoff and resume change the Bot's owner of the conversation, which
// the detail shows; an unknown platform is 404.
func TestConversation_handoffResume(t *testing.T) {
	b, _, url := start(t)
	conv := url + "/admin/v1/conversations/fake/c1"
	a := call(t, http.MethodGet, conv, "")
	require.Equal(t, http.StatusOK, a.status, a.body)
	assert.JSONEq(t, `{"platform":"fake","conversation":"c1","owner":"bot","seen":null}`, a.body)

	a = call(t, http.MethodPost, conv+"/handoff", "")
	require.Equal(t, http.StatusOK, a.status, a.body)
	assert.JSONEq(t, `{"platform":"fake","conversation":"c1","owner":"human"}`, a.body)
	owner, err := b.Owner(t.Context(), "fake", "c1")
	require.NoError(t, err)
	assert.Equal(t, bot.OwnerHuman, owner)
	require.Eventually(t, func() bool {
		seen, _ := call(t, http.MethodGet, conv, "").object(t)["seen"].(map[string]any)
		return seen != nil && seen["owner"] == "human"
	}, 5*time.Second, time.Millisecond, "the owner_changed event")
	assert.Equal(t, "human", call(t, http.MethodGet, conv, "").object(t)["owner"])

	a = call(t, http.MethodPost, conv+"/resume", "{}")
	require.Equal(t, http.StatusOK, a.status, a.body)
	assert.JSONEq(t, `{"platform":"fake","conversation":"c1","owner":"bot"}`, a.body)
	owner, err = b.Owner(t.Context(), "fake", "c1")
	require.NoError(t, err)
	assert.Equal(t, bot.OwnerBot, owner)

	requireError(t, call(t, http.MethodPost, url+"/admin/v1/conversations/nope/c1/handoff", ""), http.StatusNotFound, "unknown platform")
	requireError(t, call(t, http.MethodGet, url+"/admin/v1/conversations/nope/c1", ""), http.StatusNotFound, "unknown platform")
}

// A conversation ID with a slash is written %2F.
func TestConversation_slashInID(t *testing.T) {
	b, _, url := start(t)
	a := call(t, http.MethodPost, url+"/admin/v1/conversations/fake/acme%2Fsupport/handoff", "")
	require.Equal(t, http.StatusOK, a.status, a.body)
	assert.JSONEq(t, `{"platform":"fake","conversation":"acme/support","owner":"human"}`, a.body)
	owner, err := b.Owner(t.Context(), "fake", "acme/support")
	require.NoError(t, err)
	assert.Equal(t, bot.OwnerHuman, owner)
}

// With a flow engine, the detail shows the conversation's active flow: its
// step and the names of its values, and the values WithMessageText.
func TestConversation_flow(t *testing.T) {
	for _, text := range []bool{false, true} {
		t.Run(map[bool]string{false: "names only", true: "with text"}[text], func(t *testing.T) {
			b, fa := newBot(t)
			e := flow.New(b)
			require.NoError(t, e.Define(flow.Flow{Name: "lead", Steps: []flow.Step{
				{Name: "name", Ask: flow.Text("Your name?"), Save: "name"},
				{Name: "email", Ask: flow.Text("Your email?"), Save: "email"},
			}}))
			e.Install()
			opts := []admin.Option{admin.WithFlows(e)}
			if text {
				opts = append(opts, admin.WithMessageText())
			}
			url := serve(t, b, opts...)
			bottest.Run(t, b)

			a := call(t, http.MethodGet, url+"/admin/v1/conversations/fake/c1", "")
			require.Equal(t, http.StatusOK, a.status, a.body)
			assert.Contains(t, a.object(t), "flow")
			assert.Nil(t, a.object(t)["flow"], "no flow runs")

			require.NoError(t, e.Start(t.Context(), "fake", "c1", "lead", nil))
			fa.WaitSent(t, 1)
			require.NoError(t, fa.Inject(t.Context(), bottest.NewMessage("Ada", bottest.In("fake", "c1"), bottest.WithID("m1"))))
			fa.WaitSent(t, 2)
			a = call(t, http.MethodGet, url+"/admin/v1/conversations/fake/c1", "")
			require.Equal(t, http.StatusOK, a.status, a.body)
			f := a.object(t)["flow"].(map[string]any)
			assert.Equal(t, "lead", f["flow"])
			assert.Equal(t, "email", f["step"])
			assert.Equal(t, []any{"name"}, f["value_names"])
			if text {
				assert.Equal(t, map[string]any{"name": "Ada"}, f["values"])
			} else {
				assert.NotContains(t, f, "values")
				assert.NotContains(t, a.body, "Ada")
			}
		})
	}
}

// Jobs are listed; one runs now, its sends delivered under keys of the
// manual run; an unknown job is 404; a job's error is 500 with its text;
// a job running already is 409.
func TestJobs(t *testing.T) {
	b, fa := newBot(t)
	require.NoError(t, b.Schedule("report", "0 9 1 1 *", bot.JobFunc(func(ctx context.Context, s bot.Sender) error {
		return s.Send(ctx, &bot.Message{Platform: "fake", Conversation: "team", Text: "the report"})
	})))
	require.NoError(t, b.Schedule("broken", "0 9 1 1 *", bot.JobFunc(func(context.Context, bot.Sender) error {
		return errors.New("no data")
	})))
	release, started := make(chan struct{}), make(chan struct{}, 1)
	require.NoError(t, b.Schedule("slow", "0 9 1 1 *", bot.JobFunc(func(ctx context.Context, _ bot.Sender) error {
		started <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})))
	url := serve(t, b)
	bottest.Run(t, b)
	runnable(t, b, "nope")

	a := call(t, http.MethodGet, url+"/admin/v1/jobs", "")
	require.Equal(t, http.StatusOK, a.status, a.body)
	jobs := a.object(t)["jobs"].([]any)
	require.Len(t, jobs, 3)
	j := jobs[0].(map[string]any)
	assert.Equal(t, "report", j["name"])
	assert.Equal(t, "0 9 1 1 *", j["spec"])
	next, err := time.Parse(time.RFC3339, j["next"].(string))
	require.NoError(t, err)
	assert.Equal(t, b.Jobs()[0].Next.Unix(), next.Unix())

	a = call(t, http.MethodPost, url+"/admin/v1/jobs/report/run", "")
	require.Equal(t, http.StatusOK, a.status, a.body)
	assert.Equal(t, "report", a.object(t)["job"])
	sent := fa.WaitSent(t, 1)
	assert.True(t, strings.HasPrefix(sent[0].Key, "cron:report:run:"), sent[0].Key)
	assert.Equal(t, "the report", sent[0].Text)

	requireError(t, call(t, http.MethodPost, url+"/admin/v1/jobs/nope/run", ""), http.StatusNotFound, `"nope"`)
	requireError(t, call(t, http.MethodPost, url+"/admin/v1/jobs/broken/run", ""), http.StatusInternalServerError, "no data")

	// A job running already is 409.
	slow := make(chan answer, 1)
	go func() { slow <- call(t, http.MethodPost, url+"/admin/v1/jobs/slow/run", "") }()
	<-started
	requireError(t, call(t, http.MethodPost, url+"/admin/v1/jobs/slow/run", ""), http.StatusConflict, "job is running")
	close(release)
	assert.Equal(t, http.StatusOK, (<-slow).status)
}

// The routes are listed in the order they are tried.
func TestRules(t *testing.T) {
	b, _ := newBot(t)
	b.HandleFunc(bot.Command("stop"), func(context.Context, bot.Sender, *bot.Message) error { return nil }, bot.Priority(5))
	url := serve(t, b)
	bottest.Run(t, b)
	a := call(t, http.MethodGet, url+"/admin/v1/rules", "")
	require.Equal(t, http.StatusOK, a.status, a.body)
	assert.JSONEq(t, `{"routes":[
		{"rule":"Command(\"stop\")","usage":"/stop","priority":5},
		{"rule":"Command(\"echo\")","usage":"/echo <text>","description":"say it back","priority":0}]}`, a.body)
}

// Explain hands the explainer the message of the request, its owner the
// Bot's record of the conversation unless the request gives one, and
// answers its explanation; without an explainer it is 501.
func TestExplain(t *testing.T) {
	b, _ := newBot(t)
	var got []*bot.Message
	explain := func(_ context.Context, m *bot.Message) (*admin.Explanation, error) {
		got = append(got, m)
		if m.Text == "fail" {
			return nil, errors.New("rulefile: broken")
		}
		return &admin.Explanation{Rules: []admin.ExplainedRule{{Rule: "refund", Result: "matched", Runs: true,
			DecidedBy: `text contains "refund"`, Actions: []admin.ExplainedAction{{Kind: "reply", Detail: `"Sorry"`}}}},
			Table: "1  refund  0  matched, runs  text contains \"refund\"\n"}, nil
	}
	url := serve(t, b, admin.WithExplainer(explain))
	bottest.Run(t, b)
	require.NoError(t, b.Handoff(t.Context(), "fake", "c1"))

	a := call(t, http.MethodPost, url+"/admin/v1/explain", `{"text":"I want a refund","platform":"fake","conversation":"c1","direct":true}`)
	require.Equal(t, http.StatusOK, a.status, a.body)
	assert.JSONEq(t, `{"rules":[{"rule":"refund","priority":0,"result":"matched","runs":true,
		"decided_by":"text contains \"refund\"","actions":[{"kind":"reply","detail":"\"Sorry\""}]}],
		"table":"1  refund  0  matched, runs  text contains \"refund\"\n"}`, a.body)
	require.Len(t, got, 1)
	assert.Equal(t, "I want a refund", got[0].Text)
	assert.Equal(t, "fake", got[0].Platform)
	assert.Equal(t, "c1", got[0].Conversation)
	assert.True(t, got[0].Direct)
	assert.Equal(t, bot.OwnerHuman, got[0].Owner, "the Bot's record")

	a = call(t, http.MethodPost, url+"/admin/v1/explain", `{"text":"hi","platform":"fake","conversation":"c1","owner":"bot"}`)
	require.Equal(t, http.StatusOK, a.status, a.body)
	assert.Equal(t, bot.OwnerBot, got[1].Owner, "the request's")
	a = call(t, http.MethodPost, url+"/admin/v1/explain", `{"text":"hi"}`)
	require.Equal(t, http.StatusOK, a.status, a.body)
	assert.Equal(t, "explain", got[2].Conversation)
	assert.Equal(t, bot.OwnerUnset, got[2].Owner)

	requireError(t, call(t, http.MethodPost, url+"/admin/v1/explain", `{"txt":"hi"}`), http.StatusBadRequest, `unknown field "txt"`)
	requireError(t, call(t, http.MethodPost, url+"/admin/v1/explain", `{"platform":"fake"}`), http.StatusBadRequest, "text")
	requireError(t, call(t, http.MethodPost, url+"/admin/v1/explain", `{"text":"hi","owner":"robot"}`), http.StatusBadRequest, `owner "robot"`)
	requireError(t, call(t, http.MethodPost, url+"/admin/v1/explain", `{"text":"hi"} {}`), http.StatusBadRequest, "more than one")
	requireError(t, call(t, http.MethodPost, url+"/admin/v1/explain", `{"text":"`+strings.Repeat("x", admin.MaxBodyBytes)+`"}`),
		http.StatusRequestEntityTooLarge, "body over")
	requireError(t, call(t, http.MethodPost, url+"/admin/v1/explain", `{"text":"fail"}`), http.StatusInternalServerError, "rulefile: broken")

	b2, _ := newBot(t)
	url2 := serve(t, b2)
	bottest.Run(t, b2)
	requireError(t, call(t, http.MethodPost, url2+"/admin/v1/explain", `{"text":"hi"}`), http.StatusNotImplemented, "without an explainer")
}

// The stats are the Bot's counters, its queues and the feed's drops.
func TestStats(t *testing.T) {
	_, fa, url := start(t)
	require.NoError(t, fa.Inject(t.Context(), bottest.NewMessage("/echo hi", bottest.In("fake", "c1"), bottest.WithID("m1"))))
	fa.WaitSent(t, 1)
	var st map[string]any
	require.Eventually(t, func() bool {
		st = call(t, http.MethodGet, url+"/admin/v1/stats", "").object(t)
		return st["sent"] == 1.0 && st["handled"] == 1.0
	}, 5*time.Second, time.Millisecond)
	assert.EqualValues(t, 1, st["received"])
	assert.EqualValues(t, 0, st["pending_inbound"])
	assert.EqualValues(t, 0, st["feed_dropped"])
	assert.Contains(t, st, "job_runs")
}

// An unknown path is 404 JSON; a method a path does not take is 405 with
// Allow.
func TestRouting(t *testing.T) {
	_, _, url := start(t)
	requireError(t, call(t, http.MethodGet, url+"/admin/v1/nope", ""), http.StatusNotFound, "no such path: /admin/v1/nope")
	requireError(t, call(t, http.MethodGet, url+"/admin/v2/stats", ""), http.StatusNotFound, "no such path")
	a := call(t, http.MethodDelete, url+"/admin/v1/jobs", "")
	requireError(t, a, http.StatusMethodNotAllowed, "DELETE /admin/v1/jobs")
	assert.Equal(t, "GET", a.header.Get("Allow"))
	a = call(t, http.MethodPost, url+"/admin/v1/dead-letters/1", "")
	requireError(t, a, http.StatusMethodNotAllowed, "allowed")
	assert.Equal(t, "DELETE, GET", a.header.Get("Allow"))
	a = call(t, http.MethodGet, url+"/admin/v1/stats", "")
	assert.Equal(t, "no-store", a.header.Get("Cache-Control"))
}

// A handler built while the Bot runs follows the feed too, until Run
// returns; one built for a Bot that never runs starts nothing (goleak
// checks both at the end of the tests).
func TestConversations_handlerBuiltLate(t *testing.T) {
	b, fa := newBot(t)
	stop := bottest.Run(t, b)
	srv := httptest.NewServer(admin.Handler(b))
	t.Cleanup(srv.Close)
	following(t, srv.URL)
	require.NoError(t, fa.Inject(t.Context(), bottest.NewMessage("hi", bottest.In("fake", "c9"), bottest.WithID("m1"))))
	require.Eventually(t, func() bool {
		convs := call(t, http.MethodGet, srv.URL+"/admin/v1/conversations", "").object(t)["conversations"].([]any)
		return len(convs) == 1 && convs[0].(map[string]any)["conversation"] == "c9"
	}, 5*time.Second, time.Millisecond)
	require.NoError(t, stop())

	idle, _ := newBot(t)
	a := call(t, http.MethodGet, serve(t, idle)+"/admin/v1/conversations", "")
	assert.JSONEq(t, `{"conversations":[],"since":null,"limit":1000,"dropped":0}`, a.body)
}
