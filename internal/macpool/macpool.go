// Package macpool computes HMAC-SHA256 sums with keyed states that are
// reused: keying an HMAC costs two hash blocks and allocations that a
// webhook receiver, which checks every request with the same secret, need
// not pay again.
package macpool

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"
)

// Size is the length of a sum.
const Size = sha256.Size

// keyed is an HMAC-SHA256 state keyed with secret, and room for its sum.
type keyed struct {
	secret string
	h      hash.Hash
	sum    [Size]byte
}

// pool holds keyed states for reuse; one keyed with another secret is
// keyed again.
var pool sync.Pool

// Sum returns the HMAC-SHA256 of the data, keyed with secret. The data
// are hashed in order, as if concatenated.
func Sum(secret string, data ...[]byte) [Size]byte {
	k, _ := pool.Get().(*keyed)
	if k == nil || k.secret != secret {
		k = &keyed{secret: secret, h: hmac.New(sha256.New, []byte(secret))}
	} else {
		k.h.Reset()
	}
	for _, d := range data {
		k.h.Write(d)
	}
	var out [Size]byte
	copy(out[:], k.h.Sum(k.sum[:0]))
	pool.Put(k)
	return out
}
