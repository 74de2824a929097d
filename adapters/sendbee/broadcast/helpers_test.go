package broadcast_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/sendbee/broadcast"
	"github.com/parleybot/parley/adapters/sendbee/sendbeetest"
	"github.com/parleybot/parley/bot"
)

// fastRate is a rate limit high enough that the emulator and the run's
// pacing never hold a test up: the run is as fast as the requests.
const fastRate = 1_000_000

// newEmulator starts a Sendbee emulator with the demo templates and
// contacts, the given rate limit per minute, and n seeded contacts tagged
// "spring": +38591000NNNN, named "Name N", city "City N"; every contact
// whose index is a multiple of unsubEvery (when > 0) is unsubscribed.
func newEmulator(t testing.TB, perMinute, n, unsubEvery int) (*sendbeetest.Server, *sendbee.Client) {
	t.Helper()
	emu := sendbeetest.NewServer(t, sendbeetest.WithRateLimit(perMinute, time.Minute))
	require.NoError(t, emu.SeedContacts(seedContacts(n, unsubEvery)...))
	client, err := sendbee.NewClient(sendbee.Config{APIKey: emu.APIKey(), APISecret: emu.APISecret(), BaseURL: emu.URL()})
	require.NoError(t, err)
	t.Cleanup(client.CloseIdleConnections)
	return emu, client
}

func seedContacts(n, unsubEvery int) []sendbeetest.SeedContact {
	cs := make([]sendbeetest.SeedContact, n)
	for i := range cs {
		cs[i] = sendbeetest.SeedContact{
			Phone: phone(i), Name: fmt.Sprintf("Name %d", i), Tags: []string{"spring"},
			Fields: map[string]string{"city": fmt.Sprintf("City %d", i)},
		}
		if unsubEvery > 0 && i%unsubEvery == 0 {
			cs[i].Status = "unsubscribed"
		}
	}
	return cs
}

func phone(i int) string { return fmt.Sprintf("+38591%07d", i) }

// springCampaign sends order_shipped ("Hi {{1}}, your order {{2}} has
// shipped.", button tag 1) to the "spring" contacts.
func springCampaign(name string) broadcast.Campaign {
	return broadcast.Campaign{
		Name: name, Template: "order_shipped", Language: "en",
		Segment:       broadcast.Segment{Tags: []string{"spring"}},
		Fill:          map[string]string{"1": "name", "2": "field:city"},
		ButtonFill:    map[string]string{"1": "phone"},
		PreventBotOff: true,
	}
}

// sentByPhone counts the template sends the emulator accepted, by phone.
func sentByPhone(emu *sendbeetest.Server) map[string]int {
	m := map[string]int{}
	for _, s := range emu.Sent() {
		if s.TemplateKeyword != "" {
			m[s.Phone]++
		}
	}
	return m
}

// count429 counts the requests the emulator answered 429 without an
// injected fault: the ones the run's pacing caused.
func count429(emu *sendbeetest.Server) (ours, injected int) {
	for _, r := range emu.Requests() {
		if r.Status == 429 {
			if r.Fault != "" {
				injected++
			} else {
				ours++
			}
		}
	}
	return ours, injected
}

// faultyStore is a bot.Store that passes every call to a MemoryStore and
// lets a test act on a Set before (or instead of) it: the place where a
// process dies.
type faultyStore struct {
	*bot.MemoryStore
	mu    sync.Mutex
	onSet func(key string, value []byte) error // nil: no fault
	dead  atomic.Bool                          // every later write fails
}

var errDead = errors.New("the process is dead")

func (s *faultyStore) Delete(ctx context.Context, key string) error {
	if s.dead.Load() {
		return errDead
	}
	return s.MemoryStore.Delete(ctx, key)
}

func (s *faultyStore) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if s.dead.Load() {
		return errDead
	}
	s.mu.Lock()
	f := s.onSet
	s.mu.Unlock()
	if f != nil {
		if err := f(key, value); err != nil {
			return err
		}
	}
	return s.MemoryStore.Set(ctx, key, value, ttl)
}
