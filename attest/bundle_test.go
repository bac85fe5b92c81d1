package attest

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// attestationsDoc is what the registry serves: npm's publish attestation
// and the provenance.
func attestationsDoc(t *testing.T, provenance []byte) []byte {
	t.Helper()
	doc, err := json.Marshal(map[string]any{"attestations": []any{
		map[string]any{"predicateType": "https://github.com/npm/attestation/tree/main/specs/publish/v0.1", "bundle": json.RawMessage(`{"mediaType":"x"}`)},
		map[string]any{"predicateType": "https://slsa.dev/provenance/v0.2", "bundle": json.RawMessage(provenance)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestFetchBundle(t *testing.T) {
	real := readFixture(t, realBundle)
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.EscapedPath())
		if r.Header.Get("Authorization") != "" {
			t.Errorf("sent credentials")
		}
		switch r.URL.EscapedPath() {
		case "/npm/-/npm/v1/attestations/sigstore@1.3.0", "/npm/-/npm/v1/attestations/@scope%2fpkg@2.0.0":
			w.Write(attestationsDoc(t, real))
		case "/npm/-/npm/v1/attestations/only-publish@1.0.0":
			w.Write([]byte(`{"attestations":[{"predicateType":"https://github.com/npm/attestation/tree/main/specs/publish/v0.1","bundle":{}}]}`))
		case "/npm/-/npm/v1/attestations/broken@1.0.0":
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("upstream \x1b[31mdown\x1b[0m"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	o := FetchOptions{Registry: srv.URL + "/npm"}

	got, err := FetchBundle(t.Context(), "sigstore", "1.3.0", o)
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	json.Compact(&a, got)
	json.Compact(&b, real)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("fetched another bundle than the provenance")
	}
	if _, err := VerifyBundle(got, realSubject(t), VerifyOptions{Policy: realPolicy}); err != nil {
		t.Errorf("the fetched bundle does not verify: %v", err)
	}
	if _, err := FetchBundle(t.Context(), "@scope/pkg", "2.0.0", o); err != nil {
		t.Errorf("scoped name: %v (paths asked: %q)", err, paths)
	}

	for _, tc := range []struct {
		name, pkg string
		want      error
		msg       string
	}{
		{name: "not found", pkg: "missing", want: ErrNoProvenance, msg: "answered 404"},
		{name: "no provenance", pkg: "only-publish", want: ErrNoProvenance, msg: "none of them SLSA provenance"},
		{name: "server error", pkg: "broken", msg: "the registry answered 502: upstream down"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FetchBundle(t.Context(), tc.pkg, "1.0.0", o)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %q is not %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "fetching the provenance of "+tc.pkg+"@1.0.0 from "+srv.URL) {
				t.Errorf("error %q does not say %q and where", err, tc.msg)
			}
		})
	}
	if _, err := FetchBundle(t.Context(), "x", "1.0.0", FetchOptions{Registry: "file:///etc"}); err == nil {
		t.Error("fetched from a file URL")
	}
}
