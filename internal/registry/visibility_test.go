package registry

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestVisibility(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.EscapedPath() {
		case "/-/package/@acme%2fpublic/visibility":
			fmt.Fprint(w, `{"public":true}`)
		case "/-/package/private/visibility":
			fmt.Fprint(w, `{"public":false}`)
		case "/-/package/broken/visibility":
			fmt.Fprint(w, `[]`)
		case "/-/package/down/visibility":
			http.Error(w, "no", http.StatusForbidden)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := &Client{Retry: RetryPolicy{MaxAttempts: 1}}
	for name, want := range map[string]bool{"@acme/public": true, "private": false, "unknown": false} {
		got, err := c.Visibility(context.Background(), srv.URL+"/", name, nil)
		if err != nil || got != want {
			t.Errorf("Visibility(%s) = %v, %v; want %v", name, got, err, want)
		}
	}
	if _, err := c.Visibility(context.Background(), srv.URL+"/", "broken", nil); err == nil || !strings.Contains(err.Error(), `"public"`) {
		t.Errorf("a malformed answer gave %v", err)
	}
	if _, err := c.Visibility(context.Background(), srv.URL+"/", "down", nil); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("a 403 gave %v", err)
	}
}
