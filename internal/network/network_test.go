package network

import (
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/airlockdev/airlock/internal/network/networktest"
	"github.com/airlockdev/airlock/internal/npmrc"
)

func TestNoProxyMatch(t *testing.T) {
	cases := []struct {
		host    string
		entries []string
		want    bool
	}{
		{"registry.example.com", []string{"example.com"}, true},
		{"registry.example.com", []string{".example.com"}, true},
		{"example.com", []string{".example.com"}, true},
		{"registry.example.com", []string{"registry.example.com"}, true},
		{"Registry.Example.com", []string{"example.COM"}, true},
		{"badexample.com", []string{"example.com"}, false},
		{"example.com", []string{"registry.example.com"}, false},
		{"registry.example.com", []string{"example.com:443"}, false}, // npm compares no ports
		{"registry.example.com", []string{"*"}, false},               // nor knows "*"
		{"registry.example.com", []string{"", " ", "."}, false},
		{"127.0.0.1", []string{"127.0.0.1"}, true},
		{"registry.example.com", []string{"other.org", " example.com "}, true},
	}
	for _, c := range cases {
		if got := NoProxyMatch(c.host, c.entries); got != c.want {
			t.Errorf("NoProxyMatch(%q, %q) = %v, want %v", c.host, c.entries, got, c.want)
		}
	}
}

// machine is a home, a project and other files under one folder, and the
// environment that goes with them. $ROOT in contents and env is the
// folder.
type machine struct {
	root  string
	files map[string]string
	env   []string
}

func (m machine) load(t *testing.T) (*npmrc.Config, []string) {
	t.Helper()
	for _, d := range []string{"home", "proj"} {
		if err := os.MkdirAll(filepath.Join(m.root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range m.files {
		p := filepath.Join(m.root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(content, "$ROOT", m.root)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"HOME=" + filepath.Join(m.root, "home")}
	for _, e := range m.env {
		env = append(env, strings.ReplaceAll(e, "$ROOT", m.root))
	}
	cfg, err := npmrc.Load(npmrc.Sources{Env: env, Cwd: filepath.Join(m.root, "proj")})
	if err != nil {
		t.Fatal(err)
	}
	return cfg, env
}

func noRoots() (*x509.CertPool, error) { return x509.NewCertPool(), nil }

func ignoredNames(p *Policy) []string {
	var out []string
	for _, i := range p.Ignored {
		out = append(out, i.Name)
	}
	return out
}

func TestProxy(t *testing.T) {
	cases := []struct {
		name        string
		files       map[string]string
		env         []string
		flags       Flags
		untrusted   bool // HOME is not the account's home
		wantProxy   string
		wantSource  string // $ROOT replaced
		wantIgnored []string
		why         string // in the first Ignored's Why
	}{
		{name: "nothing"},
		{name: "HTTPS_PROXY", env: []string{"HTTPS_PROXY=http://evil:8080"}, wantIgnored: []string{"HTTPS_PROXY"}, why: "only from --proxy and npmrc files"},
		{name: "any case", env: []string{"https_proxy=http://evil:8080", "Http_Proxy=http://evil:8080", "ALL_PROXY=socks5://evil:1080"}, wantIgnored: []string{"https_proxy", "Http_Proxy", "ALL_PROXY"}},
		{name: "empty variable", env: []string{"HTTPS_PROXY="}},
		{name: "flag", env: []string{"HTTPS_PROXY=http://evil:8080"}, flags: Flags{Proxy: "http://corp:3128"}, wantProxy: "http://corp:3128", wantSource: "--proxy"},
		{name: "npm_config_https_proxy", env: []string{"npm_config_https_proxy=http://evil:8080"}, wantIgnored: []string{"npm_config_https_proxy"}, why: "no network settings from environment variables"},
		{name: "NPM_CONFIG_PROXY", env: []string{"NPM_CONFIG_PROXY=http://evil:8080"}, wantIgnored: []string{"NPM_CONFIG_PROXY"}},
		{name: "user npmrc", files: map[string]string{"home/.npmrc": "https-proxy=http://corp:3128\n"}, wantProxy: "http://corp:3128/", wantSource: "https-proxy ($ROOT/home/.npmrc:1)"},
		{name: "https-proxy over proxy", files: map[string]string{"home/.npmrc": "proxy=http://plain:1\nhttps-proxy=http://tls:2\n"}, wantProxy: "http://tls:2/"},
		{name: "proxy alone", files: map[string]string{"home/.npmrc": "proxy=http://plain:1\n"}, wantProxy: "http://plain:1/", wantSource: "proxy ($ROOT/home/.npmrc:1)"},
		{name: "proxy=false", files: map[string]string{"home/.npmrc": "proxy=false\n"}},
		{name: "variable below the user npmrc", files: map[string]string{"home/.npmrc": "https-proxy=http://corp:3128\n"}, env: []string{"npm_config_https_proxy=http://evil:8080", "HTTPS_PROXY=http://evil:8080"},
			wantProxy: "http://corp:3128/", wantIgnored: []string{"npm_config_https_proxy"}},
		{name: "HOME moved", files: map[string]string{"home/.npmrc": "https-proxy=http://evil:8080\n"}, untrusted: true,
			wantIgnored: []string{"https-proxy in $ROOT/home/.npmrc:1"}, why: "comes from HOME, which is not"},
		{name: "NPM_CONFIG_USERCONFIG", files: map[string]string{"artifact/npmrc": "https-proxy=http://evil:8080\n"}, env: []string{"NPM_CONFIG_USERCONFIG=$ROOT/artifact/npmrc"},
			wantIgnored: []string{"https-proxy in $ROOT/artifact/npmrc:1"}, why: "location comes from NPM_CONFIG_USERCONFIG"},
		{name: "PREFIX", files: map[string]string{"prefix/etc/npmrc": "https-proxy=http://evil:8080\n"}, env: []string{"PREFIX=$ROOT/prefix"},
			wantIgnored: []string{"https-proxy in $ROOT/prefix/etc/npmrc:1"}, why: "location comes from PREFIX"},
		{name: "project npmrc", files: map[string]string{"proj/package.json": "{}", "proj/.npmrc": "https-proxy=http://evil:8080\n"},
			wantIgnored: []string{"https-proxy in $ROOT/proj/.npmrc:1"}, why: "project .npmrc"},
		{name: "userconfig set by the project npmrc", files: map[string]string{"proj/package.json": "{}", "proj/.npmrc": "userconfig=$ROOT/artifact/npmrc\n", "artifact/npmrc": "https-proxy=http://evil:8080\n"},
			wantIgnored: []string{"https-proxy in $ROOT/artifact/npmrc:1"}, why: "location comes from the project .npmrc"},
		{name: "value from a variable", files: map[string]string{"home/.npmrc": "https-proxy=${CORP_PROXY}\n"}, env: []string{"CORP_PROXY=http://evil:8080"},
			wantIgnored: []string{"https-proxy in $ROOT/home/.npmrc:1"}, why: "value comes from ${CORP_PROXY}"},
		{name: "NO_PROXY without a proxy", env: []string{"NO_PROXY=localhost"}},
		{name: "NO_PROXY with a proxy", env: []string{"NO_PROXY=internal.example"}, flags: Flags{Proxy: "http://corp:3128"}, wantProxy: "http://corp:3128", wantIgnored: []string{"NO_PROXY"}},
		{name: "NO_PROXY with --noproxy", env: []string{"NO_PROXY=internal.example"}, flags: Flags{Proxy: "http://corp:3128", NoProxy: "internal.example"}, wantProxy: "http://corp:3128"},
		{name: "proxy credentials are hidden", flags: Flags{Proxy: "http://user:secret@corp:3128"}, wantProxy: "http://corp:3128"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := machine{root: t.TempDir(), files: c.files, env: c.env}
			cfg, env := m.load(t)
			home := filepath.Join(m.root, "home")
			if c.untrusted {
				home = "/home/someone-else"
			}
			p, err := New(Options{Flags: c.flags, Config: cfg, Env: env, AccountHome: home, SystemRoots: noRoots})
			if err != nil {
				t.Fatal(err)
			}
			if got := p.ProxyString(); got != c.wantProxy {
				t.Errorf("proxy %q, want %q", got, c.wantProxy)
			}
			if want := strings.ReplaceAll(c.wantSource, "$ROOT", m.root); want != "" && p.ProxySource != want {
				t.Errorf("proxy source %q, want %q", p.ProxySource, want)
			}
			want := make([]string, len(c.wantIgnored))
			for i, w := range c.wantIgnored {
				want[i] = strings.ReplaceAll(w, "$ROOT", m.root)
			}
			if got := ignoredNames(p); !slices.Equal(got, want) {
				t.Errorf("ignored %q, want %q", got, want)
			}
			if c.why != "" && len(p.Ignored) > 0 && !strings.Contains(p.Ignored[0].Why, c.why) {
				t.Errorf("ignored because %q, want it to say %q", p.Ignored[0].Why, c.why)
			}
			for _, i := range p.Ignored {
				if strings.Contains(i.String(), "evil") {
					t.Errorf("a notice repeats the ignored value: %s", i)
				}
			}
		})
	}
}

func TestProxyErrors(t *testing.T) {
	for _, bad := range []string{"corp:3128", "ftp://corp:21", "http://", "socks4://corp:1080"} {
		if _, err := New(Options{Flags: Flags{Proxy: bad}, SystemRoots: noRoots}); err == nil || !strings.HasPrefix(err.Error(), "--proxy:") {
			t.Errorf("--proxy %q: err = %v", bad, err)
		}
	}
	m := machine{root: t.TempDir(), files: map[string]string{"home/.npmrc": "https-proxy=ftp://corp:21\n"}}
	cfg, env := m.load(t)
	_, err := New(Options{Config: cfg, Env: env, AccountHome: filepath.Join(m.root, "home"), SystemRoots: noRoots})
	if err == nil || !strings.Contains(err.Error(), "https-proxy set in "+m.root+"/home/.npmrc:1") {
		t.Errorf("err = %v", err)
	}
}

func TestRoots(t *testing.T) {
	ca, err := networktest.NewCA("registry CA")
	if err != nil {
		t.Fatal(err)
	}
	other, err := networktest.NewCA("other CA")
	if err != nil {
		t.Fatal(err)
	}
	caPEM := string(ca.PEM)
	// npm's docs write ca on one line, in quotes, with \n for the newlines.
	caLine := `"` + strings.ReplaceAll(strings.TrimSpace(caPEM), "\n", `\n`) + `"`
	cases := []struct {
		name        string
		files       map[string]string
		env         []string
		flags       Flags
		wantSource  string // $ROOT replaced
		trusts      []*networktest.CA
		wantIgnored []string
		wantErr     string
	}{
		{name: "system", wantSource: "the system's"},
		{name: "SSL_CERT_FILE", files: map[string]string{"artifact/ca.pem": caPEM}, env: []string{"SSL_CERT_FILE=$ROOT/artifact/ca.pem", "SSL_CERT_DIR=$ROOT/artifact", "NODE_EXTRA_CA_CERTS=$ROOT/artifact/ca.pem"},
			wantSource: "the system's", wantIgnored: []string{"SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS"}},
		{name: "--cafile", files: map[string]string{"ca.pem": caPEM}, flags: Flags{CAFile: "$ROOT/ca.pem"}, env: []string{"SSL_CERT_FILE=/x"},
			wantSource: "--cafile $ROOT/ca.pem", trusts: []*networktest.CA{ca}},
		{name: "--cafile missing", flags: Flags{CAFile: "$ROOT/nope.pem"}, wantErr: "--cafile: open"},
		{name: "--cafile not PEM", files: map[string]string{"ca.pem": "hello"}, flags: Flags{CAFile: "$ROOT/ca.pem"}, wantErr: "holds no PEM certificate"},
		{name: "cafile in the user npmrc", files: map[string]string{"ca.pem": caPEM, "home/.npmrc": "cafile=$ROOT/ca.pem\n"},
			wantSource: "cafile ($ROOT/home/.npmrc:1)", trusts: []*networktest.CA{ca}},
		{name: "ca in the user npmrc", files: map[string]string{"home/.npmrc": "ca=" + caLine + "\n"},
			wantSource: "ca ($ROOT/home/.npmrc:1)", trusts: []*networktest.CA{ca}},
		{name: "ca list", files: map[string]string{"home/.npmrc": "ca[]=" + caLine + "\nca[]=" + `"` + strings.ReplaceAll(strings.TrimSpace(string(other.PEM)), "\n", `\n`) + `"` + "\n"},
			wantSource: "ca ($ROOT/home/.npmrc:2)", trusts: []*networktest.CA{ca, other}},
		{name: "cafile after ca wins", files: map[string]string{"ca.pem": caPEM, "home/.npmrc": "ca=" + `"` + strings.ReplaceAll(strings.TrimSpace(string(other.PEM)), "\n", `\n`) + `"` + "\ncafile=$ROOT/ca.pem\n"},
			wantSource: "cafile ($ROOT/home/.npmrc:2)", trusts: []*networktest.CA{ca}},
		{name: "ca null", files: map[string]string{"home/.npmrc": "ca=null\n"}, wantSource: "the system's"},
		{name: "missing cafile is skipped, as npm skips it", files: map[string]string{"home/.npmrc": "cafile=$ROOT/nope.pem\n"},
			wantSource: "the system's", wantIgnored: []string{"cafile in $ROOT/home/.npmrc:1"}},
		{name: "npm_config_cafile", files: map[string]string{"ca.pem": caPEM}, env: []string{"npm_config_cafile=$ROOT/ca.pem"},
			wantSource: "the system's", wantIgnored: []string{"npm_config_cafile"}},
		{name: "npm_config_ca below a trusted cafile", files: map[string]string{"ca.pem": caPEM, "home/.npmrc": "cafile=$ROOT/ca.pem\n"}, env: []string{"npm_config_ca=junk", "SSL_CERT_FILE=/x"},
			wantSource: "cafile ($ROOT/home/.npmrc:1)", trusts: []*networktest.CA{ca}, wantIgnored: []string{"npm_config_ca"}},
		{name: "project cafile", files: map[string]string{"ca.pem": caPEM, "proj/package.json": "{}", "proj/.npmrc": "cafile=$ROOT/ca.pem\n"},
			wantSource: "the system's", wantIgnored: []string{"cafile in $ROOT/proj/.npmrc:1"}},
		{name: "bad ca", files: map[string]string{"home/.npmrc": "ca=junk\n"}, wantErr: "ca set in"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := machine{root: t.TempDir(), files: c.files, env: c.env}
			cfg, env := m.load(t)
			flags := c.flags
			flags.CAFile = strings.ReplaceAll(flags.CAFile, "$ROOT", m.root)
			p, err := New(Options{Flags: flags, Config: cfg, Env: env, AccountHome: filepath.Join(m.root, "home"), SystemRoots: noRoots})
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.ReplaceAll(c.wantSource, "$ROOT", m.root); p.RootsSource != want {
				t.Errorf("roots from %q, want %q", p.RootsSource, want)
			}
			want := make([]string, len(c.wantIgnored))
			for i, w := range c.wantIgnored {
				want[i] = strings.ReplaceAll(w, "$ROOT", m.root)
			}
			if got := ignoredNames(p); !slices.Equal(got, want) {
				t.Errorf("ignored %q, want %q", got, want)
			}
			for _, x := range []*networktest.CA{ca, other} {
				if got, want := trusts(t, p, x), slices.Contains(c.trusts, x); got != want {
					t.Errorf("trusts the %s: %v, want %v", map[bool]string{true: "registry CA", false: "other CA"}[x == ca], got, want)
				}
			}
		})
	}
}

// trusts reports whether a server certificate from ca verifies against
// the policy's roots.
func trusts(t *testing.T, p *Policy, ca *networktest.CA) bool {
	t.Helper()
	cert, err := ca.Issue("registry.test")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: p.Roots, DNSName: "registry.test"})
	return err == nil
}

func TestStrictSSL(t *testing.T) {
	m := machine{root: t.TempDir(), files: map[string]string{"home/.npmrc": "\nstrict-ssl=false\n"}}
	cfg, env := m.load(t)
	p, err := New(Options{Config: cfg, Env: env, AccountHome: filepath.Join(m.root, "home"), SystemRoots: noRoots})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Insecure()
	if !errors.Is(err, ErrInsecure) || !strings.Contains(err.Error(), m.root+"/home/.npmrc:2") {
		t.Errorf("Insecure() = %v", err)
	}
	if p.rt.base.TLSClientConfig.InsecureSkipVerify {
		t.Error("the transport skips verification")
	}

	m = machine{root: t.TempDir(), env: []string{"npm_config_strict_ssl=false"}}
	cfg, env = m.load(t)
	p, err = New(Options{Config: cfg, Env: env, AccountHome: filepath.Join(m.root, "home"), SystemRoots: noRoots})
	if err != nil {
		t.Fatal(err)
	}
	if p.Insecure() != nil || !slices.Equal(ignoredNames(p), []string{"npm_config_strict_ssl"}) {
		t.Errorf("npm_config_strict_ssl=false: Insecure() = %v, ignored %q", p.Insecure(), ignoredNames(p))
	}
}

// SystemRoots must not read SSL_CERT_FILE or SSL_CERT_DIR.
func TestSystemRootsIgnoreTheEnvironment(t *testing.T) {
	ca, err := networktest.NewCA("planted")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(file, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSL_CERT_FILE", file)
	t.Setenv("SSL_CERT_DIR", dir)
	pool, err := SystemRoots()
	if err != nil {
		t.Fatalf("no system roots on this machine (CI has the Debian CA bundle): %v", err)
	}
	if trusts(t, &Policy{Roots: pool}, ca) {
		t.Fatal("the system roots include the certificate SSL_CERT_FILE names")
	}
}
