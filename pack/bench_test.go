package pack_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airlockdev/airlock/internal/npmtest"
	"github.com/airlockdev/airlock/pack"
)

// The benchmark trees: typescript's published files (a few large files),
// 5,000 small files cut from typescript's sources (real code, so the
// compression ratio is realistic), date-fns's published files (5,326
// small, similar files: the case where a compressor's match finding
// matters most), and a tiny package.
var benchTreeNames = []string{"typescript", "5000-files", "date-fns", "tiny"}

var (
	typescript = npmtest.Published{Name: "typescript", Version: "5.7.2",
		Integrity: "sha512-i5t66RHxDvVN40HfDd1PsEThGNnlMCMT3jMUuoh9/0TaqWevNontacunWyN02LA9/fIbEWlcHZcgTKb9QoaLfg=="}
	dateFns = npmtest.Published{Name: "date-fns", Version: "4.1.0",
		Integrity: "sha512-Ukq0owbQXxa/U3EGtsdVBkR1w7KOQ5gIBqdH2hkvknzZPYvBxb/aa6E8L7tmjFtkwZBu3UXBbjIgPo/Ez4xaNg=="}
)

func benchTree(b *testing.B, name string) string {
	b.Helper()
	if name == "date-fns" {
		return npmtest.Extract(b, npmtest.Fetch(b, dateFns))
	}
	ts := npmtest.Extract(b, npmtest.Fetch(b, typescript))
	switch name {
	case "typescript":
		return ts
	case "5000-files":
		return smallFiles(b, ts, 5000)
	default:
		return smallFiles(b, ts, 2)
	}
}

// smallFiles writes a package of n files of 200 bytes to 4 kB cut from
// typescript's lib folder, in nested folders.
func smallFiles(b *testing.B, ts string, n int) string {
	corpus, err := os.ReadFile(filepath.Join(ts, "lib", "typescript.js"))
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	r := rand.New(rand.NewPCG(5, 5000))
	write := func(rel string, content []byte) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	write("package.json", []byte(fmt.Sprintf(`{"name":"bench-%d","version":"1.0.0","main":"index.js"}`, n)))
	for i := range n {
		size := 200 + r.IntN(3800)
		off := r.IntN(len(corpus) - size)
		write(fmt.Sprintf("lib/m%02d/s%02d/file%04d.js", i%40, i%13, i), corpus[off:off+size])
	}
	return dir
}

// BenchmarkPack packs each tree with airlock; compare with BenchmarkNpmPack.
func BenchmarkPack(b *testing.B) {
	for _, name := range benchTreeNames {
		b.Run(name, func(b *testing.B) {
			dir := benchTree(b, name)
			dest := b.TempDir()
			var size int64
			for b.Loop() {
				size = airlockPack(b, dir, dest).Report.Size
			}
			b.ReportMetric(float64(size), "tgz-bytes")
		})
	}
}

// BenchmarkNpmPack runs the real npm pack on the same trees.
func BenchmarkNpmPack(b *testing.B) {
	for _, name := range benchTreeNames {
		b.Run(name, func(b *testing.B) {
			dir := benchTree(b, name)
			dest := b.TempDir()
			env := npmtest.Env(b)
			for b.Loop() {
				npmPack(b, dir, dest, env)
			}
			matches, _ := filepath.Glob(filepath.Join(dest, "*.tgz"))
			if len(matches) == 1 {
				if st, err := os.Stat(matches[0]); err == nil {
					b.ReportMetric(float64(st.Size()), "tgz-bytes")
				}
			}
		})
	}
}

func airlockPack(b *testing.B, dir, dest string) *pack.Result {
	res, err := pack.Pack(context.Background(), dir, pack.Options{Destination: dest, IgnoreScripts: true})
	if err != nil {
		b.Fatal(err)
	}
	return res
}

func npmPack(b *testing.B, dir, dest string, env []string) {
	cmd := exec.Command(npmtest.NPM(b), "pack", "--ignore-scripts", "--pack-destination", dest)
	cmd.Dir, cmd.Env = dir, env
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("npm pack: %v\n%s", err, out)
	}
}

// BenchmarkSpeedup alternates npm pack and airlock pack on each tree and
// reports the ratio of their times. The machine's speed drifts (it is
// shared), and runs minutes apart measure different machines; the two
// tools taking turns see the same one.
func BenchmarkSpeedup(b *testing.B) {
	for _, name := range benchTreeNames {
		b.Run(name, func(b *testing.B) {
			dir := benchTree(b, name)
			npmDest, dest := b.TempDir(), b.TempDir()
			env := npmtest.Env(b)
			var npmTime, airlockTime time.Duration
			for b.Loop() {
				start := time.Now()
				npmPack(b, dir, npmDest, env)
				npmTime += time.Since(start)
				start = time.Now()
				airlockPack(b, dir, dest)
				airlockTime += time.Since(start)
			}
			b.ReportMetric(float64(npmTime.Milliseconds())/float64(b.N), "npm-ms/op")
			b.ReportMetric(float64(airlockTime.Microseconds())/1000/float64(b.N), "airlock-ms/op")
			b.ReportMetric(float64(npmTime)/float64(airlockTime), "speedup")
		})
	}
}

// BenchmarkPackLargeFile shows that memory does not grow with the largest
// file: peak live heap stays flat from 16 MiB to 256 MiB.
func BenchmarkPackLargeFile(b *testing.B) {
	for _, mib := range []int{16, 256} {
		b.Run(fmt.Sprintf("%dMiB", mib), func(b *testing.B) {
			dir := b.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"big","version":"1.0.0"}`), 0o644); err != nil {
				b.Fatal(err)
			}
			f, err := os.Create(filepath.Join(dir, "big.bin"))
			if err != nil {
				b.Fatal(err)
			}
			r := rand.New(rand.NewPCG(1, 1))
			chunk := make([]byte, 1<<20)
			for range mib {
				for i := range chunk {
					chunk[i] = "abcdefgh"[r.IntN(8)] // compressible, not trivially
				}
				f.Write(chunk)
			}
			f.Close()
			dest := b.TempDir()
			var peak atomic.Uint64
			stop := sampleHeap(&peak)
			for b.Loop() {
				if _, err := pack.Pack(context.Background(), dir, pack.Options{Destination: dest, IgnoreScripts: true}); err != nil {
					b.Fatal(err)
				}
			}
			stop()
			b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
		})
	}
}

// sampleHeap records the largest live heap seen every millisecond until
// the returned function is called.
func sampleHeap(peak *atomic.Uint64) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
