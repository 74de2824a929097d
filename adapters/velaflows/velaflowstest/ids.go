package velaflowstest

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"sync/atomic"
	"time"
)

// timeLayout is the documented timestamp format: ISO-8601 UTC with
// milliseconds, such as 2026-03-24T14:30:00.000Z, as VelaFlows documents.
const timeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func randomHex(nBytes int) string {
	b := make([]byte, nBytes)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomAlnum(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

// isObjectID reports whether s is 24 hex characters (a MongoDB ObjectId).
func isObjectID(s string) bool {
	if len(s) != 24 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// newUUID returns a random version-4 UUID, used for delivery IDs.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// idGen makes ObjectId-shaped IDs: 4 bytes of creation time in seconds, 5
// random bytes fixed per server and a 3-byte counter, so that IDs made by
// one server are unique and increase with time.
type idGen struct {
	random  [5]byte
	counter atomic.Uint32
}

func newIDGen() *idGen {
	g := &idGen{}
	_, _ = rand.Read(g.random[:])
	var c [4]byte
	_, _ = rand.Read(c[:])
	g.counter.Store(binary.BigEndian.Uint32(c[:]) & 0xffff)
	return g
}

func (g *idGen) next(now time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[0:4], uint32(now.Unix()))
	copy(b[4:9], g.random[:])
	n := g.counter.Add(1)
	b[9], b[10], b[11] = byte(n>>16), byte(n>>8), byte(n)
	return hex.EncodeToString(b[:])
}

// ID prefixes of the docs' webhook examples, whose REST examples use bare
// ObjectIds instead.
const (
	prefixEvent        = "evt_"
	prefixWorkspace    = "ws_"
	prefixConversation = "conv_"
	prefixMessage      = "msg_"
)

// webhookID renders id for a webhook payload: bare, or with prefix when
// WithPrefixedIDs is on.
func (s *Server) webhookID(prefix, id string) string {
	if s.cfg.prefixedIDs && id != "" {
		return prefix + id
	}
	return id
}

// conversationKey turns a conversation ID from a request path into the
// stored ID, accepting the "conv_" prefix when prefixed IDs are on.
func (s *Server) conversationKey(id string) string {
	if s.cfg.prefixedIDs {
		return strings.TrimPrefix(id, prefixConversation)
	}
	return id
}
