package bot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
)

// finishingBroker carries nothing; its Consume reports whether the
// Pipeline was finishing when Consume's ctx was done.
type finishingBroker struct {
	pipelineBroker
	finishing chan bool
}

func (b finishingBroker) Consume(ctx context.Context, p *bot.Pipeline) error {
	b.p <- p
	<-ctx.Done()
	b.finishing <- p.Finishing()
	return nil
}

// A Bot with a Broker is finishing — the Broker is to drain what it
// stored — when it stops because every adapter ended its input, and not
// when its context is cancelled or an adapter fails.
func TestPipeline_Finishing(t *testing.T) {
	tests := []struct {
		name    string
		stop    func(fa *bottest.FakeAdapter, cancel context.CancelFunc)
		fail    bool
		wantErr bool
		want    bool
	}{
		{name: "every adapter ended", stop: func(fa *bottest.FakeAdapter, _ context.CancelFunc) { fa.End() }, want: true},
		{name: "context cancelled", stop: func(_ *bottest.FakeAdapter, cancel context.CancelFunc) { cancel() }},
		{name: "an adapter failed", fail: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := finishingBroker{pipelineBroker{p: make(chan *bot.Pipeline, 1)}, make(chan bool, 1)}
			fa := bottest.NewFakeAdapter("fake")
			if tt.fail {
				fa.FailRun(errors.New("rejected credentials"))
			}
			b, err := bot.New(bot.WithAdapters(fa), bot.WithBroker(br), bot.WithLogger(bottest.Logger(t)))
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- b.Run(ctx) }()
			p := <-br.p
			assert.False(t, p.Finishing(), "not while the Bot runs")
			if tt.stop != nil {
				tt.stop(fa, cancel)
			}
			select {
			case err := <-done:
				if tt.wantErr {
					require.Error(t, err)
				} else {
					require.NoError(t, err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return within 5s")
			}
			assert.Equal(t, tt.want, <-br.finishing)
		})
	}
}
