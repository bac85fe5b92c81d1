package pack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// ReceiptSuffix is appended to the tarball's path to name its receipt.
const ReceiptSuffix = ".receipt.json"

// ReceiptSchema identifies the receipt format; bump it on breaking change.
const ReceiptSchema = "https://github.com/airlockdev/airlock/receipt/v1"

// Receipt is the pack job's record of what it built, for the publish job.
// The publish job must not trust it on its own: the integrity it pins is
// meant to travel through CI job outputs, out of reach of the artifact.
type Receipt struct {
	Schema    string `json:"schema"`
	Name      string `json:"name"`
	Version   string `json:"version"`
	Filename  string `json:"filename"`
	Size      int64  `json:"size"`
	Integrity string `json:"integrity"`
	Shasum    string `json:"shasum"`
	Files     []File `json:"files"`
	GitCommit string `json:"gitCommit,omitempty"`
	// GitDirty is true when the checkout differed from GitCommit: a
	// tracked file changed (in the index or the worktree), or an untracked
	// file was packed. Absent when unknown (no git program on PATH).
	GitDirty    *bool  `json:"gitDirty,omitempty"`
	ToolVersion string `json:"airlockVersion"`
}

func newReceipt(rep *Report, git gitState, toolVersion string) Receipt {
	return Receipt{
		Schema: ReceiptSchema, Name: rep.Name, Version: rep.Version, Filename: rep.Filename,
		Size: rep.Size, Integrity: rep.Integrity, Shasum: rep.Shasum, Files: rep.Files,
		GitCommit: git.commit, GitDirty: git.dirty, ToolVersion: toolVersion,
	}
}

// write writes the receipt through a temporary file so that a reader
// never sees half of one.
func (r Receipt) write(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".airlock-receipt-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ReadReceipt reads a receipt written by Pack.
func ReadReceipt(path string) (*Receipt, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Receipt
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: not a pack receipt: %w", path, err)
	}
	if r.Schema != ReceiptSchema {
		return nil, fmt.Errorf("%s: unknown receipt schema %q", path, r.Schema)
	}
	return &r, nil
}
