package fromenv

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/trace"

	"github.com/parleybot/parley/adapters/flowdock"
	"github.com/parleybot/parley/adapters/sendbee"
	"github.com/parleybot/parley/adapters/velaflows"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/internal/redact"
)

// An instance is one account of a platform the environment configures:
// the default one, whose variables are the platform's own
// (SENDBEE_API_KEY), or a named one listed in the platform's _INSTANCES
// variable, whose variables carry its name (SENDBEE_ACME_API_KEY).
type instance struct {
	name string // "" for the default instance
	// prefix starts the names of its variables: "SENDBEE_" or
	// "SENDBEE_ACME_".
	prefix string
}

// v returns the name of the instance's variable suffix: v("API_KEY") is
// SENDBEE_API_KEY or SENDBEE_ACME_API_KEY.
func (in instance) v(suffix string) string { return in.prefix + suffix }

// envName returns the part of a variable's name that names the instance
// name: upper case, '-' as '_' ("a-b" gives "A_B").
func envName(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// namedInstances reads the variable platform + "_INSTANCES" (such as
// SENDBEE_INSTANCES=acme,globex): the named instances of the platform,
// whose variables start with platform + "_" + envName(name) + "_". An
// invalid name, a name listed twice, and two names whose variables would
// be the same ("a-b" and "a_b") are errors naming the variable.
func namedInstances(getenv func(string) string, platform string) ([]instance, error) {
	list := platform + "_INSTANCES"
	var (
		out  []instance
		seen = map[string]string{} // envName → name
	)
	for name := range strings.SplitSeq(getenv(list), ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		if err := bot.CheckInstance(name); err != nil {
			return nil, fmt.Errorf("%s: %w", list, err)
		}
		key := envName(name)
		switch other, dup := seen[key]; {
		case dup && other == name:
			return nil, fmt.Errorf("%s: instance %q is listed twice", list, name)
		case dup:
			return nil, fmt.Errorf("%s: instances %q and %q would both be configured by %s_%s_…", list, other, name, platform, key)
		}
		seen[key] = name
		out = append(out, instance{name: name, prefix: platform + "_" + key + "_"})
	}
	return out, nil
}

// built collects what Build makes of the instances.
type built struct {
	about     map[string]string // by adapter name, for the summary
	adapters  []bot.Adapter
	mux       *http.ServeMux
	routes    int
	teamFlows []string
}

// buildSendbee builds the Sendbee adapter of in, when its variables are
// set: it is on when either of its credentials is set, and must then have
// both. A named instance must be configured (listed, it is asked for).
// Its webhooks are served at /webhooks/sendbee, or
// /webhooks/sendbee/<name> for a named instance.
func (b *built) buildSendbee(getenv func(string) string, in instance, logger *slog.Logger, tp trace.TracerProvider) error {
	keyVar, secretVar := in.v("API_KEY"), in.v("API_SECRET")
	key, secret := strings.TrimSpace(getenv(keyVar)), strings.TrimSpace(getenv(secretVar))
	switch {
	case key == "" && secret == "" && in.name == "":
		return nil
	case key == "" && secret == "":
		return fmt.Errorf("SENDBEE_INSTANCES lists %q, but %s and %s are not set", in.name, keyVar, secretVar)
	case key == "":
		return fmt.Errorf("%s is set but %s is not", secretVar, keyVar)
	case secret == "":
		return fmt.Errorf("%s is set but %s is not", keyVar, secretVar)
	}
	perMinute, err := positiveInt(getenv, in.v("RATE_LIMIT"))
	if err != nil {
		return err
	}
	sb, err := sendbee.New(sendbee.AdapterConfig{Config: sendbee.Config{
		APIKey: key, APISecret: secret, BaseURL: strings.TrimSpace(getenv(in.v("BASE_URL"))), Logger: logger, TracerProvider: tp,
	}, RequestsPerMinute: perMinute, SecretSource: secretVar, Instance: in.name})
	if err != nil {
		return err
	}
	path := "/webhooks/sendbee"
	if in.name != "" {
		path += "/" + in.name
	}
	b.adapters = append(b.adapters, sb)
	b.about[sb.Name()] = fmt.Sprintf("API %s, webhooks at %s", redact.URL(sb.Client().BaseURL().String()), path)
	b.mux.Handle(path, sb)
	b.routes++
	return nil
}

// velaflowsVars are the names of an instance's VelaFlows variables.
type velaflowsVars struct{ token, workspace, baseURL, secret string }

func velaflowsVarsOf(in instance) velaflowsVars {
	if in.name == "" {
		return velaflowsVars{velaflows.EnvToken, velaflows.EnvWorkspaceID, velaflows.EnvBaseURL, velaflows.EnvWebhookSecret}
	}
	return velaflowsVars{in.v("API_TOKEN"), in.v("WORKSPACE_ID"), in.v("BASE_URL"), in.v("WEBHOOK_SECRET")}
}

// buildVelaflows builds the VelaFlows adapter of in, when its variables
// are set (see buildSendbee), and registers its webhook subscription for
// PARLEY_PUBLIC_URL at the instance's own path.
func (b *built) buildVelaflows(ctx context.Context, getenv func(string) string, in instance, logger *slog.Logger, tp trace.TracerProvider) error {
	vars := velaflowsVarsOf(in)
	cfg := velaflows.Config{
		Token:       strings.TrimSpace(getenv(vars.token)),
		WorkspaceID: strings.TrimSpace(getenv(vars.workspace)),
		BaseURL:     strings.TrimSpace(getenv(vars.baseURL)),
	}
	switch {
	case cfg.Token == "" && cfg.WorkspaceID == "" && in.name == "":
		return nil
	case cfg.Token == "" && cfg.WorkspaceID == "":
		return fmt.Errorf("VELAFLOWS_INSTANCES lists %q, but %s and %s are not set", in.name, vars.token, vars.workspace)
	case in.name != "" && cfg.Token == "":
		return fmt.Errorf("%s is set but %s is not", vars.workspace, vars.token)
	case in.name != "" && cfg.WorkspaceID == "":
		return fmt.Errorf("%s is set but %s is not", vars.token, vars.workspace)
	}
	cfg.Logger, cfg.TracerProvider = logger, tp
	source := vars.secret
	if getenv(vars.secret) == "" {
		source = "the webhook subscription registered for PARLEY_PUBLIC_URL"
	}
	vf, err := velaflows.New(velaflows.AdapterConfig{Config: cfg, WebhookSecret: getenv(vars.secret),
		SecretSource: source, Instance: in.name})
	if err != nil {
		return err
	}
	public := getenv("PARLEY_PUBLIC_URL")
	switch {
	case public != "":
		if _, err := vf.EnsureWebhook(ctx, public); err != nil {
			return velaflowsError(ctx, getenv, vars, vf, err)
		}
	case vf.WebhookSecret() == "":
		return fmt.Errorf("VelaFlows needs PARLEY_PUBLIC_URL (to register its webhook) or %s (the secret of one you registered)", vars.secret)
	}
	b.adapters = append(b.adapters, vf)
	about := fmt.Sprintf("API %s, webhooks at %s", redact.URL(vf.Client().BaseURL().String()), vf.WebhookPath())
	if public != "" {
		about += " (subscribed for " + redact.URL(public) + ")"
	}
	b.about[vf.Name()] = about
	b.mux.Handle(vf.WebhookPath(), vf)
	b.routes++
	return nil
}

// buildFlowdock builds the Flowdock adapter of in, when its token is set;
// a named instance listed without one is an error.
func (b *built) buildFlowdock(getenv func(string) string, in instance, logger *slog.Logger, tp trace.TracerProvider) error {
	tokenVar, flowsVar, apiVar, streamVar, flowTokenVar := flowdock.EnvToken, flowdock.EnvFlows, flowdock.EnvBaseURL,
		flowdock.EnvStreamURL, flowdock.EnvFlowToken
	if in.name != "" {
		tokenVar, flowsVar, apiVar, streamVar, flowTokenVar = in.v("API_TOKEN"), in.v("FLOWS"), in.v("API_URL"),
			in.v("STREAM_URL"), in.v("FLOW_TOKEN")
	}
	token := strings.TrimSpace(getenv(tokenVar))
	switch {
	case token == "" && in.name == "":
		return nil
	case token == "":
		return fmt.Errorf("FLOWDOCK_INSTANCES lists %q, but %s is not set", in.name, tokenVar)
	}
	cfg := flowdock.AdapterConfig{Config: flowdock.Config{
		Token:     token,
		FlowToken: strings.TrimSpace(getenv(flowTokenVar)),
		BaseURL:   strings.TrimSpace(getenv(apiVar)),
	}, Instance: in.name}
	cfg.Logger, cfg.TracerProvider = logger, tp
	cfg.Stream.URL = getenv(streamVar)
	for f := range strings.SplitSeq(getenv(flowsVar), ",") {
		if f = strings.TrimSpace(f); f != "" {
			cfg.Flows = append(cfg.Flows, f)
		}
	}
	fd, err := flowdock.New(cfg)
	if err != nil {
		return err
	}
	if b.teamFlows == nil {
		b.teamFlows = cfg.Flows
	}
	b.adapters = append(b.adapters, fd) // a streaming adapter: no webhook route
	stream := cfg.Stream.URL
	if stream == "" {
		stream = flowdock.DefaultStreamURL
	}
	b.about[fd.Name()] = fmt.Sprintf("API %s, stream %s, flows %s",
		redact.URL(fd.Client().BaseURL().String()), redact.URL(stream), strings.Join(cfg.Flows, ","))
	return nil
}

// buildAll builds the adapters of every instance the environment
// configures: per platform, the default instance first, then the named
// ones in the order listed.
func (b *built) buildAll(ctx context.Context, getenv func(string) string, logger *slog.Logger, tp trace.TracerProvider) error {
	for _, p := range []struct {
		platform string
		build    func(instance) error
	}{
		{"SENDBEE", func(in instance) error { return b.buildSendbee(getenv, in, logger, tp) }},
		{"VELAFLOWS", func(in instance) error { return b.buildVelaflows(ctx, getenv, in, logger, tp) }},
		{"FLOWDOCK", func(in instance) error { return b.buildFlowdock(getenv, in, logger, tp) }},
	} {
		named, err := namedInstances(getenv, p.platform)
		if err != nil {
			return err
		}
		for _, in := range append([]instance{{prefix: p.platform + "_"}}, named...) {
			if err := p.build(in); err != nil {
				return err
			}
		}
	}
	return nil
}
