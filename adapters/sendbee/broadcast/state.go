package broadcast

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/parleybot/parley/bot"
)

// DefaultStateTTL is how long a campaign's per-contact records are kept
// by default: the time within which running it again resumes it.
const DefaultStateTTL = 90 * 24 * time.Hour

// keyPrefix namespaces the campaign records in the Store.
const keyPrefix = "broadcast:"

// The states of a contact's record.
const (
	// stateAttempt: a send began at Attempt; its result is not recorded.
	stateAttempt = "attempt"
	// stateSent: the platform accepted the send.
	stateSent = "sent"
	// stateRefused: the platform refused the send; nothing was sent.
	stateRefused = "refused"
)

// record is what the Store holds per campaign and contact: the
// idempotency key is the campaign name and the recipient.
type record struct {
	State          string    `json:"state"`
	Attempt        time.Time `json:"attempt"`
	MessageID      string    `json:"message_id,omitempty"`
	ConversationID string    `json:"conversation_id,omitempty"`
}

func recordKey(campaign, recipient string) string {
	return keyPrefix + campaign + ":" + recipient
}

// load returns the record of key; a zero record when there is none.
func load(ctx context.Context, st bot.Store, key string) (record, error) {
	b, err := st.Get(ctx, key)
	if errors.Is(err, bot.ErrNotFound) {
		return record{}, nil
	}
	if err != nil {
		return record{}, fmt.Errorf("broadcast: read campaign state: %w", err)
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return record{}, fmt.Errorf("broadcast: read campaign state: %w", err)
	}
	return r, nil
}

func save(ctx context.Context, st bot.Store, key string, r record, ttl time.Duration) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("broadcast: write campaign state: %w", err)
	}
	if err := st.Set(ctx, key, b, ttl); err != nil {
		return fmt.Errorf("broadcast: write campaign state: %w", err)
	}
	return nil
}
