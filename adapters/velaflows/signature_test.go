package velaflows_test

import (
	"crypto/hmac"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/adapters/velaflows"
)

// referenceValid is ValidSignature by its definition: the header equals
// what Sign gives.
func referenceValid(secret string, body []byte, header string) bool {
	return secret != "" && header != "" && hmac.Equal([]byte(velaflows.Sign(secret, body)), []byte(header))
}

// TestValidSignature_AsSign checks ValidSignature, which reuses keyed HMACs,
// against comparing with Sign, for secrets used in turn (a reused HMAC keyed
// with another secret must not verify) and for headers that differ from the
// signature in case, prefix, length or one digit.
func TestValidSignature_AsSign(t *testing.T) {
	body := []byte(`{"eventId":"evt_1","eventType":"conversation.assigned"}`)
	secrets := []string{"whsec_a", "whsec_b", "whsec_a", ""}
	for range 3 {
		for _, signer := range secrets {
			sig := velaflows.Sign(signer, body)
			headers := []string{
				sig, strings.ToUpper(sig), "sha256=" + strings.ToUpper(sig[7:]), sig[7:], "SHA256=" + sig[7:],
				sig[:len(sig)-1], sig + "0", sig[:len(sig)-1] + "g", "", "sha256=",
			}
			flipped := []byte(sig)
			flipped[len(flipped)-1] ^= 1
			headers = append(headers, string(flipped))
			for _, verifier := range secrets {
				for _, h := range headers {
					require.Equal(t, referenceValid(verifier, body, h), velaflows.ValidSignature(verifier, body, h),
						"signed with %q, verified with %q, header %q", signer, verifier, h)
				}
			}
		}
	}
}

// FuzzValidSignature checks ValidSignature against comparing with Sign on
// any secret, body and header, and on the genuine signature.
func FuzzValidSignature(f *testing.F) {
	f.Add("whsec_a", []byte(`{}`), "sha256=00")
	f.Add("", []byte(`{}`), "")
	f.Fuzz(func(t *testing.T, secret string, body []byte, header string) {
		require.Equal(t, referenceValid(secret, body, header), velaflows.ValidSignature(secret, body, header))
		sig := velaflows.Sign(secret, body)
		require.Equal(t, secret != "", velaflows.ValidSignature(secret, body, sig))
	})
}
