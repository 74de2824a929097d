package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// simRotateCommand is the command that makes new sim credentials; error
// messages about the credentials file name it.
const simRotateCommand = "parley sim rotate"

// simCredsVersion is the version of the sim.json layout this parley writes.
const simCredsVersion = 1

// simCreds are the credentials parley sim gives its emulators. They are
// kept in a file (see simCredsPath), made on the first start and reused
// afterwards, so that a bot started with the exports of an earlier run
// still authenticates, and its webhook signatures still verify, when the
// emulators restart. Environment variables override single values (see
// withEnv) without changing the file.
type simCreds struct {
	Version int `json:"version"`
	Sendbee struct {
		APIKey    string `json:"api_key"`    // SENDBEE_API_KEY
		APISecret string `json:"api_secret"` // SENDBEE_API_SECRET; also signs the webhooks
	} `json:"sendbee"`
	VelaFlows struct {
		APIToken    string `json:"api_token"`    // VELAFLOWS_API_TOKEN
		WorkspaceID string `json:"workspace_id"` // VELAFLOWS_WORKSPACE_ID: 24 hex digits
		// WebhookSecret is the secret of the bot's webhook subscription
		// (VELAFLOWS_WEBHOOK_SECRET). A bot that has it registers its
		// subscription with it, and an emulator that presets the
		// subscription with it (velaflowstest.WithSubscription) delivers
		// to a bot that registered before the emulator restarted.
		WebhookSecret string `json:"webhook_secret"`
	} `json:"velaflows"`
	Flowdock struct {
		APIToken  string `json:"api_token"`  // FLOWDOCK_API_TOKEN: the bot user's token
		FlowToken string `json:"flow_token"` // FLOWDOCK_FLOW_TOKEN: the integration token of acme/main
	} `json:"flowdock"`
}

// simCredsPath returns the file that holds the sim credentials in dir,
// parley's configuration directory (see simConfigDir): dir/sim.json.
func simCredsPath(dir string) string {
	return filepath.Join(dir, "sim.json")
}

// simConfigDirVar names the variable that sets parley's configuration
// directory, where parley sim keeps its credentials.
const simConfigDirVar = "PARLEY_CONFIG_DIR"

// simConfigDir returns parley's configuration directory: $PARLEY_CONFIG_DIR
// when getenv has it, else "parley" in the user's configuration directory
// (os.UserConfigDir: $XDG_CONFIG_HOME or ~/.config on Linux,
// ~/Library/Application Support on macOS, %AppData% on Windows).
func simConfigDir(getenv func(string) string) (string, error) {
	if dir := strings.TrimSpace(getenv(simConfigDirVar)); dir != "" {
		return dir, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("sim: no place for the credentials: %w; set %s to a directory", err, simConfigDirVar)
	}
	return filepath.Join(dir, "parley"), nil
}

// A simCredsError is a credentials file that cannot be used as it is. The
// file is left untouched; rotating the credentials replaces it.
type simCredsError struct {
	Path string
	Err  error
}

func (e *simCredsError) Error() string {
	return fmt.Sprintf("sim: credentials file %s is unusable: %v; make new credentials with %q (a bot started with the old ones must be restarted with the new exports)",
		e.Path, e.Err, simRotateCommand)
}

func (e *simCredsError) Unwrap() error { return e.Err }

// loadSimCreds returns the sim credentials stored in dir, parley's
// configuration directory (see simConfigDir). On the first call it makes
// new ones and stores them; values missing from the file (one written by
// an older parley) are made and stored too. A
// file that is not valid is a *simCredsError and is left as it is. Two
// processes that create the file at once get the same credentials.
func loadSimCreds(dir string) (simCreds, error) {
	path := simCredsPath(dir)
	for range 3 { // a creator that loses the race reads the winner's file
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			c, err := newSimCreds()
			if err != nil {
				return simCreds{}, err
			}
			err = writeSimCreds(path, c, false)
			if errors.Is(err, fs.ErrExist) {
				continue // another process created it first: use theirs
			}
			return c, err
		}
		if err != nil {
			return simCreds{}, fmt.Errorf("sim: read credentials: %w", err)
		}
		c, err := parseSimCreds(data)
		if err != nil {
			return simCreds{}, &simCredsError{Path: path, Err: err}
		}
		if c.hasMissing() {
			if err := c.fillRandom(); err != nil {
				return simCreds{}, err
			}
			if err := writeSimCreds(path, c, true); err != nil {
				return simCreds{}, err
			}
		}
		return c, nil
	}
	return simCreds{}, fmt.Errorf("sim: credentials file %s keeps appearing and vanishing", path)
}

// rotateSimCreds makes new sim credentials and stores them in dir in
// place of the old ones, whatever the old file holds.
func rotateSimCreds(dir string) (simCreds, error) {
	c, err := newSimCreds()
	if err != nil {
		return simCreds{}, err
	}
	return c, writeSimCreds(simCredsPath(dir), c, true)
}

// newSimCreds makes a complete set of random credentials.
func newSimCreds() (simCreds, error) {
	c := simCreds{Version: simCredsVersion}
	if err := c.fillRandom(); err != nil {
		return simCreds{}, err
	}
	return c, nil
}

// hasMissing reports whether c has empty values (which fillRandom fills).
func (c *simCreds) hasMissing() bool {
	for _, f := range c.fields() {
		if *f.value == "" {
			return true
		}
	}
	return false
}

// fillRandom gives every empty value of c a new random one, in the
// formats the emulators invent themselves.
func (c *simCreds) fillRandom() error {
	for _, f := range c.fields() {
		if *f.value != "" {
			continue
		}
		b := make([]byte, f.bytes)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("sim: make credentials: %w", err)
		}
		*f.value = f.prefix + hex.EncodeToString(b)
	}
	return nil
}

// A simCredsField is one value of simCreds: its name in the file and
// how a new one is made.
type simCredsField struct {
	name   string
	env    string
	value  *string
	prefix string
	bytes  int
}

func (c *simCreds) fields() []simCredsField {
	return []simCredsField{
		{"sendbee.api_key", "SENDBEE_API_KEY", &c.Sendbee.APIKey, "sim-key-", 6},
		{"sendbee.api_secret", "SENDBEE_API_SECRET", &c.Sendbee.APISecret, "sim-secret-", 16},
		{"velaflows.api_token", "VELAFLOWS_API_TOKEN", &c.VelaFlows.APIToken, "sk_test_sim", 16},
		{"velaflows.workspace_id", "VELAFLOWS_WORKSPACE_ID", &c.VelaFlows.WorkspaceID, "", 12},
		{"velaflows.webhook_secret", "VELAFLOWS_WEBHOOK_SECRET", &c.VelaFlows.WebhookSecret, "whsec_", 24},
		{"flowdock.api_token", "FLOWDOCK_API_TOKEN", &c.Flowdock.APIToken, "", 16},
		{"flowdock.flow_token", "FLOWDOCK_FLOW_TOKEN", &c.Flowdock.FlowToken, "", 16},
	}
}

var workspaceIDRE = regexp.MustCompile(`^[0-9a-fA-F]{24}$`)

// parseSimCreds decodes and checks a credentials file; empty values are
// allowed (loadSimCreds fills them in).
func parseSimCreds(data []byte) (simCreds, error) {
	var c simCreds
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		var (
			syn *json.SyntaxError
			typ *json.UnmarshalTypeError
		)
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			return c, errors.New("unexpected end of JSON input")
		case errors.As(err, &syn):
			return c, fmt.Errorf("%v (at byte %d)", err, syn.Offset)
		case errors.As(err, &typ):
			return c, fmt.Errorf("%s: a JSON %s where %s belongs", typ.Field, typ.Value, jsonKind(typ.Type.Kind()))
		}
		return c, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return c, errors.New("data after the JSON object")
	}
	if c.Version != simCredsVersion {
		return c, fmt.Errorf("version %d, but this parley reads version %d", c.Version, simCredsVersion)
	}
	for _, f := range c.fields() {
		if strings.ContainsFunc(*f.value, isSpaceOrControl) {
			return c, fmt.Errorf("%s has white space or control characters", f.name)
		}
	}
	if ws := c.VelaFlows.WorkspaceID; ws != "" && !workspaceIDRE.MatchString(ws) {
		return c, fmt.Errorf("velaflows.workspace_id %q is not 24 hex digits", ws)
	}
	return c, nil
}

// jsonKind names the JSON value a Go value of kind k is decoded from.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a number"
	}
	return "another value"
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// writeSimCreds stores c at path atomically: it writes a temporary file
// (mode 0600) in the same directory (made with mode 0700 if missing) and
// moves it into place. With replace false it fails with an error wrapping
// fs.ErrExist if the file exists, so that a concurrent creator wins.
func writeSimCreds(path string, c simCreds, replace bool) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("sim: store credentials: %w", err)
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("sim: store credentials: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".sim-*.json")
	if err != nil {
		return fmt.Errorf("sim: store credentials: %w", err)
	}
	defer os.Remove(tmp.Name()) // gone after the rename or link; cleans up a failure
	_, err = tmp.Write(append(data, '\n'))
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sim: store credentials: %w", err)
	}
	if replace {
		err = os.Rename(tmp.Name(), path)
	} else {
		// A hard link creates path only if it does not exist yet. Where
		// the file system has no hard links, a rename is next best.
		err = os.Link(tmp.Name(), path)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			if _, serr := os.Lstat(path); errors.Is(serr, fs.ErrNotExist) {
				err = os.Rename(tmp.Name(), path)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("sim: store credentials: %w", err)
	}
	return nil
}

// withEnv returns c with each value whose variable (SENDBEE_API_KEY,
// SENDBEE_API_SECRET, VELAFLOWS_API_TOKEN, VELAFLOWS_WORKSPACE_ID,
// VELAFLOWS_WEBHOOK_SECRET, FLOWDOCK_API_TOKEN, FLOWDOCK_FLOW_TOKEN) is set
// in getenv replaced by the variable's value, trimmed. Blank variables
// count as unset.
func (c simCreds) withEnv(getenv func(string) string) simCreds {
	for _, f := range c.fields() {
		if v := strings.TrimSpace(getenv(f.env)); v != "" {
			*f.value = v
		}
	}
	return c
}

// simURLs are where the emulators run, for the export lines.
type simURLs struct {
	Sendbee        string // SENDBEE_BASE_URL
	VelaFlows      string // VELAFLOWS_BASE_URL, with its /api/v1
	Public         string // PARLEY_PUBLIC_URL: where the bot serves webhooks, for VelaFlows
	Flowdock       string // FLOWDOCK_API_URL
	FlowdockStream string // FLOWDOCK_STREAM_URL
	FlowdockFlows  string // FLOWDOCK_FLOWS, such as "acme/main"
}

// simPlatforms are the platforms parley sim emulates, in the order it
// starts them.
var simPlatforms = []string{"sendbee", "velaflows", "flowdock"}

// A simVar is one variable of a bot's environment that points it at an
// emulator.
type simVar struct {
	name, value string
	what        string // what an empty value lacks; "" when it cannot be empty
}

// simVars returns the variables that point a bot at the emulator of
// platform, with credentials c; ok is false for an unknown platform.
func simVars(c simCreds, platform string, u simURLs) (vars []simVar, ok bool) {
	switch platform {
	case "sendbee":
		return []simVar{
			{"SENDBEE_API_KEY", c.Sendbee.APIKey, ""},
			{"SENDBEE_API_SECRET", c.Sendbee.APISecret, ""},
			{"SENDBEE_BASE_URL", u.Sendbee, "sendbee URL"},
		}, true
	case "velaflows":
		return []simVar{
			{"VELAFLOWS_API_TOKEN", c.VelaFlows.APIToken, ""},
			{"VELAFLOWS_WORKSPACE_ID", c.VelaFlows.WorkspaceID, ""},
			{"VELAFLOWS_WEBHOOK_SECRET", c.VelaFlows.WebhookSecret, ""},
			{"VELAFLOWS_BASE_URL", u.VelaFlows, "velaflows URL"},
			{"PARLEY_PUBLIC_URL", u.Public, "public URL of the bot"},
		}, true
	case "flowdock":
		return []simVar{
			{"FLOWDOCK_API_TOKEN", c.Flowdock.APIToken, ""},
			{"FLOWDOCK_FLOW_TOKEN", c.Flowdock.FlowToken, ""},
			{"FLOWDOCK_API_URL", u.Flowdock, "flowdock URL"},
			{"FLOWDOCK_STREAM_URL", u.FlowdockStream, "flowdock stream URL"},
			{"FLOWDOCK_FLOWS", u.FlowdockFlows, "flowdock flows"},
		}, true
	}
	return nil, false
}

// simExports returns the lines "export NAME=value", one a line, that point
// a bot at the emulators of platforms ("sendbee", "velaflows", "flowdock",
// in the order given) with credentials c. Values are quoted for a POSIX
// shell, so that eval "$(parley sim env)" sets exactly them.
func simExports(c simCreds, platforms []string, u simURLs) (string, error) {
	if len(platforms) == 0 {
		return "", errors.New("sim env: no platform")
	}
	var b strings.Builder
	var err error
	for _, p := range platforms {
		vars, ok := simVars(c, p, u)
		if !ok {
			return "", fmt.Errorf("sim env: unknown platform %q", p)
		}
		for _, v := range vars {
			if v.value == "" && v.what != "" && err == nil {
				err = fmt.Errorf("sim env: no %s", v.what)
			}
			fmt.Fprintf(&b, "export %s=%s\n", v.name, shellQuote(v.value))
		}
	}
	if err != nil {
		return "", err
	}
	return b.String(), nil
}

// simEnvScript returns what parley sim env prints for platforms: a line
// "unset …" with the variables of each other platform, so that a shell
// that pointed a bot at another emulator before keeps none of its
// variables, then the export lines of platforms (see simExports).
func simEnvScript(c simCreds, platforms []string, u simURLs) (string, error) {
	exports, err := simExports(c, platforms, u)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, p := range simPlatforms {
		if slices.Contains(platforms, p) {
			continue
		}
		vars, _ := simVars(c, p, u)
		names := make([]string, len(vars))
		for i, v := range vars {
			names[i] = v.name
		}
		fmt.Fprintf(&b, "unset %s\n", strings.Join(names, " "))
	}
	return b.String() + exports, nil
}

// shellSafe matches values a POSIX shell reads as themselves unquoted.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote quotes s for a POSIX shell: as is when that is safe, else in
// single quotes, where a single quote of s ends the quoting, is escaped
// with a backslash and starts it again.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
