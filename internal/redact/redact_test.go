package redact

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestURL(t *testing.T) {
	tests := []struct{ name, raw, want string }{
		{"plain", "https://api.example.com/v1", "https://api.example.com/v1"},
		{"user info", "https://u:secret@api.example.com/v1", "https://api.example.com/v1"},
		{"query and fragment", "https://bot.example.com/hook?token=secret#x", "https://bot.example.com/hook"},
		{"comma in the password", "https://u:p,secret@h/x", "https://h/x"},
		{"comma in the path", "https://h/a,b", "https://h/a,b"},
		{"no scheme", "bot.example.com", "bot.example.com"},
		{"no scheme with user info", "u:secret@bot.example.com", "(a URL that does not parse)"},
		{"does not parse", "http://u:secret@[::1", "(a URL that does not parse)"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, URL(tt.raw))
		})
	}
}

func TestURLList(t *testing.T) {
	tests := []struct{ name, raw, want string }{
		{"one", "nats://u:secret@a:4222", "nats://a:4222"},
		{"each server", "nats://u:secret@a:4222,nats://u:secret@b:4222", "nats://a:4222,nats://b:4222"},
		{"spaces", " nats://u:secret@a:4222 , nats://tok@b:4222?x=secret ", "nats://a:4222,nats://b:4222"},
		{"a comma in a password", "nats://u:p,secret@a:4222", "(a URL that does not parse),(a URL that does not parse)"},
		{"no user info", "nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, URLList(tt.raw))
		})
	}
}
