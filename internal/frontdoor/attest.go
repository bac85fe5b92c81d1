package frontdoor

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

type storedBundle struct {
	bundle        json.RawMessage
	predicateType string
}

// keepBundle stores the provenance bundle of an upload the registry took.
func (s *Server) keepBundle(u *upload) {
	if u.bundle == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := u.name + "@" + u.version
	s.bundles[key] = append(s.bundles[key], storedBundle{bundle: u.bundle, predicateType: u.predicateType})
}

func (s *Server) storedBundles(name, version string) []storedBundle {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]storedBundle(nil), s.bundles[name+"@"+version]...)
}

// Bundles returns the provenance bundles stored for name@version.
func (s *Server) Bundles(name, version string) []json.RawMessage {
	var out []json.RawMessage
	for _, b := range s.storedBundles(name, version) {
		out = append(out, append(json.RawMessage(nil), b.bundle...))
	}
	return out
}

// hasBundles reports whether any version of name has a bundle.
func (s *Server) hasBundles(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key := range s.bundles {
		if strings.HasPrefix(key, name+"@") && !strings.Contains(key[len(name)+1:], "@") {
			return true
		}
	}
	return false
}

// splitAttestationPath splits "<escaped name>@<version>".
func splitAttestationPath(rest string) (name, version string, ok bool) {
	u, err := url.PathUnescape(rest)
	if err != nil {
		return "", "", false
	}
	i := strings.LastIndex(u, "@")
	if i <= 0 || i == len(u)-1 || !validName(u[:i]) {
		return "", "", false
	}
	return u[:i], u[i+1:], true
}

type attestation struct {
	PredicateType string          `json:"predicateType"`
	Bundle        json.RawMessage `json:"bundle"`
}

// attestations answers GET /-/npm/v1/attestations/<name>@<version>.
func (s *Server) attestations(w http.ResponseWriter, r *http.Request, rest string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, http.StatusMethodNotAllowed, "attestations take GET, not %s", r.Method)
		return
	}
	name, version, ok := splitAttestationPath(rest)
	if !ok {
		writeError(w, http.StatusNotFound, "%q is not <package>@<version>", rest)
		return
	}
	stored := s.storedBundles(name, version)
	if len(stored) == 0 {
		writeError(w, http.StatusNotFound, "no attestations for %s@%s", name, version)
		return
	}
	out := struct {
		Attestations []attestation `json:"attestations"`
	}{}
	for _, b := range stored {
		out.Attestations = append(out.Attestations, attestation{PredicateType: b.predicateType, Bundle: b.bundle})
	}
	writeJSON(w, http.StatusOK, out)
}

// packument forwards GET /<name>, adding dist.attestations to the
// versions that have a stored bundle, as registry.npmjs.org shows them.
func (s *Server) packument(w http.ResponseWriter, r *http.Request, who principal, escapedPath string) {
	name, _, _ := splitPackagePath(escapedPath)
	if !s.hasBundles(name) {
		s.forward(w, r, who)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, s.upstreamURL(escapedPath, r.URL.RawQuery), nil)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "building the registry request: %v", err)
		return
	}
	req.Host = r.Host
	// A full, uncompressed body is needed to rewrite it: no validators,
	// and the transport negotiates (and undoes) compression itself.
	for k, v := range r.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Accept-Encoding", "If-None-Match", "If-Modified-Since", "Connection":
		case "Authorization":
			if who.grant == nil {
				req.Header[k] = v
			}
		default:
			req.Header[k] = v
		}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		writeError(w, http.StatusBadGateway, "reaching the registry at %s: %v", s.upstream.Redacted(), err)
		return
	}
	defer resp.Body.Close()
	data, err := readLimited(resp.Body, 512<<20)
	if err != nil {
		writeError(w, http.StatusBadGateway, "reading the packument of %s from the registry: %v", name, err)
		return
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode == http.StatusOK && strings.HasSuffix(mt, "json") {
		if out, ok := s.addAttestations(data, name, baseURL(r)); ok {
			data = out
		}
	}
	for _, h := range []string{"Content-Type", "Cache-Control", "Last-Modified"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(data)
}

func baseURL(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// addAttestations rewrites a packument; it returns false to leave the
// document as it came when it is not one it understands.
func (s *Server) addAttestations(doc []byte, name, base string) ([]byte, bool) {
	var top map[string]json.RawMessage
	var versions map[string]json.RawMessage
	if json.Unmarshal(doc, &top) != nil || json.Unmarshal(top["versions"], &versions) != nil {
		return nil, false
	}
	changed := false
	for v, raw := range versions {
		stored := s.storedBundles(name, v)
		if len(stored) == 0 {
			continue
		}
		var man, dist map[string]json.RawMessage
		if json.Unmarshal(raw, &man) != nil || json.Unmarshal(man["dist"], &dist) != nil || dist == nil {
			continue
		}
		att := map[string]any{
			"url":        base + "/-/npm/v1/attestations/" + escapeName(name) + "@" + v,
			"provenance": map[string]string{"predicateType": stored[len(stored)-1].predicateType},
		}
		var err error
		if dist["attestations"], err = marshal(att); err != nil {
			return nil, false
		}
		if man["dist"], err = marshal(dist); err != nil {
			return nil, false
		}
		if versions[v], err = marshal(man); err != nil {
			return nil, false
		}
		changed = true
	}
	if !changed {
		return nil, false
	}
	var err error
	if top["versions"], err = marshal(versions); err != nil {
		return nil, false
	}
	out, err := marshal(top)
	if err != nil || !json.Valid(out) {
		return nil, false
	}
	return bytes.TrimSpace(out), true
}
