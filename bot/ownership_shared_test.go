package bot_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// Two Bots on one MemoryStore (replicas on one platform account) share its
// ownership records: a conversation one hands to a human is human-owned
// for the other, at once — for its routing, and for the re-check of a
// reply it had decided on before.
func TestOwnership_SharedMemoryStore(t *testing.T) {
	t.Parallel()
	ms := bot.NewMemoryStore()
	a, fa := newBot(t, bot.WithStore(ms))
	b, fb := newBot(t, bot.WithStore(ms))
	ctx := t.Context()
	// The platform's switch is one: what a turns, b reads.
	setOwner := func(conv string, o bot.Owner) error {
		if o == bot.OwnerHuman {
			if err := a.Handoff(ctx, "fake", conv); err != nil {
				return err
			}
		} else if err := a.Resume(ctx, "fake", conv); err != nil {
			return err
		}
		return fb.SetOwner(ctx, conv, fa.PlatformOwner(conv))
	}
	owners := make(chan bot.Owner, 10)
	b.NotFound(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		owners <- bot.OwnerOf(ctx)
		if m.Text == "hand off first" {
			// The other Bot hands the conversation over after this one
			// read its owner and before the reply is queued.
			if err := setOwner(m.Conversation, bot.OwnerHuman); err != nil {
				return err
			}
		}
		return w.Send(ctx, m.Reply("re: "+m.Text))
	}))
	b.HandleFunc(bot.Always(), func(ctx context.Context, _ bot.Sender, _ *bot.Message) error {
		owners <- bot.OwnerOf(ctx)
		return bot.ErrContinue
	}, bot.Observer())
	bottest.Run(t, a)
	bottest.Run(t, b)

	require.NoError(t, fb.Inject(ctx, msg("c", "1", "hello")))
	assert.Equal(t, bot.OwnerBot, <-owners)
	assert.Equal(t, bot.OwnerBot, <-owners)
	assert.Equal(t, "re: hello", fb.WaitSent(t, 1)[0].Text)

	require.NoError(t, setOwner("c", bot.OwnerHuman))
	got, err := b.Owner(ctx, "fake", "c")
	require.NoError(t, err)
	assert.Equal(t, bot.OwnerHuman, got, "the other Bot's handoff is this one's record")
	require.NoError(t, fb.Inject(ctx, msg("c", "2", "still there?")))
	assert.Equal(t, bot.OwnerHuman, <-owners, "only the observer runs")
	require.NoError(t, b.Send(ctx, &bot.Message{Platform: "fake", Conversation: "c", Text: "proactive"}))
	require.Eventually(t, func() bool { return b.Stats().Suppressed == 1 }, 5*time.Second, time.Millisecond)

	require.NoError(t, setOwner("c", bot.OwnerBot))
	require.NoError(t, fb.Inject(ctx, msg("c", "3", "hand off first")))
	assert.Equal(t, bot.OwnerBot, <-owners)
	assert.Equal(t, bot.OwnerBot, <-owners)
	require.Eventually(t, func() bool { return b.Stats().Suppressed == 2 }, 5*time.Second, time.Millisecond,
		"the reply decided while the bot owned the conversation is suppressed: a human owns it now")
	assert.Len(t, fb.Sent(), 1)

	require.NoError(t, fb.Inject(ctx, msg("d", "4", "other")))
	assert.Equal(t, bot.OwnerBot, <-owners)
	assert.Equal(t, bot.OwnerBot, <-owners)
	assert.Equal(t, "re: other", fb.WaitSent(t, 2)[1].Text)
}

// Handoffs and resumes of many conversations by two Bots on one
// MemoryStore, concurrently and at random, leave each Bot's answer for
// every conversation equal to the record in the Store.
func TestOwnership_SharedMemoryStoreAgrees(t *testing.T) {
	t.Parallel()
	ms := bot.NewMemoryStore()
	bots := make([]*bot.Bot, 2)
	for i := range bots {
		bots[i], _ = newBot(t, bot.WithStore(ms))
	}
	ctx := t.Context()
	const convs, rounds = 300, 4
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for r := range rounds {
				for c := range convs {
					b := bots[(w+c+r)%2]
					conv := "c" + strconv.Itoa(c)
					var err error
					if (c*7+w*3+r)%3 == 0 {
						err = b.Handoff(ctx, "fake", conv)
					} else {
						err = b.Resume(ctx, "fake", conv)
					}
					if !assert.NoError(t, err) {
						return
					}
					got, err := b.Owner(ctx, "fake", conv)
					if !assert.NoError(t, err) {
						return
					}
					_ = got // racing writers: any answer; checked once they stop
				}
			}
		})
	}
	wg.Wait()
	humans := 0
	for c := range convs {
		conv := "c" + strconv.Itoa(c)
		want := bot.OwnerBot
		if _, err := ms.Get(ctx, "own:fake:"+conv); err == nil {
			want = bot.OwnerHuman
			humans++
		} else {
			require.True(t, errors.Is(err, bot.ErrNotFound), "%v", err)
		}
		for i, b := range bots {
			got, err := b.Owner(ctx, "fake", conv)
			require.NoError(t, err)
			require.Equal(t, want, got, "bot %d, %s", i, conv)
		}
	}
	assert.NotZero(t, humans)
	assert.Less(t, humans, convs)
}
