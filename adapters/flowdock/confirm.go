package flowdock

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/parleybot/parley/bot"
)

var _ bot.Confirmer = (*Adapter)(nil)

// Delivered implements bot.Confirmer: it reports whether Flowdock holds the
// message that Send posts for m, looking up the uuid Send derives from
// m.Key among the conversation's newest [UUIDLookupDepth] messages
// ([Client.MessageByUUID]). since is not needed: the uuid is m's alone.
//
// Activities and discussions (posted with the flow token, without a uuid)
// and messages Send would refuse (attachments) cannot be matched: Delivered
// returns false for them without a request, and the outbox sends them
// again.
func (a *Adapter) Delivered(ctx context.Context, m *bot.Message, since time.Time) (bot.SendResult, bool, error) {
	if m.Payload != nil || len(m.Attachments) > 0 || m.Key == "" {
		return bot.SendResult{}, false, nil
	}
	c, err := a.chat(ctx, m.Conversation)
	if err != nil {
		return bot.SendResult{}, false, err
	}
	found, _, err := a.client.MessageByUUID(ctx, c, uuidFor(m.Key))
	if errors.Is(err, ErrNotFound) {
		return bot.SendResult{}, false, nil
	}
	if err != nil {
		return bot.SendResult{}, false, err
	}
	return bot.SendResult{ID: messageKey(m.Conversation, json.Number(strconv.FormatInt(found.ID, 10)))}, true, nil
}
