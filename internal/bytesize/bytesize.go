// Package bytesize writes byte counts the way npm 11 does in its pack
// summary (lib/utils/format-bytes.js): bytes below 1000, then kB, MB or
// GB in powers of 1000 with one digit after the point, as JavaScript's
// toFixed(1) prints it ("999B", "1.0kB", "22.8MB").
package bytesize

import (
	"math"
	"strconv"
)

// String is n as npm prints it without a space before the unit, as in
// its file list; npm puts one there in its totals.
func String(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + "B"
	case n < 999_950:
		return toFixed1(float64(n)/1e3) + "kB"
	case n < 999_950_000:
		return toFixed1(float64(n)/1e6) + "MB"
	default:
		return toFixed1(float64(n)/1e9) + "GB"
	}
}

// toFixed1 is JavaScript's x.toFixed(1) for x ≥ 0: the tenth nearest to
// x's exact binary value, the larger one on a tie, where Go's
// formatting picks the even one. A binary fraction lies exactly halfway
// between two tenths only when it is an odd number of quarters (x =
// (2k+1)/20 must have no factor 5 left in its denominator), and
// multiplying by 4 is exact.
func toFixed1(x float64) string {
	if q := x * 4; q == math.Trunc(q) && math.Mod(q, 2) == 1 {
		return strconv.FormatFloat(x+0.05, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}
