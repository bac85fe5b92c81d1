package tardiff

import (
	"context"
	"encoding/json"
	"testing"
)

// FuzzCompare: whatever two versions' package.json and code hold (both
// come from whoever published them), Compare does not panic, gives the
// same report every time, gives each signal one ID, and finds nothing
// when a version is compared with itself.
func FuzzCompare(f *testing.F) {
	f.Add([]byte(`{"name":"a","version":"1.0.0"}`), []byte(`{"name":"a","version":"1.0.1","scripts":{"postinstall":"node x.js"}}`),
		[]byte("module.exports=1"), []byte("require('child_process').exec(process.env.NPM_TOKEN)"))
	f.Add([]byte(`{"name":"a","version":"1.0.0","dependencies":{"x":"^1"}}`), []byte(`{"name":"a","version":"0.9.0","dependencies":{"x":"github:o/r","y":"file:../y"},"bin":{"a":"x.js"}}`),
		[]byte("fetch('https://e.example/')"), []byte("eval(String.fromCharCode(104,105,106,107,108,109,110,111,112,113,114))\u202e"))
	f.Add([]byte(`{"name":"a","version":"1.0.0","exports":{".":"./x.js"}}`), []byte(`{"name":"a","version":"2.0.0","exports":null,"files":[1,{}]}`),
		[]byte("\x7fELF"), []byte("\x00asm"))
	lim := Limits{MaxFile: 1 << 16, MaxTotal: 1 << 18}
	lim.Inspect.MaxUnpackedSize = 1 << 20
	f.Fuzz(func(t *testing.T, oldManifest, newManifest, oldCode, newCode []byte) {
		read := func(manifest, code []byte) *Package {
			data := tarball(t, map[string]*fixtureFile{"package.json": {data: manifest, mode: 0o644}, "x.js": {data: code, mode: 0o755}})
			p, err := Read(context.Background(), "f.tgz", data, lim)
			if err != nil {
				return nil // not a package publish would take
			}
			return p
		}
		old, new := read(oldManifest, oldCode), read(newManifest, newCode)
		if old == nil || new == nil {
			return
		}
		r := Compare(old, new, Options{Patch: true})
		again, _ := json.Marshal(Compare(old, new, Options{Patch: true}))
		if first, _ := json.Marshal(r); string(first) != string(again) {
			t.Fatalf("two comparisons differ:\n%s\n%s", first, again)
		}
		ids := map[string]bool{}
		for _, s := range r.Signals {
			if s.ID == "" || ids[s.ID] {
				t.Fatalf("signal ID %q empty or repeated in %+v", s.ID, r.Signals)
			}
			ids[s.ID] = true
		}
		if same := Compare(new, new, Options{}); len(same.Files) != 0 || len(same.Signals) != 0 {
			t.Fatalf("a version compared with itself: %+v", same)
		}
	})
}
