// Package network is the transport of the token job: proxies and trust
// roots come only from flags or npmrc files the job can vouch for, never
// from environment variables.
//
// An earlier CI job can set variables of a later one (every variable of a
// GitLab dotenv report becomes a variable of the jobs that need it), and
// Go's defaults take a proxy from HTTPS_PROXY and trust roots from
// SSL_CERT_FILE. Together they let a compromised pack job read the OIDC
// and exchanged tokens on their way to the registry. So a Policy ignores
// those variables, and npm's settings that came from one (npm_config_*,
// an npmrc whose location or value came from one, the project .npmrc of
// a folder that holds an earlier job's artifact), and says what it
// ignored. Everything else follows npm: https-proxy over proxy, noproxy
// as @npmcli/agent matches it, ca and cafile replacing the default roots.
//
// Nothing here prints or reads the process environment; the caller
// passes the environment in and shows Policy.Ignored.
package network

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/npmrc"
	"github.com/airlockdev/airlock/internal/registry"
)

// Flags are the command-line choices, which win over any npmrc.
type Flags struct {
	// Proxy is the proxy for every connection (npm's proxy and
	// https-proxy in one).
	Proxy string
	// NoProxy lists host name suffixes reached without the proxy,
	// separated by commas, as npm's noproxy.
	NoProxy string
	// CAFile holds the PEM roots to trust instead of the system's, as
	// npm's cafile.
	CAFile string
}

// Options is what a Policy is built from.
type Options struct {
	Flags Flags
	// Config is the npm configuration; nil for none.
	Config *npmrc.Config
	// Env is the environment ("NAME=value"), read only to say what is
	// ignored.
	Env []string
	// AccountHome is the home folder of the user running airlock, from
	// the system's user database (not $HOME); "" if unknown. ~/.npmrc is
	// the user's own only when HOME names this folder.
	AccountHome string
	// Dial opens connections; nil means a net.Dialer. Tests give one that
	// resolves names of their own.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// SystemRoots returns the system's trust roots; nil means SystemRoots.
	SystemRoots func() (*x509.CertPool, error)
}

// Kind is what an ignored setting would have changed.
type Kind int

const (
	// Proxy: the way to the registry (proxy, https-proxy, noproxy).
	Proxy Kind = iota
	// Trust: which TLS certificates are accepted (cafile, ca,
	// strict-ssl).
	Trust
)

// Ignored is a variable or setting that would have changed the
// connections, had it come from somewhere the policy trusts.
type Ignored struct {
	// Name is the variable ("HTTPS_PROXY", "npm_config_cafile") or the
	// setting and where it was made ("https-proxy in /p/.npmrc:3").
	Name string
	Kind Kind
	// Why it was not used.
	Why string
	// Instead says how to get the same on purpose.
	Instead string
}

// String is the notice to show: one sentence.
func (i Ignored) String() string {
	s := "ignoring " + i.Name + ": " + i.Why
	if i.Instead != "" {
		s += "; " + i.Instead
	}
	return s
}

// Policy is the network setup of one command.
type Policy struct {
	// Proxy is the proxy every connection goes through, nil for none.
	Proxy *url.URL
	// ProxySource says where it was set ("--proxy", "https-proxy
	// (/home/u/.npmrc:2)").
	ProxySource string
	// NoProxy are the host name suffixes reached directly.
	NoProxy []string
	// Roots are the trust roots; RootsSource says where they came from
	// ("the system's", "--cafile /x.pem", "cafile (/home/u/.npmrc:4)").
	Roots       *x509.CertPool
	RootsSource string
	// StrictSSLOff is where strict-ssl=false was set, in a file the
	// policy trusts; "" if it was not. Certificates are verified anyway:
	// see Insecure.
	StrictSSLOff string
	// Ignored are the settings and variables not used, in a fixed order,
	// once each.
	Ignored []Ignored

	rt *roundTripper
}

// New builds the policy. Errors are about the flags or trusted settings:
// an unreadable --cafile or cafile, a proxy URL airlock cannot use.
func New(o Options) (*Policy, error) {
	p := &Policy{}
	b := builder{o: o, p: p, env: envMap(o.Env)}
	if err := b.proxy(); err != nil {
		return nil, err
	}
	b.noProxy()
	if err := b.roots(); err != nil {
		return nil, err
	}
	b.strictSSL()
	b.variables()
	dial := o.Dial
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	p.rt = &roundTripper{
		p: p,
		base: &http.Transport{
			Proxy:                 p.proxyFor,
			DialContext:           dial,
			TLSClientConfig:       &tls.Config{RootCAs: p.Roots, MinVersion: tls.VersionTLS12},
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
	}
	return p, nil
}

// Transport is the one transport every connection of the command goes
// through. Its errors carry a hint naming the ignored variables that
// might explain them.
func (p *Policy) Transport() http.RoundTripper { return p.rt }

// Client is an http.Client on Transport, without a timeout of its own
// (each request is bounded by its caller).
func (p *Policy) Client() *http.Client { return &http.Client{Transport: p.rt} }

// ErrInsecure is matched by Insecure's error.
var ErrInsecure = errors.New("strict-ssl=false is not allowed")

// Insecure refuses strict-ssl=false: certificates are always verified,
// and a command that handles credentials does not run with a setting
// that asks otherwise.
func (p *Policy) Insecure() error {
	if p.StrictSSLOff == "" {
		return nil
	}
	return hint.With(fmt.Errorf("%w: it is set in %s, and airlock always verifies TLS certificates: a connection that is not verified hands the token to whoever answers", ErrInsecure, p.StrictSSLOff),
		"remove strict-ssl=false; if the registry's certificate comes from a private CA, pass that CA with --cafile (or set cafile in the npmrc)")
}

// proxyFor is npm's choice: the proxy, unless noproxy names the host.
func (p *Policy) proxyFor(req *http.Request) (*url.URL, error) {
	if p.Proxy == nil || NoProxyMatch(req.URL.Hostname(), p.NoProxy) {
		return nil, nil
	}
	return p.Proxy, nil
}

// NoProxyMatch is @npmcli/agent's noproxy test: an entry matches a host
// whose trailing dot-separated labels are the entry's labels ("example.com"
// and ".example.com" match "registry.example.com" and "example.com").
// Ports are not compared; there is no "*".
func NoProxyMatch(host string, entries []string) bool {
	labels := strings.Split(strings.ToLower(host), ".")
	slices.Reverse(labels)
	for _, e := range entries {
		want := slices.DeleteFunc(strings.Split(strings.ToLower(strings.TrimSpace(e)), "."), func(s string) bool { return s == "" })
		if len(want) == 0 || len(want) > len(labels) {
			continue
		}
		slices.Reverse(want)
		if slices.Equal(want, labels[:len(want)]) {
			return true
		}
	}
	return false
}

// ProxyString is the proxy without credentials, for messages; "" for none.
func (p *Policy) ProxyString() string {
	if p.Proxy == nil {
		return ""
	}
	return registry.RedactURL(p.Proxy)
}

func envMap(vars []string) map[string]string {
	m := map[string]string{}
	for _, kv := range vars {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// builder fills in a Policy.
type builder struct {
	o   Options
	p   *Policy
	env map[string]string
}

func (b *builder) ignore(i Ignored) {
	for _, x := range b.p.Ignored {
		if x.Name == i.Name {
			return
		}
	}
	b.p.Ignored = append(b.p.Ignored, i)
}

const (
	proxyInstead = "to use a proxy on purpose, name it with --proxy URL in the job's own script"
	trustInstead = "to trust other roots on purpose, pass --cafile FILE in the job's own script, with a file the job itself provides"
)

func (b *builder) assignments(keys ...string) []npmrc.Assignment {
	if b.o.Config == nil {
		return nil
	}
	return b.o.Config.Assignments(keys...)
}

// firstTrusted walks assignments (highest priority first) to the first
// one the policy trusts for which use says true, noting the untrusted
// ones above it that would have counted (effective says so).
func (b *builder) firstTrusted(as []npmrc.Assignment, kind Kind, instead string, effective, use func(npmrc.Assignment) bool) (npmrc.Assignment, bool) {
	for _, a := range as {
		if why := b.distrust(a); why != "" {
			if effective(a) {
				b.ignore(Ignored{Name: describe(a), Kind: kind, Why: why, Instead: instead})
			}
			continue
		}
		if use(a) {
			return a, true
		}
	}
	return npmrc.Assignment{}, false
}

func describe(a npmrc.Assignment) string {
	if v, ok := strings.CutPrefix(a.Source, "env "); ok {
		return v
	}
	return a.Key + " in " + a.Source
}

func always(npmrc.Assignment) bool { return true }

func truthyString(a npmrc.Assignment) bool {
	return a.Value.Kind == npmrc.KindString && strings.TrimSpace(a.Value.Str) != ""
}

// proxy is npm's `httpsProxy || proxy`, over the trusted layers; the
// flag wins over both.
func (b *builder) proxy() error {
	if f := b.o.Flags.Proxy; f != "" {
		u, err := parseProxy(f)
		if err != nil {
			return fmt.Errorf("--proxy: %w", err)
		}
		b.p.Proxy, b.p.ProxySource = u, "--proxy"
		return nil
	}
	var chosen npmrc.Assignment
	https, ok := b.firstTrusted(b.assignments("https-proxy"), Proxy, proxyInstead, truthyString, always)
	if ok && truthyString(https) {
		chosen = https
	} else if plain, ok := b.firstTrusted(b.assignments("proxy"), Proxy, proxyInstead, truthyString, always); ok && truthyString(plain) {
		chosen = plain
	} else {
		return nil
	}
	u, err := parseProxy(chosen.Value.Str)
	if err != nil {
		return fmt.Errorf("%s set in %s: %w", chosen.Key, chosen.Source, err)
	}
	b.p.Proxy, b.p.ProxySource = u, fmt.Sprintf("%s (%s)", chosen.Key, chosen.Source)
	return nil
}

func parseProxy(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" {
		return nil, errors.New("not a proxy URL: write it as http://HOST:PORT")
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
		return u, nil
	}
	return nil, fmt.Errorf("proxy scheme %q: airlock supports http, https and socks5 proxies", u.Scheme)
}

func (b *builder) noProxy() {
	if b.o.Flags.NoProxy != "" {
		b.p.NoProxy = splitList(b.o.Flags.NoProxy)
		return
	}
	effective := func(a npmrc.Assignment) bool { return b.p.Proxy != nil && len(listValue(a.Value)) > 0 }
	if a, ok := b.firstTrusted(b.assignments("noproxy"), Proxy, "to reach hosts without the proxy on purpose, pass --noproxy HOSTS in the job's own script", effective, always); ok {
		b.p.NoProxy = listValue(a.Value)
	}
}

// listValue is a string or list setting as npm's noProxy: entries
// separated by commas.
func listValue(v npmrc.Value) []string {
	switch v.Kind {
	case npmrc.KindString:
		return splitList(v.Str)
	case npmrc.KindList:
		var out []string
		for _, e := range v.List {
			if e.Kind == npmrc.KindString {
				out = append(out, splitList(e.Str)...)
			}
		}
		return out
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// roots: --cafile, else npm's ca (cafile, when readable, sets it),
// else the system's.
func (b *builder) roots() error {
	if f := b.o.Flags.CAFile; f != "" {
		pool, err := readCAFile(f)
		if err != nil {
			return fmt.Errorf("--cafile: %w", err)
		}
		b.p.Roots, b.p.RootsSource = pool, "--cafile "+f
		return nil
	}
	var pool *x509.CertPool
	var perr error
	effective := func(a npmrc.Assignment) bool {
		return truthyString(a) || a.Value.Kind == npmrc.KindList && len(a.Value.List) > 0
	}
	use := func(a npmrc.Assignment) bool {
		if a.Key == "ca" {
			pool, perr = caPool(a.Value)
			if perr != nil {
				perr = fmt.Errorf("ca set in %s: %w", a.Source, perr)
			}
			return true
		}
		if !truthyString(a) {
			return false // npm: a cafile of "" or null sets nothing
		}
		pool, perr = readCAFile(a.Value.Str)
		if errors.Is(perr, fs.ErrNotExist) {
			// npm goes on without a cafile it cannot find.
			b.ignore(Ignored{Name: describe(a), Kind: Trust, Why: "the file " + a.Value.Str + " does not exist, and npm also goes on without it"})
			pool, perr = nil, nil
			return false
		}
		if perr != nil {
			perr = fmt.Errorf("cafile set in %s: %w", a.Source, perr)
		}
		return true
	}
	a, ok := b.firstTrusted(b.assignments("ca", "cafile"), Trust, trustInstead, effective, use)
	if perr != nil {
		return perr
	}
	if ok && pool != nil {
		b.p.Roots, b.p.RootsSource = pool, fmt.Sprintf("%s (%s)", a.Key, a.Source)
		return nil
	}
	sys := b.o.SystemRoots
	if sys == nil {
		sys = SystemRoots
	}
	pool, err := sys()
	if err != nil {
		return fmt.Errorf("loading the system's trust roots: %w", err)
	}
	b.p.Roots, b.p.RootsSource = pool, "the system's"
	return nil
}

// readCAFile reads PEM certificates, as npm's cafile.
func readCAFile(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// caPool reads npm's ca: one PEM string or a list of them. An empty ca
// (null, as in npm's default) means the system's roots: nil.
func caPool(v npmrc.Value) (*x509.CertPool, error) {
	var pems []string
	switch v.Kind {
	case npmrc.KindString:
		pems = []string{v.Str}
	case npmrc.KindList:
		for _, e := range v.List {
			if e.Kind == npmrc.KindString {
				pems = append(pems, e.Str)
			}
		}
	}
	pems = slices.DeleteFunc(pems, func(s string) bool { return strings.TrimSpace(s) == "" })
	if len(pems) == 0 {
		return nil, nil
	}
	pool := x509.NewCertPool()
	for i, s := range pems {
		// npm's docs write the newlines of an unquoted value as \n.
		s = strings.ReplaceAll(s, `\n`, "\n")
		if !pool.AppendCertsFromPEM([]byte(s)) {
			return nil, fmt.Errorf("entry %d holds no PEM certificate", i+1)
		}
	}
	return pool, nil
}

func (b *builder) strictSSL() {
	off := func(a npmrc.Assignment) bool { return a.Value.Kind == npmrc.KindBool && !a.Value.Bool }
	a, ok := b.firstTrusted(b.assignments("strict-ssl"), Trust, "airlock always verifies TLS certificates", off, always)
	if ok && off(a) {
		b.p.StrictSSLOff = a.Source
	}
}

// distrust says why an assignment cannot choose the transport, or "".
func (b *builder) distrust(a npmrc.Assignment) string {
	switch a.Layer {
	case "cli":
		return ""
	case "env":
		return "airlock takes no network settings from environment variables, since an earlier CI job can set this job's variables"
	case "project":
		return "airlock takes no network settings from a project .npmrc, since in the publish job the folder holds what an earlier job handed over"
	case "publishConfig":
		return "the package may not choose the network"
	case "user", "global":
	default:
		return "it comes from " + a.Layer
	}
	if len(a.Vars) > 0 && !(len(a.Vars) == 1 && a.Vars[0] == "HOME" && b.homeTrusted()) {
		return "its value comes from " + varList(a.Vars, "HOME") + ", which an earlier CI job can set"
	}
	return b.fileDistrust(a.File, 0)
}

// fileDistrust says why the npmrc at path cannot choose the transport: its
// location came from a variable, or from a file that cannot.
func (b *builder) fileDistrust(path string, depth int) string {
	if b.o.Config == nil || depth > 3 {
		return "airlock cannot tell where the file came from"
	}
	for _, f := range b.o.Config.Files() {
		if f.Path != path || !f.Read {
			continue
		}
		switch f.SetBy {
		case "env":
			return "the file's location comes from " + strings.TrimPrefix(f.SetIn, "env ") + ", which an earlier CI job can set"
		case "project":
			return "the file's location comes from the project .npmrc, which airlock does not trust with network settings"
		case "user", "global":
			if why := b.fileDistrust(b.layerFile(f.SetBy), depth+1); why != "" {
				return "the file's location comes from another npmrc that airlock does not trust: " + why
			}
		}
		for _, v := range f.Vars {
			if v == "HOME" && b.homeTrusted() {
				continue
			}
			if v == "HOME" {
				return "the file's location comes from HOME, " + b.homeWhy()
			}
			return "the file's location comes from " + v + ", which an earlier CI job can set"
		}
		return ""
	}
	return "airlock cannot tell where the file came from"
}

func (b *builder) layerFile(layer string) string {
	for _, f := range b.o.Config.Files() {
		if f.Layer == layer && f.Read {
			return f.Path
		}
	}
	return ""
}

// homeTrusted: HOME is the home folder the system gives the user.
func (b *builder) homeTrusted() bool {
	home := b.env["HOME"]
	return b.o.AccountHome != "" && home != "" && cleanPath(home) == cleanPath(b.o.AccountHome)
}

func (b *builder) homeWhy() string {
	if b.o.AccountHome == "" {
		return "and airlock cannot look up the home folder of the user running it to check that HOME names it"
	}
	return "which is not " + b.o.AccountHome + ", the home folder of the user running airlock, so an earlier CI job may have set it"
}

func cleanPath(p string) string { return strings.TrimSuffix(p, string(os.PathSeparator)) }

func varList(vars []string, skip string) string {
	var shown []string
	for _, v := range vars {
		if v != skip {
			shown = append(shown, "${"+v+"}")
		}
	}
	if len(shown) == 0 {
		return "HOME"
	}
	return strings.Join(shown, ", ")
}

// proxyVariables are those Go, curl or npm take a proxy from; any case.
var proxyVariables = []string{"HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"}

// trustVariables are those Go (SSL_CERT_FILE, SSL_CERT_DIR on Unix) or
// Node (NODE_EXTRA_CA_CERTS) take trust roots from.
var trustVariables = []string{"SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS"}

// variables notes the proxy and trust variables that are set, where
// npm's or Go's defaults would have used them: a proxy variable when no
// proxy is configured, NO_PROXY when a proxy is, a trust variable when
// the system's roots are in use.
func (b *builder) variables() {
	names := make([]string, 0, len(b.env))
	for k, v := range b.env {
		if v != "" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, want := range proxyVariables {
		for _, n := range names {
			if strings.EqualFold(n, want) && b.p.Proxy == nil {
				b.ignore(Ignored{Name: n, Kind: Proxy, Why: "airlock takes proxies only from --proxy and npmrc files, since an earlier CI job can set this job's variables", Instead: proxyInstead})
			}
		}
	}
	for _, n := range names {
		if strings.EqualFold(n, "NO_PROXY") && b.p.Proxy != nil && b.o.Flags.NoProxy == "" && len(b.p.NoProxy) == 0 {
			b.ignore(Ignored{Name: n, Kind: Proxy, Why: "airlock takes the hosts to reach without the proxy only from --noproxy and npmrc files", Instead: "pass --noproxy HOSTS in the job's own script"})
		}
	}
	if b.p.RootsSource != "the system's" {
		return
	}
	for _, want := range trustVariables {
		if b.env[want] != "" {
			b.ignore(Ignored{Name: want, Kind: Trust, Why: "airlock takes trust roots only from --cafile and npmrc files, since an earlier CI job can set this job's variables", Instead: trustInstead})
		}
	}
}

// roundTripper adds, to a failed connection, a hint naming the ignored
// variables that might explain it.
type roundTripper struct {
	p    *Policy
	base *http.Transport
}

func (t *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil && req.Context().Err() == nil {
		if h := t.p.Hint(err); h != "" {
			err = hint.With(err, h)
		}
	}
	return resp, err
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport.
func (t *roundTripper) CloseIdleConnections() { t.base.CloseIdleConnections() }

// Hint names what the policy ignored that could explain a failed
// connection: trust settings for a certificate that was not accepted,
// proxy settings for anything else. "" when nothing relevant was ignored.
func (p *Policy) Hint(err error) string {
	kind := Proxy
	if registry.IsCertificateError(err) {
		kind = Trust
	}
	var names []string
	for _, i := range p.Ignored {
		if i.Kind == kind {
			names = append(names, i.Name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return "airlock ignored " + strings.Join(names, ", ") + " (see the warnings above)"
}
