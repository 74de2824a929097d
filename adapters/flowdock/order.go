package flowdock

import "slices"

// Flowdock numbers the events of a flow, and of a private chat, 1, 2, 3, …
// (message ids are unique within their flow or chat), and the stream sends
// them in that order. The stream supervisor publishes each message once and
// in order by keeping, per conversation, an idWindow: the newest id taken
// as the conversation's position (the mark) and which of the ids just
// below it were seen. The REST backfill asks for the messages after the
// lowest id of the window not seen (usually the mark).
//
// A corrupt or hostile id must not become the position, or every message
// after it would look already published. So the mark moves only by steps
// of at most idSpan: an id further ahead is published but not adopted (an
// outlier), and remembered so that a replay of it is dropped; only the
// REST API's listing can move the mark further (see
// stream.backfillConversation). An id at or below the mark is published if
// it lies in the window of idSpan ids below the mark and was not seen (a
// late arrival: nothing legitimate is lost to an id that jumped a little
// ahead); otherwise it is a duplicate. Ids of zero or less are invalid.

// idSpan is how far ahead of a conversation's mark an id may be and still
// become the mark, and how many ids below the mark are remembered. Between
// two events of the stream the id goes up by one; a backfill page skips
// the ids of events the REST API does not list (edits, tag changes,
// deleted messages), so a legitimate step is small.
const idSpan = 8192

// maxAhead bounds the outliers remembered per conversation.
const maxAhead = 256

// idVerdict is what to do with a message id.
type idVerdict int

const (
	idNew       idVerdict = iota // publish; it becomes the mark
	idLate                       // publish; below the mark, in the window, not seen
	idOutlier                    // publish; too far ahead to become the mark
	idDuplicate                  // drop: seen, or older than the window
	idInvalid                    // drop: zero or negative
)

// publishes reports whether a message with this verdict is published.
func (v idVerdict) publishes() bool { return v == idNew || v == idLate || v == idOutlier }

// An idWindow orders and deduplicates the message ids of one conversation.
// The zero value is not usable; see newIDWindow.
type idWindow struct {
	mark  int64               // the newest id adopted
	floor int64               // ids at or below it predate the window: published, or older than the stream
	seen  [idSpan / 64]uint64 // bit id%idSpan: id in (mark-idSpan, mark] was seen
	ahead []int64             // outliers published, oldest first, at most maxAhead
}

// newIDWindow starts a window at mark: ids up to mark count as already
// published.
func newIDWindow(mark int64) *idWindow {
	return &idWindow{mark: mark, floor: mark}
}

// verdict says what to do with id, without recording it.
func (w *idWindow) verdict(id int64) idVerdict {
	switch {
	case id <= 0:
		return idInvalid
	case id > w.mark:
		if slices.Contains(w.ahead, id) {
			return idDuplicate
		}
		if id-w.mark > idSpan {
			return idOutlier
		}
		return idNew
	case id <= w.floor || w.mark-id >= idSpan || w.has(id):
		return idDuplicate
	}
	return idLate
}

// record notes id, whose verdict v was just acted on.
func (w *idWindow) record(id int64, v idVerdict) {
	switch v {
	case idNew:
		w.advance(id)
	case idLate:
		w.set(id)
	case idOutlier:
		if len(w.ahead) == maxAhead {
			w.ahead = slices.Delete(w.ahead, 0, 1)
		}
		w.ahead = append(w.ahead, id)
	}
}

// advance makes id, ahead of the mark by at most idSpan, the mark.
func (w *idWindow) advance(id int64) {
	if id-w.mark >= idSpan {
		clear(w.seen[:])
	} else {
		for i := w.mark + 1; i < id; i++ {
			w.unset(i)
		}
	}
	w.mark = id
	w.set(id)
	// Outliers the mark has caught up with are remembered by the bitmap
	// (or are older than the window).
	w.ahead = slices.DeleteFunc(w.ahead, func(a int64) bool {
		if a > w.mark {
			return false
		}
		if w.mark-a < idSpan {
			w.set(a)
		}
		return true
	})
}

// since returns the id after which to ask the REST API for missed
// messages: just below the lowest id of the window not accounted for (a
// gap the stream left, such as the ids an id a little ahead jumped over),
// or the mark.
func (w *idWindow) since() int64 {
	for id := max(w.floor, w.mark-idSpan) + 1; id <= w.mark; id++ {
		if !w.has(id) {
			return id - 1
		}
	}
	return w.mark
}

// account counts the ids from lo to hi as seen, as far as they lie in the
// window: the REST API listed none of them between two messages it did
// list, so they are events it never lists (edits, deleted messages).
func (w *idWindow) account(lo, hi int64) {
	for id := max(lo, w.floor+1, w.mark-idSpan+1); id <= min(hi, w.mark); id++ {
		w.set(id)
	}
}

// rebase moves the window to an outlier the REST API has shown to be the
// conversation's real position: its next listed id follows it closely.
// Ids below it count as published.
func (w *idWindow) rebase(id int64) {
	clear(w.seen[:])
	w.mark, w.floor = id, id
	w.set(id)
	w.ahead = slices.DeleteFunc(w.ahead, func(a int64) bool { return a <= id })
}

func (w *idWindow) has(id int64) bool { return w.seen[(id%idSpan)/64]&(1<<(id%64)) != 0 }
func (w *idWindow) set(id int64)      { w.seen[(id%idSpan)/64] |= 1 << (id % 64) }
func (w *idWindow) unset(id int64)    { w.seen[(id%idSpan)/64] &^= 1 << (id % 64) }
