package deflate

// RFC 1951 constants.
const (
	windowSize  = 1 << 15
	windowMask  = windowSize - 1
	maxDistance = windowSize - 1 // the slot of pos-32768 is reused by pos
	minMatch    = 3
	maxMatch    = 258
	maxCodeBits = 15
	maxCLBits   = 7 // code-length code
	numLitLen   = 286
	numDist     = 30
	numCL       = 19
	endOfBlock  = 256
	maxStored   = 65535
)

var (
	lengthBase = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
		35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
		3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
		257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
		7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// clOrder is the order code-length code lengths are sent in.
	clOrder = [numCL]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

var (
	// lengthCode[l-3] is the length code (0 to 28) of match length l.
	lengthCode [256]uint8
	// distCodeLo[d-1] for d <= 256, distCodeHi[(d-1)>>7] above.
	distCodeLo [256]uint8
	distCodeHi [256]uint8
	// fixedLens is the fixed literal/length code of block type 1, then
	// the fixed distance code.
	fixedLens  [numLitLen + numDist]uint8
	fixedCodes [numLitLen + numDist]uint16
)

func init() {
	for c := range 29 {
		lo := int(lengthBase[c]) - 3
		hi := lo + 1<<lengthExtra[c]
		for l := lo; l < hi && l < 256; l++ {
			lengthCode[l] = uint8(c)
		}
	}
	for c := range 30 {
		lo := int(distBase[c]) - 1
		hi := lo + 1<<distExtra[c]
		for d := lo; d < hi; d++ {
			if d < 256 {
				distCodeLo[d] = uint8(c)
			} else {
				distCodeHi[d>>7] = uint8(c)
			}
		}
	}
	var lens [288]uint8 // with codes 286 and 287, which never occur
	for i := range lens {
		switch {
		case i < 144:
			lens[i] = 8
		case i < 256:
			lens[i] = 9
		case i < 280:
			lens[i] = 7
		default:
			lens[i] = 8
		}
	}
	var codes [288]uint16
	canonical(lens[:], codes[:])
	copy(fixedLens[:], lens[:numLitLen])
	copy(fixedCodes[:], codes[:numLitLen])
	for i := range numDist {
		fixedLens[numLitLen+i] = 5
	}
	canonical(fixedLens[numLitLen:], fixedCodes[numLitLen:])
}

// distCode returns the distance code of distance d (1 to 32768).
func distCode(d uint32) uint32 {
	if d <= 256 {
		return uint32(distCodeLo[d-1])
	}
	return uint32(distCodeHi[(d-1)>>7])
}
