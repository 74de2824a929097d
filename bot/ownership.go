package bot

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ownership keeps who owns each conversation in the Store. Only human-owned
// conversations have an entry ("own:<platform>:<conversation>", the time of
// the last activity as 8 bytes); an absent entry means the bot owns it, so
// the common case costs one lookup and no memory.
type ownership struct {
	store  Store
	idle   time.Duration
	logger *slog.Logger
	stats  *stats
}

func ownerKey(platform, conversation string) joinedKey {
	return joinedKey{"own:", platform, conversation}
}

// get returns the owner recorded for a conversation and, for a human-owned
// one, the time of its last activity.
func (o *ownership) get(ctx context.Context, platform, conversation string) (Owner, time.Time, error) {
	v, err := ownerKey(platform, conversation).get(ctx, o.store)
	if errors.Is(err, ErrNotFound) {
		return OwnerBot, time.Time{}, nil
	}
	if err != nil {
		return OwnerUnset, time.Time{}, fmt.Errorf("bot: read owner: %w", err)
	}
	var last time.Time
	if len(v) == 8 {
		last = time.Unix(0, int64(binary.BigEndian.Uint64(v)))
	}
	return OwnerHuman, last, nil
}

// set records the owner of a conversation; for humans it also stamps the
// activity time.
func (o *ownership) set(ctx context.Context, platform, conversation string, who Owner, now time.Time) error {
	key := ownerKey(platform, conversation).String()
	var err error
	if who == OwnerHuman {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(now.UnixNano()))
		err = o.store.Set(ctx, key, b[:], 0)
	} else {
		err = o.store.Delete(ctx, key)
	}
	if err != nil {
		return fmt.Errorf("bot: record owner: %w", err)
	}
	return nil
}

// idleExpired reports whether a human-owned conversation whose last activity
// was at last has been idle past the timeout.
func (o *ownership) idleExpired(last, now time.Time) bool {
	return o.idle > 0 && !last.IsZero() && now.Sub(last) > o.idle
}
