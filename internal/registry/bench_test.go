package registry

import (
	"fmt"
	"testing"
)

// BenchmarkPublish100MB publishes a 100 MB tarball to the local Verdaccio
// and reports the client's peak heap growth, sampled every millisecond.
func BenchmarkPublish100MB(b *testing.B) {
	const size = 100 << 20
	s, token := verdaccio(b)
	open, integrity, shasum := bigTarball(size)
	c := &Client{UserAgent: "airlock-bench"}
	b.SetBytes(size)
	var peak uint64
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		version := fmt.Sprintf("1.0.%d", i)
		doc := npmLikeDoc("airlock-big", version, "", []byte(`{"name":"airlock-big","version":"`+version+`"}`),
			integrity, shasum, size, s.URL())
		h := sampleHeap()
		res, err := c.Publish(b.Context(), s.URL(), "airlock-big", doc, open, bearer(token))
		peak = max(peak, h.Stop())
		if err != nil || res.Outcome != Published {
			b.Fatalf("Publish = %+v, %v\nverdaccio:\n%s", res, err, s.Log())
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
