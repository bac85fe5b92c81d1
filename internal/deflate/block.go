package deflate

// A token is a literal byte (below 256) or a match: distance<<8 | length-3.
type token = uint32

func match(length, dist int) token { return token(dist)<<8 | token(length-minMatch) }

// hist counts the symbols of some tokens: literal/length codes, then
// distance codes.
type hist [numLitLen + numDist]uint32

func (h *hist) add(t token) {
	if t < 256 {
		h[t]++
		return
	}
	h[257+int(lengthCode[t&0xff])]++
	h[numLitLen+int(distCode(t>>8))]++
}

// sub sets h to a-b.
func (h *hist) sub(a, b *hist) {
	for i := range h {
		h[i] = a[i] - b[i]
	}
}

// extraBits is what the length and distance extra bits of h cost.
func (h *hist) extraBits() int {
	n := 0
	for c := range 29 {
		n += int(h[257+c]) * int(lengthExtra[c])
	}
	for c := range numDist {
		n += int(h[numLitLen+c]) * int(distExtra[c])
	}
	return n
}

// dynamic is a block's dynamic Huffman codes and its encoded header.
type dynamic struct {
	lens       [numLitLen + numDist]uint8
	codes      [numLitLen + numDist]uint16
	hlit       int
	hdist      int
	rle        []uint8 // code-length symbols, each 16, 17 and 18 followed by its repeat count
	clLens     [numCL]uint8
	clCodes    [numCL]uint16
	hclen      int
	headerBits int // after the 3-bit block header
}

// build computes the codes for h (which must count one end-of-block) and
// returns the size in bits of the whole block.
func (d *dynamic) build(hf *huffman, h *hist) int {
	hf.codeLengths(h[:numLitLen], maxCodeBits, d.lens[:numLitLen])
	used := false
	for _, f := range h[numLitLen:] {
		used = used || f != 0
	}
	if used {
		hf.codeLengths(h[numLitLen:], maxCodeBits, d.lens[numLitLen:])
	} else {
		// One distance code of length 0: no distances at all (RFC 1951
		// section 3.2.7).
		clear(d.lens[numLitLen:])
	}
	d.hlit = numLitLen
	for d.hlit > 257 && d.lens[d.hlit-1] == 0 {
		d.hlit--
	}
	d.hdist = numDist
	for d.hdist > 1 && d.lens[numLitLen+d.hdist-1] == 0 {
		d.hdist--
	}

	// Run-length encode the code lengths as one sequence, which RFC 1951
	// allows to run from the literal/length lengths into the distance ones.
	var seq [numLitLen + numDist]uint8
	n := copy(seq[:], d.lens[:d.hlit])
	n += copy(seq[n:], d.lens[numLitLen:numLitLen+d.hdist])
	var clFreq [numCL]uint32
	d.rle = d.rle[:0]
	for i := 0; i < n; {
		v := seq[i]
		run := 1
		for i+run < n && seq[i+run] == v {
			run++
		}
		i += run
		if v == 0 {
			for run >= 11 {
				r := min(run, 138)
				d.rle = append(d.rle, 18, uint8(r-11))
				clFreq[18]++
				run -= r
			}
			if run >= 3 {
				d.rle = append(d.rle, 17, uint8(run-3))
				clFreq[17]++
				run = 0
			}
		} else {
			d.rle = append(d.rle, v)
			clFreq[v]++
			run--
			for run >= 3 {
				r := min(run, 6)
				d.rle = append(d.rle, 16, uint8(r-3))
				clFreq[16]++
				run -= r
			}
		}
		for ; run > 0; run-- {
			d.rle = append(d.rle, v)
			clFreq[v]++
		}
	}
	hf.codeLengths(clFreq[:], maxCLBits, d.clLens[:])
	canonical(d.clLens[:], d.clCodes[:])
	d.hclen = numCL
	for d.hclen > 4 && d.clLens[clOrder[d.hclen-1]] == 0 {
		d.hclen--
	}
	bits := 5 + 5 + 4 + 3*d.hclen
	for s, f := range clFreq {
		bits += int(f) * int(d.clLens[s])
	}
	bits += 2*int(clFreq[16]) + 3*int(clFreq[17]) + 7*int(clFreq[18])
	d.headerBits = bits

	canonical(d.lens[:numLitLen], d.codes[:numLitLen])
	canonical(d.lens[numLitLen:], d.codes[numLitLen:])
	data := h.extraBits()
	for s, f := range h {
		data += int(f) * int(d.lens[s])
	}
	return 3 + bits + data
}

func (d *dynamic) writeHeader(w *bitWriter, final bool) {
	w.bits(uint64(b2i(final))|2<<1, 3)
	w.bits(uint64(d.hlit-257), 5)
	w.bits(uint64(d.hdist-1), 5)
	w.bits(uint64(d.hclen-4), 4)
	for _, s := range clOrder[:d.hclen] {
		w.bits(uint64(d.clLens[s]), 3)
	}
	for i := 0; i < len(d.rle); i++ {
		s := d.rle[i]
		w.bits(uint64(d.clCodes[s]), uint(d.clLens[s]))
		switch s {
		case 16:
			i++
			w.bits(uint64(d.rle[i]), 2)
		case 17:
			i++
			w.bits(uint64(d.rle[i]), 3)
		case 18:
			i++
			w.bits(uint64(d.rle[i]), 7)
		}
	}
}

// fixedBits is the size in bits of h's tokens as a fixed-code block.
func fixedBits(h *hist) int {
	n := 3 + h.extraBits()
	for s, f := range h {
		if s < numLitLen {
			n += int(f) * int(fixedLens[s])
		} else {
			n += int(f) * 5
		}
	}
	return n
}

// writeTokens writes toks and an end of block with the given codes:
// literal/length codes, then distance codes.
func writeTokens(w *bitWriter, toks []token, lens []uint8, codes []uint16) {
	dlens, dcodes := lens[numLitLen:], codes[numLitLen:]
	for _, t := range toks {
		if t < 256 {
			w.bits(uint64(codes[t]), uint(lens[t]))
			continue
		}
		l := t & 0xff
		lc := lengthCode[l]
		s := 257 + uint32(lc)
		w.bits(uint64(codes[s])|uint64(l+3-uint32(lengthBase[lc]))<<lens[s], uint(lens[s]+lengthExtra[lc]))
		d := t >> 8
		dc := distCode(d)
		w.bits(uint64(dcodes[dc])|uint64(d-uint32(distBase[dc]))<<dlens[dc], uint(dlens[dc]+distExtra[dc]))
	}
	w.bits(uint64(codes[endOfBlock]), uint(lens[endOfBlock]))
}

// writeStored writes data as stored blocks, the last one final if final.
func writeStored(w *bitWriter, data []byte, final bool) {
	for {
		n := min(len(data), maxStored)
		last := n == len(data)
		w.bits(uint64(b2i(final && last)), 3)
		w.align()
		w.out = append(w.out, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
		w.out = append(w.out, data[:n]...)
		data = data[n:]
		if last {
			return
		}
	}
}

// storedBits is the size in bits of n bytes as stored blocks starting
// after bit offset `at` within a byte.
func storedBits(n int, at uint) int {
	blocks := max(1, (n+maxStored-1)/maxStored)
	first := 3 + int((8-(at+3)%8)%8) // header, then padding to a byte
	return first + 32 + (blocks-1)*(8+32) + 8*n
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
