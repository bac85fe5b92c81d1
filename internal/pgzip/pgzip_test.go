package pgzip

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/airlockdev/airlock/internal/compresstest"
	"github.com/airlockdev/airlock/internal/deflate"
	"github.com/airlockdev/airlock/internal/tarball"
)

func compressAll(t testing.TB, data []byte, opts Options, chunk func() int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := NewWriter(&buf, opts)
	for p := data; len(p) > 0; {
		n := len(p)
		if chunk != nil {
			n = min(n, chunk())
		}
		if _, err := zw.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gunzip(t testing.TB, gz []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("compress/gzip: %v", err)
	}
	return out
}

var (
	text   = compresstest.Text
	random = compresstest.Random
)

func TestRoundTrip(t *testing.T) {
	small := Options{blockSize: 4096} // smaller than the dictionary
	tests := []struct {
		name string
		data []byte
		opts Options
	}{
		{"empty", nil, Options{}},
		{"one byte", []byte("x"), Options{}},
		{"under a block", text(defaultBlockSize-1, 1), Options{}},
		{"one block", text(defaultBlockSize, 2), Options{}},
		{"block and a byte", text(defaultBlockSize+1, 3), Options{}},
		{"three blocks", text(3*defaultBlockSize+77, 4), Options{Concurrency: 2}},
		{"incompressible", random(2*defaultBlockSize+5, 5), Options{}},
		{"zeros", make([]byte, 2*defaultBlockSize), Options{}},
		{"small blocks", text(100_000, 6), small},
		{"small blocks exact", text(4096*20, 7), small},
		{"small blocks random", random(50_000, 8), small},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gz := compressAll(t, tt.data, tt.opts, nil)
			if !bytes.Equal(gz[:10], header) {
				t.Errorf("header % x, want % x", gz[:10], header)
			}
			if got := gunzip(t, gz); !bytes.Equal(got, tt.data) {
				t.Errorf("round trip changed %d bytes into %d", len(tt.data), len(got))
			}
		})
	}
}

// The bytes written must not depend on concurrency, GOMAXPROCS or how the
// input is split into writes.
func TestDeterministic(t *testing.T) {
	// Under and over smallInput: thorough and normal search.
	for _, n := range []int{5*defaultBlockSize + 12345, smallInput + 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) { testDeterministic(t, corpus(t)[:n]) })
	}
}

func testDeterministic(t *testing.T, data []byte) {
	want := compressAll(t, data, Options{Concurrency: 1}, nil)

	r := rand.New(rand.NewPCG(1, 1))
	variants := []struct {
		name  string
		opts  Options
		chunk func() int
		procs int
	}{
		{"concurrency 2", Options{Concurrency: 2}, nil, 0},
		{"concurrency 3", Options{Concurrency: 3}, nil, 0},
		{"concurrency 16", Options{Concurrency: 16}, nil, 0},
		{"GOMAXPROCS 1", Options{}, nil, 1},
		{"GOMAXPROCS 8", Options{}, nil, 8},
		{"random writes", Options{Concurrency: 4}, func() int { return 1 + r.IntN(200_000) }, 0},
		{"small writes", Options{Concurrency: 2}, func() int { return 1 + r.IntN(100) }, 0},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			if v.procs > 0 {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(v.procs))
			}
			if got := compressAll(t, data, v.opts, v.chunk); !bytes.Equal(got, want) {
				t.Errorf("output differs from Concurrency 1 (%d vs %d bytes)", len(got), len(want))
			}
		})
	}

	// And it must equal compressing each block with a fresh compressor,
	// so pooled compressors carry nothing from one block to the next.
	var ref bytes.Buffer
	ref.Write(header)
	for off := 0; off < len(data); off += defaultBlockSize {
		end := min(off+defaultBlockSize, len(data))
		lo := max(0, off-dictSize)
		e := deflate.Encoder{Thorough: len(data) <= smallInput}
		ref.Write(e.Append(nil, data[lo:end], off-lo, end == len(data)))
	}
	if !bytes.Equal(ref.Bytes(), want[:len(want)-8]) {
		t.Error("output differs from fresh per-block compressors")
	}
}

type failWriter struct{ after int }

var errWrite = errors.New("disk full")

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errWrite
	}
	f.after--
	return len(p), nil
}

func TestWriteErrors(t *testing.T) {
	data := text(3*4096, 1)
	for after := range 4 {
		zw := NewWriter(&failWriter{after: after}, Options{blockSize: 4096, Concurrency: 1})
		_, werr := zw.Write(data)
		cerr := zw.Close()
		if !errors.Is(werr, errWrite) && !errors.Is(cerr, errWrite) {
			t.Errorf("failing after %d writes: Write %v, Close %v; want %v", after, werr, cerr, errWrite)
		}
	}
	zw := NewWriter(io.Discard, Options{})
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if err := zw.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

// Memory must stay bounded however long the input is: compressing 64 MiB
// allocates no more than compressing 16 MiB.
func TestBoundedMemory(t *testing.T) {
	chunk := random(defaultBlockSize, 9) // quick to compress
	allocs := func(blocks int) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		zw := NewWriter(io.Discard, Options{Concurrency: 2})
		for range blocks {
			if _, err := zw.Write(chunk); err != nil {
				t.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	a16, a64 := allocs(16), allocs(64)
	t.Logf("allocated %.1f MiB for 16 MiB, %.1f MiB for 64 MiB", float64(a16)/(1<<20), float64(a64)/(1<<20))
	if a64 > 24<<20 || a64 > a16+4<<20 {
		t.Errorf("allocations grow with the input: %d MiB for 16 MiB, %d MiB for 64 MiB", a16>>20, a64>>20)
	}
}

// Other gzip readers must accept the stream: gzip -t, zcat and Node's zlib.
func TestInterop(t *testing.T) {
	data := corpus(t)
	gz := compressAll(t, data, Options{}, nil)
	if !bytes.Equal(gunzip(t, gz), data) {
		t.Fatal("compress/gzip round trip failed")
	}
	run := func(name string, args ...string) []byte {
		cmd := exec.Command(name, args...)
		cmd.Stdin = bytes.NewReader(gz)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, stderr.Bytes())
		}
		return out
	}
	run("gzip", "-t")
	if out := run("zcat"); !bytes.Equal(out, data) {
		t.Error("zcat output differs from the input")
	}
	if out := run("node", "-e", `
		const c = []; process.stdin.on('data', d => c.push(d)).on('end', () =>
		process.stdout.write(require('zlib').gunzipSync(Buffer.concat(c))))`); !bytes.Equal(out, data) {
		t.Error("node zlib output differs from the input")
	}
}

// The output must be no larger than zlib -9's, what npm writes (Node's
// zlib), on a realistic package: npm's own files packed as npm packs them.
func TestSizeVsZlib(t *testing.T) {
	data := corpus(t)
	ours := len(compressAll(t, data, Options{}, nil))

	var std bytes.Buffer
	gw, _ := gzip.NewWriterLevel(&std, gzip.BestCompression)
	gw.Write(data)
	gw.Close()

	cmd := exec.Command("node", "-e", `
		const c = []; process.stdin.on('data', d => c.push(d)).on('end', () =>
		process.stdout.write(String(require('zlib').gzipSync(Buffer.concat(c), { level: 9 }).length)))`)
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	zlib, err := strconv.Atoi(string(out))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("input %d bytes: pgzip %d, node zlib -9 %d (%+.2f%%), compress/gzip -9 %d (%+.2f%%)",
		len(data), ours, zlib, pct(ours, zlib), std.Len(), pct(ours, std.Len()))
	if ours > zlib {
		t.Errorf("pgzip is %.2f%% larger than zlib -9", pct(ours, zlib))
	}
	if ours > std.Len() {
		t.Errorf("pgzip is %.2f%% larger than compress/gzip -9", pct(ours, std.Len()))
	}
}

func pct(a, b int) float64 { return 100 * (float64(a)/float64(b) - 1) }

// corpus is npm's own package directory packed as npm would pack it,
// about 14 MB of JavaScript, Markdown and JSON.
func corpus(t testing.TB) []byte {
	t.Helper()
	b, err := corpusOnce()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var corpusOnce = sync.OnceValues(func() ([]byte, error) {
	out, err := exec.Command("npm", "root", "-g").Output()
	if err != nil {
		return nil, fmt.Errorf("finding npm (needed for the test corpus): %w", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "npm")
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.HasPrefix(rel, "@") {
			rel = "./" + rel
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := tarball.Write(context.Background(), &buf, files, tarball.Options{Dir: dir}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
})

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte(""), uint16(0), uint16(1))
	f.Add([]byte("hello, hello, hello"), uint16(3), uint16(5))
	f.Add(text(20_000, 1), uint16(1000), uint16(4096))
	f.Add(random(5000, 2), uint16(100), uint16(64))
	f.Fuzz(func(t *testing.T, data []byte, cut, bs uint16) {
		data = data[:min(len(data), 64<<10)] // keep the fuzzer's pace
		opts := Options{blockSize: 2048 + int(bs)%16384}
		split := func() func() int {
			n := 1 + int(cut)
			return func() int { return n }
		}
		one := compressAll(t, data, Options{blockSize: opts.blockSize, Concurrency: 1}, nil)
		if got := gunzip(t, one); !bytes.Equal(got, data) {
			t.Fatalf("round trip changed %d bytes into %d", len(data), len(got))
		}
		many := compressAll(t, data, Options{blockSize: opts.blockSize, Concurrency: 3}, split())
		if !bytes.Equal(one, many) {
			t.Fatal("output depends on concurrency or write sizes")
		}
	})
}

func BenchmarkWriter(b *testing.B) {
	// About 22 MB: npm's files packed, repeated.
	data := bytes.Repeat(corpus(b), 2)[:22<<20]
	for _, conc := range []int{1, 0} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				zw := NewWriter(io.Discard, Options{Concurrency: conc})
				zw.Write(data)
				if err := zw.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("compress/gzip", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestCompression)
			zw.Write(data)
			zw.Close()
		}
	})
}

// A tiny package must cost next to nothing.
func BenchmarkWriterSmall(b *testing.B) {
	for _, n := range []int{300, 10_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			data := text(n, 3)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				zw := NewWriter(io.Discard, Options{})
				zw.Write(data)
				if err := zw.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
