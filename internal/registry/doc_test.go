package registry

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/airlockdev/airlock/internal/registrytest"
)

// recorder is a registry that has no packages and accepts any publish,
// keeping the bodies it was sent.
type recorder struct {
	mu   sync.Mutex
	puts []recorded
}

type recorded struct {
	path          string
	body          []byte
	contentLength int64
	chunked       bool
	header        http.Header
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if req.Method != http.MethodPut {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"not found"}`)
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.puts = append(r.puts, recorded{req.URL.EscapedPath(), body, req.ContentLength, len(req.TransferEncoding) > 0, req.Header.Clone()})
	r.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, `{"ok":"created"}`)
}

// npmBody is npm's publish body, decoded into what a PublishDoc holds.
type npmBody struct {
	ID          string                     `json:"_id"`
	Name        string                     `json:"name"`
	Description json.RawMessage            `json:"description"`
	DistTags    map[string]string          `json:"dist-tags"`
	Versions    map[string]json.RawMessage `json:"versions"`
	Access      *string                    `json:"access"`
	Attachments map[string]struct {
		ContentType string `json:"content_type"`
		Data        string `json:"data"`
		Length      int64  `json:"length"`
	} `json:"_attachments"`
}

// TestEncodeMatchesNPM has the real npm publish to a recording registry,
// rebuilds the same document as a PublishDoc, and checks that Encode and
// Publish send exactly npm's bytes.
func TestEncodeMatchesNPM(t *testing.T) {
	for _, tc := range []struct {
		name, description string
		args              []string
	}{
		{"airlock-differential", "", nil},
		{"@airlock/differential", "quote \" backslash \\ tab \t ünïcode € 😀 \u2028 <script>&amp; \u007f \x01 \x1b[31m", []string{"--tag", "beta", "--access", "public"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			srv := newLoopbackServer(t, rec)
			regURL := srv.URL + "/"

			dir := t.TempDir()
			manifest := map[string]any{"name": tc.name, "version": "0.1.0", "main": "index.js", "license": "MIT"}
			if tc.description != "" {
				manifest["description"] = tc.description
			}
			mj, _ := json.Marshal(manifest)
			writeFile(t, filepath.Join(dir, "package.json"), mj)
			writeFile(t, filepath.Join(dir, "index.js"), []byte("module.exports = 1\n"))
			runNPM(t, dir, regURL, fakeToken, append([]string{"publish", "--ignore-scripts"}, tc.args...)...)
			if len(rec.puts) != 1 {
				t.Fatalf("npm sent %d PUTs, want 1", len(rec.puts))
			}
			npm := rec.puts[0]
			if want := "/" + EscapeName(tc.name); npm.path != want {
				t.Errorf("npm PUT to %s, the client would PUT to %s", npm.path, want)
			}

			var nb npmBody
			if err := json.Unmarshal(npm.body, &nb); err != nil {
				t.Fatal(err)
			}
			doc := PublishDoc{ID: nb.ID, Name: nb.Name, Description: nb.Description, Access: nb.Access}
			for tag, v := range nb.DistTags {
				doc.DistTags = append(doc.DistTags, DistTag{tag, v})
			}
			for v, m := range nb.Versions {
				doc.Versions = append(doc.Versions, DocVersion{v, m})
			}
			if len(nb.Attachments) != 1 || len(doc.Versions) != 1 || len(doc.DistTags) != 1 {
				t.Fatalf("npm's body has %d attachments, %d versions, %d dist-tags; the test expects 1 each",
					len(nb.Attachments), len(doc.Versions), len(doc.DistTags))
			}
			var tarball []byte
			for file, a := range nb.Attachments {
				var err error
				if tarball, err = base64.StdEncoding.DecodeString(a.Data); err != nil {
					t.Fatal(err)
				}
				doc.Attachments = append(doc.Attachments, Attachment{Name: file, ContentType: a.ContentType, Length: a.Length})
			}

			var got bytes.Buffer
			if err := doc.Encode(&got, map[string]Opener{doc.Attachments[0].Name: bytesOpener(tarball)}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), npm.body) {
				t.Fatalf("Encode differs from npm's body at byte %d:\nnpm:  %s\nours: %s",
					firstDiff(npm.body, got.Bytes()), clip(npm.body), clip(got.Bytes()))
			}

			c, _ := testClient()
			res, err := c.Publish(t.Context(), regURL, tc.name, doc, bytesOpener(tarball), bearer(fakeToken))
			if err != nil || res.Outcome != Published {
				t.Fatalf("Publish = %+v, %v", res, err)
			}
			ours := rec.puts[1]
			if !bytes.Equal(ours.body, npm.body) || ours.path != npm.path {
				t.Fatalf("Publish sent %d bytes to %s, npm %d bytes to %s (first difference at %d)",
					len(ours.body), ours.path, len(npm.body), npm.path, firstDiff(npm.body, ours.body))
			}
			if ours.chunked || ours.contentLength != int64(len(npm.body)) {
				t.Fatalf("Publish sent Content-Length %d (chunked %v), want %d", ours.contentLength, ours.chunked, len(npm.body))
			}
			for _, h := range []string{"Content-Type", "Authorization"} {
				if ours.header.Get(h) != npm.header.Get(h) {
					t.Errorf("%s: npm sent %q, Publish %q", h, npm.header.Get(h), ours.header.Get(h))
				}
			}
		})
	}
}

func TestEncodeSummarisesAttachmentsWithoutData(t *testing.T) {
	doc := npmLikeDoc("@s/p", "1.0.0", "", []byte(`{"name":"@s/p","version":"1.0.0"}`),
		sri([]byte("x")), sha1hex([]byte("x")), 1234, "https://registry.example/")
	doc.Attachments = append(doc.Attachments, Attachment{Name: "@s/p-1.0.0.sigstore", ContentType: "application/vnd.dev.sigstore.bundle+json;version=0.2", Length: 2, Data: []byte("{}")})
	var b bytes.Buffer
	if err := doc.Encode(&b, nil); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatalf("dry-run output is not JSON: %v\n%s", err, b.Bytes())
	}
	for _, want := range []string{
		`"@s/p-1.0.0.tgz":{"content_type":"application/octet-stream","data":"<1234 bytes, base64-encoded when published>","length":1234}`,
		`"@s/p-1.0.0.sigstore":{"content_type":"application/vnd.dev.sigstore.bundle+json;version=0.2","data":"{}","length":2}`,
		`"access":null`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("dry-run output lacks %s:\n%s", want, b.String())
		}
	}
}

func TestPlanRejects(t *testing.T) {
	ok := func() PublishDoc {
		return npmLikeDoc("p", "1.0.0", "", []byte(`{"name":"p","version":"1.0.0"}`), sri([]byte("x")), sha1hex([]byte("x")), 1, "http://r/")
	}
	for name, mutate := range map[string]func(*PublishDoc){
		"invalid manifest":     func(d *PublishDoc) { d.Versions[0].Manifest = []byte(`{"name":`) },
		"invalid description":  func(d *PublishDoc) { d.Description = []byte(`"unterminated`) },
		"duplicate attachment": func(d *PublishDoc) { d.Attachments = append(d.Attachments, d.Attachments[0]) },
		"negative length":      func(d *PublishDoc) { d.Attachments[0].Length = -1 },
	} {
		t.Run(name, func(t *testing.T) {
			d := ok()
			mutate(&d)
			if err := d.Encode(io.Discard, nil); err == nil {
				t.Fatal("Encode accepted it")
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func runNPM(t *testing.T, dir, regURL, token string, args ...string) {
	t.Helper()
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatalf("npm is required: %v", err)
	}
	cmd := exec.CommandContext(t.Context(), npm, append(args, "--registry", regURL)...)
	cmd.Dir = dir
	cmd.Env = registrytest.NPMEnvFor(t, regURL, token)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func firstDiff(a, b []byte) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}
