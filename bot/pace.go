package bot

import "context"

// A Pacer spaces API requests by a platform's declared [Limits], sharing one
// budget with the outbox's sends. An adapter that makes requests of its own
// beside the send itself (a lookup a send needs first, a read of the
// platform's state) calls Pace before each, so that together they stay
// within the platform's rate limit. The Bot is a Pacer; an adapter reaches
// it by asserting the Publisher its Run is given.
//
// Pace must be safe for concurrent use.
type Pacer interface {
	// Pace waits until the rate limit of the adapter named platform allows
	// one more request, and any pause a rate-limit answer imposed is over.
	// It returns ctx's error if ctx is done first.
	Pace(ctx context.Context, platform string) error
}

// Pace waits for one request's worth of the rate-limit budget of the
// adapter named platform; see [Pacer]. It returns at once for an adapter
// without declared limits, and an error wrapping [ErrUnknownPlatform] for
// an unknown name.
func (b *Bot) Pace(ctx context.Context, platform string) error {
	po := b.out.platforms[platform]
	if po == nil {
		return unknownPlatform("bot: pace", platform)
	}
	return b.out.pace(ctx, po)
}
