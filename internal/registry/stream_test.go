package registry

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"
)

const heapMetric = "/memory/classes/heap/objects:bytes"

// heapSampler records the peak of the heap's live and not-yet-swept
// objects, sampled every millisecond.
type heapSampler struct {
	stop     chan struct{}
	done     chan struct{}
	baseline uint64
	peak     uint64
}

func heapNow() uint64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func sampleHeap() *heapSampler {
	runtime.GC()
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{}), baseline: heapNow()}
	h.peak = h.baseline
	go func() {
		defer close(h.done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-tick.C:
				h.peak = max(h.peak, heapNow())
			}
		}
	}()
	return h
}

// Stop ends sampling and returns the peak's growth over the baseline.
func (h *heapSampler) Stop() uint64 {
	close(h.stop)
	<-h.done
	h.peak = max(h.peak, heapNow())
	return h.peak - h.baseline
}

// countingServer hashes and counts the bodies PUT to it, reading them as
// they arrive.
type countingServer struct {
	mu            sync.Mutex
	n             int64
	contentLength int64
	chunked       bool
	sum           []byte
}

func (s *countingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := sha256.New()
	n, err := io.Copy(h, r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.n, s.contentLength, s.chunked, s.sum = n, r.ContentLength, len(r.TransferEncoding) > 0, h.Sum(nil)
	s.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
}

func TestPublishStreams100MB(t *testing.T) {
	const size = 100 << 20
	open, integrity, shasum := bigTarball(size)
	cs := &countingServer{}
	srv := newLoopbackServer(t, cs)
	doc := npmLikeDoc("big", "1.0.0", "", []byte(`{"name":"big","version":"1.0.0"}`), integrity, shasum, size, srv.URL)

	want := sha256.New()
	if err := doc.Encode(want, map[string]Opener{doc.Attachments[0].Name: open}); err != nil {
		t.Fatal(err)
	}

	c, _ := testClient()
	h := sampleHeap()
	res, err := c.Publish(t.Context(), srv.URL, "big", doc, open, nil)
	growth := h.Stop()
	if err != nil || res.Outcome != Published {
		t.Fatalf("Publish = %+v, %v", res, err)
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if wantLen := base64Len(size); cs.n < wantLen || cs.n != cs.contentLength || cs.chunked {
		t.Fatalf("server read %d bytes with Content-Length %d (chunked %v); want at least %d, not chunked",
			cs.n, cs.contentLength, cs.chunked, wantLen)
	}
	if !bytes.Equal(cs.sum, want.Sum(nil)) {
		t.Fatal("the body sent differs from Encode's")
	}
	t.Logf("sent %d bytes; heap grew by at most %.1f MiB", cs.n, float64(growth)/(1<<20))
	if growth > 16<<20 {
		t.Fatalf("heap grew by %d MiB while publishing 100 MB: the body is not streamed", growth>>20)
	}
}

func TestPublishRefusesWrongLength(t *testing.T) {
	data := []byte("0123456789")
	for _, tc := range []struct {
		name   string
		open   Opener
		errSub string
	}{
		{"size differs", bytesOpener(data[:5]), "the publish document says 10"},
		{"short read", func() (io.ReadCloser, int64, error) {
			return io.NopCloser(bytes.NewReader(data[:5])), 10, nil
		}, "short of its length"},
		{"long read", func() (io.ReadCloser, int64, error) {
			return io.NopCloser(bytes.NewReader(append(data, 'x'))), 10, nil
		}, "longer than its length"},
		{"open fails", func() (io.ReadCloser, int64, error) { return nil, 0, errors.New("no such file") }, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := &countingServer{}
			srv := newLoopbackServer(t, cs)
			doc := npmLikeDoc("p", "1.0.0", "", []byte(`{"name":"p","version":"1.0.0"}`), sri(data), sha1hex(data), 10, srv.URL)
			c, _ := testClient()
			res, err := c.Publish(t.Context(), srv.URL, "p", doc, tc.open, nil)
			if err == nil || !strings.Contains(err.Error(), tc.errSub) || res.Outcome != NotPublished || res.ReadBack {
				t.Fatalf("Publish = %+v, %v; want not published: %q", res, err, tc.errSub)
			}
			cs.mu.Lock()
			defer cs.mu.Unlock()
			if cs.sum != nil {
				t.Fatal("the server received a whole body")
			}
		})
	}
}
