package npmrc

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFiles(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		env   []string
		cwd   string   // under the root; "" for proj
		want  []string // layer path read|reason (ChosenBy) [vars], $ROOT replaced
	}{
		{"defaults", nil, nil, "",
			[]string{
				"project $ROOT/proj/.npmrc it does not exist (the current folder, as no folder up from it has a package.json or node_modules) []",
				"user $ROOT/home/.npmrc it does not exist (userconfig (default)) [HOME]",
				"global $ROOT/prefix/etc/npmrc it does not exist (prefix (the PREFIX variable)) [PREFIX]",
			}},
		{"all read", map[string]string{"proj/package.json": "{}", "proj/.npmrc": "", "home/.npmrc": "", "prefix/etc/npmrc": ""}, nil, "",
			[]string{
				"project $ROOT/proj/.npmrc read (the nearest folder up from the current folder with a package.json) []",
				"user $ROOT/home/.npmrc read (userconfig (default)) [HOME]",
				"global $ROOT/prefix/etc/npmrc read (prefix (the PREFIX variable)) [PREFIX]",
			}},
		{"a .npmrc beside a tarball inside another project", map[string]string{"proj/package.json": "{}", "proj/dist/.npmrc": "registry=http://x/\n"}, nil, "proj/dist",
			[]string{
				"project $ROOT/proj/.npmrc it does not exist (the nearest folder up from the current folder with a package.json) []",
				"project $ROOT/proj/dist/.npmrc npm reads the project config of $ROOT/proj, the nearest folder up from the current folder with a package.json, not of the current folder (the nearest folder up from the current folder with a package.json) []",
				"user $ROOT/home/.npmrc it does not exist (userconfig (default)) [HOME]",
				"global $ROOT/prefix/etc/npmrc it does not exist (prefix (the PREFIX variable)) [PREFIX]",
			}},
		{"NPM_CONFIG_USERCONFIG", map[string]string{"rc": ""}, []string{"NPM_CONFIG_USERCONFIG=$ROOT/rc"}, "",
			[]string{
				"project $ROOT/proj/.npmrc it does not exist (the current folder, as no folder up from it has a package.json or node_modules) []",
				"user $ROOT/rc read (userconfig (env NPM_CONFIG_USERCONFIG)) []",
				"global $ROOT/prefix/etc/npmrc it does not exist (prefix (the PREFIX variable)) [PREFIX]",
			}},
		{"globalconfig from the user npmrc", map[string]string{"home/.npmrc": "globalconfig=${X}/g\n", "g": ""}, []string{"X=$ROOT"}, "",
			[]string{
				"project $ROOT/proj/.npmrc it does not exist (the current folder, as no folder up from it has a package.json or node_modules) []",
				"user $ROOT/home/.npmrc read (userconfig (default)) [HOME]",
				"global $ROOT/g read (globalconfig ($ROOT/home/.npmrc:1)) [X HOME]",
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, root := machine(t, c.files, c.env...)
			if c.cwd != "" {
				src.Cwd = filepath.Join(root, c.cwd)
			}
			cfg := mustLoad(t, src)
			var got []string
			for _, f := range cfg.Files() {
				state := "read"
				if !f.Read {
					state = f.Reason
				}
				got = append(got, strings.ReplaceAll(f.Layer+" "+f.Path+" "+state+" ("+f.ChosenBy+") ["+strings.Join(f.Vars, " ")+"]", root, "$ROOT"))
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("Files():\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
			}
		})
	}
}

func TestAssignments(t *testing.T) {
	src, root := machine(t, map[string]string{
		"home/.npmrc":       "ca=a\ncafile=~/ca.pem\n",
		"proj/package.json": "{}",
		"proj/.npmrc":       "cafile=${CA}\n",
	}, "npm_config_ca=from-env", "CA=/x.pem")
	cfg := mustLoad(t, src)
	var got []string
	for _, a := range cfg.Assignments("ca", "cafile") {
		got = append(got, strings.ReplaceAll(a.Key+" "+a.Layer+" "+a.Source+" "+jsString(a.Value)+" "+strings.Join(a.Vars, ","), root, "$ROOT"))
	}
	want := []string{
		"ca env env npm_config_ca from-env ",
		"cafile project $ROOT/proj/.npmrc:1 /x.pem CA",
		"cafile user $ROOT/home/.npmrc:2 $ROOT/home/ca.pem HOME",
		"ca user $ROOT/home/.npmrc:1 a ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Assignments:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestRegistrySource(t *testing.T) {
	src, root := machine(t, map[string]string{"home/.npmrc": "@acme:registry=http://acme.example/\nscope=other\n"}, "npm_config_registry=http://env.example/")
	cfg := mustLoad(t, src)
	for pkg, want := range map[string]string{
		"@acme/widget":  "@acme:registry $ROOT/home/.npmrc:1",
		"widget":        "registry env npm_config_registry",
		"@other/widget": "registry env npm_config_registry",
	} {
		k, s := cfg.RegistrySource(pkg)
		if got := strings.ReplaceAll(k+" "+s, root, "$ROOT"); got != want {
			t.Errorf("RegistrySource(%q) = %q, want %q", pkg, got, want)
		}
	}
	src, _ = machine(t, nil)
	if k, s := mustLoad(t, src).RegistrySource("widget"); k != "registry" || s != "default" {
		t.Errorf("default: %q %q", k, s)
	}
}
