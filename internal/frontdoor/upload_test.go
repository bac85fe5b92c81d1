package frontdoor

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseUploadRefusals(t *testing.T) {
	const name, version = "@acme/widget", "1.0.0"
	tgz := tarball(t, name, version)
	dist := func(b body) map[string]any { return b.version(version)["dist"].(map[string]any) }
	atts := func(b body) map[string]any { return b["_attachments"].(map[string]any) }
	tarKey := name + "-" + version + ".tgz"
	bundleKey := name + "-" + version + ".sigstore"
	for _, tc := range []struct {
		name   string
		change func(b body)
		raw    string // the body, instead of a changed one
		want   string
	}{
		{name: "NotJSON", raw: `{"name":`, want: "not a JSON object"},
		{name: "NotObject", raw: `[]`, want: "not a JSON object"},
		{name: "WrongName", change: func(b body) { b["name"] = "@acme/other" }, want: `name "@acme/other" of the publish body is not the package name`},
		{name: "CaseOfName", change: func(b body) { b["Name"] = name; b["name"] = "@acme/Widget" }, want: "name"},
		{name: "WrongID", change: func(b body) { b["_id"] = "widget" }, want: `_id "widget"`},
		{name: "NoID", change: func(b body) { delete(b, "_id") }, want: "_id (missing)"},
		{name: "TwoVersions", change: func(b body) { b["versions"].(map[string]any)["2.0.0"] = b.version(version) }, want: "exactly one version, it holds 2"},
		{name: "NoVersions", change: func(b body) { b["versions"] = map[string]any{} }, want: "exactly one version, it holds 0"},
		{name: "VersionMismatch", change: func(b body) { b.version(version)["version"] = "1.0.1" }, want: `.version "1.0.1" is not "1.0.0"`},
		{name: "ManifestName", change: func(b body) { b.version(version)["name"] = "evil" }, want: `.name "evil" is not the package name`},
		{name: "NoDist", change: func(b body) { delete(b.version(version), "dist") }, want: "no dist object"},
		{name: "NoIntegrity", change: func(b body) { delete(dist(b), "integrity") }, want: "no dist.integrity"},
		{name: "NoShasum", change: func(b body) { delete(dist(b), "shasum") }, want: "no dist.shasum"},
		{name: "IntegrityMismatch", change: func(b body) {
			sum := sha512.Sum512([]byte("other"))
			dist(b)["integrity"] = "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
		}, want: "dist.integrity"},
		{name: "IntegritySHA1Only", change: func(b body) { dist(b)["integrity"] = "sha1-AAAA" }, want: "dist.integrity"},
		{name: "ShasumMismatch", change: func(b body) { dist(b)["shasum"] = strings.Repeat("0", 40) }, want: "dist.shasum"},
		{name: "LengthMismatch", change: func(b body) { atts(b)[tarKey].(map[string]any)["length"] = len(tgz) + 1 }, want: "has length"},
		{name: "NotBase64", change: func(b body) { atts(b)[tarKey].(map[string]any)["data"] = "!!" }, want: "not base64"},
		{name: "NoTarball", change: func(b body) { atts(b)["readme.txt"] = atts(b)[tarKey]; delete(atts(b), tarKey) }, want: `unexpected attachment "readme.txt"`},
		{name: "OnlyBundle", change: func(b body) { delete(atts(b), tarKey) }, want: "no tarball attachment"},
		{name: "TwoTarballs", change: func(b body) { atts(b)["other-1.0.0.tgz"] = atts(b)[tarKey] }, want: "two tarball attachments"},
		{name: "OtherBundleKey", change: func(b body) { atts(b)["widget-1.0.0.sigstore"] = atts(b)[bundleKey] }, want: `unexpected attachment "widget-1.0.0.sigstore"`},
		{name: "BundleNotJSON", change: func(b body) {
			atts(b)[bundleKey].(map[string]any)["data"] = "{"
			delete(atts(b)[bundleKey].(map[string]any), "length")
		}, want: "not JSON"},
		{name: "BundleLengthInBytes", change: func(b body) {
			// npm counts the bundle in UTF-16 code units; "—" is 3 bytes.
			setBundle(t, atts(b), bundleKey, func(m map[string]any) { m["note"] = "— rekor" })
			a := atts(b)[bundleKey].(map[string]any)
			a["length"] = len(a["data"].(string))
		}, want: "UTF-16 code units"},
		{name: "BundleMediaType", change: func(b body) {
			setBundle(t, atts(b), bundleKey, func(m map[string]any) { m["mediaType"] = "application/json" })
		}, want: `mediaType "application/json"`},
		{name: "BundleNoEnvelope", change: func(b body) { setBundle(t, atts(b), bundleKey, func(m map[string]any) { delete(m, "dsseEnvelope") }) }, want: "no dsseEnvelope"},
		{name: "BundleOtherSubject", change: func(b body) {
			other := provenanceBundle(t, "@acme/other", version, tgz)
			atts(b)[bundleKey] = map[string]any{"data": string(other)}
		}, want: `subject is not "pkg:npm/%40acme/widget@1.0.0"`},
		{name: "BundleOtherTarball", change: func(b body) {
			other := provenanceBundle(t, name, version, []byte("other"))
			atts(b)[bundleKey] = map[string]any{"data": string(other)}
		}, want: "is not the tarball's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := []byte(tc.raw)
			if tc.raw == "" {
				b := publishBody(name, version, tgz, provenanceBundle(t, name, version, tgz))
				tc.change(b)
				raw = b.encode(t)
			}
			u, err := parseUpload(name, raw)
			if err == nil {
				t.Fatalf("parseUpload accepted the body: %+v", u)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("parseUpload error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func setBundle(t *testing.T, atts map[string]any, key string, change func(map[string]any)) {
	var m map[string]any
	if err := json.Unmarshal([]byte(atts[key].(map[string]any)["data"].(string)), &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	data, _ := json.Marshal(m)
	atts[key] = map[string]any{"data": string(data)}
}

func TestParseUploadBundleTakenOff(t *testing.T) {
	const name, version = "widget", "3.1.4"
	tgz := tarball(t, name, version)
	bundle := provenanceBundle(t, name, version, tgz)
	b := publishBody(name, version, tgz, bundle)
	b["dist-tags"] = map[string]any{"beta": version, "latest": "3.0.0"}
	b["description"] = "<b>&</b>"
	u, err := parseUpload(name, b.encode(t))
	if err != nil {
		t.Fatal(err)
	}
	if string(u.bundle) != string(bundle) || u.predicateType != slsaV1 || u.tag != "beta" || u.access == nil || *u.access != "public" {
		t.Fatalf("upload = bundle %s, predicateType %q, tag %q, access %v", u.bundle, u.predicateType, u.tag, u.access)
	}
	var sent map[string]json.RawMessage
	if err := json.Unmarshal(u.body, &sent); err != nil {
		t.Fatal(err)
	}
	var atts map[string]json.RawMessage
	_ = json.Unmarshal(sent["_attachments"], &atts)
	if _, ok := atts[name+"-"+version+".tgz"]; len(atts) != 1 || !ok {
		t.Fatalf("the body sent upstream has attachments %v, want only the tarball", keys(atts))
	}
	if string(sent["description"]) != `"<b>&</b>"` {
		t.Errorf("description was re-encoded as %s", sent["description"])
	}
	// Without a bundle the body goes upstream byte for byte.
	raw := publishBody(name, version, tgz, nil).encode(t)
	if u, err = parseUpload(name, raw); err != nil || string(u.body) != string(raw) || u.bundle != nil {
		t.Fatalf("parseUpload without a bundle: %v, body changed: %v", err, string(u.body) != string(raw))
	}
}

func TestParseUploadMetadataChange(t *testing.T) {
	for _, raw := range []string{`{"_id":"x","name":"x","versions":{}}`, `{"_id":"x","_attachments":{}}`} {
		if _, err := parseUpload("x", []byte(raw)); !errors.Is(err, errNoAttachments) {
			t.Errorf("parseUpload(%s) = %v, want errNoAttachments", raw, err)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// FuzzParseUpload checks that whatever parseUpload accepts is what the
// registry would take: one version, the URL's name, a tarball matching
// its integrity, and only that attachment sent upstream.
func FuzzParseUpload(f *testing.F) {
	tgz := tarball(f, "fuzz", "1.0.0")
	f.Add(publishBody("fuzz", "1.0.0", tgz, nil).encode(f))
	f.Add(publishBody("fuzz", "1.0.0", tgz, provenanceBundle(f, "fuzz", "1.0.0", tgz)).encode(f))
	f.Add([]byte(`{"_id":"fuzz","name":"fuzz","versions":{"1.0.0":{}},"_attachments":{"a.tgz":{"data":""}}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		u, err := parseUpload("fuzz", raw)
		if err != nil {
			return
		}
		var top map[string]json.RawMessage
		var versions, atts map[string]json.RawMessage
		var manifest, dist map[string]json.RawMessage
		if json.Unmarshal(u.body, &top) != nil || json.Unmarshal(top["versions"], &versions) != nil || json.Unmarshal(top["_attachments"], &atts) != nil {
			t.Fatalf("accepted body sent upstream is not a publish document: %.200s", u.body)
		}
		if name, _ := jsonString(top["name"]); name != "fuzz" || len(versions) != 1 || len(atts) != 1 {
			t.Fatalf("accepted body has name %q, %d versions and %d attachments", name, len(versions), len(atts))
		}
		if json.Unmarshal(versions[u.version], &manifest) != nil || json.Unmarshal(manifest["dist"], &dist) != nil {
			t.Fatalf("accepted version %q has no dist", u.version)
		}
		integrity, _ := jsonString(dist["integrity"])
		sum := sha512.Sum512(u.tarball)
		if !slices.Contains(strings.Fields(integrity), "sha512-"+base64.StdEncoding.EncodeToString(sum[:])) {
			t.Fatalf("accepted tarball's sha512 is not in dist.integrity %q", integrity)
		}
		for _, raw := range atts {
			var a map[string]json.RawMessage
			_ = json.Unmarshal(raw, &a)
			data, _ := jsonString(a["data"])
			if tgz, err := base64.StdEncoding.DecodeString(data); err != nil || string(tgz) != string(u.tarball) {
				t.Fatalf("the attachment sent upstream is not the checked tarball")
			}
		}
	})
}

func TestTOTP(t *testing.T) {
	// RFC 6238 appendix B, SHA-1, last six digits.
	secret := []byte("12345678901234567890")
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
		{20000000000, "353130"},
	} {
		if got := TOTP(secret, time.Unix(tc.unix, 0)); got != tc.want {
			t.Errorf("TOTP at %d = %s, want %s", tc.unix, got, tc.want)
		}
	}
	now := time.Unix(1234567890, 0)
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{now, true},
		{now.Add(-30 * time.Second), true},
		{now.Add(30 * time.Second), true},
		{now.Add(-60 * time.Second), false},
		{now.Add(60 * time.Second), false},
	} {
		if got := validTOTP(secret, TOTP(secret, tc.at), now); got != tc.want {
			t.Errorf("validTOTP(code at %+v) = %v, want %v", tc.at.Sub(now), got, tc.want)
		}
	}
	if validTOTP(secret, "", now) || validTOTP(secret, "00592", now) {
		t.Errorf("validTOTP accepted an empty or short code")
	}
}

func TestSplitPackagePath(t *testing.T) {
	for _, tc := range []struct {
		path, name, rest string
		ok               bool
	}{
		{"/widget", "widget", "", true},
		{"/widget/1.0.0", "widget", "/1.0.0", true},
		{"/@acme%2fwidget", "@acme/widget", "", true},
		{"/@acme%2Fwidget", "@acme/widget", "", true},
		{"/@acme/widget", "@acme/widget", "", true},
		{"/@acme/widget/-/widget-1.0.0.tgz", "@acme/widget", "/-/widget-1.0.0.tgz", true},
		{"/-/whoami", "", "", false},
		{"/-", "", "", false},
		{"/", "", "", false},
		{"/@acme", "", "", false},
		{"/.hidden", "", "", false},
		{"/a%2fb", "", "", false},
		{"/wid get", "", "", false},
		{"/@acme%2f..", "", "", false},
	} {
		name, rest, ok := splitPackagePath(tc.path)
		if name != tc.name || rest != tc.rest || ok != tc.ok {
			t.Errorf("splitPackagePath(%q) = %q, %q, %v; want %q, %q, %v", tc.path, name, rest, ok, tc.name, tc.rest, tc.ok)
		}
	}
}

func TestNewChecksConfig(t *testing.T) {
	ok := Config{Upstream: "http://127.0.0.1:4873/"}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"Upstream", func(c *Config) { c.Upstream = "127.0.0.1:4873" }, "upstream"},
		{"IssuerProvider", func(c *Config) {
			c.Issuers = map[string]string{"https://token.actions.githubusercontent.com": "circleci"}
		}, `provider "circleci"`},
		{"IssuerURL", func(c *Config) { c.Issuers = map[string]string{"token.actions": "github"} }, "not an http(s) URL"},
		{"PublisherProvider", func(c *Config) {
			c.Publishers = map[string][]TrustedPublisher{"x": {{Provider: "bitbucket", Repository: "a/b", Workflow: "w"}}}
		}, `provider "bitbucket"`},
		{"PublisherWorkflow", func(c *Config) {
			c.Publishers = map[string][]TrustedPublisher{"x": {{Provider: "github", Repository: "a/b"}}}
		}, "workflow are required"},
		{"PublisherAction", func(c *Config) {
			c.Publishers = map[string][]TrustedPublisher{"x": {{Provider: "github", Repository: "a/b", Workflow: "w", Actions: []string{"unpublish"}}}}
		}, `action "unpublish"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.change(&c)
			if _, err := New(c); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := New(ok); err != nil {
		t.Fatalf("New(%+v) = %v", ok, err)
	}
}
