package inspect

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/airlockdev/airlock/internal/npmtest"
)

var typescript = npmtest.Published{Name: "typescript", Version: "5.7.2",
	Integrity: "sha512-i5t66RHxDvVN40HfDd1PsEThGNnlMCMT3jMUuoh9/0TaqWevNontacunWyN02LA9/fIbEWlcHZcgTKb9QoaLfg=="}

// benchTarballs are about 20 MB unpacked: typescript as published (a few
// big files), and 5,000 files of 200 bytes to 8 KiB cut from it in nested
// folders (per-entry costs).
func benchTarballs(b *testing.B) map[string][]byte {
	ts, err := os.ReadFile(npmtest.Fetch(b, typescript))
	if err != nil {
		b.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(ts))
	if err != nil {
		b.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 5000))
	parts := [][]byte{pjson("package")}
	for i := range 5000 {
		n := 200 + r.IntN(8<<10)
		off := r.IntN(len(raw) - n)
		name := fmt.Sprintf("package/lib/%s/m%d/file-%d.js", strings.Repeat("d", i%7+1), i%50, i)
		parts = append(parts, hdr{name: name, data: raw[off : off+n]}.bytes())
	}
	return map[string][]byte{"typescript": ts, "5000-files": tgz(parts...)}
}

func BenchmarkTarball(b *testing.B) {
	for name, data := range benchTarballs(b) {
		zr, _ := gzip.NewReader(bytes.NewReader(data))
		unpacked, _ := io.Copy(io.Discard, zr)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(unpacked)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Tarball(b.Context(), bytes.NewReader(data), int64(len(data)), Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		// What gunzip alone costs, for comparison.
		b.Run(name+"/gunzip-only", func(b *testing.B) {
			b.SetBytes(unpacked)
			b.ReportAllocs()
			for b.Loop() {
				zr, _ := gzip.NewReader(bytes.NewReader(data))
				if _, err := io.Copy(io.Discard, zr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
