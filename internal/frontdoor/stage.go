package frontdoor

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// stageItem is a staged version as npm's `npm stage list/view` reads it.
type stageItem struct {
	ID          string  `json:"id"`
	PackageName string  `json:"packageName"`
	Version     string  `json:"version"`
	Tag         string  `json:"tag"`
	CreatedAt   string  `json:"createdAt"`
	Actor       string  `json:"actor"`
	ActorType   string  `json:"actorType"`
	Access      *string `json:"access"`
	Shasum      string  `json:"shasum"`
}

type stage struct {
	item        stageItem
	upload      *upload
	escapedPath string // "/<escaped name>", where the approved publish goes
	approving   bool
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// stagePublish handles POST /-/stage/package/<name>: checks the body as a
// publish, and keeps it until someone approves or rejects it.
func (s *Server) stagePublish(w http.ResponseWriter, r *http.Request, who principal, escapedName string) {
	escapedPath := "/" + escapedName
	name, rest, ok := splitPackagePath(escapedPath)
	if !ok || rest != "" {
		writeError(w, http.StatusNotFound, "%q is not a package name", escapedName)
		return
	}
	actor, actorType := "", "user"
	if who.grant != nil {
		actor, actorType = who.grant.identity, "oidc"
	} else if actor, ok = s.requireUser(w, r, "staging a publish"); !ok {
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	u, err := parseUpload(name, body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "staging %s: %v", name, err)
		return
	}
	id := name + "@" + u.version
	published, err := s.isPublished(r.Context(), r.Host, escapedPath, u.version)
	if err != nil {
		writeError(w, http.StatusBadGateway, "staging %s: checking the registry for it: %v", id, err)
		return
	}
	if published {
		writeError(w, http.StatusConflict, "cannot stage %s: that version is already published", id)
		return
	}
	stageID, err := newUUID()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "staging %s: making an id: %v", id, err)
		return
	}
	if who.grant != nil && !s.claim(w, who.grant) {
		return
	}
	s.mu.Lock()
	for _, st := range s.stages {
		if st.item.PackageName == name && st.item.Version == u.version {
			s.mu.Unlock()
			if who.grant != nil {
				s.finish(who.grant, false)
			}
			writeError(w, http.StatusConflict, "cannot stage %s: it is already staged as %s; approve or reject that first", id, st.item.ID)
			return
		}
	}
	s.stages = append(s.stages, &stage{
		item: stageItem{
			ID:          stageID,
			PackageName: name,
			Version:     u.version,
			Tag:         u.tag,
			CreatedAt:   s.now().UTC().Format(time.RFC3339),
			Actor:       actor,
			ActorType:   actorType,
			Access:      u.access,
			Shasum:      u.shasum,
		},
		upload:      u,
		escapedPath: "/" + escapeName(name),
	})
	s.mu.Unlock()
	if who.grant != nil {
		s.finish(who.grant, true)
	}
	s.log.Info("frontdoor: staged", "package", name, "version", u.version, "stage", stageID, "actor", actor, "actorType", actorType)
	writeJSON(w, http.StatusCreated, map[string]string{"stageId": stageID})
}

// isPublished asks the registry whether version of the package exists.
func (s *Server) isPublished(ctx context.Context, host, escapedPath, version string) (bool, error) {
	found, versions, err := s.versions(ctx, host, escapedPath)
	if err != nil || !found {
		return false, err
	}
	_, ok := versions[version]
	return ok, nil
}

// versions fetches the package's versions from the registry; found is
// false when the registry does not have the package.
func (s *Server) versions(ctx context.Context, host, escapedPath string) (found bool, versions map[string]json.RawMessage, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.upstreamURL(escapedPath, ""), nil)
	if err != nil {
		return false, nil, err
	}
	req.Host = host
	req.Header.Set("Accept", "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8")
	if s.upstreamAuth != "" {
		req.Header.Set("Authorization", s.upstreamAuth)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return false, nil, err
	}
	defer resp.Body.Close()
	data, err := readLimited(resp.Body, 512<<20)
	if err != nil {
		return false, nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return false, nil, nil
	default:
		return false, nil, &upstreamError{status: resp.StatusCode, body: data}
	}
	var doc struct {
		Versions map[string]json.RawMessage `json:"versions"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return false, nil, fmt.Errorf("packument is not JSON: %v", err)
	}
	return true, doc.Versions, nil
}

// stageAPI handles /-/stage and /-/stage/<id>[/tarball|/approve]; rest
// is the path after "/-/stage".
func (s *Server) stageAPI(w http.ResponseWriter, r *http.Request, rest string) {
	user, ok := s.requireUser(w, r, "the stage API")
	if !ok {
		return
	}
	if rest == "" || rest == "/" {
		if r.Method != http.MethodGet {
			writeError(w, http.StatusMethodNotAllowed, "/-/stage takes GET, not %s", r.Method)
			return
		}
		s.stageList(w, r)
		return
	}
	id, sub, _ := strings.Cut(strings.TrimPrefix(rest, "/"), "/")
	if !uuidPattern.MatchString(id) {
		writeError(w, http.StatusBadRequest, "stage id %q is not a UUID", id)
		return
	}
	id = strings.ToLower(id)
	route := r.Method + " " + sub
	switch route {
	case "GET ", "GET tarball", "POST approve", "DELETE ":
	default:
		writeError(w, http.StatusNotFound, "no stage API endpoint %s /-/stage/%s/%s", r.Method, id, sub)
		return
	}
	st := s.findStage(id)
	if st == nil {
		writeError(w, http.StatusNotFound, "no staged publish with id %s", id)
		return
	}
	switch route {
	case "GET ":
		writeJSON(w, http.StatusOK, st.item)
	case "GET tarball":
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(st.upload.tarball)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(st.upload.tarball)
	case "POST approve":
		if s.checkOTP(w, r, user, "approving a staged publish") {
			s.approve(w, r, st, user)
		}
	case "DELETE ":
		if s.checkOTP(w, r, user, "rejecting a staged publish") {
			s.reject(w, st, user)
		}
	}
}

func (s *Server) findStage(id string) *stage {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.stages {
		if st.item.ID == id {
			return st
		}
	}
	return nil
}

func (s *Server) stageList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, perPage := 0, 100
	for _, p := range []struct {
		key      string
		v        *int
		min, max int
	}{{"page", &page, 0, 1 << 30}, {"perPage", &perPage, 1, 100}} {
		raw := q.Get(p.key)
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < p.min || n > p.max {
			writeError(w, http.StatusBadRequest, "%s %q is not a whole number from %d to %d", p.key, raw, p.min, p.max)
			return
		}
		*p.v = n
	}
	pkg := q.Get("package")
	items := []stageItem{}
	total := 0
	s.mu.Lock()
	for _, st := range s.stages {
		if pkg != "" && st.item.PackageName != pkg {
			continue
		}
		if total >= page*perPage && total < (page+1)*perPage {
			items = append(items, st.item)
		}
		total++
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "total": total})
}

// checkOTP requires a valid TOTP code of user in the npm-otp header. The
// 401 carries WWW-Authenticate: OTP, from which npm knows to ask for one.
func (s *Server) checkOTP(w http.ResponseWriter, r *http.Request, user, what string) bool {
	secret, ok := s.otpSecrets[user]
	if !ok {
		writeError(w, http.StatusForbidden, "%s needs two-factor authentication, and user %s has none: set it up first", what, user)
		return false
	}
	code := r.Header.Get("npm-otp")
	if code == "" {
		w.Header().Set("WWW-Authenticate", "OTP")
		writeError(w, http.StatusUnauthorized, "%s requires a one-time password: pass --otp or answer the prompt", what)
		return false
	}
	if !validTOTP(secret, code, s.now()) {
		w.Header().Set("WWW-Authenticate", "OTP")
		writeError(w, http.StatusUnauthorized, "%s: the one-time password is wrong or expired; try the current code", what)
		return false
	}
	return true
}

func validTOTP(secret []byte, code string, now time.Time) bool {
	ok := 0
	for _, d := range []time.Duration{-totpStep, 0, totpStep} {
		ok |= subtle.ConstantTimeCompare([]byte(TOTP(secret, now.Add(d))), []byte(code))
	}
	return ok == 1
}

// approve publishes a staged version with the front door's own
// credentials; the stage stays if the registry refuses.
func (s *Server) approve(w http.ResponseWriter, r *http.Request, st *stage, user string) {
	s.mu.Lock()
	busy := st.approving
	st.approving = true
	s.mu.Unlock()
	if busy {
		writeError(w, http.StatusConflict, "stage %s is being approved already", st.item.ID)
		return
	}
	defer func() {
		s.mu.Lock()
		st.approving = false
		s.mu.Unlock()
	}()
	status, hdr, data, err := s.upload(r.Context(), r, http.MethodPut, st.escapedPath, st.upload.body, s.upstreamAuth, false)
	if err != nil {
		writeError(w, http.StatusBadGateway, "approving %s: reaching the registry at %s: %v", st.item.ID, s.upstream.Redacted(), err)
		return
	}
	if status < 200 || status > 299 {
		if ct := hdr.Get("Content-Type"); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.WriteHeader(status)
		_, _ = w.Write(data)
		return
	}
	s.keepBundle(st.upload)
	s.mu.Lock()
	if i := slices.Index(s.stages, st); i >= 0 {
		s.stages = slices.Delete(s.stages, i, i+1)
	}
	s.mu.Unlock()
	s.log.Info("frontdoor: approved", "package", st.item.PackageName, "version", st.item.Version, "stage", st.item.ID, "user", user)
	writeJSON(w, http.StatusOK, struct{}{})
}

func (s *Server) reject(w http.ResponseWriter, st *stage, user string) {
	s.mu.Lock()
	busy := st.approving
	i := slices.Index(s.stages, st)
	if !busy && i >= 0 {
		s.stages = slices.Delete(s.stages, i, i+1)
	}
	s.mu.Unlock()
	switch {
	case busy:
		writeError(w, http.StatusConflict, "stage %s is being approved; it cannot be rejected now", st.item.ID)
		return
	case i < 0:
		writeError(w, http.StatusNotFound, "no staged publish with id %s", st.item.ID)
		return
	}
	s.log.Info("frontdoor: rejected", "package", st.item.PackageName, "version", st.item.Version, "stage", st.item.ID, "user", user)
	w.WriteHeader(http.StatusNoContent)
}
