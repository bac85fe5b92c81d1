package registry

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/airlockdev/airlock/internal/hint"
)

// Outcome is what became of a publish.
type Outcome int

const (
	// Unknown: the client could not tell whether the version landed.
	Unknown Outcome = iota
	// Published: the version is on the registry with the tarball sent.
	Published
	// AlreadyPublished: the registry refused the version because it has
	// it already, with the same integrity as the tarball sent (an earlier
	// run published it).
	AlreadyPublished
	// NotPublished: the version is not on the registry with the tarball
	// sent.
	NotPublished
)

func (o Outcome) String() string {
	switch o {
	case Published:
		return "published"
	case AlreadyPublished:
		return "already published"
	case NotPublished:
		return "not published"
	}
	return "unknown"
}

// PublishResult says what became of a publish, and how the client knows.
type PublishResult struct {
	Outcome       Outcome
	Name, Version string
	// Integrity is the dist.integrity of the version sent.
	Integrity string
	// StatusCode is the registry's answer to the last PUT; 0 if none came.
	StatusCode int
	// Attempts is how many times the PUT was sent (more than once only
	// when none of it had been sent before).
	Attempts int
	// ReadBack is set when the outcome was learnt by reading the
	// packument back, and RegistryIntegrity is then what it says, if the
	// version is there.
	ReadBack          bool
	RegistryIntegrity string
}

// Publish sends doc to the registry at registryURL as the package name
// (a PUT to <registry>/<escaped name>), with the tarball's data streamed,
// base64-encoded, into the one attachment that has no inline Data.
//
// doc must have exactly one version, whose manifest's dist.integrity (and
// dist.shasum, if present) the tarball is checked against as it is sent:
// on a mismatch the upload is cut off before its end.
//
// The result is nil only when the request was never sent (doc or
// arguments invalid). Otherwise it says whether the version landed:
//   - Published with a nil error: the registry accepted it, or its answer
//     was lost (5xx, broken connection, timeout) but reading the packument
//     back found the version with the same integrity.
//   - AlreadyPublished, with an error matching ErrVersionExists: the
//     version was there already, with the same integrity.
//   - NotPublished, with an error: the registry refused it, or the version
//     is not there (or has another integrity, and the error matches
//     ErrVersionExists).
//   - Unknown, with an error: the answer was lost and reading back failed.
//
// A PUT is sent again only when none of it was written before it failed.
func (c *Client) Publish(ctx context.Context, registryURL, name string, doc PublishDoc, tarball Opener, auth Auth) (*PublishResult, error) {
	up, err := prepareUpload(registryURL, name, doc, tarball)
	if err != nil {
		return nil, err
	}
	base, p, dist, version := up.base, up.body, up.dist, up.version
	u, err := packageURL(base, name)
	if err != nil {
		return nil, err
	}
	r := request{
		method:  http.MethodPut,
		url:     u,
		accept:  "application/json",
		body:    p,
		auth:    auth,
		timeout: orDefault(c.PublishTimeout, defaultPublishTimeout),
		maxBody: maxErrorBody,
	}
	res := &PublishResult{Name: name, Version: version, Integrity: dist.Integrity}
	log := c.log().With("package", name, "version", version)
	log.Debug("publishing", "url", RedactURL(u), "bytes", p.size)

	for attempt := 1; ; attempt++ {
		res.Attempts = attempt
		ex := c.roundTrip(ctx, r)
		res.StatusCode = ex.status
		switch {
		case ex.err == nil && ex.status/100 == 2:
			res.Outcome = Published
			log.Debug("published", "status", ex.status, "elapsed", ex.elapsed)
			return res, nil

		case ex.err == nil && ex.status/100 == 5:
			herr := ex.httpError(r)
			log.Warn(fmt.Sprintf("the registry answered the publish with status %d; reading the package back to learn whether the version landed", ex.status))
			return c.readBack(ctx, res, base, dist, auth, herr)

		case ex.err == nil:
			herr := ex.httpError(r)
			if !errors.Is(herr, ErrVersionExists) {
				res.Outcome = NotPublished
				return res, herr
			}
			// Find out whether what is there is what we sent: a rerun of a
			// release that had in fact succeeded is not a failure to report
			// the same way as a clash.
			rb, err := c.readBack(ctx, res, base, dist, auth, herr)
			if rb.Outcome == Published {
				rb.Outcome = AlreadyPublished
				return rb, herr
			}
			return rb, err

		case ex.bodyErr != nil:
			// Our own data failed: the registry never got a whole body.
			res.Outcome = NotPublished
			return res, ex.bodyErr
		}

		// No answer.
		if !ex.wrote {
			if delay, ok := c.Retry.decide(http.MethodPut, ex, attempt, c.now()); ok && ctx.Err() == nil {
				c.warnRetry("the publish (nothing was sent)", ex, attempt, delay)
				if err := c.sleep(ctx, delay); err != nil {
					res.Outcome = NotPublished
					return res, errors.Join(ex.err, err)
				}
				continue
			}
			res.Outcome = NotPublished
			return res, ex.err
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			res.Outcome = Unknown
			return res, hint.With(fmt.Errorf("publish interrupted after the request was sent: %w", ex.err),
				"the version may or may not have been published: look it up on the registry before trying again")
		}
		log.Warn(fmt.Sprintf("the publish got no answer (%s); reading the package back to learn whether the version landed", reason(ex)))
		return c.readBack(ctx, res, base, dist, auth, ex.err)
	}
}

// upload is a checked publish document ready to send.
type upload struct {
	base    *url.URL
	body    *plan
	dist    Dist
	version string
}

// prepareUpload checks doc against name and plans its body, with the
// tarball's data checked against the manifest's digests as it is sent.
func prepareUpload(registryURL, name string, doc PublishDoc, tarball Opener) (*upload, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	base, err := registryBase(registryURL)
	if err != nil {
		return nil, err
	}
	if doc.Name != name || doc.ID != name {
		return nil, fmt.Errorf("the publish document is for %q (_id %q), not %q", doc.Name, doc.ID, name)
	}
	if len(doc.Versions) != 1 {
		return nil, fmt.Errorf("the publish document has %d versions, want 1", len(doc.Versions))
	}
	version := doc.Versions[0].Version
	dist, err := manifestDist(name, doc.Versions[0])
	if err != nil {
		return nil, err
	}
	want, err := parseDigests(dist)
	if err != nil {
		return nil, fmt.Errorf("version %s: %w", version, err)
	}
	tarName, err := streamedAttachment(doc)
	if err != nil {
		return nil, err
	}
	if tarball == nil {
		return nil, errors.New("no tarball to publish")
	}
	p, err := doc.plan(map[string]Opener{tarName: tarball}, false)
	if err != nil {
		return nil, err
	}
	for i := range p.segs {
		if p.segs[i].open != nil {
			p.segs[i].verify = want
		}
	}
	return &upload{base: base, body: p, dist: dist, version: version}, nil
}

// readBack looks the version up after a publish whose answer was lost or
// was a failure, and fills in res from what the registry has. cause is
// what went wrong with the publish.
func (c *Client) readBack(ctx context.Context, res *PublishResult, base *url.URL, dist Dist, auth Auth, cause error) (*PublishResult, error) {
	res.ReadBack = true
	// The caller's deadline may be what cut the publish short: reading
	// back gets its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readBackTimeout)
	defer cancel()
	var (
		pk  *Packument
		err error
	)
	for try := 1; ; try++ {
		pk, err = c.Packument(ctx, base.String(), res.Name, auth)
		if err != nil && !errors.Is(err, ErrNotFound) {
			res.Outcome = Unknown
			return res, hint.With(fmt.Errorf("%w; reading the package back to see whether the version landed: %w", cause, err),
				"the version may or may not have been published: look it up on the registry before trying again")
		}
		if err == nil {
			if _, ok := pk.Versions[res.Version]; ok {
				break
			}
		}
		if try == readBackTries {
			res.Outcome = NotPublished
			return res, fmt.Errorf("%w; reading the package back found no version %s", cause, res.Version)
		}
		if err := c.sleep(ctx, c.Retry.Backoff(try)); err != nil {
			res.Outcome = Unknown
			return res, errors.Join(cause, err)
		}
	}
	got := pk.Versions[res.Version].Dist
	res.RegistryIntegrity = got.Integrity
	if sameTarball(dist, got) {
		res.Outcome = Published
		c.log().Warn(fmt.Sprintf("%s@%s is on the registry with the same integrity: the publish landed", res.Name, res.Version))
		return res, nil
	}
	res.Outcome = NotPublished
	return res, hint.With(
		fmt.Errorf("%w; the registry has %s@%s with integrity %s, not %s: %w", cause, res.Name, res.Version,
			Sanitize(got.Integrity, nil), dist.Integrity, ErrVersionExists),
		"this version was published with other contents: bump the version")
}

// sameTarball compares the sha512 digests of two dists, or, if either has
// none, their sha1 shasums.
func sameTarball(a, b Dist) bool {
	da, errA := parseDigests(a)
	db, errB := parseDigests(b)
	if errA != nil || errB != nil {
		return false
	}
	if da.sha512 != nil && db.sha512 != nil {
		return string(da.sha512) == string(db.sha512)
	}
	return da.sha1 != nil && db.sha1 != nil && string(da.sha1) == string(db.sha1)
}

// manifestDist checks that a version's manifest names the package and
// version, and returns its dist.
func manifestDist(name string, v DocVersion) (Dist, error) {
	var m struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Dist    Dist   `json:"dist"`
	}
	if err := json.Unmarshal(v.Manifest, &m); err != nil {
		return Dist{}, fmt.Errorf("decoding the manifest of version %q: %w", v.Version, err)
	}
	if m.Name != name || m.Version != v.Version {
		return Dist{}, fmt.Errorf("the manifest of version %q is for %s@%s", v.Version, m.Name, m.Version)
	}
	if m.Dist.Integrity == "" {
		return Dist{}, fmt.Errorf("the manifest of version %q has no dist.integrity", v.Version)
	}
	return m.Dist, nil
}

// parseDigests reads dist.integrity (an SRI string, of whose hashes the
// sha512 one is used) and dist.shasum (hex sha1).
func parseDigests(d Dist) (*digests, error) {
	var out digests
	for _, h := range strings.Fields(d.Integrity) {
		alg, val, ok := strings.Cut(h, "-")
		if !ok || alg != "sha512" {
			continue
		}
		val, _, _ = strings.Cut(val, "?") // SRI options
		sum, err := base64.StdEncoding.DecodeString(val)
		if err != nil || len(sum) != 64 {
			return nil, fmt.Errorf("invalid dist.integrity %q", Sanitize(d.Integrity, nil))
		}
		out.sha512 = sum
		break
	}
	if d.Integrity != "" && out.sha512 == nil {
		return nil, fmt.Errorf("dist.integrity %q has no sha512 hash", Sanitize(d.Integrity, nil))
	}
	if d.Shasum != "" {
		sum, err := hex.DecodeString(d.Shasum)
		if err != nil || len(sum) != 20 {
			return nil, fmt.Errorf("invalid dist.shasum %q", Sanitize(d.Shasum, nil))
		}
		out.sha1 = sum
	}
	return &out, nil
}

// streamedAttachment returns the name of the one attachment whose data is
// streamed (the tarball).
func streamedAttachment(doc PublishDoc) (string, error) {
	var names []string
	for _, a := range doc.Attachments {
		if a.Data == nil {
			names = append(names, a.Name)
		}
	}
	if len(names) != 1 {
		return "", fmt.Errorf("the publish document has %d attachments without inline data, want 1 (the tarball)", len(names))
	}
	return names[0], nil
}
