package errtext

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWrap(t *testing.T) {
	inner := errors.New("flowdock: GET /user: 401 Unauthorized")
	err := Wrap("flowdock: who am I", inner, "flowdock: ")
	assert.EqualError(t, err, "flowdock: who am I: GET /user: 401 Unauthorized")
	assert.ErrorIs(t, err, inner)

	outer := Wrap("bot: adapter flowdock", err, "flowdock: ")
	assert.EqualError(t, outer, "bot: adapter flowdock: who am I: GET /user: 401 Unauthorized")

	other := Wrap("flowdock: stream", context.Canceled, "flowdock: ")
	assert.EqualError(t, other, "flowdock: stream: context canceled")
	assert.ErrorIs(t, other, context.Canceled)

	assert.NoError(t, Wrap("x", nil))
}
