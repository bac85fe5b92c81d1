package registry

import (
	"fmt"
	"time"
)

// warnRetry tells the user, in a sentence, that an attempt failed and
// another follows: what was being done, why it failed, and when.
func (c *Client) warnRetry(what string, ex exchange, attempt int, delay time.Duration) {
	c.log().Warn(fmt.Sprintf("%s failed (%s); trying again in %s, attempt %d of %d",
		what, reason(ex), delay.Round(10*time.Millisecond), attempt+1, c.Retry.maxAttempts()))
}
