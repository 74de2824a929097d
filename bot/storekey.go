package bot

import (
	"context"
	"time"
)

// A joinedKey is the Store key prefix + a + ":" + b ("dedup:<platform>:<id>",
// "out:<platform>:<key>", "own:<platform>:<conversation>") kept in its
// parts. Its methods act on that key like the Store methods of the same
// name; when the Store is a *MemoryStore they digest the parts without
// building the key on the heap, and find the very entry the whole key
// names (memtable's LocateJoined), so the two ways of naming a key mix
// freely. Other Stores get the key string.
type joinedKey struct{ prefix, a, b string }

// String returns the key.
func (k joinedKey) String() string { return k.prefix + k.a + ":" + k.b }

// get is st.Get of the key.
func (k joinedKey) get(ctx context.Context, st Store) ([]byte, error) {
	if ms, ok := st.(*MemoryStore); ok {
		return ms.getJoined(k)
	}
	return st.Get(ctx, k.String())
}

// claim is st.SetIfAbsent of the key with an empty value.
func (k joinedKey) claim(ctx context.Context, st Store, ttl time.Duration) (bool, error) {
	if ms, ok := st.(*MemoryStore); ok {
		return ms.claimJoined(k, ttl), nil
	}
	return st.SetIfAbsent(ctx, k.String(), nil, ttl)
}

// delete is st.Delete of the key.
func (k joinedKey) delete(ctx context.Context, st Store) error {
	if ms, ok := st.(*MemoryStore); ok {
		ms.deleteJoined(k)
		return nil
	}
	return st.Delete(ctx, k.String())
}

// getJoined is Get(k.String()).
func (s *MemoryStore) getJoined(k joinedKey) ([]byte, error) {
	d, sh := s.table.LocateJoined(k.prefix, k.a, k.b)
	return found(sh.Get(d))
}

// claimJoined is SetIfAbsent(k.String(), nil, ttl).
func (s *MemoryStore) claimJoined(k joinedKey, ttl time.Duration) bool {
	d, sh := s.table.LocateJoined(k.prefix, k.a, k.b)
	return sh.SetIfAbsent(d, "", ttl)
}

// deleteJoined is Delete(k.String()).
func (s *MemoryStore) deleteJoined(k joinedKey) {
	d, sh := s.table.LocateJoined(k.prefix, k.a, k.b)
	sh.Delete(d)
}
