package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/user"
	"runtime"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/airlockdev/airlock/internal/network"
	"github.com/airlockdev/airlock/internal/npmrc"
)

// netFlags are the flags that choose how the commands that hold
// credentials connect: besides the user's npmrc, the only way to set a
// proxy or trust roots.
type netFlags struct{ network.Flags }

func (f *netFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.Proxy, "proxy", "", "proxy for every connection, as http://HOST:PORT (HTTPS_PROXY and the like are ignored)")
	fs.StringVar(&f.NoProxy, "noproxy", "", "comma-separated host name suffixes to reach without the proxy (NO_PROXY is ignored)")
	fs.StringVar(&f.CAFile, "cafile", "", "PEM file of the TLS roots to trust instead of the system's, as npm's cafile (SSL_CERT_FILE and NODE_EXTRA_CA_CERTS are ignored)")
}

// netUse is what a command does with its connections.
type netUse int

const (
	// credentials: the command sends a token (publish, stage). The
	// ignored settings are warned about, and strict-ssl=false is an
	// error.
	credentials netUse = iota
	// diagnosis: doctor, which lists the ignored settings and
	// strict-ssl=false in its report instead.
	diagnosis
)

// networkPolicy builds the connections' policy from the flags, the npm
// configuration and the environment, and (for commands that send
// credentials) says on stderr, once each, what it ignored and refuses
// strict-ssl=false.
//
// As defence in depth, the policy's transport also becomes
// http.DefaultTransport: every client airlock makes is given the policy's
// (registry, ID-token endpoint, token exchange, Fulcio, Rekor), and
// sigstore-go and go-openapi use the transport they are given, but a
// library that one day reaches for the default gets the policy too,
// never one built from HTTPS_PROXY and SSL_CERT_FILE.
func networkPolicy(e *env, f netFlags, cfg *npmrc.Config, use netUse) (*network.Policy, error) {
	p, err := network.New(network.Options{Flags: f.Flags, Config: cfg, Env: e.vars, AccountHome: accountHome()})
	if err != nil {
		return nil, usageOrNot(err)
	}
	if use == credentials {
		for _, i := range p.Ignored {
			warnf(e, "%s", i)
		}
		if err := p.Insecure(); err != nil {
			return nil, err
		}
	}
	http.DefaultTransport = p.Transport()
	return p, nil
}

// usageOrNot marks a bad flag value as a usage error; a bad npmrc value is
// a failure.
func usageOrNot(err error) error {
	msg := err.Error()
	for _, flag := range []string{"--proxy", "--noproxy", "--cafile"} {
		if strings.HasPrefix(msg, flag+":") {
			return usageError{err}
		}
	}
	return fmt.Errorf("setting up connections: %w", err)
}

// accountHome is the home folder the system's user database gives the
// user running airlock, without looking at $HOME (os/user.Current falls
// back to it); "" if unknown.
func accountHome() string {
	if runtime.GOOS == "windows" {
		u, err := user.Current() // from the account's profile, not from variables
		if err != nil {
			return ""
		}
		return u.HomeDir
	}
	u, err := user.LookupId(strconv.Itoa(os.Getuid()))
	if err != nil {
		return ""
	}
	return u.HomeDir
}

// logConfigFiles logs, at debug level, the npmrc files read and those
// npm's rules led to but that were not read, with why.
// loadConfig reads npm's configuration as npm does from the working
// folder, with the command-line settings given (those not empty) on top.
func loadConfig(e *env, settings map[string]string) (*npmrc.Config, error) {
	flags := map[string]string{}
	for k, v := range settings {
		if v != "" {
			flags[k] = v
		}
	}
	cwd, _ := os.Getwd()
	cfg, err := npmrc.Load(npmrc.Sources{Env: e.vars, Cwd: cwd, Flags: flags})
	if err != nil {
		return nil, fmt.Errorf("reading npm configuration: %w", err)
	}
	return cfg, nil
}

func logConfigFiles(log *slog.Logger, cfg *npmrc.Config) {
	for _, f := range cfg.Files() {
		log.Debug(describeFile(f))
	}
}

// describeFile is one npmrc file as a sentence.
func describeFile(f npmrc.File) string {
	switch {
	case f.Path == "":
		return fmt.Sprintf("no %s npmrc: %s", f.Layer, f.Reason)
	case f.Read:
		return fmt.Sprintf("read the %s npmrc %s (%s)", f.Layer, f.Path, chosenBy(f))
	}
	return fmt.Sprintf("did not read the %s npmrc %s: %s", f.Layer, f.Path, f.Reason)
}

func chosenBy(f npmrc.File) string {
	switch {
	case f.Layer == "project":
		return "its folder is " + f.ChosenBy
	case f.ChosenBy == "caller":
		return "given by airlock"
	}
	return "named by " + f.ChosenBy
}

// describeNetwork is how the connections are made, for doctor.
func describeNetwork(p *network.Policy) (proxy, roots string) {
	proxy = "none: connections go straight to the server"
	if p.Proxy != nil {
		proxy = fmt.Sprintf("%s (%s)", p.ProxyString(), p.ProxySource)
		if len(p.NoProxy) > 0 {
			proxy += ", except for " + strings.Join(p.NoProxy, ", ")
		}
	}
	return proxy, p.RootsSource
}
