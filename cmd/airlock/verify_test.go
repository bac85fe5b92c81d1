package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The real sigstore@1.3.0 tarball and the provenance npm published with
// it; see attest/verify_test.go. The tarball is binary, so these run Main
// rather than a testscript.
const (
	verifyTarball = "../../attest/testdata/sigstore-1.3.0.tgz"
	verifyBundle  = "../../attest/testdata/sigstore-1.3.0.sigstore.json"
)

func runVerifyMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	vars := []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	code = Main(args, strings.NewReader(""), &out, &errb, vars)
	return code, out.String(), errb.String()
}

func TestVerifyProvenance(t *testing.T) {
	bundle, err := os.ReadFile(verifyBundle)
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.Path)
		if r.URL.Path != "/-/npm/v1/attestations/sigstore@1.3.0" {
			http.NotFound(w, r)
			return
		}
		doc, _ := json.Marshal(map[string]any{"attestations": []any{
			map[string]any{"predicateType": "https://slsa.dev/provenance/v0.2", "bundle": json.RawMessage(bundle)},
		}})
		w.Write(doc)
	}))
	defer srv.Close()
	empty := filepath.Join(t.TempDir(), "empty.json")
	os.WriteFile(empty, []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`), 0o644)
	tampered := filepath.Join(t.TempDir(), "tampered.sigstore.json")
	var b map[string]any
	json.Unmarshal(bundle, &b)
	sig := b["dsseEnvelope"].(map[string]any)["signatures"].([]any)[0].(map[string]any)
	raw, _ := base64.StdEncoding.DecodeString(sig["sig"].(string))
	raw[10] ^= 1
	sig["sig"] = base64.StdEncoding.EncodeToString(raw)
	data, _ := json.Marshal(b)
	os.WriteFile(tampered, data, 0o644)

	const line = "verified: sigstore@1.3.0 built by .github/workflows/release.yml in https://github.com/sigstore/sigstore-js at dae8bd8eb433a4147b4655c00fe73e0f22bc0fb1 (refs/heads/main), run https://github.com/sigstore/sigstore-js/actions/runs/4735384265/attempts/1, logged in Rekor at index 18300934\n"
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		stdout   string
		stderr   []string
		noStdout bool
	}{
		{name: "bundle file", code: 0, stdout: line,
			args: []string{"--bundle", verifyBundle, "--repository", "sigstore/sigstore-js", "--workflow", "release.yml", "--ref", "refs/heads/main"}},
		{name: "from the registry", code: 0, stdout: line,
			args: []string{"--registry", srv.URL, "--repository", "sigstore/sigstore-js"}},
		{name: "json", code: 0, stdout: `"logIndex": 18300934`,
			args: []string{"--bundle", verifyBundle, "--repository", "sigstore/sigstore-js", "--json"}},
		{name: "wrong repository", code: 1, noStdout: true,
			args:   []string{"--bundle", verifyBundle, "--repository", "evil/sigstore-js"},
			stderr: []string{"airlock: verifying the provenance of sigstore@1.3.0: identity check failed: built in https://github.com/sigstore/sigstore-js, not in evil/sigstore-js", "hint: "}},
		{name: "wrong ref", code: 1, noStdout: true,
			args:   []string{"--bundle", verifyBundle, "--repository", "sigstore/sigstore-js", "--ref", "refs/tags/v1.3.0"},
			stderr: []string{"identity check failed: built from ref refs/heads/main, not refs/tags/v1.3.0"}},
		{name: "tampered signature", code: 1, noStdout: true,
			args:   []string{"--bundle", tampered, "--repository", "sigstore/sigstore-js"},
			stderr: []string{"signature check failed"}},
		{name: "empty trusted root", code: 1, noStdout: true,
			args:   []string{"--bundle", verifyBundle, "--trusted-root", empty, "--repository", "sigstore/sigstore-js"},
			stderr: []string{"transparency log check failed"}},
		{name: "no provenance on the registry", code: 1, noStdout: true,
			args:   []string{"--registry", srv.URL + "/other/", "--repository", "sigstore/sigstore-js"},
			stderr: []string{"fetching the provenance of sigstore@1.3.0 from " + srv.URL + "/other/-/npm/v1/attestations/sigstore@1.3.0: no provenance: the registry answered 404", "hint: the version was published without provenance"}},
		{name: "no repository", code: 2, noStdout: true,
			args:   []string{"--bundle", verifyBundle},
			stderr: []string{"needs --repository OWNER/REPO"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"verify", "provenance", verifyTarball}, tc.args...)
			code, stdout, stderr := runVerifyMain(t, args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstderr: %s", code, tc.code, stderr)
			}
			if tc.noStdout && stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if !strings.Contains(stdout, tc.stdout) {
				t.Errorf("stdout %q does not hold %q", stdout, tc.stdout)
			}
			for _, s := range tc.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr %q does not hold %q", stderr, s)
				}
			}
		})
	}
	if len(asked) == 0 {
		t.Error("the registry was never asked")
	}
}
