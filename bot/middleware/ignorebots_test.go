package middleware_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/bot/middleware"
)

func TestIgnoreBots(t *testing.T) {
	errNext := errors.New("next failed")
	human := bot.User{ID: "u-1", Name: "Ann"}
	helper := bot.User{ID: "b-helper", Name: "Helper", Bot: true}
	spammer := bot.User{ID: "b-spam", Name: "Spam", Bot: true}
	tests := []struct {
		name       string
		mw         bot.Middleware
		author     bot.User
		wantCalled bool
	}{
		{name: "human passes", mw: middleware.IgnoreBots(), author: human, wantCalled: true},
		{name: "bot is dropped", mw: middleware.IgnoreBots(), author: helper},
		{name: "no author passes", mw: middleware.IgnoreBots(), author: bot.User{}, wantCalled: true},
		{
			name:       "allowed bot passes",
			mw:         middleware.IgnoreBotsWithOpts(middleware.IgnoreBotsOptions{AllowIDs: []string{"b-helper"}}),
			author:     helper,
			wantCalled: true,
		},
		{
			name:   "other bot is dropped despite an allow list",
			mw:     middleware.IgnoreBotsWithOpts(middleware.IgnoreBotsOptions{AllowIDs: []string{"b-helper"}}),
			author: spammer,
		},
		{
			name:       "allow list does not affect humans",
			mw:         middleware.IgnoreBotsWithOpts(middleware.IgnoreBotsOptions{AllowIDs: []string{"b-helper"}}),
			author:     human,
			wantCalled: true,
		},
		{
			name:   "a human's ID does not allow a bot",
			mw:     middleware.IgnoreBotsWithOpts(middleware.IgnoreBotsOptions{AllowIDs: []string{"u-1"}}),
			author: bot.User{ID: "b-other", Bot: true},
		},
		{name: "zero options drop every bot", mw: middleware.IgnoreBotsWithOpts(middleware.IgnoreBotsOptions{}), author: spammer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			called := false
			h := tt.mw(bot.HandlerFunc(func(ctx context.Context, w bot.Sender, m *bot.Message) error {
				called = true
				return errNext
			}))

			err := h.HandleMessage(t.Context(), &bottest.Recorder{}, bottest.NewMessage("hi", bottest.From(tt.author)))

			assert.Equal(t, tt.wantCalled, called, "next called")
			if tt.wantCalled {
				assert.ErrorIs(t, err, errNext, "next's error is returned")
			} else {
				assert.NoError(t, err, "a dropped message is not an error")
			}
		})
	}
}

func TestIgnoreBotsWithOpts_copiesAllowIDs(t *testing.T) {
	t.Parallel()
	ids := []string{"b-helper"}
	mw := middleware.IgnoreBotsWithOpts(middleware.IgnoreBotsOptions{AllowIDs: ids})
	ids[0] = "b-spam"

	var got []string
	h := mw(bot.HandlerFunc(func(_ context.Context, _ bot.Sender, m *bot.Message) error {
		got = append(got, m.Author.ID)
		return nil
	}))
	for _, id := range []string{"b-helper", "b-spam"} {
		assert.NoError(t, h.HandleMessage(t.Context(), &bottest.Recorder{}, bottest.NewMessage("hi", bottest.From(bot.User{ID: id, Bot: true}))))
	}
	assert.Equal(t, []string{"b-helper"}, got)
}

func TestIgnoreBots_routerWide(t *testing.T) {
	t.Parallel()
	r := bot.NewRouter()
	r.Use(middleware.IgnoreBots())
	r.HandleFunc(bot.Always(), func(ctx context.Context, w bot.Sender, m *bot.Message) error {
		return w.Send(ctx, m.Reply("hello "+m.Author.Name))
	})
	notFound := 0
	r.NotFound(bot.HandlerFunc(func(context.Context, bot.Sender, *bot.Message) error {
		notFound++
		return nil
	}))
	var rec bottest.Recorder
	for _, u := range []bot.User{{ID: "b-1", Name: "Bot", Bot: true}, {ID: "u-1", Name: "Ann"}} {
		assert.NoError(t, r.HandleMessage(t.Context(), &rec, bottest.NewMessage("hi", bottest.From(u))))
	}
	assert.Equal(t, []string{"hello Ann"}, rec.Texts())
	assert.Zero(t, notFound, "a dropped message does not reach NotFound")
}
