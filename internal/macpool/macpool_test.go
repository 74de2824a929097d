package macpool

import (
	"crypto/hmac"
	"crypto/sha256"
	"testing"
)

func want(secret string, data ...[]byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}

// Sum is crypto/hmac's sum, whatever secrets came before it.
func TestSum(t *testing.T) {
	for i, c := range []struct {
		secret string
		data   [][]byte
	}{
		{"s1", [][]byte{[]byte("hello")}},
		{"s1", [][]byte{[]byte("hello")}},
		{"s2", [][]byte{[]byte("hel"), []byte("lo")}},
		{"", nil},
		{"s1", [][]byte{[]byte("other")}},
	} {
		got := Sum(c.secret, c.data...)
		if !hmac.Equal(got[:], want(c.secret, c.data...)) {
			t.Errorf("case %d: Sum(%q) differs from crypto/hmac", i, c.secret)
		}
	}
}

func TestSum_concurrent(t *testing.T) {
	done := make(chan bool)
	for g := range 8 {
		go func() {
			secret := string(rune('a' + g%3))
			ok := true
			for range 200 {
				got := Sum(secret, []byte("body"))
				ok = ok && hmac.Equal(got[:], want(secret, []byte("body")))
			}
			done <- ok
		}()
	}
	for range 8 {
		if !<-done {
			t.Error("a concurrent Sum differs from crypto/hmac")
		}
	}
}

func BenchmarkSum(b *testing.B) {
	body := make([]byte, 1024)
	b.Run("pooled", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Sum("secret", body)
		}
	})
	b.Run("crypto/hmac", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			want("secret", body)
		}
	})
}
