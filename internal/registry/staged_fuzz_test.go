package registry

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParseStagedVersion: a registry's staged-version record is outside
// input. Whatever is accepted is a JSON object kept byte for byte, and
// decodes again.
func FuzzParseStagedVersion(f *testing.F) {
	f.Add([]byte(`{"id":"0b6f8c1e-2f2a-4a8e-9d8b-1f2e3d4c5b6a","packageName":"@a/b","version":"1.0.0","tag":"latest","createdAt":"2026-11-22T05:00:00Z","actor":"alice","actorType":"user","access":null,"shasum":"00"}`))
	f.Add([]byte(`{"id":1,"extra":{"nested":[1,2]}}`))
	f.Add([]byte(`  {"packageName":"\u001b[31mred"}  `))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, err := parseStagedVersion(raw)
		if err != nil {
			return
		}
		if !bytes.Equal(v.Raw, bytes.TrimSpace(raw)) {
			t.Fatalf("Raw %q is not the record %q", v.Raw, raw)
		}
		var again StagedVersion
		if err := json.Unmarshal(v.Raw, &again); err != nil {
			t.Fatalf("the kept record does not decode again: %v", err)
		}
	})
}
