package fromenv_test

import (
	"context"
	"fmt"
	"io"

	"github.com/parleybot/parley/adapters/fromenv"
)

// Build reads the platforms' variables; a platform whose variables are only
// partly set is an error that names the missing one.
func ExampleBuild() {
	env := map[string]string{"SENDBEE_API_KEY": "key-1"} // the secret is missing
	logger, _ := fromenv.Logger(io.Discard, "")
	_, err := fromenv.Build(context.Background(), func(k string) string { return env[k] }, logger)
	fmt.Println(err)

	p, err := fromenv.Build(context.Background(), func(string) string { return "" }, logger)
	fmt.Println(len(p.Adapters), p.Webhooks == nil, err)
	// Output:
	// SENDBEE_API_KEY is set but SENDBEE_API_SECRET is not
	// 0 true <nil>
}
