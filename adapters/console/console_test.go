package console_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/parleybot/parley/adapters/console"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newConsole is console.New with the test's logger unless c has one.
func newConsole(t *testing.T, c console.Config) (*console.Adapter, error) {
	t.Helper()
	if c.Logger == nil {
		c.Logger = bottest.Logger(t)
	}
	return console.New(c)
}

// syncBuffer is a bytes.Buffer that is safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// parseSent reads back the messages Send wrote to out: a line starting
// with "bot:" begins a message, an indented line continues it.
func parseSent(out, conversation string) []bottest.SentMessage {
	var sent []bottest.SentMessage
	for _, line := range strings.Split(out, "\n") {
		switch {
		case line == "bot:":
			sent = append(sent, bottest.SentMessage{Conversation: conversation})
		case strings.HasPrefix(line, "bot: "):
			sent = append(sent, bottest.SentMessage{Conversation: conversation, Text: strings.TrimPrefix(line, "bot: ")})
		case len(sent) > 0 && strings.HasPrefix(line, "     "):
			sent[len(sent)-1].Text += "\n" + strings.TrimPrefix(line, "     ")
		}
	}
	return sent
}

// chanPublisher hands published messages to the test.
type chanPublisher chan *bot.Message

func (p chanPublisher) Publish(ctx context.Context, m *bot.Message) error {
	select {
	case p <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p chanPublisher) next(t *testing.T) *bot.Message {
	t.Helper()
	select {
	case m := <-p:
		return m
	case <-time.After(2 * time.Second):
		t.Fatal("nothing published within 2s")
		return nil
	}
}

// start runs a's Run in a goroutine and returns a channel with its result.
func start(ctx context.Context, a *console.Adapter, p bot.Publisher) <-chan error {
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, p) }()
	return done
}

func wait(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Second):
		t.Fatal("Run did not return within 1s")
		return nil
	}
}

func TestAdapter_Conformance(t *testing.T) {
	const conversation = "terminal"
	bottest.TestAdapter(t, bottest.Features{}, func(t *testing.T) bottest.Harness {
		in, feed := io.Pipe()
		t.Cleanup(func() { _ = feed.Close() })
		out := &syncBuffer{}
		a, err := newConsole(t, console.Config{In: in, Out: out, User: "tester", Conversation: conversation})
		require.NoError(t, err)
		return bottest.Harness{
			Adapter:      a,
			Conversation: conversation,
			Inject: func(_ context.Context, conv, text string) error {
				if conv != conversation {
					return fmt.Errorf("the console has only conversation %q, not %q", conversation, conv)
				}
				_, err := io.WriteString(feed, text+"\n")
				return err
			},
			Sent: func() []bottest.SentMessage { return parseSent(out.String(), conversation) },
		}
	})
}

func TestAdapter_Run_endOfInput(t *testing.T) {
	t.Setenv("USER", "ada")
	in := "hello\n\n   \n  /echo hi  \r\nno newline at the end"
	a, err := newConsole(t, console.Config{In: strings.NewReader(in), Out: io.Discard})
	require.NoError(t, err)
	pub := make(chanPublisher, 10)

	before := time.Now()
	require.NoError(t, wait(t, start(t.Context(), a, pub)), "Run at end of input")
	close(pub)
	var got []*bot.Message
	for m := range pub {
		got = append(got, m)
	}

	require.Len(t, got, 3, "blank lines are not published")
	assert.Equal(t, []string{"hello", "/echo hi", "no newline at the end"},
		[]string{got[0].Text, got[1].Text, got[2].Text})
	var raw string
	require.NoError(t, json.Unmarshal(got[1].Raw, &raw))
	assert.Equal(t, "  /echo hi  ", raw, "Raw is the line as typed")

	m := got[0]
	assert.Equal(t, "console", m.Platform)
	assert.Equal(t, console.DefaultConversation, m.Conversation)
	assert.Equal(t, bot.User{ID: "ada", Name: "ada"}, m.Author, "User defaults to $USER")
	assert.Equal(t, bot.KindMessage, m.Kind)
	assert.True(t, m.Direct)
	assert.False(t, m.Time.Before(before), "Time is when the line was read")
	assert.JSONEq(t, `"hello"`, string(m.Raw))

	nonce, seq, ok := strings.Cut(m.ID, "-")
	require.True(t, ok, "ID %q is nonce-sequence", m.ID)
	assert.NotEmpty(t, nonce)
	assert.Equal(t, "1", seq)
	assert.Equal(t, nonce+"-2", got[1].ID)
	assert.Equal(t, nonce+"-3", got[2].ID)
}

func TestAdapter_Run_idsDifferAcrossRuns(t *testing.T) {
	ids := map[string]bool{}
	for range 3 {
		a, err := newConsole(t, console.Config{In: strings.NewReader("same line\n"), Out: io.Discard})
		require.NoError(t, err)
		pub := make(chanPublisher, 1)
		require.NoError(t, wait(t, start(t.Context(), a, pub)))
		ids[pub.next(t).ID] = true
	}
	assert.Len(t, ids, 3, "the first line of every run must get a fresh ID")
}

func TestAdapter_Run_cancel(t *testing.T) {
	defer goleak.VerifyNone(t)
	in, feed := io.Pipe()
	defer feed.Close()
	a, err := newConsole(t, console.Config{In: in, Out: io.Discard})
	require.NoError(t, err)
	pub := make(chanPublisher, 1)
	ctx, cancel := context.WithCancel(t.Context())
	done := start(ctx, a, pub)

	_, err = io.WriteString(feed, "first\n")
	require.NoError(t, err)
	assert.Equal(t, "first", pub.next(t).Text)

	// Run is now blocked waiting for the next line.
	cancel()
	require.NoError(t, wait(t, done), "Run after cancellation")

	// Run closed its input, which ended the reading goroutine.
	_, err = io.WriteString(feed, "too late\n")
	assert.ErrorIs(t, err, io.ErrClosedPipe)
}

func TestAdapter_Run_cancelWhilePublishing(t *testing.T) {
	defer goleak.VerifyNone(t)
	a, err := newConsole(t, console.Config{In: strings.NewReader("one\ntwo\n"), Out: io.Discard})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	blocked := make(chan struct{})
	full := bot.PublisherFunc(func(ctx context.Context, _ *bot.Message) error {
		close(blocked)
		<-ctx.Done() // a full queue pushing back
		return errors.Join(bot.ErrBusy, ctx.Err())
	})
	done := start(ctx, a, full)
	<-blocked
	cancel()
	assert.NoError(t, wait(t, done))
}

func TestAdapter_Run_longLine(t *testing.T) {
	in := "short\n" + strings.Repeat("x", 100) + "\nnever read\n"
	a, err := newConsole(t, console.Config{In: strings.NewReader(in), Out: io.Discard, MaxLineBytes: 16})
	require.NoError(t, err)
	pub := make(chanPublisher, 10)

	err = wait(t, start(t.Context(), a, pub))
	require.Error(t, err)
	assert.ErrorIs(t, err, bufio.ErrTooLong)
	assert.Contains(t, err.Error(), "console: line 2 is longer than 16 bytes")
	assert.Equal(t, "short", pub.next(t).Text, "lines before the long one are published")
	assert.Empty(t, pub, "nothing after the long line")
}

func TestAdapter_Run_readError(t *testing.T) {
	in, feed := io.Pipe()
	a, err := newConsole(t, console.Config{In: in, Out: io.Discard})
	require.NoError(t, err)
	done := start(t.Context(), a, make(chanPublisher, 1))
	feed.CloseWithError(errors.New("disk on fire"))
	err = wait(t, done)
	require.Error(t, err)
	assert.EqualError(t, err, "console: read: disk on fire")
}

func TestAdapter_Run_publishErrors(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantRun error
		wantN   int // Publish calls
	}{
		{name: "a failed line is skipped", err: errors.New("store down"), wantN: 3},
		{name: "a stopping bot ends Run", err: fmt.Errorf("wrapped: %w", bot.ErrClosed), wantN: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := newConsole(t, console.Config{In: strings.NewReader("a\nb\nc\n"), Out: io.Discard})
			require.NoError(t, err)
			var calls int
			p := bot.PublisherFunc(func(context.Context, *bot.Message) error {
				calls++
				return tt.err
			})
			assert.Equal(t, tt.wantRun, wait(t, start(t.Context(), a, p)))
			assert.Equal(t, tt.wantN, calls)
		})
	}
}

func TestAdapter_Run_twice(t *testing.T) {
	a, err := newConsole(t, console.Config{In: strings.NewReader(""), Out: io.Discard})
	require.NoError(t, err)
	pub := make(chanPublisher, 1)
	require.NoError(t, wait(t, start(t.Context(), a, pub)))
	err = wait(t, start(t.Context(), a, pub))
	assert.ErrorContains(t, err, "console: run: called twice")
}

func TestAdapter_Send(t *testing.T) {
	tests := []struct {
		name string
		m    *bot.Message
		want string
	}{
		{
			name: "text",
			m:    &bot.Message{Platform: "console", Conversation: "console", Text: "hello"},
			want: "bot: hello\n",
		},
		{
			name: "multi-line text is indented",
			m:    &bot.Message{Platform: "console", Conversation: "console", Text: "Commands:\n  help\n\nbye\n"},
			want: "bot: Commands:\n       help\n\n     bye\n",
		},
		{
			name: "attachments follow the text",
			m: &bot.Message{Platform: "console", Conversation: "console", Text: "look", Attachments: []bot.Attachment{
				{Kind: "image", URL: "https://example.com/cat.png"},
				{URL: "https://example.com/report.pdf"},
				{Kind: "document", Name: "notes.txt"},
			}},
			want: "bot: look\n     [image] https://example.com/cat.png\n     [file] https://example.com/report.pdf\n     [document] notes.txt\n",
		},
		{
			name: "attachment only",
			m:    &bot.Message{Conversation: "console", Attachments: []bot.Attachment{{Kind: "audio", URL: "u"}}},
			want: "bot: [audio] u\n",
		},
		{
			name: "handoff is shown",
			m:    &bot.Message{Conversation: "console", Text: "a human will answer", Handoff: true},
			want: "bot: a human will answer\n     [handoff] the conversation is handed to a human\n",
		},
		{
			name: "empty message",
			m:    &bot.Message{Conversation: "console"},
			want: "bot:\n",
		},
		{
			name: "empty conversation means the console",
			m:    &bot.Message{Text: "from a job"},
			want: "bot: from a job\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			a, err := newConsole(t, console.Config{In: strings.NewReader(""), Out: &out})
			require.NoError(t, err)
			res, err := a.Send(t.Context(), tt.m)
			require.NoError(t, err)
			assert.Equal(t, bot.SendResult{}, res)
			assert.Equal(t, tt.want, out.String())
		})
	}
}

func TestAdapter_Send_errors(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	type template struct{ Name string }
	tests := []struct {
		name    string
		ctx     context.Context
		m       *bot.Message
		wantIs  error
		wantMsg string
	}{
		{
			name:   "cancelled context",
			ctx:    cancelled,
			m:      &bot.Message{Conversation: "console", Text: "never"},
			wantIs: context.Canceled,
		},
		{
			name:    "payload",
			m:       &bot.Message{Conversation: "console", Payload: template{Name: "welcome"}},
			wantIs:  errors.ErrUnsupported,
			wantMsg: "console: send: payload of type console_test.template: unsupported operation",
		},
		{
			name:    "other conversation",
			m:       &bot.Message{Conversation: "elsewhere", Text: "hi"},
			wantMsg: `console: send: unknown conversation "elsewhere" (the console has only "console")`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			a, err := newConsole(t, console.Config{In: strings.NewReader(""), Out: &out})
			require.NoError(t, err)
			ctx := tt.ctx
			if ctx == nil {
				ctx = t.Context()
			}
			_, err = a.Send(ctx, tt.m)
			require.Error(t, err)
			if tt.wantIs != nil {
				assert.ErrorIs(t, err, tt.wantIs)
			}
			if tt.wantMsg != "" {
				assert.EqualError(t, err, tt.wantMsg)
			}
			assert.Empty(t, out.String(), "nothing is written")
		})
	}
}

// A reply to a line of an earlier run (kept by a durable Broker across a
// crash) is not shown: this run's terminal never asked. Replies to this
// run's lines, and messages that answer no line, are.
func TestAdapter_Send_earlierRun(t *testing.T) {
	out := &syncBuffer{}
	a, err := newConsole(t, console.Config{In: strings.NewReader("hi\n"), Out: out})
	require.NoError(t, err)
	pub := make(chanPublisher, 1)
	require.NoError(t, wait(t, start(t.Context(), a, pub)))
	line := pub.next(t)

	earlier := &bot.Message{Conversation: "console", Text: "to an earlier run", ReplyTo: "0a1b2c3d4e5f-1"}
	for _, m := range []*bot.Message{line.Reply("to this run"), earlier, {Text: "from a job"}} {
		res, err := a.Send(t.Context(), m)
		require.NoError(t, err, "not shown is not a failure: the reply is done with")
		assert.Equal(t, bot.SendResult{}, res)
	}
	assert.Equal(t, "bot: to this run\nbot: from a job\n", out.String())
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestAdapter_Send_writeError(t *testing.T) {
	a, err := newConsole(t, console.Config{In: strings.NewReader(""), Out: failingWriter{}})
	require.NoError(t, err)
	_, err = a.Send(t.Context(), &bot.Message{Text: "hi"})
	assert.EqualError(t, err, "console: send: broken pipe")
}

func TestAdapter_prompt(t *testing.T) {
	in, feed := io.Pipe()
	defer feed.Close()
	out := &syncBuffer{}
	a, err := newConsole(t, console.Config{In: in, Out: out, Prompt: "you> "})
	require.NoError(t, err)
	pub := make(chanPublisher, 1)
	ctx, cancel := context.WithCancel(t.Context())
	done := start(ctx, a, pub)
	require.Eventually(t, func() bool { return out.String() == "you> " }, 2*time.Second, time.Millisecond,
		"the prompt is shown when Run starts")

	_, err = io.WriteString(feed, "hello\n")
	require.NoError(t, err)
	m := pub.next(t)
	_, err = a.Send(t.Context(), m.Reply("hi there"))
	require.NoError(t, err)
	_, err = a.Send(t.Context(), m.Reply("anything else?"))
	require.NoError(t, err)
	cancel()
	require.NoError(t, wait(t, done))
	_, err = a.Send(t.Context(), m.Reply("after Run"))
	require.NoError(t, err)

	// Out is no terminal, so the prompt cannot be erased: a reply starts on
	// a new line below it. No prompt once Run has returned.
	assert.Equal(t, "you> you> \nbot: hi there\nyou> \nbot: anything else?\nyou> \nbot: after Run\n", out.String())
}

func TestAdapter_noPromptWithoutTerminal(t *testing.T) {
	var out bytes.Buffer
	a, err := newConsole(t, console.Config{In: strings.NewReader("hello\n"), Out: &out})
	require.NoError(t, err)
	pub := make(chanPublisher, 1)
	require.NoError(t, wait(t, start(t.Context(), a, pub)))
	_, err = a.Send(t.Context(), pub.next(t).Reply("hello"))
	require.NoError(t, err)
	assert.Equal(t, "bot: hello\n", out.String())
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		c       console.Config
		wantErr string
	}{
		{name: "zero config", c: console.Config{}},
		{name: "negative line limit", c: console.Config{MaxLineBytes: -1}, wantErr: "console: MaxLineBytes is negative (-1)"},
		{name: "prompt with a line break", c: console.Config{Prompt: ">\n"}, wantErr: "console: Prompt contains a line break"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := console.New(tt.c)
			if tt.wantErr != "" {
				assert.EqualError(t, err, tt.wantErr)
				assert.Nil(t, a)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "console", a.Name())
		})
	}
}

func TestNew_defaultUser(t *testing.T) {
	tests := []struct {
		name, user, username, want string
	}{
		{name: "USER", user: "ada", username: "ignored", want: "ada"},
		{name: "USERNAME", user: "", username: "grace", want: "grace"},
		{name: "neither", want: "you"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("USER", tt.user)
			t.Setenv("USERNAME", tt.username)
			a, err := newConsole(t, console.Config{In: strings.NewReader("hi\n"), Out: io.Discard})
			require.NoError(t, err)
			pub := make(chanPublisher, 1)
			require.NoError(t, wait(t, start(t.Context(), a, pub)))
			assert.Equal(t, bot.User{ID: tt.want, Name: tt.want}, pub.next(t).Author)
		})
	}
}
