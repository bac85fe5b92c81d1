package npmrc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlockdev/airlock/internal/hint"
)

// machine writes files (relative to a temporary root) and returns Sources
// for it: HOME=root/home, PREFIX=root/prefix, cwd root/proj.
func machine(t *testing.T, files map[string]string, env ...string) (Sources, string) {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"home", "prefix/etc", "proj"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(content, "$ROOT", root)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	all := []string{"HOME=" + filepath.Join(root, "home"), "PREFIX=" + filepath.Join(root, "prefix")}
	for _, e := range env {
		all = append(all, strings.ReplaceAll(e, "$ROOT", root))
	}
	return Sources{Env: all, Cwd: filepath.Join(root, "proj")}, root
}

func TestPrecedence(t *testing.T) {
	all := map[string]string{
		"prefix/etc/npmrc":  "tag=global\n",
		"home/.npmrc":       "\ntag=user\n",
		"proj/.npmrc":       "\n\ntag=project\n",
		"proj/package.json": "{}",
	}
	tests := []struct {
		name    string
		drop    []string // files to leave out
		env     []string
		flags   map[string]string
		want    string
		wantSrc string // $ROOT is replaced
	}{
		{"flag wins", nil, []string{"npm_config_tag=env"}, map[string]string{"tag": "flag"}, "flag", "flag"},
		{"env over files", nil, []string{"npm_config_tag=env"}, nil, "env", "env npm_config_tag"},
		{"env name case and dashes", nil, []string{"NPM_CONFIG_TAG=env"}, nil, "env", "env NPM_CONFIG_TAG"},
		{"empty env ignored", nil, []string{"npm_config_tag="}, nil, "project", "$ROOT/proj/.npmrc:3"},
		{"project over user", nil, nil, nil, "project", "$ROOT/proj/.npmrc:3"},
		{"user over global", []string{"proj/.npmrc"}, nil, nil, "user", "$ROOT/home/.npmrc:2"},
		{"global over default", []string{"proj/.npmrc", "home/.npmrc"}, nil, nil, "global", "$ROOT/prefix/etc/npmrc:1"},
		{"default", []string{"proj/.npmrc", "home/.npmrc", "prefix/etc/npmrc"}, nil, nil, "latest", "default"},
		{"flag expands", nil, []string{"T=x"}, map[string]string{"tag": "${T}"}, "x", "flag"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range all {
				files[k] = v
			}
			for _, d := range tc.drop {
				delete(files, d)
			}
			src, root := machine(t, files, tc.env...)
			src.Flags = tc.flags
			c, err := Load(src)
			if err != nil {
				t.Fatal(err)
			}
			v, s := c.Get("tag")
			if want := strings.ReplaceAll(tc.wantSrc, "$ROOT", root); v != tc.want || s != want {
				t.Errorf("Get(tag) = %q from %q, want %q from %q", v, s, tc.want, want)
			}
		})
	}
}

func TestSources(t *testing.T) {
	t.Run("explicit user config", func(t *testing.T) {
		src, root := machine(t, map[string]string{"home/.npmrc": "tag=home\n", "mine": "tag=mine\n"},
			"npm_config_userconfig=$ROOT/home/.npmrc")
		src.UserConfig = filepath.Join(root, "mine")
		c := mustLoad(t, src)
		if v, s := c.Get("tag"); v != "mine" || s != src.UserConfig+":1" {
			t.Errorf("tag = %q from %q", v, s)
		}
		if v, s := c.Get("userconfig"); v != src.UserConfig || s != "caller" {
			t.Errorf("userconfig = %q from %q", v, s)
		}
	})
	t.Run("NPM_CONFIG_USERCONFIG", func(t *testing.T) {
		src, root := machine(t, map[string]string{"rc": "tag=rc\n"}, "NPM_CONFIG_USERCONFIG=$ROOT/rc")
		c := mustLoad(t, src)
		if v, _ := c.Get("tag"); v != "rc" {
			t.Errorf("tag = %q", v)
		}
		if v, s := c.Get("userconfig"); v != filepath.Join(root, "rc") || s != "env NPM_CONFIG_USERCONFIG" {
			t.Errorf("userconfig = %q from %q", v, s)
		}
	})
	t.Run("Home overrides HOME", func(t *testing.T) {
		src, root := machine(t, map[string]string{"other/.npmrc": "tag=other\n", "home/.npmrc": "tag=home\n"})
		src.Home = filepath.Join(root, "other")
		if v, _ := mustLoad(t, src).Get("tag"); v != "other" {
			t.Errorf("tag = %q", v)
		}
	})
	t.Run("no cwd, no project config", func(t *testing.T) {
		src, _ := machine(t, map[string]string{"proj/.npmrc": "tag=project\n"})
		src.Cwd = ""
		if v, s := mustLoad(t, src).Get("tag"); v != "latest" || s != "default" {
			t.Errorf("tag = %q from %q", v, s)
		}
	})
	t.Run("explicit global config", func(t *testing.T) {
		src, root := machine(t, map[string]string{"g": "tag=g\n", "prefix/etc/npmrc": "tag=prefix\n"})
		src.GlobalConfig = filepath.Join(root, "g")
		if v, _ := mustLoad(t, src).Get("tag"); v != "g" {
			t.Errorf("tag = %q", v)
		}
	})
	t.Run("no prefix, no global config", func(t *testing.T) {
		c := mustLoad(t, Sources{Env: []string{"HOME=/nonexistent"}})
		if v, s := c.Get("globalconfig"); v != "" || s != "" {
			t.Errorf("globalconfig = %q from %q", v, s)
		}
		if v, _ := c.Get("userconfig"); v != "/nonexistent/.npmrc" {
			t.Errorf("userconfig = %q", v)
		}
	})
	t.Run("relative config path without cwd is an error", func(t *testing.T) {
		_, err := Load(Sources{Env: []string{"npm_config_userconfig=rc"}})
		if err == nil || !strings.Contains(err.Error(), "relative path") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("unreadable config is an error", func(t *testing.T) {
		src, root := machine(t, nil)
		src.UserConfig = filepath.Join(root, "home") // a folder
		_, err := Load(src)
		if err == nil || !strings.Contains(err.Error(), "reading user config") {
			t.Errorf("err = %v", err)
		}
	})
}

func mustLoad(t *testing.T, src Sources) *Config {
	t.Helper()
	c, err := Load(src)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		env   []string
		want  string // after $ROOT/
	}{
		{"legacy token", map[string]string{"home/.npmrc": "\n\n_authToken=x\n"}, nil,
			"home/.npmrc:3: `_authToken` must be renamed to `//registry.npmjs.org/:_authToken`"},
		{"legacy token follows registry", map[string]string{"home/.npmrc": "registry=https://r.example/a/b\n_auth=x\n"}, nil,
			"home/.npmrc:2: `_auth` must be renamed to `//r.example/a/:_auth`"},
		{"username alone", map[string]string{"prefix/etc/npmrc": "username=u\n"}, nil,
			"prefix/etc/npmrc:1: `username` is not allowed"},
		{"bad registry", map[string]string{"proj/.npmrc": "; x\nregistry=nope\n"}, nil,
			"proj/.npmrc:2: registry is not a valid URL"},
		{"null section", map[string]string{"home/.npmrc": "a=null\n[a.b]\n"}, nil,
			"home/.npmrc:2: a dotted section cannot nest under a key whose value is null"},
		{"exclusive", map[string]string{"home/.npmrc": "provenance-file=x\n"}, []string{"npm_config_provenance=true"},
			"home/.npmrc:1: --provenance-file cannot be provided when using --provenance"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, root := machine(t, tc.files, tc.env...)
			_, err := Load(src)
			if err == nil || !strings.Contains(err.Error(), root+"/"+tc.want) {
				t.Errorf("err = %v\nwant it to contain $ROOT/%s", err, tc.want)
			}
		})
	}
}

func TestInvalidAuthError(t *testing.T) {
	src, _ := machine(t, map[string]string{"home/.npmrc": "_authToken=x\n"})
	_, err := Load(src)
	var ae *AuthConfigError
	if !errors.Is(err, ErrInvalidAuth) || !errors.As(err, &ae) || len(ae.Problems) != 1 {
		t.Fatalf("err = %#v", err)
	}
	if hint.Of(err) == "" {
		t.Error("no hint")
	}
}

// creds is an npmrc exercising nerf-dart matching. Each token names the
// key it is stored under.
const creds = `registry=https://reg.example/npm/
//reg.example/npm/:_authToken=t-npm
//reg.example:8443/:_authToken=t-8443
//reg.example/deep/x:_authToken=t-deep-x
//other.example/:_authToken=t-other
@far:registry=https://far.example/
@near:registry=https://reg.example/near/
//basic.example/:username=me
//basic.example/:_password=cGFzcw==
//auth.example/:_auth=bWU6cGFzcw==
`

func TestCredentials(t *testing.T) {
	src, _ := machine(t, map[string]string{"home/.npmrc": creds})
	c := mustLoad(t, src)
	tests := []struct {
		url, pkg, want string // want: Authorization header, "" for none
	}{
		{"https://reg.example/npm/pkg", "", "Bearer t-npm"},
		{"http://reg.example/npm/pkg", "", "Bearer t-npm"},        // scheme ignored
		{"https://reg.example:443/npm/pkg", "", "Bearer t-npm"},   // default port dropped
		{"https://REG.example/npm/pkg", "", "Bearer t-npm"},       // host case
		{"https://reg.example/npm", "", "Bearer t-npm"},           // the registry itself, no slash
		{"https://reg.example/npm/a/../pkg", "", "Bearer t-npm"},  // dot segments
		{"https://reg.example/npmx/pkg", "", "Bearer t-npm"},      // same host as the registry
		{"https://reg.example:8443/npm/pkg", "", "Bearer t-8443"}, // port is part of the key
		{"https://reg.example:9999/npm/pkg", "", ""},              // other port: other host
		{"https://reg.example/deep/x/y", "", "Bearer t-deep-x"},   // key without trailing slash
		{"https://reg.example/deep/xy", "", "Bearer t-npm"},       // not under it: registry fallback
		{"https://other.example/anything", "", "Bearer t-other"},  // root key covers every path
		{"https://sub.other.example/", "", ""},                    // no subdomain matching
		{"https://far.example/@far%2fp", "@far/p", ""},            // scoped registry elsewhere: no default creds
		{"https://reg.example/near/@near%2fp", "@near/p", ""},     // its registry has none; the default's is not used
		{"https://basic.example/p", "", "Basic bWU6cGFzcw=="},
		{"https://auth.example/p", "", "Basic bWU6cGFzcw=="},
		{"not a url", "", ""},
	}
	for _, tc := range tests {
		var h Secret
		var err error
		if tc.pkg != "" {
			h, _, err = ConfigAuth{c}.Authorization(context.Background(), tc.url, tc.pkg)
		} else {
			cr, _ := c.Credentials(tc.url)
			h, _ = cr.Header()
		}
		if h.Reveal() != tc.want {
			t.Errorf("%s (pkg %q): Authorization %q, want %q (err %v)", tc.url, tc.pkg, h.Reveal(), tc.want, err)
		}
	}
	cr, ok := c.Credentials("https://reg.example/npm/p")
	if !ok || !strings.HasPrefix(cr.Source, "//reg.example/npm/:_authToken (") || !strings.HasSuffix(cr.Source, "/home/.npmrc:2)") {
		t.Errorf("source = %q", cr.Source)
	}
}

func TestRegistryFor(t *testing.T) {
	src, _ := machine(t, map[string]string{"home/.npmrc": "@a:registry=https://a.example/x\n@b:registry=https://b.example/y//\n"})
	c := mustLoad(t, src)
	for pkg, want := range map[string]string{
		"p":     DefaultRegistry,
		"@a/p":  "https://a.example/x/",
		"@b/p":  "https://b.example/y//",
		"@c/p":  DefaultRegistry,
		"@a":    DefaultRegistry,
		"@a/":   "https://a.example/x/",
		"a/@b/": DefaultRegistry,
	} {
		if got := c.RegistryFor(pkg); got != want {
			t.Errorf("RegistryFor(%q) = %q, want %q", pkg, got, want)
		}
	}
	src.Flags = map[string]string{"scope": "a"}
	if got := mustLoad(t, src).RegistryFor("unscoped"); got != "https://a.example/x/" {
		t.Errorf("with --scope=a, RegistryFor(unscoped) = %q", got)
	}
}

func TestWithPublishConfig(t *testing.T) {
	src, _ := machine(t, map[string]string{"home/.npmrc": "tag=user\n//pc.example/:_authToken=t-pc\n//registry.npmjs.org/:_authToken=t-default\n"})
	src.Flags = map[string]string{"access": "restricted"}
	c := mustLoad(t, src)
	p := c.WithPublishConfig(map[string]any{
		"registry":                      "https://pc.example",
		"tag":                           "next",
		"access":                        "public",
		"provenance":                    true,
		"//pc.example/:_authToken":      "from-package",
		"@s:registry":                   "https://s.example/",
		"//registry.npmjs.org/:_auth":   "x",
		"${NOT_EXPANDED}":               "${X}",
		"fetch-retries":                 float64(3),
		"unknown-but-harmless-settings": []any{"a", "b"},
	})
	for key, want := range map[string][2]string{
		"registry":        {"https://pc.example", "publishConfig"},
		"tag":             {"next", "publishConfig"},
		"access":          {"restricted", "flag"},
		"provenance":      {"true", "publishConfig"},
		"fetch-retries":   {"3", "publishConfig"},
		"${NOT_EXPANDED}": {"${X}", "publishConfig"},
	} {
		if v, s := p.Get(key); v != want[0] || s != want[1] {
			t.Errorf("Get(%q) = %q from %q, want %q from %q", key, v, s, want[0], want[1])
		}
	}
	if v, _ := c.Get("tag"); v != "user" {
		t.Errorf("the original config changed: tag = %q", v)
	}
	if got := p.RegistryFor("x"); got != "https://pc.example/" {
		t.Errorf("RegistryFor = %q", got)
	}
	h, _, err := ConfigAuth{p}.Authorization(context.Background(), p.RegistryFor("x")+"x", "x")
	if err != nil || h.Reveal() != "Bearer t-pc" {
		t.Errorf("Authorization = %q, %v; want the npmrc's token, not the package's", h.Reveal(), err)
	}
}

// fakeOIDC stands in for the OIDC exchange a later step adds.
type fakeOIDC struct {
	token string
	err   error
}

func (f fakeOIDC) Authorization(context.Context, string, string) (Secret, string, error) {
	if f.err != nil {
		return Secret{}, "", f.err
	}
	if f.token == "" {
		return Secret{}, "", ErrNoCredentials
	}
	return NewSecret("Bearer " + f.token), "oidc", nil
}

func TestChain(t *testing.T) {
	src, _ := machine(t, map[string]string{"home/.npmrc": "//registry.npmjs.org/:_authToken=configured\n"})
	c := mustLoad(t, src)
	url := c.RegistryFor("p") + "p"
	ctx := context.Background()

	h, s, err := Chain{fakeOIDC{token: "exchanged"}, ConfigAuth{c}}.Authorization(ctx, url, "p")
	if err != nil || h.Reveal() != "Bearer exchanged" || s != "oidc" {
		t.Errorf("OIDC first: %q %q %v", h.Reveal(), s, err)
	}
	h, s, err = Chain{fakeOIDC{}, ConfigAuth{c}}.Authorization(ctx, url, "p")
	if err != nil || h.Reveal() != "Bearer configured" || !strings.Contains(s, "_authToken") {
		t.Errorf("fallback to config: %q %q %v", h.Reveal(), s, err)
	}
	boom := errors.New("exchange failed")
	if _, _, err = (Chain{fakeOIDC{err: boom}, ConfigAuth{c}}).Authorization(ctx, url, "p"); !errors.Is(err, boom) {
		t.Errorf("a failing exchange must not fall back silently: %v", err)
	}
	if _, _, err = (Chain{fakeOIDC{}, ConfigAuth{c}}).Authorization(ctx, "https://elsewhere.example/p", "p"); !errors.Is(err, ErrNoCredentials) || hint.Of(err) == "" {
		t.Errorf("no credentials anywhere: %v", err)
	}
}

func TestUnsetVariableInToken(t *testing.T) {
	src, _ := machine(t, map[string]string{"home/.npmrc": "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n"})
	c := mustLoad(t, src)
	cr, ok := c.Credentials("https://registry.npmjs.org/p")
	if !ok || cr.Token.Reveal() != "${NPM_TOKEN}" || len(cr.Unset) != 1 {
		t.Fatalf("npm sends the reference literally: %+v %v", cr, ok)
	}
	_, _, err := ConfigAuth{c}.Authorization(context.Background(), "https://registry.npmjs.org/p", "p")
	if err == nil || !strings.Contains(err.Error(), "${NPM_TOKEN}, which is not set") {
		t.Errorf("err = %v", err)
	}
}

func TestCredentialsByURI(t *testing.T) {
	src, _ := machine(t, map[string]string{"home/.npmrc": "registry=https://host.example/npm/\n//host.example/:_authToken=root\n//exact.example/r/:_authToken=exact\n"})
	c := mustLoad(t, src)
	// npm sends the parent path's token to the registry...
	if cr, ok := c.Credentials("https://host.example/npm/p"); !ok || cr.Token.Reveal() != "root" {
		t.Errorf("Credentials = %v, %v", cr.Token.Reveal(), ok)
	}
	// ...but npm publish first looks only at the registry's own key.
	if _, ok := c.CredentialsByURI("https://host.example/npm/"); ok {
		t.Error("CredentialsByURI found credentials npm publish would not")
	}
	if cr, ok := c.CredentialsByURI("https://exact.example/r/"); !ok || cr.Token.Reveal() != "exact" {
		t.Errorf("CredentialsByURI = %v, %v", cr.Token.Reveal(), ok)
	}
	// Without the trailing slash the last segment is dropped, as in npm.
	if _, ok := c.CredentialsByURI("https://exact.example/r"); ok {
		t.Error("CredentialsByURI(no slash) should look at //exact.example/")
	}
}
