package deflate

import "encoding/binary"

// bitWriter appends bits to a byte slice, least significant bit first, as
// deflate packs them.
type bitWriter struct {
	out []byte
	acc uint64
	n   uint // bits in acc
}

// bits writes the n low bits of v; n+w.n must stay within 64, which holds
// for n <= 32.
func (w *bitWriter) bits(v uint64, n uint) {
	w.acc |= v << w.n
	w.n += n
	if w.n >= 32 {
		w.out = binary.LittleEndian.AppendUint32(w.out, uint32(w.acc))
		w.acc >>= 32
		w.n -= 32
	}
}

// align pads with zero bits to a byte boundary and flushes the bits.
func (w *bitWriter) align() {
	for w.n > 0 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.n -= min(w.n, 8)
	}
	w.acc = 0
}
