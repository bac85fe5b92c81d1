package registry

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// RetryPolicy says how often and how long apart requests are tried again.
//
// Only what cannot do harm is retried: a request none of which was sent
// (a dial error, say), and for a packument GET, which changes nothing,
// also a lost connection, a timeout, a 5xx, or a 429. A publish PUT that
// may have reached the registry is never sent again: Publish reads the
// packument back instead.
type RetryPolicy struct {
	// MaxAttempts is how many times a request is tried in all; 0 means 4,
	// and 1 turns retries off.
	MaxAttempts int
	// BaseDelay is the delay before the first retry, doubled for each
	// further one up to MaxDelay; 0 means 500ms and 15s.
	BaseDelay, MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits out; a
	// registry asking for longer gets an error instead. 0 means 60s.
	MaxRetryAfter time.Duration
	// Rand returns a number in [0, 1) for jitter; nil means
	// math/rand/v2.Float64.
	Rand func() float64
}

func (p RetryPolicy) maxAttempts() int {
	if p.MaxAttempts > 0 {
		return p.MaxAttempts
	}
	return 4
}

// Backoff is the delay before retry number n (1 for the first retry):
// "equal jitter", half of the exponential delay plus a random part of the
// other half, so retries spread out but never come too soon.
func (p RetryPolicy) Backoff(n int) time.Duration {
	base := orDefault(p.BaseDelay, 500*time.Millisecond)
	maxd := orDefault(p.MaxDelay, 15*time.Second)
	d := base
	for i := 1; i < n && d < maxd; i++ {
		d *= 2
	}
	d = min(d, maxd)
	r := rand.Float64
	if p.Rand != nil {
		r = p.Rand
	}
	return d/2 + time.Duration(r()*float64(d/2))
}

// decide says whether attempt (1 for the first) of a request that came to
// ex is tried again, and after how long.
func (p RetryPolicy) decide(method string, ex exchange, attempt int, now time.Time) (time.Duration, bool) {
	if attempt >= p.maxAttempts() || ex.bodyErr != nil || ex.final {
		return 0, false
	}
	get := method == http.MethodGet || method == http.MethodHead
	switch {
	case ex.err != nil && !ex.wrote:
		// Nothing reached the registry, whatever the method.
	case ex.err != nil && get:
	case ex.err != nil:
		return 0, false
	case get && (ex.status >= 500 || ex.status == http.StatusTooManyRequests):
		if d, ok := retryAfter(ex.retryAfter, now); ok {
			if d > orDefault(p.MaxRetryAfter, time.Minute) {
				return 0, false
			}
			return max(d, 0), true
		}
	default:
		return 0, false
	}
	return p.Backoff(attempt), true
}

// retryAfter parses a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return t.Sub(now), true
	}
	return 0, false
}
