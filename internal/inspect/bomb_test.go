package inspect

import (
	"archive/tar"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// countingReader counts what Tarball reads from the bomb.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// bomb streams a tarball of files of zeros, total bytes in all, compressed
// on the fly: nothing the size of the bomb ever exists. afterEnd puts the
// zeros after the end-of-archive marker instead, as padding.
func bomb(t *testing.T, total, fileSize int64, afterEnd bool) (r *countingReader, stop func()) {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		zw, _ := gzip.NewWriterLevel(pw, gzip.BestSpeed)
		tw := tar.NewWriter(zw)
		err := func() error {
			pj := []byte(minimalPJ)
			if err := tw.WriteHeader(&tar.Header{Name: "package/package.json", Mode: 0o644, Size: int64(len(pj)), ModTime: time.Unix(499162500, 0)}); err != nil {
				return err
			}
			if _, err := tw.Write(pj); err != nil {
				return err
			}
			if afterEnd {
				if err := tw.Close(); err != nil {
					return err
				}
				_, err := io.CopyN(zw, zeroReader{}, total)
				return err
			}
			for i := int64(0); i*fileSize < total; i++ {
				h := &tar.Header{Name: "package/zeros/" + strings.Repeat("z", int(i%50)+1), Mode: 0o644, Size: fileSize, ModTime: time.Unix(499162500, 0)}
				h.Name += "-" + string(rune('a'+i%26)) + string(rune('a'+i/26%26))
				if err := tw.WriteHeader(h); err != nil {
					return err
				}
				if _, err := io.CopyN(tw, zeroReader{}, fileSize); err != nil {
					return err
				}
			}
			return tw.Close()
		}()
		if err == nil {
			err = zw.Close()
		}
		pw.CloseWithError(err)
	}()
	return &countingReader{r: pr}, func() {
		pr.CloseWithError(errors.New("test over"))
		<-done
	}
}

func TestDecompressionBomb(t *testing.T) {
	const tenGB = 10 << 30
	tests := []struct {
		name       string
		fileSize   int64
		afterEnd   bool
		lim        Limits
		want       string
		compressed int64 // compressed bytes read at most; deflate packs zeros about 1000:1
	}{
		{"ratio stops 10 GB of zeros", 500 << 20, false, Limits{}, "compression ratio above 200", 64 << 10},
		{"ratio stops 10 GB of padding after the end marker", 0, true, Limits{}, "compression ratio above 200", 64 << 10},
		{"declared sizes stop them when the ratio allows", 500 << 20, false, Limits{MaxRatio: 1e9}, "files total more than 1073741824 bytes unpacked", 1536 << 10},
		{"stream size stops padding when the ratio allows", 0, true, Limits{MaxRatio: 1e9}, "more than 1073741824 bytes unpacked", 1536 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, stop := bomb(t, tenGB, tt.fileSize, tt.afterEnd)
			defer stop()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := Tarball(t.Context(), r, -1, tt.lim)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a limit error about %q", err, tt.want)
			}
			if read := r.n.Load(); read > tt.compressed {
				t.Errorf("read %d compressed bytes, want at most %d", read, tt.compressed)
			}
			// Allocation over the whole run, bomb generator included, stays
			// far below the gigabytes inflated.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
				t.Errorf("allocated %d MiB inspecting the bomb", alloc>>20)
			}
			t.Logf("%v after %v; %d KiB compressed read, %d KiB allocated", err, elapsed, r.n.Load()>>10, (after.TotalAlloc-before.TotalAlloc)>>10)
		})
	}
}
