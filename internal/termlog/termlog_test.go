package termlog

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestHandler(t *testing.T) {
	var b strings.Builder
	log := slog.New(New(&b, "airlock", slog.LevelDebug))
	log.Warn("publishing without an integrity pin", "tarball", "a b.tgz")
	log.Debug("registry answer", "status", 200, "elapsed", 1234567*time.Nanosecond)
	log.With("event", "prepack").Info("running script", "err", errors.New("boom"))
	log.WithGroup("req").Error("failed", "url", "http://x/")
	want := `airlock: warning: publishing without an integrity pin (tarball "a b.tgz")
airlock: registry answer (status 200, elapsed 1.2ms)
airlock: running script (event prepack, err boom)
airlock: error: failed (req.url http://x/)
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestLevel(t *testing.T) {
	var b strings.Builder
	log := slog.New(New(&b, "airlock", slog.LevelWarn))
	log.Debug("hidden")
	log.Info("hidden too")
	if b.Len() != 0 {
		t.Errorf("below the level, got %q", b.String())
	}
	log.Warn("shown")
	if !strings.Contains(b.String(), "warning: shown") {
		t.Errorf("got %q", b.String())
	}
}
