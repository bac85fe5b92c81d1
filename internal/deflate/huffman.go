package deflate

import "slices"

// codeLengths sets lens[i] to the length of symbol i's code in an optimal
// prefix code for freq whose codes are at most maxBits long (package-merge,
// so optimal under the limit, not just close). Symbols of frequency 0 get
// length 0. When fewer than two symbols occur, the code is padded with the
// lowest unused symbols so that it is complete, which every inflater
// accepts. Ties are broken by symbol, so the result depends on freq alone.
func (h *huffman) codeLengths(freq []uint32, maxBits int, lens []uint8) {
	h.lengths(freq, maxBits, lens, true)
}

// packageMerge is codeLengths without the unlimited fast path, for tests.
func (h *huffman) packageMerge(freq []uint32, maxBits int, lens []uint8) {
	h.lengths(freq, maxBits, lens, false)
}

func (h *huffman) lengths(freq []uint32, maxBits int, lens []uint8, fast bool) {
	clear(lens[:len(freq)])
	// Leaves sort by weight, then symbol: weight<<16 | symbol.
	leaves := h.leaves[:0]
	for i, f := range freq {
		if f != 0 {
			leaves = append(leaves, uint64(f)<<16|uint64(i))
		}
	}
	for i := 0; len(leaves) < 2; i++ {
		if freq[i] == 0 {
			leaves = append(leaves, 1<<16|uint64(i))
		}
	}
	slices.Sort(leaves)
	h.leaves = leaves
	n := len(leaves)
	if n == 2 {
		lens[leaves[0]&0xffff], lens[leaves[1]&0xffff] = 1, 1
		return
	}
	if fast && h.unlimited(maxBits) {
		for i, lf := range leaves {
			lens[lf&0xffff] = uint8(h.depth[i])
		}
		return
	}
	h.merge(maxBits, lens)
}

// merge is package-merge on the sorted h.leaves, of which there are at
// least three.
func (h *huffman) merge(maxBits int, lens []uint8) {
	leaves := h.leaves
	n := len(leaves)

	// lists[l] holds, in weight order, the items of level l: leaves and
	// packages (pairs of adjacent items of level l+1). Level maxBits-1 is
	// the leaves alone. isLeaf records which is which.
	for l := range maxBits {
		h.lists[l] = h.lists[l][:0]
		h.isLeaf[l] = h.isLeaf[l][:0]
	}
	deep := maxBits - 1
	for _, lf := range leaves {
		h.lists[deep] = append(h.lists[deep], lf>>16)
		h.isLeaf[deep] = append(h.isLeaf[deep], true)
	}
	for l := deep - 1; l >= 0; l-- {
		below := h.lists[l+1]
		list, kind := h.lists[l], h.isLeaf[l]
		i, j := 0, 0 // next leaf, next package
		for i < n || j+1 < len(below) {
			if j+1 < len(below) && (i == n || below[j]+below[j+1] < leaves[i]>>16) {
				list = append(list, below[j]+below[j+1])
				kind = append(kind, false)
				j += 2
			} else {
				list = append(list, leaves[i]>>16)
				kind = append(kind, true)
				i++
			}
		}
		h.lists[l], h.isLeaf[l] = list, kind
	}

	// The first 2n-2 items of level 0 are the solution. A leaf in the
	// first m items of a level is one of the m lightest, so each level
	// adds one bit to the codes of its first `leaves taken` symbols.
	m := 2*n - 2
	for l := 0; l < maxBits && m > 0; l++ {
		taken, packages := 0, 0
		for _, isLeaf := range h.isLeaf[l][:m] {
			if isLeaf {
				taken++
			} else {
				packages++
			}
		}
		for _, lf := range leaves[:taken] {
			lens[lf&0xffff]++
		}
		m = 2 * packages
	}
}

// unlimited computes an optimal code with no length limit for the sorted
// h.leaves into h.depth (in place, as Moffat and Katajainen do: first
// the parents of the internal nodes, then their depths, then the leaves'
// depths), and reports whether its longest code fits in maxBits. Mostly
// it does, and then package-merge is not needed.
func (h *huffman) unlimited(maxBits int) bool {
	n := len(h.leaves)
	a := h.depth[:n]
	for i, lf := range h.leaves {
		a[i] = lf >> 16
	}
	a[0] += a[1]
	root, leaf := 0, 2
	for next := 1; next < n-1; next++ {
		if leaf >= n || a[root] < a[leaf] {
			a[next] = a[root]
			a[root] = uint64(next)
			root++
		} else {
			a[next] = a[leaf]
			leaf++
		}
		if leaf >= n || root < next && a[root] < a[leaf] {
			a[next] += a[root]
			a[root] = uint64(next)
			root++
		} else {
			a[next] += a[leaf]
			leaf++
		}
	}
	a[n-2] = 0
	for next := n - 3; next >= 0; next-- {
		a[next] = a[a[next]] + 1
	}
	avail, used, depth := 1, 0, uint64(0)
	root, next := n-2, n-1
	for avail > 0 {
		for root >= 0 && a[root] == depth {
			used++
			root--
		}
		for avail > used {
			a[next] = depth
			next--
			avail--
		}
		avail, used = 2*used, 0
		depth++
	}
	return a[0] <= uint64(maxBits)
}

// huffman holds scratch space for codeLengths.
type huffman struct {
	leaves []uint64 // weight<<16 | symbol
	depth  [numLitLen]uint64
	lists  [maxCodeBits][]uint64
	isLeaf [maxCodeBits][]bool
}

// canonical sets codes to the canonical prefix code for lens (RFC 1951
// section 3.2.2), bit-reversed because deflate writes codes from the most
// significant bit first into an LSB-first stream.
func canonical(lens []uint8, codes []uint16) {
	var count [maxCodeBits + 1]uint16
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	var next [maxCodeBits + 1]uint16
	code := uint16(0)
	for bits := 1; bits <= maxCodeBits; bits++ {
		code = (code + count[bits-1]) << 1
		next[bits] = code
	}
	for i, l := range lens {
		if l == 0 {
			codes[i] = 0
			continue
		}
		codes[i] = reverse(next[l], l)
		next[l]++
	}
}

func reverse(code uint16, bits uint8) uint16 {
	var r uint16
	for range bits {
		r = r<<1 | code&1
		code >>= 1
	}
	return r
}
