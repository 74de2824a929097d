package flowdock_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/flowdock/flowdocktest"
	"github.com/parleybot/parley/bot"
)

// emuClient returns a client of the emulator with the bot's token and the
// flow token of acme/ops.
func emuClient(t *testing.T, s *flowdocktest.Server) *flowdock.Client {
	t.Helper()
	c, err := flowdock.NewClient(flowdock.Config{
		Token:     s.Token(),
		FlowToken: s.FlowToken("acme/ops"),
		BaseURL:   s.URL(),
		Logger:    bottestLogger(t),
		Debug:     true,
	})
	require.NoError(t, err)
	return c
}

func TestEmulator_usersAndFlows(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := emuClient(t, s)
	ctx := t.Context()

	me, resp, err := c.CurrentUser(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, s.BotID(), me.ID)
	assert.Equal(t, "parley", me.Nick)
	assert.EqualValues(t, s.BotID(), resp.UserID, "Flowdock-User")

	users, _, err := c.Users(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, users)
	dana, _, err := c.GetUser(ctx, 1305)
	require.NoError(t, err)
	assert.Equal(t, "dana", dana.Nick)
	uid, _, err := c.UserIDByName(ctx, "Ray_")
	require.NoError(t, err)
	assert.EqualValues(t, 1320, uid)
	_, _, err = c.UserIDByName(ctx, "nobody")
	assert.ErrorIs(t, err, flowdock.ErrNotFound)

	fu, _, err := c.FlowUsers(ctx, "acme", "ops")
	require.NoError(t, err)
	var nicks []string
	for _, u := range fu {
		nicks = append(nicks, u.Nick)
	}
	assert.ElementsMatch(t, []string{"parley", "dana", "mike"}, nicks)

	joined, _, err := c.Flows(ctx, flowdock.FlowsOptions{Users: true})
	require.NoError(t, err)
	var names []string
	for _, f := range joined {
		names = append(names, f.Chat().String())
		assert.True(t, f.Joined)
		assert.NotEmpty(t, f.Users)
	}
	assert.ElementsMatch(t, []string{"acme/main", "acme/ops", "acme/random"}, names)

	all, _, err := c.Flows(ctx, flowdock.FlowsOptions{All: true})
	require.NoError(t, err)
	var hr *flowdock.Flow
	for i := range all {
		if all[i].ParameterizedName == "hr" {
			hr = &all[i]
		}
	}
	require.NotNil(t, hr, "organization flows appear in /flows/all")
	assert.False(t, hr.Joined)

	ops, _, err := c.GetFlow(ctx, "acme", "ops")
	require.NoError(t, err)
	assert.Equal(t, s.FlowID("acme/ops"), ops.ID)
	assert.Equal(t, "acme", ops.Organization.ParameterizedName)
	found, _, err := c.FindFlow(ctx, ops.ID)
	require.NoError(t, err)
	assert.Equal(t, "ops", found.ParameterizedName)

	_, _, err = c.GetFlow(ctx, "acme", "nope")
	var apiErr *flowdock.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 404, apiErr.StatusCode)
	assert.Equal(t, "not found", apiErr.Message)

	convs, _, err := c.PrivateConversations(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, convs, "the demo has a private message from dana")
	pc, _, err := c.GetPrivateConversation(ctx, 1305)
	require.NoError(t, err)
	chat, err := pc.Chat()
	require.NoError(t, err)
	assert.Equal(t, flowdock.PrivateChat(1305), chat)

	var orgs []map[string]any
	_, err = c.Do(ctx, "GET", "/organizations", nil, nil, &orgs)
	require.NoError(t, err)
	assert.NotEmpty(t, orgs)
}

// TestEmulator_messages is the Python wrapper's "Send, Edit, and Delete"
// and "Tag a Message" walk-throughs in a flow and a private chat.
func TestEmulator_messages(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := emuClient(t, s)
	ctx := t.Context()
	flow := flowdock.FlowChat("acme", "main")

	msg, resp, err := c.SendMessage(ctx, flow, flowdock.NewMessage{Content: "a message"})
	require.NoError(t, err)
	assert.Equal(t, 201, resp.StatusCode)
	require.NotZero(t, msg.ID)
	assert.Regexp(t, uuidRE, msg.UUID)
	sent := s.WaitSent(t, 1)
	assert.Equal(t, msg.UUID, sent[0].UUID, "the uuid reached the platform")

	_, err = c.EditMessage(ctx, flow, msg.ID, flowdock.MessageUpdate{Content: flowdock.Ptr("an edit message")})
	require.NoError(t, err)
	got, _, err := c.GetMessage(ctx, flow, msg.ID)
	require.NoError(t, err)
	assert.Equal(t, "an edit message", got.Text())
	_, err = c.DeleteMessage(ctx, flow, msg.ID)
	require.NoError(t, err)
	got, _, err = c.GetMessage(ctx, flow, msg.ID)
	require.NoError(t, err)
	assert.Empty(t, got.Text(), "a deleted chat message is truncated")

	// Tags.
	tagged, _, err := c.SendMessage(ctx, flow, flowdock.NewMessage{Content: "@team, ref here: http://docs.python.org", Tags: []string{"ref"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"ref", ":user:team", ":url"}, tagged.Tags)
	tags := append(tagged.Tags, "ref", "python")
	_, err = c.EditMessage(ctx, flow, tagged.ID, flowdock.MessageUpdate{Tags: tags})
	require.NoError(t, err)
	got, _, err = c.GetMessage(ctx, flow, tagged.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{"ref", ":user:team", ":url", "python"}, got.Tags)
	_, err = c.EditMessage(ctx, flow, tagged.ID, flowdock.MessageUpdate{Tags: []string{"ref", ":user:team", ":url"}})
	require.NoError(t, err)
	_, err = c.EditMessage(ctx, flow, tagged.ID, flowdock.MessageUpdate{
		Content: flowdock.Ptr("@team, read ref here:"), Tags: []string{"ref", ":user:team", ":url"},
	})
	require.NoError(t, err)
	got, _, err = c.GetMessage(ctx, flow, tagged.ID)
	require.NoError(t, err)
	assert.Equal(t, "@team, read ref here:", got.Text())
	assert.Equal(t, []string{"ref", ":user:team", ":url"}, got.Tags)

	// Someone else's message: tags yes, content no.
	other, err := s.Post("acme/main", "dana", "my words")
	require.NoError(t, err)
	_, err = c.EditMessage(ctx, flow, int64(other.ID), flowdock.MessageUpdate{Tags: []string{"important"}})
	require.NoError(t, err)
	_, err = c.EditMessage(ctx, flow, int64(other.ID), flowdock.MessageUpdate{Content: flowdock.Ptr("hijack")})
	var apiErr *flowdock.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 403, apiErr.StatusCode)
	_, err = c.DeleteMessage(ctx, flow, int64(other.ID))
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 403, apiErr.StatusCode)

	// A private chat.
	private := flowdock.PrivateChat(1305)
	pm, _, err := c.SendMessage(ctx, private, flowdock.NewMessage{Content: "ref here: https://go.dev", Tags: []string{"ref"}})
	require.NoError(t, err)
	assert.True(t, pm.IsPrivate())
	assert.Equal(t, []string{":unread:1305", "ref", ":url"}, pm.Tags)
	_, err = c.EditMessage(ctx, private, pm.ID, flowdock.MessageUpdate{Tags: []string{":unread:1305", "ref", "resources", ":url"}})
	require.NoError(t, err)
	_, err = c.EditMessage(ctx, private, pm.ID, flowdock.MessageUpdate{Content: flowdock.Ptr("an edit message")})
	require.NoError(t, err)
	got, _, err = c.GetMessage(ctx, private, pm.ID)
	require.NoError(t, err)
	assert.Equal(t, "an edit message", got.Text())
	assert.Contains(t, got.Tags, "resources")
	list, _, err := c.ListMessages(ctx, private, flowdock.ListOptions{Limit: 100})
	require.NoError(t, err)
	assert.Equal(t, pm.ID, list[len(list)-1].ID)
	_, err = c.DeleteMessage(ctx, private, pm.ID)
	require.NoError(t, err)

	// A server-side validation error with field errors: a uuid twice.
	_, _, err = c.SendMessage(ctx, flow, flowdock.NewMessage{Content: "again", UUID: msg.UUID})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.StatusCode)
	assert.NotEmpty(t, apiErr.Errors["uuid"], "errors: %s", apiErr.Body)
	assert.Contains(t, err.Error(), "(fields: uuid)")
}

// TestEmulator_threads is the Python wrapper's "Reply Message onto a
// Thread" and "List Threads" walk-throughs.
func TestEmulator_threads(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := emuClient(t, s)
	ctx := t.Context()

	start, _, err := c.SendMessage(ctx, flowdock.FlowChat("acme", "main"), flowdock.NewMessage{Content: "Thread start"})
	require.NoError(t, err)
	require.NotEmpty(t, start.ThreadID)
	require.NotNil(t, start.Thread)
	assert.Equal(t, start.ThreadID, start.Thread.ID)

	reply, _, err := c.ReplyInThread(ctx, "acme", "main", start.ThreadID, flowdock.NewMessage{Content: "A message replied"})
	require.NoError(t, err)
	assert.Equal(t, start.ThreadID, reply.ThreadID)
	// Also with thread_id on a plain send.
	viaSend, _, err := c.SendMessage(ctx, flowdock.FlowChat("acme", "main"), flowdock.NewMessage{Content: "also here", ThreadID: start.ThreadID})
	require.NoError(t, err)
	assert.Equal(t, start.ThreadID, viaSend.ThreadID)

	last, _, err := c.ThreadMessages(ctx, "acme", "main", start.ThreadID, flowdock.ListOptions{Limit: 1})
	require.NoError(t, err)
	require.Len(t, last, 1)
	assert.Equal(t, "also here", last[0].Text())
	all, _, err := c.ThreadMessages(ctx, "acme", "main", start.ThreadID, flowdock.ListOptions{})
	require.NoError(t, err)
	assert.Len(t, all, 3)

	threads, _, err := c.ListThreads(ctx, "acme", "main", flowdock.ThreadListOptions{Limit: 1})
	require.NoError(t, err)
	require.Len(t, threads, 1)
	assert.Equal(t, start.ThreadID, threads[0].ID, "newest first")
	th, _, err := c.GetThread(ctx, "acme", "main", start.ThreadID)
	require.NoError(t, err)
	assert.Equal(t, "Thread start", th.Title)
	assert.EqualValues(t, start.ID, th.InitialMessage)

	// Page through every thread, one per page.
	for i := range 4 {
		_, _, err := c.SendMessage(ctx, flowdock.FlowChat("acme", "main"), flowdock.NewMessage{Content: "topic " + strconv.Itoa(i)})
		require.NoError(t, err)
	}
	everything, _, err := c.ListThreads(ctx, "acme", "main", flowdock.ThreadListOptions{Limit: 100})
	require.NoError(t, err)
	var paged []string
	for th, err := range c.AllThreads(ctx, "acme", "main", flowdock.ThreadListOptions{Limit: 2}) {
		require.NoError(t, err)
		paged = append(paged, th.ID)
	}
	var want []string
	for _, th := range everything {
		want = append(want, th.ID)
	}
	assert.Equal(t, want, paged)

	_, _, err = c.ListThreads(ctx, "acme", "main", flowdock.ThreadListOptions{
		Since: th.CreatedAt.Add(-1), Until: th.UpdatedAt.Add(1e9),
	})
	require.NoError(t, err)
}

// TestEmulator_files is the Python wrapper's "Upload and Download a File"
// walk-through.
func TestEmulator_files(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := emuClient(t, s)
	ctx := t.Context()
	data := []byte(strings.Repeat("Flowdock API Wrapper\n", 100))

	for _, chat := range []flowdock.Chat{flowdock.FlowChat("acme", "main"), flowdock.PrivateChat(1305)} {
		t.Run(chat.String(), func(t *testing.T) {
			msg, resp, err := c.UploadFile(ctx, chat, flowdock.FileUpload{Name: "README.rst", Content: bytes.NewReader(data), Tags: []string{"docs"}})
			require.NoError(t, err)
			assert.Equal(t, 201, resp.StatusCode)
			assert.True(t, msg.HasTag(":file"))
			content, err := msg.File()
			require.NoError(t, err)
			assert.Equal(t, "README.rst", content.FileName)
			assert.EqualValues(t, len(data), content.FileSize)

			shown, _, err := c.GetMessage(ctx, chat, msg.ID)
			require.NoError(t, err)
			shownContent, err := shown.File()
			require.NoError(t, err)

			var buf bytes.Buffer
			n, _, err := c.DownloadFileTo(ctx, shownContent.Path, &buf)
			require.NoError(t, err)
			assert.EqualValues(t, len(data), n)
			assert.Equal(t, data, buf.Bytes())

			_, err = c.DeleteMessage(ctx, chat, msg.ID)
			require.NoError(t, err)
			_, _, err = c.GetMessage(ctx, chat, msg.ID)
			var apiErr *flowdock.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, 404, apiErr.StatusCode)
			assert.Equal(t, `{"message":"not found"}`, string(apiErr.Body))
		})
	}

	// Into a thread.
	start, _, err := c.SendMessage(ctx, flowdock.FlowChat("acme", "main"), flowdock.NewMessage{Content: "logs below"})
	require.NoError(t, err)
	up, _, err := c.UploadFile(ctx, flowdock.FlowChat("acme", "main"), flowdock.FileUpload{Name: "log.txt", Content: strings.NewReader("x"), ThreadID: start.ThreadID})
	require.NoError(t, err)
	assert.Equal(t, start.ThreadID, up.ThreadID)

	// Both ways to list files.
	byTag, _, err := c.ListMessages(ctx, flowdock.FlowChat("acme", "main"), flowdock.ListOptions{Tags: []string{":file"}})
	require.NoError(t, err)
	byEvent, _, err := c.ListMessages(ctx, flowdock.FlowChat("acme", "main"), flowdock.ListOptions{Events: []string{"file"}})
	require.NoError(t, err)
	require.NotEmpty(t, byEvent)
	assert.Equal(t, ids(byTag), ids(byEvent))
}

func ids(ms []flowdock.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// TestEmulator_listPatterns runs the Python wrapper's "List Messages"
// examples on a flow of their own.
func TestEmulator_listPatterns(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t, flowdocktest.WithFlows(flowdocktest.Flow{Org: "hpe", Name: "apua-flow"}))
	c := emuClient(t, s)
	ctx := t.Context()
	flow := flowdock.FlowChat("hpe", "apua-flow")

	for _, m := range []flowdock.NewMessage{
		{Content: "1. a keyword"}, {Content: "2. keywords", Tags: []string{"A"}}, {Content: "3. more keywords", Tags: []string{"A", "B"}},
	} {
		_, _, err := c.SendMessage(ctx, flow, m)
		require.NoError(t, err)
	}
	verify := func(opts flowdock.ListOptions) string {
		t.Helper()
		ms, _, err := c.ListMessages(ctx, flow, opts)
		require.NoError(t, err)
		var out []string
		for _, m := range ms {
			out = append(out, m.Text()[:1])
		}
		return strings.Join(out, " ")
	}
	or := flowdock.TagModeOr
	kw, ab := "keyword", []string{"A", "B"}
	assert.Equal(t, "1", verify(flowdock.ListOptions{Search: kw}))
	assert.Equal(t, "3", verify(flowdock.ListOptions{Tags: ab}))
	assert.Equal(t, "2 3", verify(flowdock.ListOptions{Tags: ab, TagMode: or}))
	assert.Equal(t, "1 2 3", verify(flowdock.ListOptions{Search: kw, Tags: ab, TagMode: or}))
	assert.Equal(t, "1 2", verify(flowdock.ListOptions{Search: kw, Tags: ab, TagMode: or, Skip: 1}))
	assert.Equal(t, "3", verify(flowdock.ListOptions{Search: kw, Tags: ab, TagMode: or, Limit: 1}))
	assert.Equal(t, "2", verify(flowdock.ListOptions{Search: kw, Tags: ab, TagMode: or, Skip: 1, Limit: 1}))

	upload := func() *flowdock.Message {
		m, _, err := c.UploadFile(ctx, flow, flowdock.FileUpload{Name: "README.rst", Content: strings.NewReader("x")})
		require.NoError(t, err)
		return m
	}
	msgs := []*flowdock.Message{upload(), upload(), upload()}
	m4, _, err := c.SendMessage(ctx, flow, flowdock.NewMessage{Content: "file_path"})
	require.NoError(t, err)
	msgs = append(msgs, m4, upload())
	pos := map[int64]string{}
	for i, m := range msgs {
		pos[m.ID] = strconv.Itoa(i + 1)
	}
	verify2 := func(opts flowdock.ListOptions) string {
		t.Helper()
		ms, _, err := c.ListMessages(ctx, flow, opts)
		require.NoError(t, err)
		var out []string
		for _, m := range ms {
			out = append(out, pos[m.ID])
		}
		return strings.Join(out, " ")
	}
	id1, id5 := msgs[0].ID, msgs[4].ID
	assert.Equal(t, "2 3 4 5", verify2(flowdock.ListOptions{SinceID: id1}))
	assert.Equal(t, "2 3 4", verify2(flowdock.ListOptions{SinceID: id1, UntilID: id5}))
	assert.Equal(t, "2 3 5", verify2(flowdock.ListOptions{Events: []string{"file"}, SinceID: id1}))
	assert.Equal(t, "5", verify2(flowdock.ListOptions{Events: []string{"file"}, SinceID: id1, Limit: 1}))
	assert.Equal(t, "2", verify2(flowdock.ListOptions{Events: []string{"file"}, SinceID: id1, Sort: flowdock.SortAsc, Limit: 1}))

	// The iterators over the same flow.
	var after []int64
	for m, err := range c.AllMessages(ctx, flow, flowdock.ListOptions{SinceID: id1, Limit: 2}) {
		require.NoError(t, err)
		after = append(after, m.ID)
	}
	assert.Equal(t, []int64{msgs[1].ID, msgs[2].ID, msgs[3].ID, msgs[4].ID}, after)
	var found []string
	for m, err := range c.SearchMessages(ctx, flow, flowdock.ListOptions{Search: kw, Tags: ab, TagMode: or, Limit: 2}) {
		require.NoError(t, err)
		found = append(found, m.Text()[:1])
	}
	assert.Equal(t, []string{"3", "2", "1"}, found, "newest first")
}

// TestEmulator_integration is the Python wrapper's "Flowdock Inbox
// overview":
// present, check, tag, reply and delete an external item.
func TestEmulator_integration(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := emuClient(t, s)
	ctx := t.Context()
	ops := flowdock.FlowChat("acme", "ops")

	itemID := "ITEM-01"
	uri := "https://external.service/item/" + itemID
	status, err := flowdock.NewStatus(flowdock.ColorGreen, "TODO")
	require.NoError(t, err)
	item := flowdock.NewThread("Item 01",
		flowdock.WithExternalURL(uri),
		flowdock.WithBody("<strong>The detail of the item here....</strong>"),
		flowdock.WithFields(flowdock.NewField("a", "1"), flowdock.NewField("<a>b</a>", "<a>2</a>")),
		flowdock.WithStatus(status),
		flowdock.WithActions(flowdock.ViewAction("Diff", ""), flowdock.UpdateAction("Assign to me", uri+"?assign=me", "POST")),
	)
	ray := flowdock.NewAuthor("Ray", "http://somewhere.public/ray.png")

	act, resp, err := c.PostActivity(ctx, flowdock.Activity{ExternalThreadID: itemID, Author: ray, Title: "created item", Thread: item})
	require.NoError(t, err)
	assert.Equal(t, 202, resp.StatusCode)
	assert.Zero(t, act.ID, "no id for a flow-token post")
	_, _, err = c.PostDiscussion(ctx, flowdock.Discussion{ExternalThreadID: itemID, Author: ray, Title: "commented", Body: "The comment", Thread: item})
	require.NoError(t, err)
	// Known item, nothing changed: only its id.
	_, _, err = c.PostDiscussion(ctx, flowdock.Discussion{ExternalThreadID: itemID, Author: ray, Title: "commented", Body: "No URI returned"})
	require.NoError(t, err)

	// Check presented items: the latest message, the latest discussion,
	// a search, and the thread found by its external URL.
	latest, _, err := c.ListMessages(ctx, ops, flowdock.ListOptions{Limit: 1})
	require.NoError(t, err)
	assert.Equal(t, "No URI returned", latest[len(latest)-1].Body)
	disc, _, err := c.ListMessages(ctx, ops, flowdock.ListOptions{Events: []string{"discussion"}, Limit: 1})
	require.NoError(t, err)
	require.Len(t, disc, 1)
	d := disc[0]
	assert.Equal(t, "No URI returned", d.Body)
	assert.Equal(t, flowdock.ID("0"), d.User)
	assert.Equal(t, "influx", d.App)
	searched, _, err := c.ListMessages(ctx, ops, flowdock.ListOptions{Search: "URI"})
	require.NoError(t, err)
	require.NotEmpty(t, searched)
	assert.Equal(t, "No URI returned", searched[len(searched)-1].Body)

	_, _, err = c.PostActivity(ctx, flowdock.Activity{ExternalThreadID: itemID, Author: ray, Title: "touched item", Thread: item})
	require.NoError(t, err)
	var thread *flowdock.Thread
	for th, err := range c.AllThreads(ctx, "acme", "ops", flowdock.ThreadListOptions{}) {
		require.NoError(t, err)
		if th.ExternalURL == uri {
			thread = &th
			break
		}
	}
	require.NotNil(t, thread)
	assert.Equal(t, "Item 01", thread.Title)
	assert.Equal(t, &flowdock.Status{Color: flowdock.ColorGreen, Value: "TODO"}, thread.Status)
	assert.Len(t, thread.Actions, 2)
	activities, _, err := c.ThreadMessages(ctx, "acme", "ops", thread.ID, flowdock.ListOptions{Events: []string{"activity"}})
	require.NoError(t, err)
	assert.Equal(t, "touched item", activities[len(activities)-1].Title)

	// Tag, reply to and delete the discussion.
	_, err = c.EditMessage(ctx, ops, d.ID, flowdock.MessageUpdate{Tags: []string{"idea"}})
	require.NoError(t, err)
	reply, _, err := c.ReplyInThread(ctx, "acme", "ops", d.ThreadID, flowdock.NewMessage{Content: "Reply the other idea"})
	require.NoError(t, err)
	assert.Equal(t, d.ThreadID, reply.ThreadID)
	_, err = c.DeleteMessage(ctx, ops, d.ID)
	require.NoError(t, err)
	_, _, err = c.GetMessage(ctx, ops, d.ID)
	var apiErr *flowdock.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 404, apiErr.StatusCode)
	assert.Equal(t, "not found", apiErr.Message)

	// An integration chat message, with a sender name.
	pm, _, err := c.PostMessage(ctx, flowdock.IntegrationMessage{
		NewMessage:       flowdock.NewMessage{Content: "Build #89 passed", ExternalUserName: "CI"},
		ExternalThreadID: itemID,
	})
	require.NoError(t, err)
	got, _, err := c.MessageByUUID(ctx, ops, pm.UUID)
	require.NoError(t, err, "a flow-token post is found by its uuid with the personal token")
	assert.Equal(t, "Build #89 passed", got.Text())
	assert.Equal(t, thread.ID, got.ThreadID)

	// A removed integration: 410, permanent.
	require.True(t, s.RevokeFlowToken("acme/ops"))
	_, _, err = c.PostActivity(ctx, flowdock.Activity{ExternalThreadID: itemID, Author: ray, Title: "closed"})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 410, apiErr.StatusCode)
	assert.False(t, apiErr.Temporary())
}

func TestEmulator_messageByUUID(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := emuClient(t, s)
	ctx := t.Context()
	main := flowdock.FlowChat("acme", "main")

	// The send went through: the lookup finds it.
	sent, _, err := c.SendMessage(ctx, main, flowdock.NewMessage{Content: "deploy done"})
	require.NoError(t, err)
	for i := range 150 {
		_, err := s.Post("acme/main", "dana", "chatter "+strconv.Itoa(i))
		require.NoError(t, err)
	}
	got, _, err := c.MessageByUUID(ctx, main, sent.UUID)
	require.NoError(t, err)
	assert.Equal(t, sent.ID, got.ID)

	// The send failed before reaching the flow: not found, safe to resend.
	uuid := flowdock.NewUUID()
	s.FailRequests(502, 1)
	_, _, err = c.SendMessage(ctx, main, flowdock.NewMessage{Content: "retry me", UUID: uuid})
	var apiErr *flowdock.APIError
	require.ErrorAs(t, err, &apiErr)
	require.True(t, apiErr.Temporary())
	_, _, err = c.MessageByUUID(ctx, main, uuid)
	require.ErrorIs(t, err, flowdock.ErrNotFound)
	again, _, err := c.SendMessage(ctx, main, flowdock.NewMessage{Content: "retry me", UUID: uuid})
	require.NoError(t, err)
	assert.Equal(t, uuid, again.UUID)

	// Private chats too.
	pm, _, err := c.SendMessage(ctx, flowdock.PrivateChat(1305), flowdock.NewMessage{Content: "psst"})
	require.NoError(t, err)
	got, _, err = c.MessageByUUID(ctx, flowdock.PrivateChat(1305), pm.UUID)
	require.NoError(t, err)
	assert.Equal(t, pm.ID, got.ID)
}

func TestEmulator_errors(t *testing.T) {
	t.Parallel()
	s := flowdocktest.NewServer(t)
	c := emuClient(t, s)
	ctx := t.Context()

	s.FailRequests(429, 1)
	_, _, err := c.CurrentUser(ctx)
	var rl *bot.RateLimitError
	require.ErrorAs(t, err, &rl)
	assert.Equal(t, "flowdock", rl.Platform)
	assert.GreaterOrEqual(t, rl.RetryAfter, 0*rl.RetryAfter)

	s.FailRequests(503, 1)
	_, _, err = c.Flows(ctx, flowdock.FlowsOptions{})
	var apiErr *flowdock.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.True(t, apiErr.Temporary())

	bad, err := flowdock.NewClient(flowdock.Config{Token: "wrong", BaseURL: s.URL(), Logger: bottestLogger(t)})
	require.NoError(t, err)
	_, _, err = bad.CurrentUser(ctx)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 401, apiErr.StatusCode)
	assert.NotContains(t, err.Error(), "wrong")

	_, _, err = c.GetMessage(ctx, flowdock.FlowChat("acme", "hr"), 1)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 404, apiErr.StatusCode, "a flow the bot has not joined")

	ctxCancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, _, err = c.SendMessage(ctxCancelled, flowdock.FlowChat("acme", "main"), flowdock.NewMessage{Content: "x"})
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, s.Sent())

	// A flow-token-only client cannot read; a token-only one cannot present.
	flowOnly, err := flowdock.NewClient(flowdock.Config{FlowToken: s.FlowToken("acme/ops"), BaseURL: s.URL()})
	require.NoError(t, err)
	_, _, err = flowOnly.ListMessages(ctx, flowdock.FlowChat("acme", "ops"), flowdock.ListOptions{})
	assert.True(t, errors.Is(err, flowdock.ErrNoToken))
	_, _, err = flowOnly.PostActivity(ctx, flowdock.Activity{ExternalThreadID: "X-1", Author: flowdock.NewAuthor("ci", ""), Title: "built", Thread: flowdock.NewThread("X 1")})
	require.NoError(t, err)
	for _, r := range s.Requests() {
		if r.Method == "POST" && r.Path == "/messages" {
			assert.Equal(t, "flow_token", r.Auth)
			assert.False(t, r.Authorization, "no Basic auth on flow-token posts")
		}
	}
}
