package bot

import (
	"context"
	"time"

	"github.com/expr-lang/expr/vm"
)

// msgState is the per-message routing state the Bot puts in a handler's
// context: who owns the conversation, the bot's time zone and the worker's
// expression VM. Router and rules read it; outside a Bot it is absent and
// they fall back to defaults.
type msgState struct {
	owner Owner
	// traced says the Bot traces: the span of the routing context is the
	// handle span, or a span a handler started under it.
	traced bool
	loc    *time.Location
	vm     *vm.VM  // the worker's VM; nil outside a Bot worker
	feed   *feed   // the Bot's event feed; nil outside a Bot
	top    *Router // the Bot's Router, which alone reports unrouted messages
	// window is the conversation's customer-service window, on a platform
	// that has one (window.Applies); the zero Window elsewhere.
	window Window

	// env caches the expression environment of the message being routed
	// (expr.go): the first Expr rule asked builds it, the others reuse it.
	// It carries its own cache key (message, owner, location), so a reused
	// msgState never serves a stale Env.
	env *Env
	// run is the state of the expression evaluation in progress (expr.go),
	// held here so that an evaluation allocates none.
	run exprRun
	// kept are the groups the last Regexp with groups asked found (rule.go),
	// until the Router hands them to the winning route's matchCtx.
	kept keptGroups
}

type stateKey struct{}

func withState(ctx context.Context, s *msgState) context.Context {
	return context.WithValue(ctx, stateKey{}, s)
}

func stateFrom(ctx context.Context) *msgState {
	s, _ := ctx.Value(stateKey{}).(*msgState)
	return s
}

// OwnerOf returns who owns the conversation of the message being handled
// with ctx, as the Bot saw it just before routing. Outside a Bot (a Router
// driven directly) it returns OwnerBot.
func OwnerOf(ctx context.Context) Owner {
	if s := stateFrom(ctx); s != nil && s.owner != OwnerUnset {
		return s.owner
	}
	return OwnerBot
}

// LocationOf returns the time zone of the Bot handling the message of ctx
// (see WithLocation), the one its expression rules' time functions use.
// Outside a Bot it returns time.Local.
func LocationOf(ctx context.Context) *time.Location {
	if s := stateFrom(ctx); s != nil && s.loc != nil {
		return s.loc
	}
	return time.Local
}
