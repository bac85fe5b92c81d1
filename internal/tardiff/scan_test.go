package tardiff

import (
	"bytes"
	"testing"
)

func TestClassifySpec(t *testing.T) {
	for spec, want := range map[string]SpecKind{
		"^1.2.3": SpecRegistry, "1.x || 2": SpecRegistry, "latest": SpecRegistry, "": SpecRegistry, "*": SpecRegistry,
		">=1 <2": SpecRegistry, "next": SpecRegistry,
		"npm:other@^1":                   SpecAlias,
		"git+https://github.com/a/b.git": SpecGit, "git://github.com/a/b": SpecGit, "git+ssh://git@github.com/a/b": SpecGit,
		"git@github.com:a/b.git": SpecGit, "github:a/b": SpecGit, "gitlab:a/b#main": SpecGit, "gist:11081aaa": SpecGit,
		"bitbucket:a/b": SpecGit, "a/b": SpecGit, "a/b#v1.0.0": SpecGit, "a/b#semver:^1": SpecGit,
		"https://example.com/x.tgz": SpecURL, "http://example.com/x": SpecURL, "ftp://x/y": SpecURL,
		"file:../x": SpecFile, "link:../x": SpecFile, "./x": SpecFile, "../x": SpecFile, "/abs": SpecFile,
		"~/x": SpecFile, "x.tgz": SpecFile, "C:\\x": SpecFile,
	} {
		if got := ClassifySpec(spec); got != want {
			t.Errorf("ClassifySpec(%q) = %s, want %s", spec, got, want)
		}
	}
}

func TestVersionStep(t *testing.T) {
	for _, tc := range []struct{ old, new, want string }{
		{"1.2.3", "1.2.4", ""}, {"1.2.3", "1.3.0", ""}, {"1.2.3", "2.0.0", ""},
		{"1.2.3", "1.2.5", "skip"}, {"1.2.3", "1.4.0", "skip"}, {"1.2.3", "3.0.0", "skip"}, {"1.2.3", "2.1.0", "skip"},
		{"1.2.3", "1.2.2", "backwards"}, {"2.0.0", "1.9.9", "backwards"}, {"1.0.0", "1.0.0-rc.1", "backwards"},
		{"1.0.0", "1.0.0", "same"}, {"1.0.0-rc.1", "1.0.0", ""}, {"1.0.0-rc.1", "1.0.0-rc.2", ""},
		{"1.0.0-alpha", "1.0.0-alpha.1", ""}, {"1.0.0-2", "1.0.0-10", ""}, {"1.0.0-10", "1.0.0-2", "backwards"},
		{"1.2.3", "1.2.4-beta.0", ""}, {"bad", "1.0.0", ""},
	} {
		if got := versionStep(tc.old, tc.new); got != tc.want {
			t.Errorf("versionStep(%s, %s) = %q, want %q", tc.old, tc.new, got, tc.want)
		}
	}
}

func TestScanLines(t *testing.T) {
	src := []byte("// one\nconst x = 1;\nrequire('child_process');\nfetch('https://a.example/x')\n")
	f := scanJS(src)
	if f.childProcess.count != 1 || f.childProcess.line != 3 {
		t.Errorf("child_process: %+v", f.childProcess)
	}
	if f.network.line != 4 || f.urls["https://a.example/x"] != 4 {
		t.Errorf("network %+v, urls %v", f.network, f.urls)
	}
}

// FuzzScanJS: the scanners count what they find wherever it is: moving
// everything down a line moves every finding down a line and changes no
// count.
func FuzzScanJS(f *testing.F) {
	f.Add([]byte("require('child_process').exec(process.env.X); fetch('http://1.2.3.4/')"))
	f.Add([]byte("var _0xabc=1;String.fromCharCode(1,2,3,4,5,6,7,8,9)\u202e"))
	f.Add([]byte("eval(x)\n//# sourceMappingURL=data:application/json;base64,AAAA"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a := scanJS(data)
		b := scanJS(append([]byte("\n"), data...))
		for _, p := range [][2]feature{
			{a.childProcess, b.childProcess}, {a.network, b.network}, {a.env, b.env}, {a.credential, b.credential},
			{a.dynamicCode, b.dynamicCode}, {a.hexIdents, b.hexIdents}, {a.charCodes, b.charCodes}, {a.base64, b.base64},
		} {
			x, y := p[0], p[1]
			if x.count != y.count || (x.count > 0 && x.line+1 != y.line) {
				t.Fatalf("finding %+v moves to %+v", x, y)
			}
		}
		if a.longestLine != b.longestLine || len(a.urls) != len(b.urls) || len(a.ips) != len(b.ips) {
			t.Fatalf("line, URL or address counts differ: %d %d, %d %d, %d %d", a.longestLine, b.longestLine, len(a.urls), len(b.urls), len(a.ips), len(b.ips))
		}
		for u, l := range a.urls {
			if b.urls[u] != l+1 {
				t.Fatalf("URL %q on line %d moves to %d", u, l, b.urls[u])
			}
		}
		ua, ub := scanUnicode(data), scanUnicode(append([]byte("\n"), data...))
		if ua.bidi.count != ub.bidi.count || ua.hidden.count != ub.hidden.count {
			t.Fatalf("unicode counts differ: %+v %+v", ua, ub)
		}
		if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
			return // a byte order mark counts only away from the start
		}
		if ua.zeroWidth.count != ub.zeroWidth.count {
			t.Fatalf("zero-width counts differ: %+v %+v", ua, ub)
		}
	})
}

// FuzzClassifySpec: surrounding white space never changes where a spec
// is fetched from, as npm trims specs.
func FuzzClassifySpec(f *testing.F) {
	for _, s := range []string{"^1.0.0", "a/b", "git+ssh://x", "npm:a@1", "file:x", "https://x", "@scope/a", "C:\\x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		if ClassifySpec(spec) != ClassifySpec(" \t"+spec+" ") {
			t.Fatalf("white space changes the kind of %q", spec)
		}
	})
}
