package frontdoor

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// tarball makes a small npm package tarball for name@version.
func tarball(t testing.TB, name, version string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	pkg, _ := json.Marshal(map[string]string{"name": name, "version": version})
	files := []struct{ name, body string }{
		{"package/package.json", string(pkg)},
		{"package/index.js", "module.exports = " + `"` + name + "@" + version + `"` + "\n"},
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), ModTime: time.Unix(499162500, 0), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, f.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// body is a publish body as libnpmpublish builds it, as a map tests may
// change before encoding it.
type body map[string]any

// publishBody builds the body `npm publish` sends for tgz; bundle, if not
// nil, is attached as npm attaches a provenance bundle.
func publishBody(name, version string, tgz, bundle []byte) body {
	sum512 := sha512.Sum512(tgz)
	sum1 := sha1.Sum(tgz)
	tarName := name + "-" + version + ".tgz"
	b := body{
		"_id":         name,
		"name":        name,
		"description": "a test package",
		"dist-tags":   map[string]any{"latest": version},
		"access":      "public",
		"versions": map[string]any{
			version: map[string]any{
				"name":    name,
				"version": version,
				"_id":     name + "@" + version,
				"dist": map[string]any{
					"integrity": "sha512-" + base64.StdEncoding.EncodeToString(sum512[:]),
					"shasum":    hex.EncodeToString(sum1[:]),
					"tarball":   "http://registry.invalid/" + name + "/-/" + tarName,
				},
			},
		},
		"_attachments": map[string]any{
			tarName: map[string]any{
				"content_type": "application/octet-stream",
				"data":         base64.StdEncoding.EncodeToString(tgz),
				"length":       len(tgz),
			},
		},
	}
	if bundle != nil {
		b["_attachments"].(map[string]any)[name+"-"+version+".sigstore"] = map[string]any{
			"content_type": "application/vnd.dev.sigstore.bundle.v0.3+json",
			"data":         string(bundle),
			"length":       len(bundle),
		}
	}
	return b
}

func (b body) version(v string) map[string]any {
	return b["versions"].(map[string]any)[v].(map[string]any)
}

func (b body) encode(t testing.TB) []byte {
	t.Helper()
	// As JSON.stringify does: <, > and & as they are.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(b); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

const slsaV1 = "https://slsa.dev/provenance/v1"

// provenanceBundle makes a Sigstore bundle whose DSSE statement is about
// name@version and tgz. It is not signed: the front door stores bundles,
// it does not verify them.
func provenanceBundle(t testing.TB, name, version string, tgz []byte) []byte {
	t.Helper()
	sum := sha512.Sum512(tgz)
	statement, _ := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": "pkg:npm/" + strings.Replace(name, "@", "%40", 1) + "@" + version, "digest": map[string]string{"sha512": hex.EncodeToString(sum[:])}}},
		"predicateType": slsaV1,
		"predicate":     map[string]any{"buildDefinition": map[string]any{"buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1"}},
	})
	b, err := json.Marshal(map[string]any{
		"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
		"verificationMaterial": map[string]any{
			"certificate": map[string]string{"rawBytes": "MIIB"},
			"tlogEntries": []any{map[string]any{"logIndex": "1", "integratedTime": "1700000000"}},
		},
		"dsseEnvelope": map[string]any{
			"payload":     base64.StdEncoding.EncodeToString(statement),
			"payloadType": "application/vnd.in-toto+json",
			"signatures":  []any{map[string]string{"sig": "MEUCIQ", "keyid": ""}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// answer is an HTTP response read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v\n%s", a.status, err, a.body)
	}
	return v
}

// message is the message of an error answer, checking that "error" says
// the same.
func (a answer) message(t testing.TB) string {
	t.Helper()
	v := a.json(t)
	msg, _ := v["message"].(string)
	if msg == "" || v["error"] != msg {
		t.Fatalf("answer %d: want error and message with the same text, got %s", a.status, a.body)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("answer %d has content type %q, want application/json", a.status, ct)
	}
	return msg
}

// do sends a request and reads the answer; hdr holds header pairs.
func do(t testing.TB, method, url string, body []byte, hdr ...string) answer {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: data}
}

func bearerHeader(token string) []string { return []string{"Authorization", "Bearer " + token} }

// wantStatus fails the test unless a has status want.
func wantStatus(t testing.TB, what string, a answer, want int) {
	t.Helper()
	if a.status != want {
		t.Fatalf("%s: got %d, want %d\n%s", what, a.status, want, a.body)
	}
}

// wantMessage fails unless a is an error answer with status and a message
// holding every part.
func wantMessage(t testing.TB, what string, a answer, status int, parts ...string) {
	t.Helper()
	wantStatus(t, what, a, status)
	msg := a.message(t)
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("%s: message %q does not mention %q", what, msg, p)
		}
	}
}
