package frontdoor

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/airlockdev/airlock/internal/jsvalue"
)

// upload is a checked publish body.
type upload struct {
	name, version string
	tag           string
	access        *string
	shasum        string
	tarball       []byte
	bundle        json.RawMessage // the provenance bundle, or nil
	predicateType string          // of bundle's statement
	body          []byte          // what goes to the registry: the body less the bundle
}

// errNoAttachments marks a PUT that changes metadata (deprecate, dist-tags
// of old clients) rather than publishing.
var errNoAttachments = errors.New("publish body has no _attachments")

// parseUpload checks a publish body as the registry does. Fields are read
// through maps, never structs, so that a key differing only in case cannot
// be read differently here and upstream.
func parseUpload(name string, body []byte) (*upload, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return nil, fmt.Errorf("publish body is not a JSON object")
	}
	var atts map[string]json.RawMessage
	if raw, ok := top["_attachments"]; ok {
		if err := json.Unmarshal(raw, &atts); err != nil {
			return nil, fmt.Errorf("_attachments of the publish body is not an object")
		}
	}
	if len(atts) == 0 {
		return nil, errNoAttachments
	}
	for _, key := range []string{"_id", "name"} {
		if got, ok := jsonString(top[key]); !ok || got != name {
			return nil, fmt.Errorf("%s %s of the publish body is not the package name %q from the URL", key, quoteRaw(top[key]), name)
		}
	}
	var versions map[string]json.RawMessage
	if err := json.Unmarshal(top["versions"], &versions); err != nil || len(versions) != 1 {
		return nil, fmt.Errorf("publish body must hold exactly one version, it holds %d", len(versions))
	}
	u := &upload{name: name}
	var manifest map[string]json.RawMessage
	for v, raw := range versions {
		u.version = v
		if err := json.Unmarshal(raw, &manifest); err != nil || manifest == nil {
			return nil, fmt.Errorf("version %q of the publish body is not an object", v)
		}
	}
	id := name + "@" + u.version
	if got, ok := jsonString(manifest["name"]); !ok || got != name {
		return nil, fmt.Errorf("versions[%q].name %s is not the package name %q", u.version, quoteRaw(manifest["name"]), name)
	}
	if got, ok := jsonString(manifest["version"]); !ok || got != u.version {
		return nil, fmt.Errorf("versions[%q].version %s is not %q", u.version, quoteRaw(manifest["version"]), u.version)
	}
	var dist map[string]json.RawMessage
	if err := json.Unmarshal(manifest["dist"], &dist); err != nil || dist == nil {
		return nil, fmt.Errorf("%s has no dist object", id)
	}
	integrity, ok := jsonString(dist["integrity"])
	if !ok {
		return nil, fmt.Errorf("%s has no dist.integrity", id)
	}
	if u.shasum, ok = jsonString(dist["shasum"]); !ok {
		return nil, fmt.Errorf("%s has no dist.shasum", id)
	}

	bundleKey := name + "-" + u.version + ".sigstore"
	tarKey := ""
	for key := range atts {
		switch {
		case key == bundleKey:
		case strings.HasSuffix(key, ".tgz") && tarKey == "":
			tarKey = key
		case strings.HasSuffix(key, ".tgz"):
			return nil, fmt.Errorf("publish body has two tarball attachments, %q and %q", tarKey, key)
		default:
			return nil, fmt.Errorf("publish body has an unexpected attachment %q; expected only the tarball and %q", key, bundleKey)
		}
	}
	if tarKey == "" {
		return nil, fmt.Errorf("publish body has no tarball attachment (a key ending in .tgz)")
	}
	var err error
	if u.tarball, err = attachmentData(atts[tarKey], tarKey, true); err != nil {
		return nil, err
	}
	sum512 := sha512.Sum512(u.tarball)
	if !sriHas(integrity, "sha512", sum512[:]) {
		return nil, fmt.Errorf("dist.integrity %q of %s does not match attachment %q, whose sha512 is %q",
			integrity, id, tarKey, "sha512-"+base64.StdEncoding.EncodeToString(sum512[:]))
	}
	sum1 := sha1.Sum(u.tarball)
	if !strings.EqualFold(u.shasum, hex.EncodeToString(sum1[:])) {
		return nil, fmt.Errorf("dist.shasum %q of %s does not match attachment %q, whose sha1 is %q", u.shasum, id, tarKey, hex.EncodeToString(sum1[:]))
	}

	var tags map[string]json.RawMessage
	_ = json.Unmarshal(top["dist-tags"], &tags)
	var names []string
	for t, v := range tags {
		if s, ok := jsonString(v); ok && s == u.version {
			names = append(names, t)
		}
	}
	sort.Strings(names)
	if len(names) > 0 {
		u.tag = names[0]
	}
	if a, ok := jsonString(top["access"]); ok {
		u.access = &a
	}

	u.body = body
	if raw, ok := atts[bundleKey]; ok {
		data, err := attachmentData(raw, bundleKey, false)
		if err != nil {
			return nil, err
		}
		if u.predicateType, err = checkBundle(data, name, u.version, hex.EncodeToString(sum512[:])); err != nil {
			return nil, fmt.Errorf("provenance bundle %q: %w", bundleKey, err)
		}
		u.bundle = json.RawMessage(data)
		delete(atts, bundleKey)
		if top["_attachments"], err = marshal(atts); err != nil {
			return nil, err
		}
		if u.body, err = marshal(top); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// attachmentData returns an attachment's data: base64 for the tarball,
// the bundle's JSON text as npm sends it for the bundle. length, when
// given, must match.
func attachmentData(raw json.RawMessage, key string, isBase64 bool) ([]byte, error) {
	var att map[string]json.RawMessage
	if err := json.Unmarshal(raw, &att); err != nil || att == nil {
		return nil, fmt.Errorf("attachment %q is not an object", key)
	}
	s, ok := jsonString(att["data"])
	if !ok {
		return nil, fmt.Errorf("attachment %q has no data string", key)
	}
	data := []byte(s)
	if isBase64 {
		var err error
		if data, err = base64.StdEncoding.DecodeString(s); err != nil {
			return nil, fmt.Errorf("data of attachment %q is not base64: %v", key, err)
		}
	}
	if l, ok := att["length"]; ok {
		// npm sends the tarball's size in bytes, and the bundle's length
		// as a JavaScript string's: UTF-16 code units.
		want, unit := int64(len(data)), "bytes"
		if !isBase64 {
			want, unit = int64(jsvalue.Length(s)), "UTF-16 code units"
		}
		n, err := strconv.ParseInt(string(l), 10, 64)
		if err != nil || n != want {
			return nil, fmt.Errorf("attachment %q has length %s but its data is %d %s", key, l, want, unit)
		}
	}
	return data, nil
}

// sriHas reports whether the SRI string holds digest for algorithm alg.
func sriHas(sri, alg string, digest []byte) bool {
	want := base64.StdEncoding.EncodeToString(digest)
	for _, h := range strings.Fields(sri) {
		a, v, ok := strings.Cut(h, "-")
		if !ok || a != alg {
			continue
		}
		v, _, _ = strings.Cut(v, "?")
		if v == want {
			return true
		}
	}
	return false
}

// checkBundle checks what the registry checks of a provenance bundle
// before storing it: a Sigstore bundle whose DSSE statement is about this
// package version and this tarball. It returns the statement's
// predicateType.
func checkBundle(data []byte, name, version, sha512hex string) (string, error) {
	var b struct {
		MediaType    string `json:"mediaType"`
		DSSEEnvelope *struct {
			Payload string `json:"payload"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return "", fmt.Errorf("not JSON: %v", err)
	}
	if !strings.HasPrefix(b.MediaType, "application/vnd.dev.sigstore.bundle") {
		return "", fmt.Errorf("mediaType %q is not a Sigstore bundle's (application/vnd.dev.sigstore.bundle…)", b.MediaType)
	}
	if b.DSSEEnvelope == nil {
		return "", errors.New("no dsseEnvelope")
	}
	payload, err := base64.StdEncoding.DecodeString(b.DSSEEnvelope.Payload)
	if err != nil {
		return "", fmt.Errorf("dsseEnvelope.payload is not base64: %v", err)
	}
	var st struct {
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Name   string            `json:"name"`
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(payload, &st); err != nil {
		return "", fmt.Errorf("dsseEnvelope.payload is not a JSON statement: %v", err)
	}
	if st.PredicateType == "" {
		return "", errors.New("statement has no predicateType")
	}
	purl := "pkg:npm/" + strings.Replace(name, "@", "%40", 1) + "@" + version
	if len(st.Subject) != 1 || st.Subject[0].Name != purl {
		return "", fmt.Errorf("statement subject is not %q", purl)
	}
	if got := st.Subject[0].Digest["sha512"]; got != sha512hex {
		return "", fmt.Errorf("statement subject sha512 %q is not the tarball's %q", got, sha512hex)
	}
	return st.PredicateType, nil
}

func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	if raw == nil || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func quoteRaw(raw json.RawMessage) string {
	if raw == nil {
		return "(missing)"
	}
	return snippet(raw)
}

// marshal encodes v without escaping <, > and &, as JavaScript does.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// readBody reads a publish body of at most MaxBodySize bytes, answering
// the client itself on failure.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodySize))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, "publish body is larger than %d bytes", int64(MaxBodySize))
		return nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, "reading the publish body: %v", err)
		return nil, false
	}
	return body, true
}

// publish handles PUT /<name>.
func (s *Server) publish(w http.ResponseWriter, r *http.Request, who principal, escapedPath string) {
	name, _, _ := splitPackagePath(escapedPath)
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	u, err := parseUpload(name, body)
	if errors.Is(err, errNoAttachments) && who.grant == nil {
		// A metadata change (npm deprecate): the registry judges it.
		s.relay(w, r, http.MethodPut, escapedPath, body, r.Header.Get("Authorization"), true)
		return
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "publishing %s: %v", name, err)
		return
	}
	auth := r.Header.Get("Authorization")
	if who.grant != nil {
		if !s.claim(w, who.grant) {
			return
		}
		auth = s.upstreamAuth
	}
	status := s.relay(w, r, http.MethodPut, escapedPath, u.body, auth, who.grant == nil)
	ok = status >= 200 && status < 300
	if who.grant != nil {
		s.finish(who.grant, ok)
	}
	if ok {
		s.keepBundle(u)
		s.log.Info("frontdoor: published", "package", u.name, "version", u.version, "oidc", who.grant != nil, "provenance", u.bundle != nil)
	}
}

// relay sends body to the registry and relays its answer, returning the
// status it relayed (502 when the registry could not be reached).
func (s *Server) relay(w http.ResponseWriter, r *http.Request, method, escapedPath string, body []byte, auth string, withOTP bool) int {
	status, hdr, data, err := s.upload(r.Context(), r, method, escapedPath, body, auth, withOTP)
	if err != nil {
		writeError(w, http.StatusBadGateway, "reaching the registry at %s: %v", s.upstream.Redacted(), err)
		return http.StatusBadGateway
	}
	if ct := hdr.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	if v := hdr.Get("WWW-Authenticate"); v != "" {
		w.Header().Set("WWW-Authenticate", v)
	}
	w.WriteHeader(status)
	_, _ = w.Write(data)
	return status
}

// upload sends a publish body to the registry on behalf of r.
func (s *Server) upload(ctx context.Context, r *http.Request, method, escapedPath string, body []byte, auth string, withOTP bool) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.upstreamURL(escapedPath, r.URL.RawQuery), bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Host = r.Host
	for _, h := range []string{"User-Agent", "Npm-Command", "Npm-Session", "Npm-Scope", "Npm-Auth-Type", "Accept"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	if withOTP {
		if v := r.Header.Get("Npm-Otp"); v != "" {
			req.Header.Set("Npm-Otp", v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := readLimited(resp.Body, 16<<20)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("reading the registry's answer: %w", err)
	}
	return resp.StatusCode, resp.Header, data, nil
}
