package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=1.2.3";
// make release sets it to the release tag without its "v".
var version string

// toolVersion is airlock's version: the build-time value, else the module
// version Go recorded (go install …@v1.2.3), else "devel".
func toolVersion() string {
	module := ""
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "(devel)" {
		module = bi.Main.Version
	}
	return versionOf(version, module)
}

// versionOf drops a leading "v", so that a release binary and one built by
// go install from the same tag print the same version.
func versionOf(buildTime, module string) string {
	v := buildTime
	if v == "" {
		v = module
	}
	if v == "" {
		return "devel"
	}
	return strings.TrimPrefix(v, "v")
}

// versionInfo is what version --json prints: enough for a workflow log to
// say which binary ran, and for a reader to compare it with a release's
// SHA256SUMS (which lists the archives, not the binaries).
type versionInfo struct {
	Version    string `json:"version"`
	Go         string `json:"go"`
	Target     string `json:"target"`
	Executable string `json:"executable"`
	SHA256     string `json:"sha256"`
}

func newVersionCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print airlock's version",
		Long: `Prints airlock's version. With --json, also the Go version it was built
with, its target (GOOS/GOARCH), the path of the running executable and
that file's sha256.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !asJSON {
				_, err := fmt.Fprintf(e.stdout, "airlock %s\n", toolVersion())
				return err
			}
			info, err := currentVersionInfo()
			if err != nil {
				return err
			}
			out, err := json.MarshalIndent(info, "", "  ")
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "%s\n", out)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print version, go, target, executable and sha256 as JSON")
	return cmd
}

func currentVersionInfo() (versionInfo, error) {
	exe, err := os.Executable()
	if err != nil {
		return versionInfo{}, fmt.Errorf("finding the running executable: %w", err)
	}
	f, err := os.Open(exe)
	if err != nil {
		return versionInfo{}, fmt.Errorf("hashing the running executable: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return versionInfo{}, fmt.Errorf("hashing the running executable %s: %w", exe, err)
	}
	return versionInfo{
		Version:    toolVersion(),
		Go:         runtime.Version(),
		Target:     runtime.GOOS + "/" + runtime.GOARCH,
		Executable: exe,
		SHA256:     hex.EncodeToString(h.Sum(nil)),
	}, nil
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args[0])}
	}
	return nil
}
