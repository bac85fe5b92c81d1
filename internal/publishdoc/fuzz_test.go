package publishdoc

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/airlockdev/airlock/internal/jsvalue"
	"github.com/airlockdev/airlock/internal/manifest"
)

// FuzzBuild feeds Build arbitrary package.json and readme bytes and checks
// that it never panics, that what it encodes is JSON, and that the
// document names the package and version it was given, cleaned as npm
// cleans them.
func FuzzBuild(f *testing.F) {
	f.Add([]byte(`{"name":"a","version":"1.0.0"}`), []byte("# a\n\ntext"))
	f.Fuzz(func(t *testing.T, packageJSON, readme []byte) {
		fsys := newMemFS()
		fsys.add("package.json", packageJSON, 0)
		fsys.add("README.md", readme, 0)
		fsys.add("bin/tool", nil, 0)
		fsys.add("man/tool.1", nil, 0)
		fsys.add("index.d.ts", nil, 0)
		tarball := bytes.Repeat([]byte{0x1f, 0x8b, 0}, 11)
		in := Input{
			PackageJSON: packageJSON,
			Files:       fsys,
			Integrity:   "sha512-AAAA",
			Shasum:      "0000",
			Size:        int64(len(tarball)),
			Registry:    "https://registry.example/",
			Tag:         "next",
			Tool:        Airlock("1.0.0"),
		}
		doc, err := Build(in)
		if err != nil {
			return
		}

		var body bytes.Buffer
		if err := doc.Encode(&body, bytes.NewReader(tarball)); err != nil {
			t.Fatal(err)
		}
		if !json.Valid(body.Bytes()) {
			t.Fatalf("Encode wrote invalid JSON: %q", body.Bytes())
		}
		if int64(body.Len()) != doc.EncodedLen() {
			t.Fatalf("EncodedLen() = %d, Encode wrote %d", doc.EncodedLen(), body.Len())
		}
		meta, err := doc.MarshalJSON()
		if err != nil || !json.Valid(meta) {
			t.Fatalf("MarshalJSON: %v %q", err, meta)
		}

		// What the input says, read independently of Build.
		var raw map[string]any
		if err := json.Unmarshal(bytes.TrimPrefix(packageJSON, []byte("\xef\xbb\xbf")), &raw); err == nil {
			if name, ok := raw["name"].(string); ok && doc.Name() != jsvalue.Trim(name) {
				t.Errorf("name %q, input %q", doc.Name(), name)
			}
			if v, ok := raw["version"].(string); ok && manifest.ValidateVersion(v) == nil {
				want, _, _ := strings.Cut(v, "+") // build metadata is dropped
				if doc.Version() != want {
					t.Errorf("version %q, input %q", doc.Version(), v)
				}
			}
		}
		if err := manifest.ValidateVersion(doc.Version()); err != nil {
			t.Errorf("published version: %v", err)
		}
		if err := manifest.ValidateName(doc.Name()); err != nil {
			t.Errorf("published name: %v", err)
		}

		var sent struct {
			ID          string                    `json:"_id"`
			Name        string                    `json:"name"`
			DistTags    map[string]string         `json:"dist-tags"`
			Versions    map[string]map[string]any `json:"versions"`
			Attachments map[string]struct {
				Data   string  `json:"data"`
				Length float64 `json:"length"`
			} `json:"_attachments"`
		}
		if err := json.Unmarshal(body.Bytes(), &sent); err != nil {
			t.Fatal(err)
		}
		v := doc.Version()
		if sent.ID != doc.Name() || sent.Name != doc.Name() || len(sent.Versions) != 1 || sent.Versions[v] == nil {
			t.Fatalf("document names %q/%q with versions %v, want %q@%q", sent.ID, sent.Name, sent.Versions, doc.Name(), v)
		}
		vdoc := sent.Versions[v]
		if vdoc["name"] != doc.Name() || vdoc["version"] != v || vdoc["_id"] != doc.Name()+"@"+v {
			t.Errorf("version document says %v@%v (_id %v)", vdoc["name"], vdoc["version"], vdoc["_id"])
		}
		if sent.DistTags[doc.Tag()] != v {
			t.Errorf("dist-tags %v, want %s: %s", sent.DistTags, doc.Tag(), v)
		}
		att, ok := sent.Attachments[doc.Name()+"-"+v+".tgz"]
		if !ok || int64(att.Length) != in.Size || att.Data == "" {
			t.Errorf("attachments %v", sent.Attachments)
		}
		m := doc.Manifest()
		if m["name"] != doc.Name() || m["version"] != v {
			t.Errorf("Manifest() says %v@%v", m["name"], m["version"])
		}
	})
}
