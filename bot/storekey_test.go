package bot

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A joinedKey names the very entry its String names: whichever way a key
// was written, both ways find it, and either way removes it.
func TestJoinedKey_sameEntryAsString(t *testing.T) {
	ctx := t.Context()
	long := strings.Repeat("x", 200) // past the 192 bytes joined on the stack: the concatenating path
	for _, k := range []joinedKey{
		{"dedup:", "sendbee", "0b5f3c2e-7d0c-4c4e-a1f1-6c2f1a8e9d10"},
		{"out:", "sendbee", "sendbee:0b5f3c2e:0"},
		{"own:", "", ""},
		{"own:", "fake", long},
		{"", "a:b", "c"},
	} {
		s := NewMemoryStore()
		full := k.String()

		// Written through the parts, read through the string.
		fresh, err := k.claim(ctx, s, time.Hour)
		require.NoError(t, err)
		require.True(t, fresh)
		v, err := s.Get(ctx, full)
		require.NoError(t, err, "key %q", full)
		assert.Nil(t, v)
		fresh, err = s.SetIfAbsent(ctx, full, nil, time.Hour)
		require.NoError(t, err)
		assert.False(t, fresh, "key %q is claimed", full)
		require.NoError(t, s.Delete(ctx, full))
		_, err = k.get(ctx, s)
		require.ErrorIs(t, err, ErrNotFound)

		// Written through the string, read and removed through the parts.
		require.NoError(t, s.Set(ctx, full, []byte("v"), 0))
		v, err = k.get(ctx, s)
		require.NoError(t, err)
		assert.Equal(t, []byte("v"), v)
		fresh, err = k.claim(ctx, s, time.Hour)
		require.NoError(t, err)
		assert.False(t, fresh)
		require.NoError(t, k.delete(ctx, s))
		_, err = s.Get(ctx, full)
		require.ErrorIs(t, err, ErrNotFound)
		assert.Zero(t, s.Len())

		// Different parts that join to the same string are the same key.
		i := strings.LastIndexByte(full, ':')
		same := joinedKey{full[:1], full[1:i], full[i+1:]}
		require.Equal(t, full, same.String())
		fresh, err = same.claim(ctx, s, time.Hour)
		require.NoError(t, err)
		require.True(t, fresh)
		fresh, err = k.claim(ctx, s, time.Hour)
		require.NoError(t, err)
		assert.False(t, fresh, "%q and %q join to the same key", same, k)
	}
}

// The joinedKey methods honour the TTL like the Store methods.
func TestJoinedKey_claimExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := NewMemoryStore()
		ctx := t.Context()
		k := joinedKey{"dedup:", "fake", "1"}
		fresh, err := k.claim(ctx, s, time.Second)
		require.NoError(t, err)
		require.True(t, fresh)
		time.Sleep(time.Second - 1)
		fresh, err = k.claim(ctx, s, time.Hour)
		require.NoError(t, err)
		assert.False(t, fresh, "the claim holds until its expiry")
		time.Sleep(1)
		fresh, err = k.claim(ctx, s, time.Hour)
		require.NoError(t, err)
		assert.True(t, fresh, "an expired claim is replaced")
		_, err = s.Get(ctx, k.String())
		require.NoError(t, err, "by the new one, with its own TTL")
	})
}

// Other Stores get the key string.
func TestJoinedKey_otherStores(t *testing.T) {
	ctx := t.Context()
	st := &recordingStore{MemoryStore: NewMemoryStore()}
	k := joinedKey{"out:", "fake", "fake:1:0"}
	fresh, err := k.claim(ctx, st, time.Hour)
	require.NoError(t, err)
	require.True(t, fresh)
	_, err = k.get(ctx, st)
	require.NoError(t, err)
	require.NoError(t, k.delete(ctx, st))
	assert.Equal(t, []string{"SetIfAbsent out:fake:fake:1:0", "Get out:fake:fake:1:0", "Delete out:fake:fake:1:0"}, st.calls)
}

type recordingStore struct {
	*MemoryStore
	calls []string
}

func (r *recordingStore) Get(ctx context.Context, key string) ([]byte, error) {
	r.calls = append(r.calls, "Get "+key)
	return r.MemoryStore.Get(ctx, key)
}

func (r *recordingStore) SetIfAbsent(ctx context.Context, key string, v []byte, ttl time.Duration) (bool, error) {
	r.calls = append(r.calls, "SetIfAbsent "+key)
	return r.MemoryStore.SetIfAbsent(ctx, key, v, ttl)
}

func (r *recordingStore) Delete(ctx context.Context, key string) error {
	r.calls = append(r.calls, "Delete "+key)
	return r.MemoryStore.Delete(ctx, key)
}

// The joined paths allocate nothing: that is their point.
func TestJoinedKey_allocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	ctx := t.Context()
	s := NewMemoryStore()
	k := joinedKey{"dedup:", "sendbee", "0b5f3c2e-7d0c-4c4e-a1f1-6c2f1a8e9d10"}
	own := joinedKey{"own:", "sendbee", "conversation-1"}
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		_, _ = k.claim(ctx, s, time.Hour)
		_ = k.delete(ctx, s)
		_, _ = own.get(ctx, s)
	}))
}
