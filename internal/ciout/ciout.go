// Package ciout writes step outputs that CI systems pass between jobs:
// GitHub Actions' GITHUB_OUTPUT file and GitLab's dotenv reports.
package ciout

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Output is one named value.
type Output struct{ Name, Value string }

var dotenvName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// AppendGitHub appends outputs to the file GitHub Actions names in
// GITHUB_OUTPUT. Multi-line values use the heredoc form with a random
// delimiter, so a value can never end the block early.
func AppendGitHub(path string, outs []Output) error {
	var b strings.Builder
	for _, o := range outs {
		if !strings.ContainsAny(o.Value, "\r\n") {
			fmt.Fprintf(&b, "%s=%s\n", o.Name, o.Value)
			continue
		}
		delim := randomDelimiter()
		fmt.Fprintf(&b, "%s<<%s\n%s\n%s\n", o.Name, delim, o.Value, delim)
	}
	return appendFile(path, b.String())
}

// WriteDotenv writes outputs as a dotenv file (GitLab's
// artifacts:reports:dotenv), replacing the file.
func WriteDotenv(path string, outs []Output) error {
	var b strings.Builder
	for _, o := range outs {
		if !dotenvName.MatchString(o.Name) {
			return fmt.Errorf("dotenv: invalid variable name %q", o.Name)
		}
		if strings.ContainsAny(o.Value, "\r\n") {
			return fmt.Errorf("dotenv: value of %s has a line break, which dotenv reports cannot carry", o.Name)
		}
		fmt.Fprintf(&b, "%s=%s\n", o.Name, o.Value)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func randomDelimiter() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return "AIRLOCK_EOF_" + hex.EncodeToString(b[:])
}
