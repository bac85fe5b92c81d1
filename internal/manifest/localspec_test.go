package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/airlockdev/airlock/internal/hint"
)

func TestLocalSpecClassification(t *testing.T) {
	tests := []struct {
		spec string
		want localKind
	}{
		// Protocols only workspace-aware package managers understand.
		{"workspace:*", workspaceSpec},
		{"workspace:^1.2.0", workspaceSpec},
		{"workspace:../other", workspaceSpec},
		{"Workspace:~", workspaceSpec},
		{" workspace:^", workspaceSpec},
		{"catalog:", catalogSpec},
		{"catalog:react18", catalogSpec},
		{"link:../x", linkSpec},
		{"link:./vendor/x", linkSpec},
		{"portal:../x", linkSpec},

		// Paths out of the package folder.
		{"file:../x", outsidePath},
		{"FILE:../x", outsidePath},
		{"file:/abs/x", outsidePath},
		{"file:///abs/x", outsidePath},
		{"file://host/x", outsidePath},
		{"file://../x", outsidePath},
		{"file:/../x", outsidePath},
		{"file:///../x", outsidePath},
		{"file:~/x", outsidePath},
		{"file:~", outsidePath},
		{"file:a/../../x", outsidePath},
		{"file:./a/b/../../../x", outsidePath},
		{"file:..", outsidePath},
		{`file:..\x`, outsidePath},
		{"file:C:/x", outsidePath},
		{"file:/C:/x", outsidePath},
		{"../x", outsidePath},
		{"..", outsidePath},
		{"/abs/x.tgz", outsidePath},
		{`\\server\share`, outsidePath},
		{"~/x", outsidePath},
		{"C:/x", outsidePath},
		{`c:\x`, outsidePath},
		{"a/../../x", outsidePath},

		// npm: aliases take their target's verdict.
		{"npm:other@workspace:*", workspaceSpec},
		{"npm:@scope/other@workspace:^1.0.0", workspaceSpec},
		{"npm:other@catalog:", catalogSpec},
		{"npm:other@file:../x", outsidePath},
		{"npm:../x", outsidePath},
		{"npm:file:../x", outsidePath},

		// Specs an install resolves.
		{"^1.2.3", notLocal},
		{"1.x || 2.x", notLocal},
		{">=1.0.0 <2", notLocal},
		{"*", notLocal},
		{"", notLocal},
		{"latest", notLocal},
		{"~1.2", notLocal},
		{"~", notLocal},
		{"npm:other@^1.0.0", notLocal},
		{"npm:@scope/other@2", notLocal},
		{"npm:other", notLocal},
		{"file:vendor/x", notLocal},
		{"file:./vendor/x.tgz", notLocal},
		{"file:.", notLocal},
		{"file:", notLocal},
		{"file:///./x", notLocal},
		{"file:a/../b", notLocal},
		{"./vendor/x", notLocal},
		{"vendor/x.tgz", notLocal},
		{"..x", notLocal},
		{"x.tgz", notLocal},
		{"user/repo", notLocal},
		{"user/repo#v1.0.0", notLocal},
		{"github:user/repo", notLocal},
		{"git+https://github.com/user/repo.git#semver:^1", notLocal},
		{"git@github.com:user/repo.git", notLocal},
		{"https://example.com/x-1.0.0.tgz", notLocal},
		{"git+file:///../x", notLocal}, // git URLs are fetched by git, not read as paths
	}
	for _, tt := range tests {
		if got := classify(tt.spec).kind; got != tt.want {
			t.Errorf("classify(%q) = %v, want %v", tt.spec, got, tt.want)
		}
	}
}

func TestLocalSpecs(t *testing.T) {
	doc := `{
		"name": "x", "version": "1.0.0",
		"dependencies": {"b": "workspace:*", "ok": "^1", "a": "file:../a", "inside": "file:vendor/i", "n": 3},
		"optionalDependencies": {"o": "link:../o"},
		"peerDependencies": {"p": "catalog:"},
		"devDependencies": {"d": "workspace:^", "e": "1.0.0"},
		"overrides": {"z": "workspace:*"}
	}`
	refuse, warn, err := LocalSpecs([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	wantRefuse := []LocalSpec{
		{"dependencies", "b", "workspace:*"},
		{"dependencies", "a", "file:../a"},
		{"optionalDependencies", "o", "link:../o"},
		{"peerDependencies", "p", "catalog:"},
	}
	if !reflect.DeepEqual(refuse, wantRefuse) {
		t.Errorf("refuse = %v\nwant     %v", refuse, wantRefuse)
	}
	if want := []LocalSpec{{"devDependencies", "d", "workspace:^"}}; !reflect.DeepEqual(warn, want) {
		t.Errorf("warn = %v, want %v", warn, want)
	}

	refuse, warn, err = LocalSpecs([]byte(`{"name":"x","dependencies":{"a":"^1"},"devDependencies":"junk"}`))
	if err != nil || refuse != nil || warn != nil {
		t.Errorf("clean package: refuse %v, warn %v, err %v", refuse, warn, err)
	}
	for _, bad := range []string{"", "[]", `{"a":`, `{} {}`} {
		if _, _, err := LocalSpecs([]byte(bad)); err == nil {
			t.Errorf("LocalSpecs(%q) accepted", bad)
		}
	}
}

func TestLocalSpecError(t *testing.T) {
	tests := []struct {
		spec       LocalSpec
		msg, hint_ string
	}{
		{LocalSpec{"dependencies", "lib", "workspace:^1.2.0"},
			`dependencies "lib" is "workspace:^1.2.0", a workspace spec, which only resolves in the source tree: installs of the published package cannot resolve it (npm: EUNSUPPORTEDPROTOCOL)`,
			`write "^1.2.0" in package.json`},
		{LocalSpec{"dependencies", "lib", "workspace:*"}, "a workspace spec", `such as "^1.2.0"`},
		{LocalSpec{"peerDependencies", "react", "catalog:react18"}, "a pnpm catalog spec", "pnpm-workspace.yaml"},
		{LocalSpec{"optionalDependencies", "x", "link:../x"}, "a link to a folder", "publish the linked package"},
		{LocalSpec{"dependencies", "x", "file:../x"}, "a path outside the package, which is not in the tarball", "move it inside the package folder"},
		{LocalSpec{"dependencies", "x", "npm:y@workspace:*"}, "an npm: alias to a workspace spec", "workspace: specs"},
	}
	for _, tt := range tests {
		err := tt.spec.Error()
		if !errors.Is(err, ErrLocalSpec) {
			t.Errorf("%v: error does not match ErrLocalSpec", tt.spec)
		}
		if !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%v: error %q, want it to contain %q", tt.spec, err, tt.msg)
		}
		// The hint survives wrapping, as the callers wrap it.
		if h := hint.Of(fmt.Errorf("x@1.0.0: %w", err)); !strings.Contains(h, tt.hint_) {
			t.Errorf("%v: hint %q, want it to contain %q", tt.spec, h, tt.hint_)
		}
	}
}

// FuzzLocalSpecs checks that what LocalSpecs reports is found again, in
// the same order, in a package.json made of the reports alone, and that
// re-encoding the document changes nothing.
func FuzzLocalSpecs(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		refuse, warn, err := LocalSpecs(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		for _, s := range append(append([]LocalSpec{}, refuse...), warn...) {
			e := s.Error()
			if !errors.Is(e, ErrLocalSpec) || hint.Of(e) == "" || !strings.Contains(e.Error(), fmt.Sprintf("%q", s.Spec)) {
				t.Fatalf("%v: bad error %q (hint %q)", s, e, hint.Of(e))
			}
		}
		for _, s := range warn {
			if s.Field != devField {
				t.Fatalf("warning for %v, outside devDependencies", s)
			}
		}
		for _, s := range refuse {
			if s.Field == devField {
				t.Fatalf("refusal of %v", s)
			}
		}

		rebuilt := documentOf(t, append(append([]LocalSpec{}, refuse...), warn...))
		r2, w2, err := LocalSpecs(rebuilt)
		if err != nil {
			t.Fatalf("rebuilt document: %v\n%s", err, rebuilt)
		}
		if !equalSpecs(r2, refuse) || !equalSpecs(w2, warn) {
			t.Fatalf("reports of the rebuilt document differ:\n%v %v\n%v %v\n%s", refuse, warn, r2, w2, rebuilt)
		}

		var doc any
		dec := json.NewDecoder(bytes.NewReader(trimBOM(data)))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("LocalSpecs accepted what does not decode: %v", err)
		}
		again, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		r3, w3, err := LocalSpecs(again)
		if err != nil {
			t.Fatalf("re-encoded document: %v", err)
		}
		// Re-encoding sorts keys, so compare as sets.
		if !sameSet(r3, refuse) || !sameSet(w3, warn) {
			t.Fatalf("re-encoding changed the reports:\n%v %v\n%v %v", refuse, warn, r3, w3)
		}
	})
}

// documentOf writes a package.json holding exactly specs, in their order.
func documentOf(t *testing.T, specs []LocalSpec) []byte {
	var b bytes.Buffer
	b.WriteString("{")
	fields := map[string][]LocalSpec{}
	var order []string
	for _, s := range specs {
		if _, ok := fields[s.Field]; !ok {
			order = append(order, s.Field)
		}
		fields[s.Field] = append(fields[s.Field], s)
	}
	for i, f := range order {
		if i > 0 {
			b.WriteString(",")
		}
		k, _ := json.Marshal(f)
		b.Write(k)
		b.WriteString(":{")
		for j, s := range fields[f] {
			if j > 0 {
				b.WriteString(",")
			}
			n, _ := json.Marshal(s.Name)
			v, _ := json.Marshal(s.Spec)
			b.Write(n)
			b.WriteString(":")
			b.Write(v)
		}
		b.WriteString("}")
	}
	b.WriteString("}")
	return b.Bytes()
}

func equalSpecs(a, b []LocalSpec) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

func sameSet(a, b []LocalSpec) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[LocalSpec]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}
