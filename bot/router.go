package bot

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/parleybot/parley/bot/internal/prefilter"
	"go.opentelemetry.io/otel/trace"
)

// A Router sends each message to the handler of the first route whose rule
// matches it. A Router is a [Handler], so routers nest and can be tested
// without a Bot.
//
// Routes are tried in priority order (higher [Priority] first), then in
// registration order, and the first route whose rule matches wins. If its
// handler returns [ErrContinue], routing goes on with the next route that
// matches; any other result is returned. If no route handles the message,
// the [Router.NotFound] handler does. While a human owns the conversation
// (see [OwnerOf]) only [Observer] routes are tried, and the NotFound handler
// does not run. A rule that fails is logged at Warn and counts as no match,
// so that one broken rule does not stop the others; but a rule that went
// over its limits (an expression's error wrapping [ErrExprLimit]) fails the
// message: routing goes on, and its error is returned, joined with the
// handler's result, for the Bot to report like a handler error. A rule that
// fails once ctx is done, such as an expression stopped at the handler
// timeout, ends the routing with its error.
//
// With many rules, the Router does not ask every rule: when it starts
// routing it indexes the built-in rules by platform, kind and the literal
// text they require (a command's name, a regular expression's or an
// expression's literals), and per message it scans the text once and asks
// only the rules the message could satisfy, in the same order.
//
// Register routes and middleware first (Use, Handle, HandleFunc, NotFound),
// then route: once the Router has started routing, registering panics. The
// registration methods are safe for concurrent use, but routes registered
// concurrently get an unspecified relative order. HandleMessage, Routes and
// SetLogger are safe for concurrent use at any time. The zero Router is not
// usable; call [NewRouter].
type Router struct {
	mu       sync.Mutex // guards the registration fields below
	mws      []Middleware
	routes   []*route
	notFound Handler

	logger atomic.Pointer[slog.Logger]
	table  atomic.Pointer[routeTable] // set on the first dispatch
}

// NewRouter returns an empty Router. With no routes it hands every message
// to the NotFound handler, which by default does nothing.
func NewRouter() *Router { return &Router{} }

type route struct {
	rule    Rule
	handler Handler // wrapped in the route's middleware
	given   Handler // as given to Handle
	cfg     routeConfig
	seq     int // registration order
}

type routeConfig struct {
	priority    int
	observer    bool
	usage, desc string
	help        bool
	name        string
	mws         []Middleware
}

// A RouteOption configures one route registered with [Router.Handle]:
// [Priority], [Observer], [Help], or a [Middleware] that wraps only that
// route's handler. Options are immutable values and may be reused for many
// routes. A function literal must be converted to pass it as an option:
// bot.Middleware(func(next bot.Handler) bot.Handler { … }).
type RouteOption interface {
	applyRoute(c *routeConfig)
}

// applyRoute makes a Middleware usable as a RouteOption: passed to
// [Router.Handle] it wraps only that route's handler.
func (mw Middleware) applyRoute(c *routeConfig) {
	if mw == nil {
		panic("bot: nil middleware")
	}
	c.mws = append(c.mws, mw)
}

type routeOptionFunc func(c *routeConfig)

func (f routeOptionFunc) applyRoute(c *routeConfig) { f(c) }

// Priority sets a route's priority: routes with higher priority are tried
// first; routes of equal priority in registration order. The default is 0.
func Priority(n int) RouteOption {
	return routeOptionFunc(func(c *routeConfig) { c.priority = n })
}

// RouteOptions combines opts into one RouteOption that applies them in
// order, so that a package can hand out a single option that sets, say, a
// priority and a middleware. It panics if an option is nil.
func RouteOptions(opts ...RouteOption) RouteOption {
	for _, o := range opts {
		if o == nil {
			panic("bot: nil route option")
		}
	}
	opts = slices.Clone(opts)
	return routeOptionFunc(func(c *routeConfig) {
		for _, o := range opts {
			o.applyRoute(c)
		}
	})
}

// Observer marks a route that is tried even while a human owns the
// conversation, for example to log, tag or translate. Other routes are
// skipped then. (A reply an observer sends is still subject to the Bot's
// ownership rules.)
func Observer() RouteOption {
	return routeOptionFunc(func(c *routeConfig) { c.observer = true })
}

// Help documents a route for help handlers, which read it from
// [Router.Routes]: usage is how to invoke it (e.g. "/echo <text>") and
// description what it does.
func Help(usage, description string) RouteOption {
	return routeOptionFunc(func(c *routeConfig) {
		c.usage, c.desc, c.help = usage, description, true
	})
}

// RouteName names a route for people: the event feed's routed events, the
// Bot's traces and logs, and [RouteInfo] say name for the route instead of
// describing its rule (a rules file names each rule's route
// `rule "<name>" (line <n>)`).
func RouteName(name string) RouteOption {
	return routeOptionFunc(func(c *routeConfig) { c.name = name })
}

// RouteInfo describes a route, as returned by [Router.Routes].
type RouteInfo struct {
	// Name is the name given with [RouteName], or "".
	Name string
	// Usage is how a user invokes the route: the usage given with [Help],
	// else the command as typed ("/echo") when the rule is a Command (or
	// All with one Command among its rules), else "".
	Usage string
	// Description is the description given with [Help].
	Description string
	Priority    int
	Observer    bool
	// Rule describes the rule, e.g. `Command("echo")`; rules that do not
	// implement fmt.Stringer are described by their type.
	Rule string
}

// Use appends router-wide middleware, which wraps the whole dispatch
// including messages no route matches; the first middleware is the
// outermost. Use panics if routes were already added or the Router has
// started routing.
func (r *Router) Use(mw ...Middleware) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checkOpen("Use")
	if len(r.routes) > 0 {
		panic("bot: Use after Handle")
	}
	for _, m := range mw {
		if m == nil {
			panic("bot: nil middleware")
		}
	}
	r.mws = append(r.mws, mw...)
}

// Handle adds a route: messages rule matches go to h. opts set the route's
// priority, observer flag, help text and middleware (the first middleware is
// the outermost). Handle panics if rule or h is nil, or if the Router has
// started routing.
func (r *Router) Handle(rule Rule, h Handler, opts ...RouteOption) {
	if rule == nil {
		panic("bot: nil rule")
	}
	if h == nil {
		panic("bot: nil handler")
	}
	var cfg routeConfig
	for _, o := range opts {
		if o == nil {
			panic("bot: nil route option")
		}
		o.applyRoute(&cfg)
	}
	given := h
	h = Chain(cfg.mws...)(h)
	cfg.mws = nil
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checkOpen("Handle")
	r.routes = append(r.routes, &route{rule: rule, handler: h, given: given, cfg: cfg, seq: len(r.routes)})
}

// HandleFunc adds a route whose handler is f; see [Router.Handle].
func (r *Router) HandleFunc(rule Rule, f HandlerFunc, opts ...RouteOption) {
	if f == nil {
		panic("bot: nil handler")
	}
	r.Handle(rule, f, opts...)
}

// NotFound sets the handler of messages no route handled (none matched, or
// every matching handler returned ErrContinue). It does not run while a
// human owns the conversation. The default does nothing. NotFound panics if h
// is nil or the Router has started routing.
func (r *Router) NotFound(h Handler) {
	if h == nil {
		panic("bot: nil handler")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checkOpen("NotFound")
	r.notFound = h
}

// SetLogger sets the logger for rule errors; nil means slog.Default(). It is
// safe to call at any time.
func (r *Router) SetLogger(l *slog.Logger) { r.logger.Store(l) }

func (r *Router) checkOpen(what string) {
	if r.table.Load() != nil {
		panic("bot: " + what + " after the router started routing")
	}
}

// sortedRoutes returns the routes in the order they are tried. r.mu must be
// held.
func (r *Router) sortedRoutes() []*route {
	rs := slices.Clone(r.routes)
	slices.SortStableFunc(rs, func(a, b *route) int { return cmp.Compare(b.cfg.priority, a.cfg.priority) })
	return rs
}

// Routes describes the routes in the order they are tried. It is safe for
// concurrent use.
func (r *Router) Routes() []RouteInfo {
	var rs []*route
	if t := r.table.Load(); t != nil {
		rs = t.routes
	} else {
		r.mu.Lock()
		rs = r.sortedRoutes()
		r.mu.Unlock()
	}
	out := make([]RouteInfo, len(rs))
	for i, rt := range rs {
		info := RouteInfo{
			Usage:       rt.cfg.usage,
			Description: rt.cfg.desc,
			Priority:    rt.cfg.priority,
			Observer:    rt.cfg.observer,
			Rule:        describe(rt.rule),
			Name:        rt.cfg.name,
		}
		if !rt.cfg.help || info.Usage == "" {
			if c := commandOf(rt.rule); c != nil {
				info.Usage = c.usage()
			}
		}
		out[i] = info
	}
	return out
}

// commandOf returns the Command rule r is, or the only one among the rules
// of an All.
func commandOf(r Rule) *commandRule {
	switch r := r.(type) {
	case *commandRule:
		return r
	case allRule:
		var found *commandRule
		for _, sub := range r.rules {
			if c, ok := sub.(*commandRule); ok {
				if found != nil {
					return nil
				}
				found = c
			}
		}
		return found
	}
	return nil
}

// A routeTable is the Router frozen for routing.
type routeTable struct {
	r         *Router
	routes    []*route // in the order they are tried
	notFound  Handler
	index     *prefilter.Index
	needState bool     // some rule is an Expr, which caches its Env in msgState
	keeps     bool     // some rule is a Regexp that keeps its groups in msgState
	handler   Handler  // dispatch wrapped in the router-wide middleware
	describe  []string // rule descriptions, for logs
}

// freeze builds the routing table on the first dispatch.
func (r *Router) freeze() *routeTable {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t := r.table.Load(); t != nil {
		return t
	}
	t := &routeTable{r: r, routes: r.sortedRoutes(), notFound: r.notFound}
	pfs := make([]prefilter.Filter, len(t.routes))
	observer := make([]bool, len(t.routes))
	t.describe = make([]string, len(t.routes))
	for i, rt := range t.routes {
		pfs[i] = prefilterOf(rt.rule)
		observer[i] = rt.cfg.observer
		t.describe[i] = cmp.Or(rt.cfg.name, describe(rt.rule))
		t.needState = t.needState || hasExpr(rt.rule)
		t.keeps = t.keeps || keepsGroups(rt.rule)
	}
	t.index = prefilter.NewIndex(pfs, observer)
	t.handler = Chain(r.mws...)(HandlerFunc(t.dispatch))
	r.table.Store(t)
	return t
}

func hasExpr(r Rule) bool {
	switch r := r.(type) {
	case *exprRule:
		return true
	case allRule:
		return slices.ContainsFunc(r.rules, hasExpr)
	case anyRule:
		return slices.ContainsFunc(r.rules, hasExpr)
	case notRule:
		return hasExpr(r.rule)
	}
	return false
}

// keepsGroups reports whether r is, or has among the rules whose captures
// it gives, a Regexp that keeps the groups it finds.
func keepsGroups(r Rule) bool {
	switch r := r.(type) {
	case *regexpRule:
		return r.keep
	case allRule:
		return slices.ContainsFunc(r.rules, keepsGroups)
	case anyRule:
		return slices.ContainsFunc(r.rules, keepsGroups)
	}
	return false
}

// HandleMessage routes m: see [Router]. It is safe for concurrent use; the
// first call freezes the Router's routes.
func (r *Router) HandleMessage(ctx context.Context, w Sender, m *Message) error {
	t := r.table.Load()
	if t == nil {
		t = r.freeze()
	}
	return t.handler.HandleMessage(ctx, w, m)
}

// stateCtx gives a dispatch outside a Bot a msgState of its own, so that the
// expression rules it asks share one Env.
type stateCtx struct {
	context.Context
	st msgState
}

func (c *stateCtx) Value(key any) any {
	if key == (stateKey{}) {
		return &c.st
	}
	return c.Context.Value(key)
}

func (t *routeTable) dispatch(ctx context.Context, w Sender, m *Message) error {
	human := OwnerOf(ctx) == OwnerHuman
	needState := t.needState // until ctx has a msgState
	var limitErr error       // of the first rule over its limits
	// A Bot's routing state, where the Regexp rules asked keep the groups
	// they find for the handler; outside a Bot they find them again when
	// asked (CapturesOf).
	var st *msgState
	if t.keeps {
		st = stateFrom(ctx)
	}
	cand, s := t.index.Candidates(m.Platform, string(m.Kind.Or()), m.Text, human)
	for i, word := range cand {
		for word != 0 {
			n := i<<6 | bits.TrailingZeros64(word)
			word &= word - 1
			rt := t.routes[n]
			if needState {
				if stateFrom(ctx) == nil {
					sc := &stateCtx{Context: ctx}
					ctx = sc
					if t.keeps {
						st = &sc.st
					}
				}
				needState = false
			}
			var ok bool
			var err error
			if re, isRe := rt.rule.(*regexpRule); isRe && re.keep && st != nil {
				ok = re.matchKeep(m, st)
			} else {
				ok, err = rt.rule.Match(ctx, m)
			}
			if err != nil {
				if ctx.Err() != nil {
					t.index.Put(s)
					return err
				}
				if errors.Is(err, ErrExprLimit) {
					limitErr = cmp.Or(limitErr, err)
				} else {
					t.logRuleError(ctx, n, m, err)
				}
				continue
			}
			if !ok {
				continue
			}
			if watchers.Load() > 0 {
				t.routed(ctx, n, m)
			}
			mc := &matchCtx{Context: ctx, rule: rt.rule, m: m}
			if st != nil && st.kept.rule != nil {
				// The groups found while rt.rule was asked go to its handler
				// alone; a later route finds its own.
				mc.kept, st.kept = st.kept, keptGroups{}
			}
			err = rt.handler.HandleMessage(mc, w, m)
			if errors.Is(err, ErrContinue) {
				continue
			}
			t.index.Put(s)
			return joinErrors(err, limitErr)
		}
	}
	t.index.Put(s)
	if watchers.Load() > 0 {
		t.routed(ctx, -1, m)
	}
	if human || t.notFound == nil {
		return limitErr
	}
	return joinErrors(t.notFound.HandleMessage(ctx, w, m), limitErr)
}

// joinErrors returns the error of a message's handler joined with the
// first rule that went over its limits, either of which may be nil.
func joinErrors(handler, limit error) error {
	switch {
	case limit == nil:
		return handler
	case handler == nil:
		return limit
	}
	return errors.Join(handler, limit)
}

func (t *routeTable) logRuleError(ctx context.Context, n int, m *Message, err error) {
	l := t.r.logger.Load()
	if l == nil {
		l = slog.Default()
	}
	l.LogAttrs(ctx, slog.LevelWarn, "bot: rule failed, treated as no match",
		slog.String("rule", t.describe[n]), slog.Any("msg", m), slog.Any("error", err))
}

// routed tells the Bot's feed, if ctx is a Bot's and someone listens, and
// its handle span, if it traces, that route n matched m, or with n < 0
// that none did.
func (t *routeTable) routed(ctx context.Context, n int, m *Message) {
	st := stateFrom(ctx)
	if st == nil || (n < 0 && st.top != t.r) {
		return // a nested Router's no match is not the message's
	}
	if st.traced {
		traceRouted(trace.SpanFromContext(ctx), t, n, st.top == t.r)
	}
	if st.feed == nil || !st.feed.wants(EventRouted) && !st.feed.wants(EventUnrouted) {
		return
	}
	e := Event{Type: EventUnrouted, Platform: m.Platform, Conversation: m.Conversation, Message: m.ID, Kind: m.Kind,
		Owner: st.owner.String()}
	if n >= 0 {
		e.Type, e.Route = EventRouted, t.describe[n]
		if x, ok := t.routes[n].rule.(Explainer); ok {
			e.Reason = x.Explain(ctx, m)
		} else if x, ok := t.routes[n].given.(Explainer); ok {
			e.Reason = x.Explain(ctx, m)
		}
	}
	st.feed.emit(&e)
}
