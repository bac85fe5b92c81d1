package deflate

import "math/bits"

// writeBlocks writes the parsed tokens as one or more blocks.
func (e *Encoder) writeBlocks(src []byte, start int, final bool) {
	last := len(e.chunks) - 1
	if len(e.toks) == 0 {
		if final {
			e.w.bits(1|1<<1, 3) // fixed codes, nothing but the end of block
			e.w.bits(uint64(fixedCodes[endOfBlock]), uint(fixedLens[endOfBlock]))
		}
		return
	}
	var whole hist
	whole.sub(&e.chunks[last], &e.chunks[0])
	e.split(src, 0, last, &whole, e.blockBits(&whole, 0), final)
}

// split writes chunks [a, b), whose histogram is h and whose best single
// block costs cost bits, cutting it in two where that pays.
func (e *Encoder) split(src []byte, a, b int, h *hist, cost int, final bool) {
	if b-a >= 2 {
		m, est := e.bestCut(a, b)
		// Real codes are only built for cuts whose estimated saving is
		// worth a good part of another block header.
		if gain := int64(entropy(h)>>16) - int64(est>>16); gain > int64(e.dyn[0].headerBits)/2 {
			var left, right hist
			left.sub(&e.chunks[m], &e.chunks[a])
			right.sub(&e.chunks[b], &e.chunks[m])
			lc, rc := e.blockBits(&left, 0), e.blockBits(&right, 1)
			if lc+rc < cost {
				e.split(src, a, m, &left, lc, false)
				e.split(src, m, b, &right, rc, final)
				return
			}
		}
	}
	e.writeBlock(src, a, b, h, final)
}

// bestCut returns the chunk boundary in (a, b) that minimizes the
// estimated size of the two halves, and that estimate. Long ranges are
// searched coarsely first, then around the best coarse cut.
func (e *Encoder) bestCut(a, b int) (int, uint64) {
	step := max(1, (b-a)/32)
	best, bestBits := e.cutsIn(a, b, a+step, b, step)
	if step > 1 {
		best, bestBits = e.cutsIn(a, b, max(a+1, best-step+1), min(b, best+step), 1)
	}
	return best, bestBits
}

// cutsIn tries the cuts of [a, b) at lo, lo+step, … below hi.
func (e *Encoder) cutsIn(a, b, lo, hi, step int) (int, uint64) {
	best, bestBits := lo, uint64(1<<63)
	var left, right hist
	for m := lo; m < hi; m += step {
		left.sub(&e.chunks[m], &e.chunks[a])
		right.sub(&e.chunks[b], &e.chunks[m])
		if n := entropy(&left) + entropy(&right); n < bestBits {
			best, bestBits = m, n
		}
	}
	return best, bestBits
}

// blockBits is the size of h's tokens as a dynamic block, using e.dyn[i].
func (e *Encoder) blockBits(h *hist, i int) int {
	hh := *h
	hh[endOfBlock] = 1
	return e.dyn[i].build(&e.hf, &hh)
}

// writeBlock writes chunks [a, b) as the smallest of a dynamic, fixed or
// stored block.
func (e *Encoder) writeBlock(src []byte, a, b int, h *hist, final bool) {
	hh := *h
	hh[endOfBlock] = 1
	d := &e.dyn[0]
	dyn := d.build(&e.hf, &hh)
	fixed := fixedBits(&hh)
	lo, hi := int(e.offs[a]), int(e.offs[b])
	stored := storedBits(hi-lo, e.w.n)
	toks := e.toks[a*chunkTokens : min(b*chunkTokens, len(e.toks))]
	switch {
	case stored < dyn && stored < fixed:
		writeStored(&e.w, src[lo:hi], final)
	case fixed <= dyn:
		e.w.bits(uint64(b2i(final))|1<<1, 3)
		writeTokens(&e.w, toks, fixedLens[:], fixedCodes[:])
	default:
		d.writeHeader(&e.w, final)
		writeTokens(&e.w, toks, d.lens[:], d.codes[:])
	}
}

// entropy estimates in bits (times 2^16) the size of h's literal/length
// and distance symbols, without extra bits or code tables.
func entropy(h *hist) uint64 {
	return entropyOf(h[:numLitLen]) + entropyOf(h[numLitLen:])
}

// entropyOf is sum(f) log2 sum(f) - sum(f log2 f), in 1/65536 bits.
func entropyOf(freq []uint32) uint64 {
	var total uint32
	var sum uint64
	for _, f := range freq {
		if f != 0 {
			total += f
			sum += uint64(f) * uint64(log2(f))
		}
	}
	if total == 0 {
		return 0
	}
	return uint64(total)*uint64(log2(total)) - sum
}

// log2 returns log2(x) for x >= 1 in 1/65536 units, within 2^-9, by
// integer arithmetic only so that it is the same on every machine.
func log2(x uint32) uint32 {
	n := uint32(bits.Len32(x) - 1)
	if n < logTableBits {
		return logTable[x<<(logTableBits-n)-1<<logTableBits] + n<<16
	}
	return logTable[x>>(n-logTableBits)-1<<logTableBits] + n<<16
}

const logTableBits = 10

// logTable[i] is log2(1 + i/1024) in 1/65536 units.
var logTable = func() (t [1 << logTableBits]uint32) {
	for i := range t {
		t[i] = log2Exact(uint64(1<<logTableBits+i), logTableBits)
	}
	return
}()

// log2Exact computes log2(m / 2^k) for m in [2^k, 2^(k+1)) to 16
// fractional bits by repeated squaring.
func log2Exact(m uint64, k uint) uint32 {
	x := m << (31 - k) // Q31, in [1, 2)
	var r uint32
	for i := 15; i >= 0; i-- {
		x = x * x >> 31
		if x >= 2<<31 {
			x >>= 1
			r |= 1 << i
		}
	}
	return r
}
