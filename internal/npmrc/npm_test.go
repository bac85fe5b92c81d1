package npmrc

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/airlockdev/airlock/internal/npmtest"
)

// The fake token the differential tests configure. No Go error message or
// printed value may ever contain it.
const testToken = "npm_AIRLOCKTESTTOKEN0123456789"

// configCase is a machine state: files under a temporary root ($ROOT in
// contents is replaced by its path), environment and flags. HOME is
// $ROOT/home, PREFIX is $ROOT/prefix (so the global npmrc is
// $ROOT/prefix/etc/npmrc) and npm runs in $ROOT/proj.
type configCase struct {
	name  string
	files map[string]string
	env   []string
	flags map[string]string
	keys  []string
	urls  []oracleURL
	pkgs  []string
	// noPrefix leaves PREFIX unset; npm then uses its own prefix, so the
	// case may compare only keys that do not depend on it.
	noPrefix bool
}

var commonKeys = []string{"registry", "tag", "access", "otp", "provenance", "dry-run", "strict-ssl",
	"fetch-retries", "scope", "userconfig", "globalconfig", "prefix", "ca", "noproxy", "proxy", "https-proxy",
	"loglevel", "auth-type", "cache", "cafile", "provenance-file", "location", "global", "replace-registry-host"}

var configCases = []configCase{
	{
		name:  "defaults",
		files: map[string]string{},
		keys:  commonKeys,
		urls:  []oracleURL{{URL: "https://registry.npmjs.org/pkg"}},
		pkgs:  []string{"pkg", "@scope/pkg"},
	},
	{
		name: "user npmrc",
		files: map[string]string{"home/.npmrc": `registry=https://Reg.Example.com
tag = next ; comment
access=public
@mine:registry=https://scoped.example/npm/
//reg.example.com/:_authToken=` + testToken + `
//scoped.example/npm/:_authToken=` + testToken + `-scoped
fetch-retries=5
strict-ssl=false
`},
		keys: append([]string{"@mine:registry", "//reg.example.com/:_authToken"}, commonKeys...),
		urls: []oracleURL{
			{URL: "https://reg.example.com/pkg"},
			{URL: "https://reg.example.com/@a%2fpkg"},
			{URL: "http://reg.example.com/pkg"},
			{URL: "https://reg.example.com:443/pkg"},
			{URL: "https://reg.example.com:8443/pkg"},
			{URL: "https://REG.example.com/pkg"},
			{URL: "https://other.example.com/pkg"},
			{URL: "https://scoped.example/npm/@mine%2fpkg", Pkg: "@mine/pkg"},
			{URL: "https://scoped.example/npm", Pkg: "@mine/pkg"},
			{URL: "https://scoped.example/npmx/pkg", Pkg: "@mine/pkg"},
			{URL: "https://scoped.example/other/pkg", Pkg: "@mine/pkg"},
			{URL: "https://scoped.example/other/pkg"},
			{URL: "https://reg.example.com/pkg", Pkg: "@mine/pkg"},
		},
		pkgs: []string{"pkg", "@mine/pkg", "@other/pkg"},
	},
	{
		name: "precedence flag over all",
		files: map[string]string{
			"home/.npmrc":       "tag=user\naccess=restricted\nloglevel=warn\notp=111111\n",
			"prefix/etc/npmrc":  "tag=global\naccess=public\nloglevel=http\notp=222222\nauth-type=legacy\n",
			"proj/.npmrc":       "tag=project\naccess=public\nloglevel=info\n",
			"proj/package.json": "{}",
		},
		env:   []string{"npm_config_tag=env", "npm_config_access=restricted"},
		flags: map[string]string{"tag": "flag"},
		keys:  []string{"tag", "access", "loglevel", "otp", "auth-type", "userconfig", "globalconfig"},
	},
	{
		name: "project npmrc found above cwd",
		files: map[string]string{
			"proj/package.json":    "{}",
			"proj/.npmrc":          "tag=project\n",
			"proj/sub/dir/.keep":   "",
			"proj/sub/.npmrc":      "tag=ignored\n",
			"home/.npmrc":          "tag=user\n",
			"proj/sub/dir/x/.keep": "",
		},
		keys: []string{"tag"},
	},
	{
		name: "project npmrc ignored in global mode",
		files: map[string]string{
			"proj/.npmrc": "tag=project\n",
			"home/.npmrc": "tag=user\n",
		},
		env:  []string{"npm_config_global=true"},
		keys: []string{"tag", "global"},
	},
	{
		name: "project npmrc sets userconfig",
		files: map[string]string{
			"proj/.npmrc": "userconfig=$ROOT/other.npmrc\n",
			"other.npmrc": "tag=other\nglobalconfig=$ROOT/g.npmrc\n",
			"g.npmrc":     "access=restricted\n",
			"home/.npmrc": "tag=home\n",
		},
		keys: []string{"tag", "userconfig", "globalconfig", "access"},
	},
	{
		name:  "env names",
		files: map[string]string{},
		env: []string{
			"NPM_CONFIG_FETCH_RETRIES=7",
			"npm_config_Tag=beta",
			"npm_config_dry_run=true",
			"npm_config_@myorg:registry=https://myorg.example/",
			"npm_config_//myorg.example/:_authToken=" + testToken,
			"npm_config_otp=",
			"npm_config__auth=ignored",
		},
		keys: []string{"fetch-retries", "tag", "dry-run", "@myorg:registry", "//myorg.example/:_authToken", "otp", "_auth"},
		urls: []oracleURL{{URL: "https://myorg.example/@myorg%2fp", Pkg: "@myorg/p"}},
		pkgs: []string{"@myorg/p"},
	},
	{
		name: "expansion",
		files: map[string]string{"home/.npmrc": `//a.example/:_authToken=${TOKEN}
//b.example/:_authToken=${UNSET_TOKEN}
//c.example/:_authToken=${UNSET_TOKEN?}
//d.example/:_authToken=\${TOKEN}
//e.example/:_authToken=\\${TOKEN}
//f.example/:_authToken=pre-${TOKEN}-${EMPTY}-post
${SCOPE}:registry=https://scope.example/
tag=${TAG}
cache=~/cache-${TAG}
userconfig=~/nope
`},
		env:  []string{"TOKEN=" + testToken, "SCOPE=@s", "TAG=canary", "EMPTY="},
		keys: []string{"//a.example/:_authToken", "//b.example/:_authToken", "//c.example/:_authToken", "//d.example/:_authToken", "//e.example/:_authToken", "//f.example/:_authToken", "@s:registry", "tag", "cache"},
		urls: []oracleURL{
			{URL: "https://a.example/p"}, {URL: "https://b.example/p"}, {URL: "https://c.example/p"},
			{URL: "https://d.example/p"}, {URL: "https://e.example/p"}, {URL: "https://f.example/p"},
		},
		pkgs: []string{"@s/p"},
	},
	{
		name: "invalid values fall through",
		files: map[string]string{
			"home/.npmrc":      "registry=http:reg.example\naccess=PUBLIC\nfetch-retries=many\nstrict-ssl=0\ntag=null\nprovenance=yes\nloglevel=loud\nproxy=false\nhttps-proxy=null\nauth-type=\n",
			"prefix/etc/npmrc": "registry=http://global.example:8080\naccess=restricted\nfetch-retries=3\n",
		},
		keys: commonKeys,
	},
	{
		name:  "unparsable registry fails",
		files: map[string]string{"home/.npmrc": "registry=not a url\n"},
		keys:  []string{"registry"},
	},
	{
		name: "unparsable registry in a lower layer is dropped",
		files: map[string]string{
			"home/.npmrc":      "registry=https://user.example/\n",
			"prefix/etc/npmrc": "registry=not a url\n",
		},
		keys: []string{"registry"},
	},
	{
		name:  "type coercion",
		files: map[string]string{"home/.npmrc": "dry-run\nfetch-retries=0x10\nca[]=one\nca[]=two\nnoproxy=a,b\nscope=myorg\n@myorg:registry=https://myorg.example\nfetch-timeout=\nprovenance-file=./p.json\ncafile=~/ca.pem\n"},
		keys:  append([]string{"fetch-timeout"}, commonKeys...),
		pkgs:  []string{"unscoped", "@myorg/x", "@other/x"},
	},
	{
		name:  "unknown keys",
		files: map[string]string{"home/.npmrc": "foo=bar\nflag\nnum=5\nn=null\nu=undefined\nlist[]=a\nlist[]= b \nspaced =  x  \n"},
		keys:  []string{"foo", "flag", "num", "n", "u", "list", "spaced"},
	},
	{
		name:  "keys after a section are not config",
		files: map[string]string{"home/.npmrc": "tag=top\n[section]\n//reg.example/:_authToken=" + testToken + "\nregistry=https://reg.example/\n"},
		keys:  []string{"tag", "registry", "//reg.example/:_authToken"},
		urls:  []oracleURL{{URL: "https://reg.example/p"}},
	},
	{
		name: "nerf dart paths and ports",
		files: map[string]string{"home/.npmrc": `registry=https://host.example/npm/
//host.example/npm/:_authToken=` + testToken + `-npm
//host.example/:_authToken=` + testToken + `-root
//host.example:8443/:_authToken=` + testToken + `-port
//host.example/deep/path:_authToken=` + testToken + `-noslash
//plain.example:_authToken=` + testToken + `-plain
//http.example:80/:_authToken=` + testToken + `-80
`},
		urls: []oracleURL{
			{URL: "https://host.example/npm/pkg"},
			{URL: "https://host.example/npm"},
			{URL: "https://host.example/npmx/pkg"},
			{URL: "https://host.example/pkg"},
			{URL: "https://host.example:8443/npm/pkg"},
			{URL: "http://host.example:8443/x"},
			{URL: "https://host.example/deep/path/x"},
			{URL: "https://host.example/deep/pathx"},
			{URL: "https://plain.example/a/b"},
			{URL: "http://http.example/x"},
			{URL: "http://http.example:80/x"},
			{URL: "https://host.example/npm/../pkg"},
			{URL: "https://user:pw@host.example/npm/pkg"},
			{URL: "https://host.example/npm/pkg?write=true#x"},
		},
		keys: []string{"registry"},
	},
	{
		name: "same host fallback",
		files: map[string]string{"home/.npmrc": `registry=https://host.example/api/npm/
//host.example/api/npm/:_authToken=` + testToken + `
@s:registry=https://host.example/s/
@t:registry=https://other.example/t/
`},
		urls: []oracleURL{
			{URL: "https://host.example/tarballs/p.tgz"},
			{URL: "https://host.example/tarballs/p.tgz", Pkg: "@s/p"},
			{URL: "https://host.example/s/p", Pkg: "@s/p"},
			{URL: "https://other.example/t/p", Pkg: "@t/p"},
			{URL: "https://host.example/x", Pkg: "@t/p"},
		},
		pkgs: []string{"p", "@s/p", "@t/p"},
		keys: []string{"registry"},
	},
	{
		name: "basic auth",
		files: map[string]string{"home/.npmrc": `//a.example/:_auth=dXNlcjpwYXNz
//b.example/:username=me
//b.example/:_password=cGFzczp3b3Jk
//c.example/:username=me
//d.example/:_password=cGFzcw==
//e.example/:username=me
//e.example/:_password=*not base64*
//f.example/:_authToken=` + testToken + `
//f.example/:_auth=dXNlcjpwYXNz
//g.example/:certfile=/nonexistent/cert
//g.example/:keyfile=/nonexistent/key
//g.example:_authToken=` + testToken + `
//h.example/:_auth=OnBhc3M=
`},
		urls: []oracleURL{
			{URL: "https://a.example/p"}, {URL: "https://b.example/p"}, {URL: "https://c.example/p"},
			{URL: "https://d.example/p"}, {URL: "https://e.example/p"}, {URL: "https://f.example/p"},
			{URL: "https://g.example/p"}, {URL: "https://h.example/p"},
		},
	},
	{
		name:  "top-level token refused",
		files: map[string]string{"home/.npmrc": "_authToken=" + testToken + "\n"},
		keys:  []string{"registry"},
	},
	{
		name: "legacy auth in every file refused",
		files: map[string]string{
			"home/.npmrc":       "registry=https://reg.example/x/\nusername=me\n_auth=abc\n",
			"prefix/etc/npmrc":  "_password=cGFzcw==\n_authtoken=" + testToken + "\n",
			"proj/.npmrc":       "username=me\n_password=cGFzcw==\n",
			"proj/package.json": "{}",
		},
		keys: []string{"registry"},
	},
	{
		name:  "legacy auth in env is not checked",
		files: map[string]string{},
		env:   []string{"npm_config__authToken=" + testToken, "npm_config_username=me"},
		keys:  []string{"_authtoken", "username"},
		urls:  []oracleURL{{URL: "https://registry.npmjs.org/p"}},
	},
	{
		name:  "empty top-level token allowed",
		files: map[string]string{"home/.npmrc": "_authToken=\n_auth=false\n"},
		keys:  []string{"registry"},
	},
	{
		name:  "provenance exclusive in one file",
		files: map[string]string{"home/.npmrc": "provenance=true\nprovenance-file=x.json\n"},
		keys:  []string{"provenance"},
	},
	{
		name:  "provenance exclusive env defers to flag",
		files: map[string]string{},
		env:   []string{"npm_config_provenance=true"},
		flags: map[string]string{"provenance-file": "/x.json"},
		keys:  []string{"provenance", "provenance-file"},
	},
	{
		name:  "same file for user and global",
		files: map[string]string{"rc": "tag=x\n"},
		env:   []string{"npm_config_userconfig=$ROOT/rc", "npm_config_globalconfig=$ROOT/rc"},
		keys:  []string{"tag"},
	},
	{
		name:  "null parent section",
		files: map[string]string{"home/.npmrc": "a=null\n[a.b]\nc=1\n"},
		keys:  []string{"tag"},
	},
	{
		name:  "credentials table",
		files: map[string]string{"home/.npmrc": creds},
		urls: []oracleURL{
			{URL: "https://reg.example/npm/pkg"}, {URL: "http://reg.example/npm/pkg"}, {URL: "https://reg.example:443/npm/pkg"},
			{URL: "https://REG.example/npm/pkg"}, {URL: "https://reg.example/npm"}, {URL: "https://reg.example/npm/a/../pkg"},
			{URL: "https://reg.example/npmx/pkg"}, {URL: "https://reg.example:8443/npm/pkg"}, {URL: "https://reg.example:9999/npm/pkg"},
			{URL: "https://reg.example/deep/x/y"}, {URL: "https://reg.example/deep/xy"}, {URL: "https://other.example/anything"},
			{URL: "https://sub.other.example/"}, {URL: "https://far.example/@far%2fp", Pkg: "@far/p"},
			{URL: "https://reg.example/near/@near%2fp", Pkg: "@near/p"}, {URL: "https://basic.example/p"}, {URL: "https://auth.example/p"},
			{URL: "https://reg.example/x", Pkg: "@far/p"}, {URL: "https://far.example/x"},
		},
		pkgs: []string{"p", "@far/p", "@near/p"},
		keys: []string{"registry", "@far:registry", "@near:registry"},
	},
	{
		name:  "global config from prefix setting",
		files: map[string]string{"home/.npmrc": "prefix=$ROOT/p2\n", "p2/etc/npmrc": "tag=from-p2\n"},
		keys:  []string{"tag", "prefix", "globalconfig"},
	},
}

// setUp writes tc's files and returns the root, the environment and cwd.
func (tc configCase) setUp(t *testing.T) (root string, env []string, cwd string) {
	t.Helper()
	root = t.TempDir()
	for _, d := range []string{"home", "prefix/etc", "proj"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range tc.files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(content, "$ROOT", root)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cwd = filepath.Join(root, "proj")
	if _, ok := tc.files["proj/sub/dir/.keep"]; ok {
		cwd = filepath.Join(root, "proj/sub/dir")
	}
	env = baseEnv(t, "HOME="+filepath.Join(root, "home"))
	if !tc.noPrefix {
		env = append(env, "PREFIX="+filepath.Join(root, "prefix"))
	}
	for _, e := range tc.env {
		env = append(env, strings.ReplaceAll(e, "$ROOT", root))
	}
	return root, env, cwd
}

func TestConfigMatchesNPM(t *testing.T) {
	for _, tc := range configCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root, env, cwd := tc.setUp(t)
			var argv []string
			for _, k := range sortedKeys(tc.flags) {
				argv = append(argv, "--"+k+"="+tc.flags[k])
			}
			want := askNPM(t, env, oracleRequest{Config: true, Argv: argv, Cwd: cwd, Keys: tc.keys, URLs: tc.urls, Pkgs: tc.pkgs})
			c, err := Load(Sources{Env: env, Cwd: cwd, Flags: tc.flags})
			checkNoSecret(t, err)

			switch {
			case want.LoadError != "":
				if err == nil {
					t.Fatalf("npm failed to load (%s), Load did not", want.LoadError)
				}
				t.Logf("npm: %s\nLoad: %v", want.LoadError, err)
				return
			case want.ValidateError != nil:
				var ae *AuthConfigError
				if !errors.As(err, &ae) || !errors.Is(err, ErrInvalidAuth) {
					t.Fatalf("npm refused the auth configuration, Load returned %v", err)
				}
				var wantP, gotP []string
				for _, p := range want.ValidateError.Problems {
					key, to := p.Key, ""
					if p.Action == "rename" {
						key, to = p.From, p.To
					}
					wantP = append(wantP, fmt.Sprintf("%s %s -> %q", p.Where, key, to))
				}
				for _, p := range ae.Problems {
					gotP = append(gotP, fmt.Sprintf("%s %s -> %q", whereOf(p.Source, root), p.Key, p.RenameTo))
				}
				if d := diffLines(wantP, gotP); d != "" {
					t.Errorf("auth problems differ:\n%s", d)
				}
				t.Logf("Load: %v", err)
				return
			case err != nil:
				t.Fatalf("npm loaded, Load: %v", err)
			}

			for _, k := range tc.keys {
				w := want.Values[k]
				wantV := npmValue(t, w.Value)
				gotV, gotSrc := c.Get(k)
				if gotV != wantV {
					t.Errorf("Get(%q) = %q, npm has %q", k, gotV, wantV)
				}
				wantWhere := ""
				if w.Where != nil {
					wantWhere = *w.Where
				}
				if wantWhere == "builtin" {
					t.Errorf("npm read %q from a builtin npmrc; the oracle should have none", k)
				}
				got := whereOf(gotSrc, root)
				if k == "globalconfig" && wantWhere == "default" {
					got = "default" // the first layer to set it sets npm's default
				}
				if got != wantWhere {
					t.Errorf("Get(%q) source %q (%s), npm has it from %s (%v)", k, gotSrc, got, wantWhere, deref(w.Source))
				}
				if wantWhere != "" && wantWhere != "default" && strings.Contains(gotSrc, ":") && !strings.HasPrefix(gotSrc, "env ") {
					if file := gotSrc[:strings.LastIndexByte(gotSrc, ':')]; file != deref(w.Source) {
						t.Errorf("Get(%q) source file %s, npm read it from %s", k, file, deref(w.Source))
					}
				}
			}

			for i, u := range tc.urls {
				w := want.Auth[i]
				var cr Credentials
				if u.Pkg != "" {
					cr, _ = c.credentials(u.URL, c.pickRegistry(u.Pkg))
				} else {
					cr, _ = c.Credentials(u.URL)
				}
				checkNoSecret(t, errors.New(fmt.Sprint(cr, cr.Token, cr.Basic)))
				if g, w := cr.Token.Reveal(), deref(w.Token); g != w {
					t.Errorf("token for %s (pkg %q) = %q, npm sends %q", u.URL, u.Pkg, g, w)
				}
				if g, w := cr.Basic.Reveal(), deref(w.Auth); g != w {
					t.Errorf("basic auth for %s (pkg %q) = %q, npm sends %q", u.URL, u.Pkg, g, w)
				}
				by, ok := c.CredentialsByURI(u.URL)
				checkNoSecret(t, errors.New(fmt.Sprint(by)))
				if w.ByURI.Error != "" {
					if ok {
						t.Errorf("CredentialsByURI(%s) ok, npm: %s", u.URL, w.ByURI.Error)
					}
					continue
				}
				if by.Token.Reveal() != deref(w.ByURI.Token) || by.Basic.Reveal() != deref(w.ByURI.Auth) || ok != w.ByURI.LoggedIn {
					t.Errorf("CredentialsByURI(%s) = token %q basic %q ok %v; npm: token %q auth %q logged in %v", u.URL,
						by.Token.Reveal(), by.Basic.Reveal(), ok, deref(w.ByURI.Token), deref(w.ByURI.Auth), w.ByURI.LoggedIn)
				}
			}

			for i, p := range tc.pkgs {
				if got := c.pickRegistry(p); got != want.Registries[i] {
					t.Errorf("registry for %s = %q, npm picks %q", p, got, want.Registries[i])
				}
				norm := strings.TrimSuffix(jsTrim(want.Registries[i]), "/") + "/"
				if got := c.RegistryFor(p); got != norm {
					t.Errorf("RegistryFor(%s) = %q, want %q", p, got, norm)
				}
			}
			for _, w := range c.Warnings() {
				checkNoSecret(t, errors.New(w))
			}
		})
	}
}

// whereOf maps a Get source to npm's layer names.
func whereOf(src, root string) string {
	switch {
	case src == "":
		return ""
	case src == "flag":
		return "cli"
	case src == "default":
		return "default"
	case strings.HasPrefix(src, "env "):
		return "env"
	}
	file := src[:strings.LastIndexByte(src, ':')]
	switch {
	case strings.HasPrefix(file, filepath.Join(root, "proj")+"/"):
		return "project"
	case strings.HasPrefix(file, filepath.Join(root, "prefix")+"/"), strings.HasSuffix(file, "/etc/npmrc"), strings.HasSuffix(file, "/g.npmrc"):
		return "global"
	}
	return "user"
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func diffLines(want, got []string) string {
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(want, "\n") == strings.Join(got, "\n") {
		return ""
	}
	return "want:\n  " + strings.Join(want, "\n  ") + "\ngot:\n  " + strings.Join(got, "\n  ")
}

// checkNoSecret fails if err's message contains the test token.
func checkNoSecret(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), testToken) {
		t.Errorf("message contains the token: %s", err)
	}
}

// TestNPMConfigListMatches runs the npm CLI itself, `npm config list
// --json`, on machine states whose values need no validation (npm config
// skips it), and compares every key airlock has a definition for and every
// key the case sets, except credentials, which npm prints as (protected).
func TestNPMConfigListMatches(t *testing.T) {
	npm := npmtest.NPM(t)
	for _, name := range []string{"defaults", "precedence flag over all", "project npmrc found above cwd",
		"project npmrc sets userconfig", "env names", "type coercion", "unknown keys", "global config from prefix setting"} {
		var tc configCase
		for _, c := range configCases {
			if c.name == name {
				tc = c
			}
		}
		if tc.name == "" {
			t.Fatalf("no case %q", name)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			root, env, cwd := tc.setUp(t)
			env = append(env, "npm_config_cache="+filepath.Join(root, "cache"), "npm_config_update_notifier=false")
			flags := map[string]string{"json": "true"}
			args := []string{"config", "list", "--json"}
			for _, k := range sortedKeys(tc.flags) {
				flags[k] = tc.flags[k]
				args = append(args, "--"+k+"="+tc.flags[k])
			}
			cmd := exec.CommandContext(t.Context(), npm, args...)
			cmd.Env, cmd.Dir = env, cwd
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("npm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
			}
			var list map[string]json.RawMessage
			if err := json.Unmarshal(out, &list); err != nil {
				t.Fatalf("decoding npm config list --json: %v\n%s", err, out)
			}
			c, err := Load(Sources{Env: env, Cwd: cwd, Flags: flags})
			if err != nil {
				t.Fatal(err)
			}
			keys := append(sortedKeys(definitions), tc.keys...)
			compared := 0
			for _, k := range keys {
				raw, ok := list[k]
				if !ok || string(raw) == `"(protected)"` {
					continue
				}
				compared++
				if got, want := firstOf(c.Get(k)), npmValue(t, raw); got != want {
					t.Errorf("%s: Get = %q, npm config list has %q", k, got, want)
				}
			}
			if compared < len(definitions) {
				t.Errorf("compared only %d keys", compared)
			}
		})
	}
}

func firstOf(a, _ string) string { return a }
