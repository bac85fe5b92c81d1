// Package compresstest makes inputs for the compressor's tests and
// benchmarks: text that compresses like JavaScript, and bytes that do not
// compress at all, both the same for the same seed.
package compresstest

import (
	"bytes"
	"math/rand/v2"
	"strings"
)

var words = strings.Fields("function return const let var if else for while import export default from require module exports this null undefined true false async await new class extends => { } ( ) ; = + - . , : 0 1 2 x y z value key index length push map filter")

// Text is n bytes of JavaScript-like words and lines.
func Text(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
		if r.IntN(8) == 0 {
			b.WriteByte('\n')
		} else {
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}

// Random is n random bytes.
func Random(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}
