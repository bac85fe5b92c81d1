package npmrc

import (
	"errors"
	"fmt"
	"strings"

	"github.com/airlockdev/airlock/internal/hint"
)

// ErrInvalidAuth is matched by the error Load returns when an npmrc has
// credentials that are not scoped to a registry, which npm 11 refuses.
var ErrInvalidAuth = errors.New("invalid auth configuration")

// AuthConfigError lists the settings npm 11 refuses (ERR_INVALID_AUTH).
type AuthConfigError struct{ Problems []AuthProblem }

// AuthProblem is one refused setting.
type AuthProblem struct {
	Source   string // "/home/u/.npmrc:3"
	Key      string // "_authToken"
	RenameTo string // "//registry.npmjs.org/:_authToken", or "" if it should be deleted
}

func (e *AuthConfigError) Error() string {
	var parts []string
	for _, p := range e.Problems {
		if p.RenameTo != "" {
			parts = append(parts, fmt.Sprintf("%s: `%s` must be renamed to `%s`", p.Source, p.Key, p.RenameTo))
		} else {
			parts = append(parts, fmt.Sprintf("%s: `%s` is not allowed", p.Source, p.Key))
		}
	}
	return ErrInvalidAuth.Error() + ": " + strings.Join(parts, "; ")
}

func (e *AuthConfigError) Unwrap() error { return ErrInvalidAuth }

// validate is npm's config validation, in npm's order: each layer is
// cleaned (invalid values dropped), and each config file is checked for
// credentials that are not scoped to a registry, which npm 11 refuses.
// Checking a file computes the default registry's nerf-dart from the
// registry as it stands then, so an unparsable registry setting fails
// every npm command, as it does here.
func (c *Config) validate() error {
	c.cleanLayer(c.layer("cli")) // nopt cleans flags as it parses them
	var problems []AuthProblem
	for _, name := range []string{"global", "user", "project", "env"} {
		l := c.layer(name)
		c.cleanLayer(l)
		if name == "env" {
			break
		}
		r, _ := c.get("registry")
		reg := jsString(r.val)
		if !whatwgValid(reg) {
			return fmt.Errorf("%s: registry is not a valid URL", r.source)
		}
		nerfed, ok := nerfDart(reg)
		if !ok {
			nerfed = "//<registry host>/"
		}
		problems = append(problems, authProblems(l, nerfed)...)
	}
	if len(problems) == 0 {
		return nil
	}
	return hint.With(&AuthConfigError{problems},
		"npm 11 sends credentials only to the registry they are scoped to; rename the keys as shown (npm config fix does it)")
}

func authProblems(l *layer, nerfed string) []AuthProblem {
	var problems []AuthProblem
	at := func(k string) (entry, bool) {
		e, ok := l.data[k]
		return e, ok && truthy(e.val)
	}
	for _, k := range []string{"_authtoken", "-authtoken"} {
		if e, ok := at(k); ok {
			problems = append(problems, AuthProblem{Source: e.source, Key: k})
		}
	}
	_, hasUser := at("username")
	_, hasPass := at("_password")
	for _, k := range []string{"_auth", "_authToken", "username", "_password"} {
		e, ok := at(k)
		switch {
		case !ok:
		case k == "username" && !hasPass, k == "_password" && !hasUser:
			problems = append(problems, AuthProblem{Source: e.source, Key: k})
		default:
			problems = append(problems, AuthProblem{Source: e.source, Key: k, RenameTo: nerfed + ":" + k})
		}
	}
	return problems
}
