package registry

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airlockdev/airlock/internal/hint"
)

// The publish tests talk to a real registry (Verdaccio), and check the
// result with the real npm installing what was published.

func TestPublishToVerdaccioThenInstallWithNPM(t *testing.T) {
	s, token := verdaccio(t)
	c, _ := testClient()
	for _, name := range []string{"@airlock/published", "airlock-published"} {
		t.Run(name, func(t *testing.T) {
			p := pack(t, s, pkg{name: name, version: "1.0.0", description: `a "quoted" <description> ünïcode`,
				files: map[string]string{"index.js": "module.exports = 'published by airlock'\n"}})
			res, err := c.Publish(t.Context(), s.URL(), name, p.doc(s.URL()), fileOpener(p.path), bearer(token))
			if err != nil {
				t.Fatalf("Publish: %v\nverdaccio log:\n%s", err, s.Log())
			}
			if res.Outcome != Published || res.StatusCode != http.StatusCreated || res.Attempts != 1 || res.ReadBack {
				t.Fatalf("Publish = %+v, want published with 201 at the first attempt", res)
			}

			pk, err := c.Packument(t.Context(), s.URL(), name, nil)
			if err != nil {
				t.Fatal(err)
			}
			v, ok := pk.Versions["1.0.0"]
			if !ok || v.Dist.Integrity != p.integrity || v.Dist.Shasum != p.shasum {
				t.Fatalf("packument version 1.0.0 = %+v, want integrity %s shasum %s", v, p.integrity, p.shasum)
			}
			if pk.DistTags["latest"] != "1.0.0" || len(pk.Raw) == 0 {
				t.Fatalf("packument dist-tags %v, raw %d bytes", pk.DistTags, len(pk.Raw))
			}

			dir := s.Install(t, name+"@1.0.0", name)
			got, err := os.ReadFile(filepath.Join(dir, "index.js"))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "module.exports = 'published by airlock'\n" {
				t.Fatalf("installed index.js = %q", got)
			}
		})
	}
}

func TestPublishSameVersionTwice(t *testing.T) {
	s, token := verdaccio(t)
	c, _ := testClient()
	const name = "@airlock/twice"
	p := pack(t, s, pkg{name: name, version: "2.0.0", files: map[string]string{"index.js": "1\n"}})
	if _, err := c.Publish(t.Context(), s.URL(), name, p.doc(s.URL()), fileOpener(p.path), bearer(token)); err != nil {
		t.Fatal(err)
	}

	t.Run("same tarball", func(t *testing.T) {
		res, err := c.Publish(t.Context(), s.URL(), name, p.doc(s.URL()), fileOpener(p.path), bearer(token))
		if !errors.Is(err, ErrVersionExists) {
			t.Fatalf("second Publish: err = %v, want ErrVersionExists", err)
		}
		var herr *HTTPError
		if !errors.As(err, &herr) || herr.StatusCode != http.StatusConflict || herr.RegistryMessage == "" {
			t.Fatalf("err = %#v, want an HTTPError 409 with the registry's message", herr)
		}
		if hint.Of(err) == "" {
			t.Error("no hint")
		}
		if res.Outcome != AlreadyPublished || !res.ReadBack || res.RegistryIntegrity != p.integrity {
			t.Fatalf("result = %+v, want already published, read back with the same integrity", res)
		}
	})

	t.Run("other tarball", func(t *testing.T) {
		other := pack(t, s, pkg{name: name, version: "2.0.0", files: map[string]string{"index.js": "2\n"}})
		res, err := c.Publish(t.Context(), s.URL(), name, other.doc(s.URL()), fileOpener(other.path), bearer(token))
		if !errors.Is(err, ErrVersionExists) {
			t.Fatalf("err = %v, want ErrVersionExists", err)
		}
		if res.Outcome != NotPublished || res.RegistryIntegrity != p.integrity {
			t.Fatalf("result = %+v, want not published, registry keeping %s", res, p.integrity)
		}
		if !strings.Contains(err.Error(), "not "+other.integrity) {
			t.Errorf("error does not say which integrity was refused: %v", err)
		}
	})
}

func TestPublishWrongToken(t *testing.T) {
	s, _ := verdaccio(t)
	c, _ := testClient()
	const name = "airlock-wrong-token"
	p := pack(t, s, pkg{name: name, version: "1.0.0"})
	res, err := c.Publish(t.Context(), s.URL(), name, p.doc(s.URL()), fileOpener(p.path), bearer(fakeToken))
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	var herr *HTTPError
	if !errors.As(err, &herr) || herr.StatusCode != 401 || herr.Method != "PUT" ||
		herr.URL != s.URL()+name || herr.RegistryMessage == "" || herr.Hint == "" {
		t.Fatalf("HTTPError = %#v", herr)
	}
	if res.Outcome != NotPublished || res.Attempts != 1 {
		t.Fatalf("result = %+v", res)
	}
	mustNotContain(t, fakeToken, map[string]string{"error": err.Error(), "hint": hint.Of(err)})
	if _, err := c.Packument(t.Context(), s.URL(), name, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Packument after a refused publish: %v, want ErrNotFound", err)
	}
}

func TestPackumentNotFound(t *testing.T) {
	s, _ := verdaccio(t)
	c, _ := testClient()
	_, err := c.Packument(t.Context(), s.URL(), "@airlock/nothing-here", nil)
	var herr *HTTPError
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &herr) || herr.URL != s.URL()+"@airlock%2fnothing-here" {
		t.Fatalf("err = %v (%#v), want ErrNotFound for the escaped URL", err, herr)
	}
}

func TestPublishTarballNotMatchingIntegrity(t *testing.T) {
	s, token := verdaccio(t)
	c, _ := testClient()
	const name = "airlock-swapped"
	p := pack(t, s, pkg{name: name, version: "1.0.0", files: map[string]string{"index.js": "good\n"}})
	swapped := pack(t, s, pkg{name: name, version: "1.0.0", files: map[string]string{"index.js": "evil\n"}})
	doc := p.doc(s.URL())
	doc.Attachments[0].Length = int64(len(swapped.data))
	res, err := c.Publish(t.Context(), s.URL(), name, doc, fileOpener(swapped.path), bearer(token))
	if err == nil || !strings.Contains(err.Error(), "does not match dist.integrity") {
		t.Fatalf("err = %v, want a dist.integrity mismatch", err)
	}
	if res.Outcome != NotPublished || res.ReadBack {
		t.Fatalf("result = %+v, want not published, without reading back", res)
	}
	if _, err := c.Packument(t.Context(), s.URL(), name, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the registry has the package after a cut-off upload: %v", err)
	}
}

// dropProxy stands between the client and Verdaccio and loses the answer
// to the publish PUT in the way mode says.
type dropProxy struct {
	upstream *url.URL
	mode     string // "after": forward, then drop; "before": drop without forwarding; "502-after": forward, answer 502
	puts     int
}

func (d *dropProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rp := httputil.NewSingleHostReverseProxy(d.upstream)
	if r.Method != http.MethodPut {
		rp.ServeHTTP(w, r)
		return
	}
	d.puts++
	switch d.mode {
	case "before":
		_, _ = io.Copy(io.Discard, r.Body)
		hijackClose(w)
	case "after":
		rec := &discardWriter{header: http.Header{}}
		rp.ServeHTTP(rec, r)
		hijackClose(w)
	case "502-after":
		rec := &discardWriter{header: http.Header{}}
		rp.ServeHTTP(rec, r)
		http.Error(w, `{"error":"bad gateway"}`, http.StatusBadGateway)
	}
}

func hijackClose(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // a reset, not a clean close
	}
	conn.Close()
}

type discardWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(b []byte) (int, error) { return d.body.Write(b) }
func (d *discardWriter) WriteHeader(code int)        { d.status = code }

func TestPublishLostAnswerIsReadBack(t *testing.T) {
	s, token := verdaccio(t)
	upstream, _ := url.Parse(s.URL())
	for _, tc := range []struct {
		mode   string
		want   Outcome
		status int
		err    bool
	}{
		{"after", Published, 0, false},
		{"502-after", Published, 502, false},
		{"before", NotPublished, 0, true},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			proxy := &dropProxy{upstream: upstream, mode: tc.mode}
			srv := newLoopbackServer(t, proxy)
			c, sleeps := testClient()
			name := "airlock-lost-" + tc.mode
			p := pack(t, s, pkg{name: name, version: "1.0.0"})
			res, err := c.Publish(t.Context(), srv.URL+"/", name, p.doc(s.URL()), fileOpener(p.path), bearer(token))
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error: %v", err, tc.err)
			}
			if res.Outcome != tc.want || !res.ReadBack || proxy.puts != 1 || res.Attempts != 1 || res.StatusCode != tc.status {
				t.Fatalf("result = %+v after %d PUTs, want %v read back after 1 PUT", res, proxy.puts, tc.want)
			}
			if tc.want == Published && res.RegistryIntegrity != p.integrity {
				t.Fatalf("read back integrity %q, want %q", res.RegistryIntegrity, p.integrity)
			}
			if tc.want == NotPublished && len(sleeps.delays) != readBackTries-1 {
				t.Fatalf("looked for the version with delays %v, want %d tries", sleeps.delays, readBackTries)
			}
		})
	}
}
