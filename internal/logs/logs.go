// Package logs holds the logger slot of Parley's components: the logger a
// component's configuration gave it, or else one its owner (a Bot) may
// hand it later, through loggers made before the hand-over.
package logs

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
)

// A Slot holds a component's logger. A Slot made with a configured logger
// keeps it: Set does nothing. A Slot made without one writes to
// slog.Default() until Set gives it a logger. A Slot is safe for
// concurrent use; its zero value is not (use New).
type Slot struct {
	configured *slog.Logger
	cur        atomic.Pointer[slog.Logger] // nil: slog.Default()
}

// New returns a Slot holding configured, or, when it is nil, a slot whose
// logger Set may give.
func New(configured *slog.Logger) *Slot {
	return &Slot{configured: configured}
}

// Configured reports whether the Slot was made with a logger of its own.
func (s *Slot) Configured() bool { return s.configured != nil }

// Set makes l the Slot's logger, unless the Slot was made with one or l is
// nil. Loggers made by Logger before follow.
func (s *Slot) Set(l *slog.Logger) {
	if s.configured == nil && l != nil {
		s.cur.Store(l)
	}
}

// current returns the logger records go to now.
func (s *Slot) current() *slog.Logger {
	if l := s.cur.Load(); l != nil {
		return l
	}
	return slog.Default()
}

// Logger returns a logger writing to the Slot's logger: the configured
// one, or else whichever Set gave last (slog.Default() before). Derived
// loggers (With, WithGroup) follow too.
func (s *Slot) Logger() *slog.Logger {
	if s.configured != nil {
		return s.configured
	}
	return slog.New(&handler{slot: s})
}

// handler forwards to the handler of the Slot's current logger, with the
// attributes and groups of the derivations applied.
type handler struct {
	slot  *Slot
	ops   []op
	cache atomic.Pointer[derived]
}

// op is one derivation: attrs, or a group when group is not empty.
type op struct {
	attrs []slog.Attr
	group string
}

// derived is the handler of from with the ops applied.
type derived struct {
	from *slog.Logger
	h    slog.Handler
}

func (h *handler) target() slog.Handler {
	l := h.slot.current()
	if d := h.cache.Load(); d != nil && d.from == l {
		return d.h
	}
	t := l.Handler()
	for _, o := range h.ops {
		if o.group != "" {
			t = t.WithGroup(o.group)
		} else {
			t = t.WithAttrs(o.attrs)
		}
	}
	h.cache.Store(&derived{from: l, h: t})
	return t
}

func (h *handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.target().Enabled(ctx, level)
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	return h.target().Handle(ctx, r)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return &handler{slot: h.slot, ops: append(slices.Clip(h.ops), op{attrs: attrs})}
}

func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &handler{slot: h.slot, ops: append(slices.Clip(h.ops), op{group: name})}
}
