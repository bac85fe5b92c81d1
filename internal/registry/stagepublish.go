package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/airlockdev/airlock/internal/hint"
)

// StageResult says what became of a staged publish.
type StageResult struct {
	Name, Version string
	// StageID is the registry's id for the staged version, set when the
	// registry accepted it.
	StageID string
	// StatusCode is the registry's answer; 0 if none came.
	StatusCode int
	// Sent is true when the request may have reached the registry.
	Sent bool
}

// Stage sends doc to the registry's staged-publish endpoint (npm stage
// publish: POST <registry>/-/stage/package/<escaped name>), where the
// version waits until a maintainer approves it with a second factor. doc
// and tarball are as for Publish, and checked the same way.
//
// A staged publish cannot be read back, so a request that may have
// reached the registry is never sent again: when its answer is lost the
// error says to look at the staged versions before trying again.
func (c *Client) Stage(ctx context.Context, registryURL, name string, doc PublishDoc, tarball Opener, auth Auth) (*StageResult, error) {
	up, err := prepareUpload(registryURL, name, doc, tarball)
	if err != nil {
		return nil, err
	}
	u, err := up.base.Parse("-/stage/package/" + EscapeName(name))
	if err != nil {
		return nil, err
	}
	r := request{
		method:  http.MethodPost,
		url:     u,
		accept:  "application/json",
		body:    up.body,
		auth:    auth,
		timeout: orDefault(c.PublishTimeout, defaultPublishTimeout),
		maxBody: maxErrorBody,
	}
	res := &StageResult{Name: name, Version: up.version}
	log := c.log().With("package", name, "version", up.version)
	log.Debug("staging", "url", RedactURL(u), "bytes", up.body.size)
	for attempt := 1; ; attempt++ {
		ex := c.roundTrip(ctx, r)
		res.StatusCode = ex.status
		res.Sent = res.Sent || ex.wrote
		switch {
		case ex.err == nil && ex.status/100 == 2:
			id, err := stageID(ex.body)
			if err != nil {
				return res, fmt.Errorf("POST %s: %w", RedactURL(u), err)
			}
			res.StageID = id
			return res, nil
		case ex.err == nil:
			return res, ex.httpError(r)
		case ex.bodyErr != nil:
			return res, ex.bodyErr
		case !ex.wrote:
			delay, ok := c.Retry.decide(http.MethodPost, ex, attempt, c.now())
			if !ok || ctx.Err() != nil {
				return res, ex.err
			}
			c.warnRetry("staging (nothing was sent)", ex, attempt, delay)
			if err := c.sleep(ctx, delay); err != nil {
				return res, errors.Join(ex.err, err)
			}
			continue
		}
		return res, hint.With(fmt.Errorf("staging %s@%s: no answer after the request was sent: %w", name, up.version, ex.err),
			"the version may or may not have been staged: run 'airlock stage list "+name+"' before trying again")
	}
}

// stageID reads the id from a staged publish's answer ({"stageId": …}).
// It must look like the UUID npm's stage commands accept.
func stageID(body []byte) (string, error) {
	var answer struct {
		StageID string `json:"stageId"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return "", errors.New("the answer is not JSON with a stageId")
	}
	if !IsStageID(answer.StageID) {
		return "", fmt.Errorf("the answer's stageId %q is not a UUID", Sanitize(answer.StageID, nil))
	}
	return answer.StageID, nil
}
