package flowdock

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

func (v idVerdict) String() string {
	return [...]string{"new", "late", "outlier", "duplicate", "invalid"}[v]
}

// A step gives an id to the window, and the verdict it must get; a
// verdict that publishes is recorded, as the stream does once the message
// is published.
type step struct {
	id   int64
	want idVerdict
}

func TestIDWindow(t *testing.T) {
	t.Parallel()
	const huge = 1<<53 + 1
	far := int64(10 + idSpan + 5) // beyond the window of mark 10
	tests := []struct {
		name  string
		mark  int64
		steps []step
	}{
		{"in order", 10, []step{{11, idNew}, {12, idNew}, {12, idDuplicate}, {11, idDuplicate}, {10, idDuplicate}, {3, idDuplicate}, {13, idNew}}},
		{"zero and negative", 10, []step{{0, idInvalid}, {-1, idInvalid}, {math.MinInt64, idInvalid}, {11, idNew}}},
		{"a huge id is published once, not adopted", 10, []step{
			{11, idNew}, {huge, idOutlier}, {12, idNew}, {huge, idDuplicate}, {math.MaxInt64, idOutlier}, {13, idNew}, {math.MaxInt64, idDuplicate},
		}},
		{"gaps are filled late, once", 10, []step{{11, idNew}, {15, idNew}, {13, idLate}, {13, idDuplicate}, {12, idLate}, {14, idLate}, {16, idNew}}},
		{"an id a little ahead hides nothing behind it", 10, []step{
			{11, idNew}, {111, idNew}, {12, idLate}, {110, idLate}, {111, idDuplicate}, {112, idNew},
		}},
		{"the mark catches up with an outlier", 10, []step{
			{far, idOutlier}, {10 + idSpan, idNew}, {far, idDuplicate}, {far - 1, idNew}, {far, idDuplicate}, {far + 1, idNew},
		}},
		{"a step of exactly the span is adopted", 0, []step{{idSpan, idNew}, {1, idLate}, {2, idLate}, {idSpan + 1, idNew}, {3, idLate}, {1, idDuplicate}}},
		{"older than the window", 0, []step{{1, idNew}, {1 + idSpan, idNew}, {2, idLate}, {1, idDuplicate}}},
		{"below the start", 100, []step{{100, idDuplicate}, {99, idDuplicate}, {101, idNew}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newIDWindow(tt.mark)
			for i, st := range tt.steps {
				got := w.verdict(st.id)
				assert.Equal(t, st.want, got, "step %d: id %d", i, st.id)
				if got.publishes() {
					w.record(st.id, got)
				}
			}
		})
	}
}

func TestIDWindow_aheadIsBounded(t *testing.T) {
	t.Parallel()
	w := newIDWindow(0)
	first := int64(1 << 40)
	for i := range int64(maxAhead + 1) {
		v := w.verdict(first + i*2*idSpan)
		assert.Equal(t, idOutlier, v)
		w.record(first+i*2*idSpan, v)
	}
	assert.Len(t, w.ahead, maxAhead)
	assert.Equal(t, idOutlier, w.verdict(first), "the oldest outlier is forgotten")
	assert.Equal(t, idDuplicate, w.verdict(first+2*idSpan))
}

func TestIDWindow_rebase(t *testing.T) {
	t.Parallel()
	w := newIDWindow(10)
	far := int64(10 + 3*idSpan)
	w.record(far, w.verdict(far))
	w.rebase(far)
	assert.Equal(t, idDuplicate, w.verdict(far))
	assert.Equal(t, idDuplicate, w.verdict(far-1), "below the new position counts as published")
	assert.Equal(t, idNew, w.verdict(far+1))
	assert.Empty(t, w.ahead)
}

// Whatever one hostile id is (huge, zero, negative, behind, a little or
// far ahead) and wherever it falls in a conversation's ids, with replays
// of recent ids mixed in, every legitimate id is published exactly once:
// the hostile id can only take the place of the one id it repeats.
func TestIDWindow_oneHostileID(t *testing.T) {
	t.Parallel()
	const start, n = 1000, 300
	rnd := rand.New(rand.NewPCG(7, 11))
	for run := range 2000 {
		hostile := []int64{
			1<<53 + 1, math.MaxInt64, 0, -1, math.MinInt64, 1, start,
			start + 1 + rnd.Int64N(n),                  // repeats a legitimate id
			start + n + 1 + rnd.Int64N(idSpan),         // a little ahead
			start + n + idSpan + 1 + rnd.Int64N(1<<40), // far ahead
		}[rnd.IntN(10)]
		at := rnd.IntN(n)
		w := newIDWindow(start)
		published := map[int64]int{}
		give := func(id int64) {
			if v := w.verdict(id); v.publishes() {
				published[id]++
				w.record(id, v)
			}
		}
		for i := range n {
			if i == at {
				give(hostile)
			}
			id := int64(start + 1 + i)
			give(id)
			if rnd.IntN(5) == 0 { // a replay of a recent id
				give(id - rnd.Int64N(min(int64(i)+1, 50)))
			}
		}
		for i := range n {
			id := int64(start + 1 + i)
			assert.Equal(t, 1, published[id], "run %d: id %d (hostile %d before the %dth)", run, id, hostile, at)
		}
		if hostile <= 0 {
			assert.Zero(t, published[hostile], "run %d: invalid id %d published", run, hostile)
		}
	}
}

// The backfill starts below the lowest id of the window not accounted
// for; the gaps between listed ids are accounted for.
func TestIDWindow_sinceAndAccount(t *testing.T) {
	t.Parallel()
	w := newIDWindow(100)
	assert.Equal(t, int64(100), w.since())
	for _, id := range []int64{101, 102} {
		w.record(id, w.verdict(id))
	}
	assert.Equal(t, int64(102), w.since(), "no gap")
	w.record(150, w.verdict(150)) // a little ahead
	assert.Equal(t, int64(102), w.since(), "the ids it jumped over are open")
	w.record(103, w.verdict(103))
	assert.Equal(t, int64(103), w.since())
	w.account(104, 120)
	assert.Equal(t, int64(120), w.since())
	assert.Equal(t, idDuplicate, w.verdict(110), "accounted for")
	assert.Equal(t, idLate, w.verdict(121))
	w.account(121, 1<<40) // bounded by the mark
	assert.Equal(t, int64(150), w.since())
	assert.Equal(t, idNew, w.verdict(151))

	w = newIDWindow(0)
	w.record(idSpan, w.verdict(idSpan))
	w.record(2*idSpan, w.verdict(2*idSpan))
	assert.Equal(t, int64(2*idSpan), w.mark)
	assert.Equal(t, int64(idSpan), w.since(), "only the window is open")
}
