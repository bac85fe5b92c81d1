package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/airlockdev/airlock/internal/hint"
)

const stagedID = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"

// stageServer answers with handler and records the requests it got.
type stageServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newStageServer(t *testing.T, handler http.HandlerFunc) *stageServer {
	t.Helper()
	s := &stageServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, r.Clone(context.Background()))
		s.mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *stageServer) requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.reqs...)
}

func stagedItem(i int) string {
	return fmt.Sprintf(`{"id":"%08x-2fa1-41d2-883f-0016d3cca427","packageName":"pkg","version":"1.0.%d","tag":"latest","extra":{"n":%d}}`, i, i, i)
}

func TestStageListPagesAndQuery(t *testing.T) {
	const total = 250
	s := newStageServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/prefix/-/stage" {
			http.NotFound(w, r)
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		per, _ := strconv.Atoi(r.URL.Query().Get("perPage"))
		var items []string
		for i := page * per; i < min(total, (page+1)*per); i++ {
			items = append(items, stagedItem(i))
		}
		fmt.Fprintf(w, `{"items":[%s],"total":%d}`, strings.Join(items, ","), total)
	})
	c, _ := testClient()
	var got []StagedVersion
	for page := 0; page < 3; page++ {
		p, err := c.StageList(t.Context(), s.URL+"/prefix", StageQuery{Package: "@scope/pkg~x", Page: page}, bearer(fakeToken))
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != total {
			t.Fatalf("page %d: total = %d, want %d", page, p.Total, total)
		}
		got = append(got, p.Items...)
	}
	if len(got) != total {
		t.Fatalf("got %d items over 3 pages, want %d", len(got), total)
	}
	if got[249].Version != "1.0.249" || !strings.Contains(string(got[249].Raw), `"extra":{"n":249}`) {
		t.Fatalf("last item = %+v, raw %s", got[249], got[249].Raw)
	}
	reqs := s.requests()
	for i, r := range reqs {
		// npm's order and URLSearchParams encoding: @ / ~ are escaped.
		want := fmt.Sprintf("page=%d&perPage=100&package=%%40scope%%2Fpkg%%7Ex", i)
		if r.Method != http.MethodGet || r.URL.RawQuery != want {
			t.Errorf("request %d: %s ?%s, want GET ?%s", i, r.Method, r.URL.RawQuery, want)
		}
		if r.Header.Get("Authorization") != "Bearer "+fakeToken {
			t.Errorf("request %d: no credentials", i)
		}
	}
}

func TestStageListRefusesOddAnswers(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":        `<html>`,
		"no items":        `{"total":1}`,
		"item not object": `{"items":["x"],"total":1}`,
		"wrong type":      `{"items":[{"id":1}],"total":1}`,
	} {
		t.Run(name, func(t *testing.T) {
			s := newStageServer(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) })
			c, _ := testClient()
			if _, err := c.StageList(t.Context(), s.URL, StageQuery{}, nil); err == nil {
				t.Fatalf("%s accepted", body)
			}
		})
	}
	s := newStageServer(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"items":[]}`) })
	c, _ := testClient()
	p, err := c.StageList(t.Context(), s.URL, StageQuery{}, nil)
	if err != nil || p.Total != -1 {
		t.Fatalf("no total: %+v, %v; want Total -1", p, err)
	}
}

func TestStageEndpoints(t *testing.T) {
	s := newStageServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.Method + " " + r.URL.Path {
		case "GET /-/stage/" + stagedID:
			fmt.Fprintf(w, `{"id":%q,"packageName":"@s/p","version":"2.0.0","shasum":"abc"}`, stagedID)
		case "POST /-/stage/" + stagedID + "/approve":
			fmt.Fprint(w, `{}`)
		case "DELETE /-/stage/" + stagedID:
			w.WriteHeader(http.StatusNoContent)
		case "GET /-/stage/" + stagedID + "/tarball":
			fmt.Fprint(w, "tarball bytes")
		default:
			http.NotFound(w, r)
		}
	})
	c, _ := testClient()
	ctx, auth := t.Context(), bearer(fakeToken)
	v, err := c.StageView(ctx, s.URL, stagedID, auth)
	if err != nil || v.PackageName != "@s/p" || v.Version != "2.0.0" || v.Shasum != "abc" {
		t.Fatalf("view: %+v, %v", v, err)
	}
	if err := c.StageApprove(ctx, s.URL, stagedID, auth); err != nil {
		t.Fatalf("approve: %v", err)
	}
	if err := c.StageReject(ctx, s.URL, stagedID, auth); err != nil {
		t.Fatalf("reject: %v", err)
	}
	data, err := c.StageTarball(ctx, s.URL, stagedID, 100, auth)
	if err != nil || string(data) != "tarball bytes" {
		t.Fatalf("tarball: %q, %v", data, err)
	}
	if n := len(s.requests()); n != 4 {
		t.Fatalf("%d requests, want 4", n)
	}

	// An ID that is not a UUID never reaches a URL.
	for _, bad := range []string{"../../-/user/x", stagedID + "/approve", strings.ToUpper(stagedID)[:35] + "g", ""} {
		if err := c.StageApprove(ctx, s.URL, bad, auth); err == nil {
			t.Errorf("approve %q accepted", bad)
		}
	}
	if n := len(s.requests()); n != 4 {
		t.Fatalf("invalid IDs were sent: %d requests", n)
	}
	if !IsStageID(strings.ToUpper(stagedID)) {
		t.Fatal("upper-case UUID refused; npm accepts either case")
	}
}

func TestStageNotFound(t *testing.T) {
	s := newStageServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":"staged package not found"}`)
	})
	c, _ := testClient()
	_, err := c.StageView(t.Context(), s.URL, stagedID, bearer(fakeToken))
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	msg := err.Error()
	for _, want := range []string{"GET " + s.URL + "/-/stage/" + stagedID, "404", "staged package not found"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if h := hint.Of(err); !strings.Contains(h, "no staged version has this ID") {
		t.Errorf("hint = %q, want one about the stage ID", h)
	}
}

func TestStageOTPDetection(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		challenge []string
		body      string
		otp       bool
	}{
		{"challenge otp", 401, []string{"OTP"}, `{"error":"denied"}`, true},
		{"challenge list", 401, []string{"Bearer, otp"}, "", true},
		{"two challenge headers", 401, []string{"Bearer", "otp"}, "", true},
		{"body heuristic", 401, nil, `{"error":"You must provide a one-time pass. Upgrade your client."}`, true},
		{"otp only inside a parameter", 401, []string{`Bearer realm="otp"`}, "", false},
		{"other challenge wins over the body", 401, []string{"Bearer"}, "one-time pass", false},
		{"plain 401", 401, nil, `{"error":"bad token"}`, false},
		{"403 is not an OTP demand", 403, []string{"otp"}, "one-time pass", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStageServer(t, func(w http.ResponseWriter, r *http.Request) {
				for _, v := range tc.challenge {
					w.Header().Add("WWW-Authenticate", v)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			c, _ := testClient()
			err := c.StageApprove(t.Context(), s.URL, stagedID, bearer(fakeToken))
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, ErrOTPRequired); got != tc.otp {
				t.Fatalf("errors.Is(%v, ErrOTPRequired) = %v, want %v", err, got, tc.otp)
			}
			var he *HTTPError
			if !errors.As(err, &he) || he.StatusCode != tc.status {
				t.Fatalf("err %v does not carry the registry's answer", err)
			}
			if tc.otp && !strings.Contains(hint.Of(err), "one-time password") {
				t.Fatalf("hint %q says nothing of the one-time password", hint.Of(err))
			}
		})
	}
}

func TestStageTarballSizeCap(t *testing.T) {
	s := newStageServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", 1001)))
	})
	c, _ := testClient()
	_, err := c.StageTarball(t.Context(), s.URL, stagedID, 1000, nil)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if n := len(s.requests()); n != 1 {
		t.Fatalf("%d requests: a too large answer is not worth asking for again", n)
	}
	data, err := c.StageTarball(t.Context(), s.URL, stagedID, 1001, nil)
	if err != nil || len(data) != 1001 {
		t.Fatalf("at the limit: %d bytes, %v", len(data), err)
	}
	if _, err := c.StageTarball(t.Context(), s.URL, stagedID, 0, nil); err == nil {
		t.Fatal("no limit accepted")
	}
}

func TestStageErrorsNeverShowTheToken(t *testing.T) {
	calls := map[string]func(c *Client, url string, auth Auth) error{
		"list": func(c *Client, url string, auth Auth) error {
			_, err := c.StageList(t.Context(), url, StageQuery{Package: "pkg"}, auth)
			return err
		},
		"view": func(c *Client, url string, auth Auth) error {
			_, err := c.StageView(t.Context(), url, stagedID, auth)
			return err
		},
		"approve": func(c *Client, url string, auth Auth) error { return c.StageApprove(t.Context(), url, stagedID, auth) },
		"reject":  func(c *Client, url string, auth Auth) error { return c.StageReject(t.Context(), url, stagedID, auth) },
		"tarball": func(c *Client, url string, auth Auth) error {
			_, err := c.StageTarball(t.Context(), url, stagedID, 1<<20, auth)
			return err
		},
	}
	withOTP := func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+fakeToken)
		r.Header.Set("npm-otp", "918273")
		return nil
	}
	for name, call := range calls {
		for _, status := range []int{401, 403, 404, 500} {
			for _, text := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%d/text=%v", name, status, text), func(t *testing.T) {
					srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						auth, otp := r.Header.Get("Authorization"), r.Header.Get("npm-otp")
						w.Header().Set("WWW-Authenticate", "otp, "+auth)
						w.Header().Set("Set-Cookie", "session="+auth+otp)
						msg := fmt.Sprintf("one-time pass %s refused for %s (token %s)", otp, auth, strings.TrimPrefix(auth, "Bearer "))
						if text {
							w.Header().Set("Content-Type", "text/plain")
							w.WriteHeader(status)
							fmt.Fprint(w, msg)
							return
						}
						w.Header().Set("Content-Type", "application/json")
						w.WriteHeader(status)
						fmt.Fprintf(w, `{"error":%q,"reason":"\u001b[31m%s\u001b[0m","message":%q}`, msg, otp, auth)
					}))
					defer srv.Close()
					c, _ := testClient()
					err := call(c, srv.URL, withOTP)
					if err == nil {
						t.Fatal("no error")
					}
					shown := err.Error() + "\n" + hint.Of(err)
					for _, secret := range []string{fakeToken, "918273"} {
						if strings.Contains(shown, secret) {
							t.Fatalf("error shows a secret: %s", shown)
						}
					}
				})
			}
		}
	}
}

func TestFormEscape(t *testing.T) {
	for in, want := range map[string]string{
		"pkg":            "pkg",
		"@scope/pkg":     "%40scope%2Fpkg",
		"a~b!c'd(e)f*g_": "a%7Eb%21c%27d%28e%29f*g_",
		"a b":            "a+b",
		"é":              "%C3%A9",
	} {
		if got := formEscape(in); got != want {
			t.Errorf("formEscape(%q) = %q, want %q", in, got, want)
		}
	}
}
