// Package hours is a handler that tells customers when nobody is there: a
// message that arrives outside business hours gets an out-of-hours notice,
// at most once per conversation per window.
//
//	h := hours.Handler{
//		Schedule: hours.MustParseWeek("Mon-Fri 08:00-16:00; Sat 09:00-12:00"),
//		Holidays: hours.MustParseDates("2026-12-25", "2026-12-26"),
//	}
//	if err := h.Install(b); err != nil { … } // the Bot's Store and time zone
//
// # When it is closed
//
// The [Handler]'s Schedule is a [Week]: for each weekday, the spans of
// wall-clock time during which the business is open, in the Handler's
// Location ("Mon-Fri 09:00-17:00" by default; see [ParseWeek] for the
// syntax). A span may run past midnight (22:00-02:00) and then belongs to the
// day it starts on. Holidays are whole days on which the spans that start
// that day are closed. Times are wall-clock times, so a schedule keeps its
// hours across daylight-saving changes; a time that a change skips is
// treated as the time after it.
//
// # What it does
//
// While the business is open, the handler does nothing and returns
// [bot.ErrContinue]. While it is closed, it sends the notice unless the
// conversation got one within Window (default 12 hours), and then also
// returns bot.ErrContinue: the message goes on to the other routes, so an
// FAQ can still answer it and a handoff request still reaches the agents'
// queue. This is the usual behaviour of an out-of-office reply: it informs,
// it does not block. Set Stop to make the bot stay silent after hours
// instead: every message that arrives while closed then ends routing at
// this handler.
//
// Which conversations got the notice is kept in the Store under
// "hours:replied:<platform>:<conversation>" with Window as its time to live,
// set with SetIfAbsent, so of two replicas sharing a Store only one sends
// it. When sending fails, the entry is removed so that the next message
// tries again.
//
// Events and messages of bots and agents are never answered. The handler is
// not an observer, so it does not run while an agent owns the conversation.
//
// Register it with [Handler.Install] (on [bot.Always] with [Priority] 90,
// before ordinary routes and after the welcome handler), or yourself with a
// Store:
//
//	b.Handle(hours.DefaultRule(), hours.Handler{Store: b.Store(), Location: b.Location()}, bot.Priority(hours.Priority))
package hours
