package attest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/inspect"
	"github.com/airlockdev/airlock/internal/jsvalue"
)

func TestStringEscapesLikeJSONStringify(t *testing.T) {
	for _, c := range []struct {
		in   jsString
		want string
	}{
		{str("plain"), `"plain"`},
		{str(`<a href="x">&</a>`), `"<a href=\"x\">&</a>"`},
		{str("\u2028\u2029"), "\"\u2028\u2029\""},
		{str("\b\f\n\r\t\x00\x01\x1f\x7f"), `"\b\f\n\r\t\u0000\u0001\u001f` + "\x7f\""},
		{str(`\`), `"\\"`},
		{str("é中😀"), `"é中😀"`},
		{jsString{0xd83d}, `"\ud83d"`},
		{jsString{0xde00, 'a'}, `"\ude00a"`},
		{jsString{0xd83d, 0xde00}, `"😀"`},
		{jsString{0xd83d, 0xd83d, 0xde00}, `"\ud83d😀"`},
	} {
		if got := string(c.in.appendJSON(nil)); got != c.want {
			t.Errorf("%v: got %s, want %s", []uint16(c.in), got, c.want)
		}
	}
}

func TestObjectDropsUndefinedAndKeepsOrder(t *testing.T) {
	got := string(jsObject{{"z", str("1")}, {"gone", nil}, {"a", jsObject{{"x", nil}}}, {"b", jsArray{nil, jsBool(true)}}}.appendJSON(nil))
	if want := `{"z":"1","a":{},"b":[null,true]}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestDecodeUTF8LikeNode(t *testing.T) {
	// Node's decoding of the same bytes, seen in process.env.
	for in, want := range map[string]string{
		"ok é":             "ok é",
		"a\xe2\x82b":       "a\ufffdb",
		"\xff":             "\ufffd",
		"\xed\xa0\x80":     "\ufffd\ufffd\ufffd",
		"\xf0\x9f\x98":     "\ufffd",
		"\xf4\x90\x80\x80": "\ufffd\ufffd\ufffd\ufffd",
		"\xe0\x80\xaf":     "\ufffd\ufffd\ufffd",
		"\xc0\xaf":         "\ufffd\ufffd",
		"x\xf1\x80\x80":    "x\ufffd",
		"a\xe2\x82b\xffc\xed\xa0\x80d\xf0\x9f\x98": "a\ufffdb\ufffdc\ufffd\ufffd\ufffdd\ufffd",
	} {
		if got := jsvalue.WellFormed(in); got != want {
			t.Errorf("WellFormed(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPackageURL(t *testing.T) {
	for _, c := range [][3]string{
		{"demo", "1.0.0", "pkg:npm/demo@1.0.0"},
		{"@scope/demo", "1.0.0-rc.1", "pkg:npm/%40scope/demo@1.0.0-rc.1"},
	} {
		if got := PackageURL(c[0], c[1]); got != c[2] {
			t.Errorf("PackageURL(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}

func envOf(kv ...string) func(string) (string, bool) { return lookupIn(kv) }

func TestStatementRefusals(t *testing.T) {
	sum := sha512.Sum512(nil)
	subject := Subject{Name: "demo", Version: "1.0.0", SHA512: sum[:]}
	for _, c := range []struct {
		name        string
		env         []string
		msg, advice string
	}{
		{"no CI", nil, "provenance needs GitHub Actions or GitLab CI: GITHUB_ACTIONS and GITLAB_CI are both unset or empty", "run the publish job there"},
		{"CI=false", []string{"GITHUB_ACTIONS=true", "CI=false"}, "CI=false turns CI detection off", "unset CI=false"},
		{"circleci", []string{"CIRCLECI=true"}, "this is CircleCI, where npm makes no provenance", "only in GitHub Actions and GitLab CI"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Statement(subject, envOf(c.env...))
			if !errors.Is(err, ErrUnsupportedCI) || !strings.Contains(err.Error(), c.msg) || !strings.Contains(hint.Of(err), c.advice) {
				t.Fatalf("got %v (hint %q), want ErrUnsupportedCI saying %q with advice %q", err, hint.Of(err), c.msg, c.advice)
			}
		})
	}
}

func TestStatementChecksSubject(t *testing.T) {
	sum := sha512.Sum512(nil)
	gh := envOf("GITHUB_ACTIONS=true")
	for _, c := range []struct {
		s    Subject
		want string
	}{
		{Subject{Name: "", Version: "1.0.0", SHA512: sum[:]}, "name length must be greater than zero"},
		{Subject{Name: "demo", Version: "v1.0.0", SHA512: sum[:]}, `invalid version "v1.0.0"`},
		{Subject{Name: "demo", Version: "1.0.0", SHA512: sum[:20]}, "the sha512 digest has 20 bytes, want 64"},
	} {
		if _, err := Statement(c.s, gh); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Statement(%+v) = %v, want an error saying %q", c.s, err, c.want)
		}
	}
}

func tarballOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: "package/" + name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

func TestReadSubject(t *testing.T) {
	data := tarballOf(t, map[string]string{"package.json": `{"name":"@scope/demo","version":"2.0.0"}`, "index.js": "x"})
	s, err := ReadSubject(context.Background(), bytes.NewReader(data), int64(len(data)), inspect.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum512(data)
	if s.Name != "@scope/demo" || s.Version != "2.0.0" || !bytes.Equal(s.SHA512, sum[:]) {
		t.Fatalf("got %s@%s %x, want @scope/demo@2.0.0 %x", s.Name, s.Version, s.SHA512, sum)
	}
	// Read a byte at a time, the digest still covers every byte.
	s2, err := ReadSubject(context.Background(), iotest.OneByteReader(bytes.NewReader(data)), int64(len(data)), inspect.DefaultLimits())
	if err != nil || !bytes.Equal(s2.SHA512, sum[:]) {
		t.Fatalf("read a byte at a time: %v, digest %x, want %x", err, s2.SHA512, sum)
	}
	bad := tarballOf(t, map[string]string{"index.js": "x"})
	if _, err := ReadSubject(context.Background(), bytes.NewReader(bad), int64(len(bad)), inspect.DefaultLimits()); !errors.Is(err, inspect.ErrNoPackageJSON) {
		t.Fatalf("a tarball without package.json gave %v, want ErrNoPackageJSON", err)
	}
}

// FuzzStatement checks that whatever the environment holds, the statement
// is JSON that gives the variables back as Node decodes them.
func FuzzStatement(f *testing.F) {
	f.Add("push", "o/r/.github/workflows/x.yml@refs/tags/v1", "o/r", "https://github.com")
	f.Add("<&>\u2028", "no-at-😀", "", "\xff\xe2\x82")
	f.Fuzz(func(t *testing.T, event, workflowRef, repo, server string) {
		sum := sha512.Sum512(nil)
		for _, kv := range []string{event, workflowRef, repo, server} {
			if strings.ContainsRune(kv, 0) {
				return // environment variables cannot hold NUL
			}
		}
		env := []string{"GITHUB_ACTIONS=true", "GITHUB_EVENT_NAME=" + event, "GITHUB_WORKFLOW_REF=" + workflowRef, "GITHUB_REPOSITORY=" + repo, "GITHUB_SERVER_URL=" + server}
		out, err := Statement(Subject{Name: "demo", Version: "1.0.0", SHA512: sum[:]}, lookupIn(env))
		if err != nil {
			t.Fatal(err)
		}
		var st struct {
			Predicate struct {
				BuildDefinition struct {
					ExternalParameters struct {
						Workflow struct{ Repository string }
					}
					InternalParameters struct {
						GitHub struct {
							EventName string `json:"event_name"`
						}
					}
				}
			}
		}
		if err := json.Unmarshal(out, &st); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		bd := st.Predicate.BuildDefinition
		if got, want := bd.InternalParameters.GitHub.EventName, jsvalue.WellFormed(event); got != want {
			t.Fatalf("event_name = %q, want %q", got, want)
		}
		if got, want := bd.ExternalParameters.Workflow.Repository, jsvalue.WellFormed(server)+"/"+jsvalue.WellFormed(repo); got != want {
			t.Fatalf("repository = %q, want %q", got, want)
		}
	})
}
