package registry

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		p    RetryPolicy
		n    int
		want time.Duration
	}{
		{RetryPolicy{Rand: func() float64 { return 0 }}, 1, 250 * time.Millisecond},
		{RetryPolicy{Rand: func() float64 { return 0.5 }}, 1, 375 * time.Millisecond},
		{RetryPolicy{Rand: func() float64 { return 0 }}, 2, 500 * time.Millisecond},
		{RetryPolicy{Rand: func() float64 { return 0 }}, 3, time.Second},
		{RetryPolicy{Rand: func() float64 { return 0 }}, 30, 7500 * time.Millisecond}, // capped at 15s
		{RetryPolicy{BaseDelay: time.Second, MaxDelay: 3 * time.Second, Rand: func() float64 { return 0.999999 }}, 5, 3 * time.Second},
	} {
		if got := tc.p.Backoff(tc.n); got.Round(time.Millisecond) != tc.want {
			t.Errorf("Backoff(%d) with %+v = %v, want %v", tc.n, tc.p, got, tc.want)
		}
	}
}

func TestDecide(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := RetryPolicy{Rand: func() float64 { return 0 }}
	dialErr := errors.New("dial tcp: connection refused")
	for _, tc := range []struct {
		name   string
		method string
		ex     exchange
		n      int
		retry  bool
		delay  time.Duration
	}{
		{"GET dial error", "GET", exchange{err: dialErr}, 1, true, 250 * time.Millisecond},
		{"PUT dial error", "PUT", exchange{err: dialErr}, 1, true, 250 * time.Millisecond},
		{"PUT reset after sending", "PUT", exchange{err: dialErr, wrote: true}, 1, false, 0},
		{"GET reset after sending", "GET", exchange{err: dialErr, wrote: true}, 2, true, 500 * time.Millisecond},
		{"our body failed", "PUT", exchange{err: dialErr, bodyErr: dialErr}, 1, false, 0},
		{"GET 500", "GET", exchange{status: 500}, 1, true, 250 * time.Millisecond},
		{"GET 503 Retry-After seconds", "GET", exchange{status: 503, retryAfter: "7"}, 1, true, 7 * time.Second},
		{"GET 429 Retry-After date", "GET", exchange{status: 429, retryAfter: now.Add(3 * time.Second).Format(http.TimeFormat)}, 1, true, 3 * time.Second},
		{"GET 429 Retry-After too long", "GET", exchange{status: 429, retryAfter: "3600"}, 1, false, 0},
		{"GET 429 Retry-After in the past", "GET", exchange{status: 429, retryAfter: now.Add(-time.Hour).Format(http.TimeFormat)}, 1, true, 0},
		{"GET 429 bad Retry-After", "GET", exchange{status: 429, retryAfter: "soon"}, 1, true, 250 * time.Millisecond},
		{"GET 404", "GET", exchange{status: 404}, 1, false, 0},
		{"GET 401", "GET", exchange{status: 401}, 1, false, 0},
		{"PUT 500", "PUT", exchange{status: 500}, 1, false, 0},
		{"PUT 429", "PUT", exchange{status: 429}, 1, false, 0},
		{"GET 500, attempts used up", "GET", exchange{status: 500}, 4, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			delay, retry := p.decide(tc.method, tc.ex, tc.n, now)
			if retry != tc.retry || delay != tc.delay {
				t.Fatalf("decide = %v, %v; want %v, %v", delay, retry, tc.delay, tc.retry)
			}
		})
	}
}

// packumentJSON is a packument with one version.
func packumentJSON(name, version, integrity string) string {
	b, _ := json.Marshal(map[string]any{
		"name":      name,
		"dist-tags": map[string]string{"latest": version},
		"versions": map[string]any{version: map[string]any{
			"name": name, "version": version,
			"dist": map[string]string{"integrity": integrity, "tarball": "http://x/t.tgz"},
		}},
	})
	return string(b)
}

func TestPackumentRetriesServerErrors(t *testing.T) {
	var calls atomic.Int32
	srv := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.EscapedPath() != "/@s%2fp" || r.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s with Cache-Control %q", r.URL.EscapedPath(), r.Header.Get("Cache-Control"))
		}
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		io.WriteString(w, packumentJSON("@s/p", "1.0.0", sri([]byte("x"))))
	}))
	c, sleeps := testClient()
	pk, err := c.Packument(t.Context(), srv.URL, "@s/p", nil)
	if err != nil {
		t.Fatal(err)
	}
	if pk.Versions["1.0.0"].Dist.Integrity != sri([]byte("x")) || pk.DistTags["latest"] != "1.0.0" {
		t.Fatalf("packument = %+v", pk)
	}
	if calls.Load() != 3 || len(sleeps.delays) != 2 || sleeps.delays[0] != 375*time.Millisecond || sleeps.delays[1] != 750*time.Millisecond {
		t.Fatalf("%d calls, delays %v; want 3 calls after 375ms and 750ms", calls.Load(), sleeps.delays)
	}
}

func TestPackumentGivesUp(t *testing.T) {
	var calls atomic.Int32
	srv := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":"down for maintenance"}`)
	}))
	c, _ := testClient()
	_, err := c.Packument(t.Context(), srv.URL, "p", nil)
	var herr *HTTPError
	if !errors.As(err, &herr) || herr.StatusCode != 503 || herr.RegistryMessage != "down for maintenance" || herr.Hint == "" {
		t.Fatalf("err = %v", err)
	}
	if calls.Load() != 4 {
		t.Fatalf("%d calls, want 4 (the default attempts)", calls.Load())
	}
}

func TestPackumentNoRetryOn4xx(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404} {
		var calls atomic.Int32
		srv := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.WriteHeader(status)
		}))
		c, _ := testClient()
		_, err := c.Packument(t.Context(), srv.URL, "p", nil)
		var herr *HTTPError
		if !errors.As(err, &herr) || herr.StatusCode != status || calls.Load() != 1 {
			t.Errorf("status %d: err %v after %d calls", status, err, calls.Load())
		}
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	other := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	srv := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	c, _ := testClient()
	_, err := c.Packument(t.Context(), srv.URL, "p", bearer(fakeToken))
	var herr *HTTPError
	if !errors.As(err, &herr) || herr.StatusCode != http.StatusTemporaryRedirect || elsewhere.Load() != 0 {
		t.Fatalf("err = %v, %d requests reached the redirect's target", err, elsewhere.Load())
	}
}

// flakyDialer fails its first n dials, before anything is sent.
func flakyDialer(n int32) (*http.Client, *atomic.Int32) {
	var dials atomic.Int32
	var d net.Dialer
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) <= n {
			return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused")}
		}
		return d.DialContext(ctx, network, addr)
	}}
	return &http.Client{Transport: tr}, &dials
}

func TestPublishRetriesWhenNothingWasSent(t *testing.T) {
	rec := &recorder{}
	srv := newLoopbackServer(t, rec)
	c, sleeps := testClient()
	var dials *atomic.Int32
	c.HTTP, dials = flakyDialer(2)
	data := []byte("tarball bytes")
	doc := npmLikeDoc("p", "1.0.0", "", []byte(`{"name":"p","version":"1.0.0"}`), sri(data), sha1hex(data), int64(len(data)), srv.URL)
	res, err := c.Publish(t.Context(), srv.URL, "p", doc, bytesOpener(data), nil)
	if err != nil || res.Outcome != Published || res.Attempts != 3 {
		t.Fatalf("Publish = %+v, %v; want published at the third attempt", res, err)
	}
	if dials.Load() != 3 || len(rec.puts) != 1 || len(sleeps.delays) != 2 {
		t.Fatalf("%d dials, %d PUTs received, delays %v", dials.Load(), len(rec.puts), sleeps.delays)
	}
}

// fakeRegistry stores what is published to it and serves packuments. Its
// put hook decides what becomes of a PUT.
type fakeRegistry struct {
	t        *testing.T
	mu       sync.Mutex
	versions map[string]string // version → integrity
	puts     atomic.Int32
	gets     atomic.Int32
	put      func(w http.ResponseWriter, store func())
}

func (f *fakeRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		f.gets.Add(1)
		f.mu.Lock()
		defer f.mu.Unlock()
		for v, integ := range f.versions {
			io.WriteString(w, packumentJSON("p", v, integ))
			return
		}
		w.WriteHeader(http.StatusNotFound)
		return
	}
	f.puts.Add(1)
	var doc struct {
		Versions map[string]struct {
			Dist Dist `json:"dist"`
		} `json:"versions"`
	}
	if err := json.NewDecoder(r.Body).Decode(&doc); err != nil {
		f.t.Errorf("decoding the PUT: %v", err)
	}
	f.put(w, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		for v, m := range doc.Versions {
			f.versions[v] = m.Dist.Integrity
		}
	})
}

func TestPublishAmbiguousFailures(t *testing.T) {
	data := []byte("the tarball")
	other := sri([]byte("another tarball"))
	for _, tc := range []struct {
		name     string
		existing string // integrity already on the registry for 1.0.0
		put      func(w http.ResponseWriter, store func())
		timeout  time.Duration
		want     Outcome
		wantErr  error // nil: no error
		gets     int32
	}{
		{name: "500 after storing", put: func(w http.ResponseWriter, store func()) { store(); w.WriteHeader(500) },
			want: Published, gets: 1},
		{name: "500 without storing", put: func(w http.ResponseWriter, store func()) { w.WriteHeader(500) },
			want: NotPublished, wantErr: errAny, gets: readBackTries},
		{name: "reset after storing", put: func(w http.ResponseWriter, store func()) { store(); hijackClose(w) },
			want: Published, gets: 1},
		{name: "timeout after storing", timeout: 300 * time.Millisecond,
			put:  func(w http.ResponseWriter, store func()) { store(); time.Sleep(time.Second) },
			want: Published, gets: 1},
		{name: "503 with another tarball there", existing: other,
			put:  func(w http.ResponseWriter, store func()) { w.WriteHeader(503) },
			want: NotPublished, wantErr: ErrVersionExists, gets: 1},
		{name: "409 with the same tarball there", existing: sri(data),
			put:  func(w http.ResponseWriter, store func()) { w.WriteHeader(409) },
			want: AlreadyPublished, wantErr: ErrVersionExists, gets: 1},
		{name: "403 cannot publish over", existing: other,
			put: func(w http.ResponseWriter, store func()) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(403)
				io.WriteString(w, `{"error":"You cannot publish over the previously published versions: 1.0.0."}`)
			},
			want: NotPublished, wantErr: ErrVersionExists, gets: 1},
		{name: "403 forbidden", put: func(w http.ResponseWriter, store func()) { w.WriteHeader(403) },
			want: NotPublished, wantErr: errAny, gets: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := &fakeRegistry{t: t, versions: map[string]string{}, put: tc.put}
			if tc.existing != "" {
				reg.versions["1.0.0"] = tc.existing
			}
			srv := newLoopbackServer(t, reg)
			c, _ := testClient()
			c.PublishTimeout = tc.timeout
			doc := npmLikeDoc("p", "1.0.0", "", []byte(`{"name":"p","version":"1.0.0"}`), sri(data), sha1hex(data), int64(len(data)), srv.URL)
			res, err := c.Publish(t.Context(), srv.URL, "p", doc, bytesOpener(data), nil)
			switch {
			case tc.wantErr == nil && err != nil,
				tc.wantErr == errAny && err == nil,
				tc.wantErr != nil && tc.wantErr != errAny && !errors.Is(err, tc.wantErr):
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if res.Outcome != tc.want || reg.puts.Load() != 1 || reg.gets.Load() != tc.gets {
				t.Fatalf("result %+v after %d PUTs and %d GETs; want %v after 1 PUT and %d GETs",
					res, reg.puts.Load(), reg.gets.Load(), tc.want, tc.gets)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestPublishCanceledAfterSending(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	reg := &fakeRegistry{t: t, versions: map[string]string{}, put: func(w http.ResponseWriter, store func()) {
		cancel()
		time.Sleep(200 * time.Millisecond)
	}}
	srv := newLoopbackServer(t, reg)
	c, _ := testClient()
	data := []byte("x")
	doc := npmLikeDoc("p", "1.0.0", "", []byte(`{"name":"p","version":"1.0.0"}`), sri(data), sha1hex(data), 1, srv.URL)
	res, err := c.Publish(ctx, srv.URL, "p", doc, bytesOpener(data), nil)
	if res.Outcome != Unknown || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "may or may not") && !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("Publish = %+v, %v; want unknown after cancellation", res, err)
	}
}
