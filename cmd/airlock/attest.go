package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/airlockdev/airlock/attest"
	"github.com/airlockdev/airlock/internal/inspect"
)

func newAttestCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "attest",
		Short: "Build npm provenance for a tarball",
		Long: `Build the provenance npm attaches to a package published with
'npm publish --provenance'.`,
	}
	cmd.AddCommand(newAttestStatementCmd(e))
	return cmd
}

type attestStatementFlags struct {
	indent bool
}

func newAttestStatementCmd(e *env) *cobra.Command {
	var f attestStatementFlags
	cmd := &cobra.Command{
		Use:   "statement TARBALL",
		Short: "Print the provenance statement npm would sign for a tarball",
		Long: `Print the in-toto statement npm 11 would sign for TARBALL in this CI job:
the exact bytes of the payload 'npm publish --provenance' puts in its
Sigstore bundle, followed by a newline.

The subject is the package URL npm names (pkg:npm/%40scope/name@1.2.3)
with the tarball's sha512 in hex; name and version come from the
tarball's package.json, which is read as hostile input first.

The rest comes from the environment, as npm takes it:
  GitHub Actions  Statement v1 with SLSA provenance v1: workflow path
                  and ref, repository, event, commit, runner environment,
                  run id and attempt (GITHUB_*, RUNNER_ENVIRONMENT)
  GitLab CI       Statement v0.1 with SLSA provenance v0.2: the project,
                  pipeline, job and runner (CI_*, GITLAB_*)
npm makes provenance nowhere else, and neither does this command. A
variable that is not set is reproduced as npm reproduces it: left out
where it stands alone, "undefined" inside URLs.

--indent pretty-prints the statement for reading; those are not the
bytes npm signs.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("attest statement needs exactly one tarball, got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAttestStatement(cmd, e, args[0], f)
		},
	}
	cmd.Flags().BoolVar(&f.indent, "indent", false, "pretty-print (not the bytes npm signs)")
	return cmd
}

func runAttestStatement(cmd *cobra.Command, e *env, path string, f attestStatementFlags) error {
	file, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening the tarball: %w", err)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return fmt.Errorf("opening the tarball: %w", err)
	}
	subject, err := attest.ReadSubject(cmd.Context(), file, st.Size(), inspect.DefaultLimits())
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	statement, err := attest.Statement(subject, e.lookup)
	if err != nil {
		return err
	}
	if f.indent {
		var b bytes.Buffer
		// json.Indent copies strings as they are, keeping npm's escaping.
		if err := json.Indent(&b, statement, "", "  "); err != nil {
			return fmt.Errorf("indenting the statement: %w", err)
		}
		statement = b.Bytes()
	}
	fmt.Fprintf(e.stdout, "%s\n", statement)
	return nil
}
