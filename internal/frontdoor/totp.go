package frontdoor

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"time"
)

const totpStep = 30 * time.Second

// TOTP returns the RFC 6238 code of secret at t: HMAC-SHA1, 30-second
// steps, 6 digits.
func TOTP(secret []byte, t time.Time) string {
	counter := t.Unix() / int64(totpStep/time.Second)
	if t.Unix() < 0 && t.Unix()%int64(totpStep/time.Second) != 0 {
		counter-- // floor, not truncation, before 1970
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	mac := hmac.New(sha1.New, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", code%1_000_000)
}
