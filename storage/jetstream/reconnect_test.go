package jetstream_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/bot/bottest"
	"github.com/parleybot/parley/storage/jetstream"
)

// The NATS server restarts while a durable Bot runs: the client reconnects,
// events published while it was away are delivered again by the platform
// (here: the test retries, as a webhook sender would on 503), replies sent
// while it was away wait for it within the handler timeout, and at the end
// every event was handled once and answered once, with no dead letter.
func TestBroker_survivesServerRestart(t *testing.T) {
	dir := t.TempDir()
	srv, err := jetstream.StartEmbedded(dir)
	require.NoError(t, err)
	u, err := url.Parse(srv.ClientURL())
	require.NoError(t, err)
	port, err := strconv.Atoi(u.Port())
	require.NoError(t, err)

	nc, err := srv.Connect(nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := njs.New(nc)
	require.NoError(t, err)
	ctx := t.Context()
	br, err := jetstream.NewBroker(ctx, js, jetstream.WithPartitions(4), jetstream.WithAckWait(2*time.Second),
		jetstream.WithBrokerLogger(bottest.Logger(t)))
	require.NoError(t, err)
	store, err := jetstream.NewStore(ctx, js, "state")
	require.NoError(t, err)

	j := newJournal()
	fa := bottest.NewFakeAdapter("fake")
	b := newDurableBot(t, fa, br, store, j)
	stop := bottest.Run(t, b)

	// publish retries until the Bot accepts the event, as a platform
	// redelivers after a 503.
	publish := func(n int) {
		m := bottest.NewMessage(fmt.Sprintf("msg %d", n), bottest.In("fake", fmt.Sprint("conv-", n%5)), bottest.WithID(eventID(n%5, n)))
		require.Eventually(t, func() bool { return fa.Inject(ctx, m) == nil }, 20*time.Second, 20*time.Millisecond)
	}
	const before, after = 30, 30
	for n := range before {
		publish(n)
	}
	srv.Shutdown()
	require.Eventually(t, func() bool { return !nc.IsConnected() }, 5*time.Second, 10*time.Millisecond)
	srv, err = jetstream.StartEmbedded(dir, jetstream.WithServerOptions(func(o *server.Options) { o.Port = port }))
	require.NoError(t, err)
	t.Cleanup(srv.Shutdown)
	for n := before; n < before+after; n++ {
		publish(n)
	}
	require.Eventually(t, func() bool { return j.count() == before+after }, 30*time.Second, 20*time.Millisecond)
	fa.WaitSent(t, before+after)
	require.NoError(t, stop())

	assert.Len(t, fa.Sent(), before+after, "one reply per event")
	dead, err := b.DeadLetters(ctx)
	require.NoError(t, err)
	assert.Empty(t, dead, "no reply was dead-lettered while NATS restarted")
	keys := map[string]bool{}
	for _, m := range fa.Sent() {
		assert.False(t, keys[m.Key], "key %s sent twice", m.Key)
		keys[m.Key] = true
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for id, n := range j.handled {
		assert.Equal(t, 1, n, "event %s handled %d times", id, n)
	}
	assert.Positive(t, nc.Stats().Reconnects)
}

// A reply whose store request reached NATS but whose answer was lost with
// the connection is stored once, and Outbound returns nil: the try is cut
// short when the connection breaks (well before the per-try timeout of
// 10s, longer than ctx here) and made again on the new connection under
// the same Nats-Msg-Id, which the stream recognises.
func TestBroker_Outbound_answerLost(t *testing.T) {
	srv := startServer(t, t.TempDir())
	px := newHoldingProxy(t, srv.ClientURL())
	nc, err := jetstream.Connect(px.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(10*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := njs.New(nc)
	require.NoError(t, err)
	br, err := jetstream.NewBroker(t.Context(), js, jetstream.WithBrokerLogger(bottest.Logger(t)))
	require.NoError(t, err)
	_, direct := connect(t, srv)
	stored := func() uint64 {
		s, err := direct.Stream(t.Context(), jetstream.DefaultBrokerName+"_OUT")
		require.NoError(t, err)
		info, err := s.Info(t.Context())
		require.NoError(t, err)
		return info.State.Msgs
	}

	px.hold()
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- br.Outbound(ctx, &bot.Message{Platform: "fake", Conversation: "conv-1", Key: "k1", Text: "hello"})
	}()
	require.Eventually(t, func() bool { return stored() == 1 }, 5*time.Second, 5*time.Millisecond,
		"the server stores the message; its answer is held")
	px.cut()
	require.NoError(t, <-done)
	assert.Equal(t, uint64(1), stored(), "stored once")
	assert.Positive(t, nc.Stats().Reconnects)
}

// A holdingProxy forwards TCP connections to a NATS server. While held,
// the server's bytes do not reach the client: its requests arrive, their
// answers do not. cut closes every connection and stops holding.
type holdingProxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu    sync.Mutex
	held  bool
	conns []net.Conn
}

func newHoldingProxy(t *testing.T, targetURL string) *holdingProxy {
	t.Helper()
	u, err := url.Parse(targetURL)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &holdingProxy{ln: ln, target: u.Host}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		ln.Close()
		p.closeConns()
		p.wg.Wait()
	})
	return p
}

func (p *holdingProxy) URL() string { return "nats://" + p.ln.Addr().String() }

func (p *holdingProxy) hold() {
	p.mu.Lock()
	p.held = true
	p.mu.Unlock()
}

// cut closes the connections, then stops holding: nothing held reaches the
// client.
func (p *holdingProxy) cut() {
	p.closeConns()
	p.mu.Lock()
	p.held = false
	p.mu.Unlock()
}

func (p *holdingProxy) closeConns() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *holdingProxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		p.wg.Go(func() {
			_, _ = io.Copy(server, client)
			server.Close()
		})
		p.wg.Go(func() {
			defer client.Close()
			buf := make([]byte, 32<<10)
			for {
				n, err := server.Read(buf)
				p.mu.Lock()
				held := p.held
				p.mu.Unlock()
				if n > 0 && !held {
					if _, err := client.Write(buf[:n]); err != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		})
	}
}
