package faq_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/handlers/faq"
)

var entries = []faq.Entry{
	{Question: "What are your opening hours?", Keywords: []string{"hours", "opening times"}, Answer: "hours"},
	{Question: "How do I reset my password?", Keywords: []string{"password", "can't log in"}, Answer: "password"},
	{Question: "Where can I see the delivery status of my order?", Answer: "status"},
	{Keywords: []string{"refund"}, Answer: "refund"},
	{Question: "Do you ship abroad?", Keywords: []string{"shipping", "abroad"}, Answer: "shipping"},
	{Question: "Can I pay by card?", Keywords: []string{"card"}, Answer: "card"},
	{Question: "Can I pay by invoice?", Keywords: []string{"invoice", "pay"}, Answer: "invoice"},
}

func TestHandler_Find(t *testing.T) {
	tests := []struct {
		name      string
		threshold float64
		text      string
		want      string // the answer; "" means no match
	}{
		{name: "keyword", text: "hours?", want: "hours"},
		{name: "plural folds to singular", text: "what hour do you open", want: "hours"},
		{name: "case and punctuation are ignored", text: "PASSWORD!!!", want: "password"},
		{name: "phrase keyword in any order", text: "what times are you opening", want: "hours"},
		{name: "phrase keyword needs all its words", text: "are you open at these times", want: ""},
		{name: "apostrophes split words", text: "I can't log in anymore", want: "password"},
		{name: "question overlap at the threshold", text: "delivery of my order", want: "status"},
		{name: "question overlap below the threshold", text: "my order", want: ""},
		{name: "stop words alone do not match", text: "where can you do that for me", want: ""},
		{name: "keyword-only entry", text: "I want a refund", want: "refund"},
		{name: "more keywords win", text: "can I pay by invoice", want: "invoice"},
		{name: "keyword beats question overlap", text: "delivery status of my order, paid by card", want: "card"},
		{name: "equal scores: first entry wins", text: "password hours", want: "hours"},
		{name: "no words", text: "?!", want: ""},
		{name: "empty", text: "", want: ""},
		{name: "unrelated", text: "tell me a joke", want: ""},
		{name: "non-ASCII words", text: "shipping to Zürich, abroad?", want: "shipping"},
		{name: "threshold above 1: keywords only", threshold: 2, text: "delivery status of my order", want: ""},
		{name: "lower threshold", threshold: 0.25, text: "my order", want: "status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, ok := faq.Handler{Entries: entries, Threshold: tt.threshold}.Find(tt.text)
			assert.Equal(t, tt.want != "", ok)
			assert.Equal(t, tt.want, e.Answer)
		})
	}
}

func TestHandler_HandleMessage(t *testing.T) {
	tests := []struct {
		name         string
		rule         bot.Rule
		text         string
		opts         []bottest.MessageOption
		want         []string // what the FAQ route sent
		wantNotFound bool     // whether the NotFound handler ran
	}{
		{name: "answers a question", text: "what are your opening hours?", want: []string{"hours"}},
		{name: "no match continues to NotFound", text: "tell me a joke", wantNotFound: true},
		{name: "blank continues", text: "   ", wantNotFound: true},
		{name: "bots are not answered", text: "hours", opts: []bottest.MessageOption{bottest.From(bot.User{ID: "b", Bot: true})}, wantNotFound: true},
		{name: "agents are not answered", text: "hours", opts: []bottest.MessageOption{bottest.From(bot.User{ID: "a", Agent: true})}, wantNotFound: true},
		{name: "events are not answered", text: "hours", opts: []bottest.MessageOption{bottest.WithKind(bot.KindStatus)}, wantNotFound: true},
		{name: "on a command, the arguments are matched", rule: bot.Command("faq"), text: "/faq refund", want: []string{"refund"}},
		{name: "on a command, the command word is not", rule: bot.Command("password"), text: "/password", wantNotFound: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rule := tt.rule
			if rule == nil {
				rule = faq.DefaultRule()
			}
			notFound := false
			r := bot.NewRouter()
			r.Handle(rule, faq.Handler{Entries: entries})
			r.NotFound(bot.HandlerFunc(func(_ context.Context, _ bot.Sender, _ *bot.Message) error {
				notFound = true
				return nil
			}))
			var rec bottest.Recorder
			m := bottest.NewMessage(tt.text, tt.opts...)

			require.NoError(t, r.HandleMessage(t.Context(), &rec, m))

			assert.Equal(t, tt.want, nilIfEmpty(rec.Texts()))
			assert.Equal(t, tt.wantNotFound, notFound, "NotFound ran")
			for _, sent := range rec.Sent() {
				assert.Equal(t, m.Conversation, sent.Conversation)
				assert.Equal(t, m.ID, sent.ReplyTo)
			}
		})
	}
}

func TestHandler_HandleMessage_direct(t *testing.T) {
	tests := []struct {
		name    string
		h       faq.Handler
		w       *bottest.Recorder
		wantErr error
		want    []string
	}{
		{name: "zero handler continues", h: faq.Handler{}, w: &bottest.Recorder{}, wantErr: bot.ErrContinue},
		{name: "answer", h: faq.Handler{Entries: entries}, w: &bottest.Recorder{}, want: []string{"refund"}},
		{name: "send error is returned", h: faq.Handler{Entries: entries}, w: &bottest.Recorder{Err: errBoom}, wantErr: errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.h.HandleMessage(t.Context(), tt.w, bottest.NewMessage("refund please"))
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.want, nilIfEmpty(tt.w.Texts()))
		})
	}
}

var errBoom = errors.New("outbox full")

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
