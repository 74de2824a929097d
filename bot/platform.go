package bot

import (
	"fmt"
	"strings"
)

// Adapter names and instances.
//
// One Bot may run several adapters for the same platform: an agency's
// several Sendbee business numbers, each with its own API key, or several
// VelaFlows workspaces. Each is an instance of the platform with a name of
// its own, and its Adapter.Name is the platform, a slash and the instance,
// such as "sendbee/acme". The instance a platform's adapter gets when it
// is not given a name is the default one, named by the platform alone
// ("sendbee"), as a bot with one account has always been.
//
// The adapter name is the Platform of every message the instance
// publishes, so that replies go back through the same instance, and the
// Bot's state (deduplication, ownership, windows, opt-outs) is kept per
// instance. Expression rules see the two parts apart: Platform is the
// platform ("sendbee") whatever the instance, Instance is the instance's
// name ("acme", or "" for the default one), and Adapter is the whole name.

// InstanceSeparator separates a platform from an instance in an adapter
// name.
const InstanceSeparator = "/"

// SplitPlatform splits an adapter name into its platform and its instance:
// "sendbee/acme" gives ("sendbee", "acme"), "sendbee" gives ("sendbee", "").
func SplitPlatform(name string) (platform, instance string) {
	platform, instance, _ = strings.Cut(name, InstanceSeparator)
	return platform, instance
}

// PlatformOf returns the platform of an adapter name: "sendbee" for both
// "sendbee" and "sendbee/acme".
func PlatformOf(name string) string {
	p, _ := SplitPlatform(name)
	return p
}

// InstanceName returns the adapter name of the instance of platform named
// instance: platform itself when instance is empty (the default instance),
// else platform + "/" + instance. It fails when instance is not a valid
// name (see [CheckInstance]).
func InstanceName(platform, instance string) (string, error) {
	if instance == "" {
		return platform, nil
	}
	if err := CheckInstance(instance); err != nil {
		return "", err
	}
	return platform + InstanceSeparator + instance, nil
}

// maxInstanceLen bounds an instance name.
const maxInstanceLen = 32

// CheckInstance reports whether name may name an instance: 1 to 32
// lower-case ASCII letters, digits, '-' and '_', starting with a letter or
// a digit. (Environment variables name instances in upper case,
// SENDBEE_ACME_API_KEY for "acme"; '_' in a name becomes '_' there too.)
func CheckInstance(name string) error {
	if name == "" || len(name) > maxInstanceLen {
		return fmt.Errorf("bot: instance name %q: want 1 to %d characters", name, maxInstanceLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return fmt.Errorf("bot: instance name %q: only a-z, 0-9, '-' and '_' (not first) are allowed", name)
		}
	}
	return nil
}
