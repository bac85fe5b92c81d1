package attest

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/airlockdev/airlock/internal/hint"
	"github.com/airlockdev/airlock/internal/idtoken"
	"github.com/airlockdev/airlock/internal/jsvalue"
	"github.com/airlockdev/airlock/internal/manifest"
)

// Subject is the package a statement is about.
type Subject struct {
	// Name is the package name, e.g. "@scope/pkg".
	Name    string
	Version string
	// SHA512 is the sha512 digest of the tarball.
	SHA512 []byte
}

// PackageURL is the subject name npm gives a package: its purl, with the
// leading @ of a scope encoded and nothing else (npm-package-arg toPurl,
// default registry).
func PackageURL(name, version string) string {
	if strings.HasPrefix(name, "@") {
		name = "%40" + name[1:]
	}
	return "pkg:npm/" + name + "@" + version
}

// ErrUnsupportedCI means npm would make no provenance in this
// environment: it does only in GitHub Actions and GitLab CI.
var ErrUnsupportedCI = errors.New("provenance needs GitHub Actions or GitLab CI")

// The types npm's provenance.js names.
const (
	statementV01  = "https://in-toto.io/Statement/v0.1"
	statementV1   = "https://in-toto.io/Statement/v1"
	slsaV02       = "https://slsa.dev/provenance/v0.2"
	slsaV1        = "https://slsa.dev/provenance/v1"
	githubBuilder = "https://github.com/actions/runner"
	githubBuild   = "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1"
	gitlabBuild   = "https://github.com/npm/cli/gitlab/v0alpha1"
)

// Statement returns the exact JSON npm 11.19.1 would sign (the DSSE
// payload of its provenance bundle) for subject in the CI environment
// lookup describes, or an error naming why npm would make no provenance
// there.
//
// Like npm it reads the environment without judging it: an unset
// variable shows up as "undefined" inside URLs and drops out where it
// stands alone, because that is what npm signs.
func Statement(subject Subject, lookup func(string) (string, bool)) ([]byte, error) {
	if err := manifest.ValidateName(subject.Name); err != nil {
		return nil, fmt.Errorf("building the provenance statement: %w", err)
	}
	if err := manifest.ValidateVersion(subject.Version); err != nil {
		return nil, fmt.Errorf("building the provenance statement for %s: %w", subject.Name, err)
	}
	if len(subject.SHA512) != 64 {
		return nil, fmt.Errorf("building the provenance statement for %s@%s: the sha512 digest has %d bytes, want 64", subject.Name, subject.Version, len(subject.SHA512))
	}
	subjects := jsArray{jsObject{
		{"name", str(PackageURL(subject.Name, subject.Version))},
		{"digest", jsObject{{"sha512", str(hex.EncodeToString(subject.SHA512))}}},
	}}
	e := jsEnv{lookup}
	// npm builds the GitHub statement first and lets GitLab's replace it
	// when ci-info reports both.
	var payload jsValue
	providers := idtoken.Detect(idtoken.Lookup(lookup)).Providers()
	for _, p := range providers {
		switch p {
		case idtoken.GitHubActions:
			if payload == nil {
				payload = github(subjects, e)
			}
		case idtoken.GitLabCI:
			payload = gitlab(subjects, e)
		}
	}
	if payload == nil {
		return nil, unsupported(lookup, providers)
	}
	return payload.appendJSON(nil), nil
}

func unsupported(lookup func(string) (string, bool), providers []idtoken.Provider) error {
	const advice = "npm signs provenance only in GitHub Actions and GitLab CI; run the publish job there, or publish without provenance"
	if v, _ := lookup("CI"); v == "false" {
		return hint.With(fmt.Errorf("%w: CI=false turns CI detection off, as it does in npm", ErrUnsupportedCI), "unset CI=false in the publish job")
	}
	if len(providers) > 0 {
		return hint.With(fmt.Errorf("%w: this is %s, where npm makes no provenance", ErrUnsupportedCI, providers[len(providers)-1]), advice)
	}
	return hint.With(fmt.Errorf("%w: GITHUB_ACTIONS and GITLAB_CI are both unset or empty", ErrUnsupportedCI), advice)
}

// jsEnv reads variables as provenance.js does through process.env.
type jsEnv struct{ lookup func(string) (string, bool) }

// get is env.KEY: nil (undefined) when unset.
func (e jsEnv) get(key string) jsValue {
	v, ok := e.lookup(key)
	if !ok {
		return nil
	}
	return str(jsvalue.WellFormed(v))
}

// text is `${env.KEY}`: "undefined" when unset.
func (e jsEnv) text(key string) string {
	v, ok := e.lookup(key)
	if !ok {
		return "undefined"
	}
	return jsvalue.WellFormed(v)
}

func github(subjects jsArray, e jsEnv) jsValue {
	// npm: (env.GITHUB_WORKFLOW_REF || '').replace(env.GITHUB_REPOSITORY + '/', '')
	// then splits at the first '@'. Without one, indexOf gives -1 and
	// slice(0, -1) drops the last UTF-16 unit: that is the path npm signs.
	ref, _ := e.lookup("GITHUB_WORKFLOW_REF")
	relative := str(strings.Replace(jsvalue.WellFormed(ref), e.text("GITHUB_REPOSITORY")+"/", "", 1))
	var workflowPath, workflowRef jsString
	if at := indexUnit(relative, '@'); at >= 0 {
		workflowPath, workflowRef = relative[:at], relative[at+1:]
	} else {
		workflowPath, workflowRef = relative[:max(len(relative)-1, 0)], relative
	}
	repo := e.text("GITHUB_SERVER_URL") + "/" + e.text("GITHUB_REPOSITORY")
	return jsObject{
		{"_type", str(statementV1)},
		{"subject", subjects},
		{"predicateType", str(slsaV1)},
		{"predicate", jsObject{
			{"buildDefinition", jsObject{
				{"buildType", str(githubBuild)},
				{"externalParameters", jsObject{
					{"workflow", jsObject{
						{"ref", workflowRef},
						{"repository", str(repo)},
						{"path", workflowPath},
					}},
				}},
				{"internalParameters", jsObject{
					{"github", jsObject{
						{"event_name", e.get("GITHUB_EVENT_NAME")},
						{"repository_id", e.get("GITHUB_REPOSITORY_ID")},
						{"repository_owner_id", e.get("GITHUB_REPOSITORY_OWNER_ID")},
					}},
				}},
				{"resolvedDependencies", jsArray{jsObject{
					{"uri", str("git+" + repo + "@" + e.text("GITHUB_REF"))},
					{"digest", jsObject{{"gitCommit", e.get("GITHUB_SHA")}}},
				}}},
			}},
			{"runDetails", jsObject{
				{"builder", jsObject{{"id", str(githubBuilder + "/" + e.text("RUNNER_ENVIRONMENT"))}}},
				{"metadata", jsObject{
					{"invocationId", str(repo + "/actions/runs/" + e.text("GITHUB_RUN_ID") + "/attempts/" + e.text("GITHUB_RUN_ATTEMPT"))},
				}},
			}},
		}},
	}
}

func indexUnit(s jsString, c uint16) int {
	for i, u := range s {
		if u == c {
			return i
		}
	}
	return -1
}

// gitlabParameters are the variables npm copies into
// invocation.parameters, in its order.
var gitlabParameters = []string{
	"CI", "CI_API_GRAPHQL_URL", "CI_API_V4_URL", "CI_BUILD_BEFORE_SHA", "CI_BUILD_ID", "CI_BUILD_NAME",
	"CI_BUILD_REF", "CI_BUILD_REF_NAME", "CI_BUILD_REF_SLUG", "CI_BUILD_STAGE", "CI_COMMIT_BEFORE_SHA",
	"CI_COMMIT_BRANCH", "CI_COMMIT_REF_NAME", "CI_COMMIT_REF_PROTECTED", "CI_COMMIT_REF_SLUG", "CI_COMMIT_SHA",
	"CI_COMMIT_SHORT_SHA", "CI_COMMIT_TIMESTAMP", "CI_COMMIT_TITLE", "CI_CONFIG_PATH", "CI_DEFAULT_BRANCH",
	"CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX", "CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX",
	"CI_DEPENDENCY_PROXY_SERVER", "CI_DEPENDENCY_PROXY_USER", "CI_JOB_ID", "CI_JOB_NAME", "CI_JOB_NAME_SLUG",
	"CI_JOB_STAGE", "CI_JOB_STARTED_AT", "CI_JOB_URL", "CI_NODE_TOTAL", "CI_PAGES_DOMAIN", "CI_PAGES_URL",
	"CI_PIPELINE_CREATED_AT", "CI_PIPELINE_ID", "CI_PIPELINE_IID", "CI_PIPELINE_SOURCE", "CI_PIPELINE_URL",
	"CI_PROJECT_CLASSIFICATION_LABEL", "CI_PROJECT_DESCRIPTION", "CI_PROJECT_ID", "CI_PROJECT_NAME",
	"CI_PROJECT_NAMESPACE", "CI_PROJECT_NAMESPACE_ID", "CI_PROJECT_PATH", "CI_PROJECT_PATH_SLUG",
	"CI_PROJECT_REPOSITORY_LANGUAGES", "CI_PROJECT_ROOT_NAMESPACE", "CI_PROJECT_TITLE", "CI_PROJECT_URL",
	"CI_PROJECT_VISIBILITY", "CI_REGISTRY", "CI_REGISTRY_IMAGE", "CI_REGISTRY_USER", "CI_RUNNER_DESCRIPTION",
	"CI_RUNNER_ID", "CI_RUNNER_TAGS", "CI_SERVER_HOST", "CI_SERVER_NAME", "CI_SERVER_PORT", "CI_SERVER_PROTOCOL",
	"CI_SERVER_REVISION", "CI_SERVER_SHELL_SSH_HOST", "CI_SERVER_SHELL_SSH_PORT", "CI_SERVER_URL",
	"CI_SERVER_VERSION", "CI_SERVER_VERSION_MAJOR", "CI_SERVER_VERSION_MINOR", "CI_SERVER_VERSION_PATCH",
	"CI_TEMPLATE_REGISTRY_HOST", "GITLAB_CI", "GITLAB_FEATURES", "GITLAB_USER_ID", "GITLAB_USER_LOGIN",
	"RUNNER_GENERATE_ARTIFACTS_METADATA",
}

func gitlab(subjects jsArray, e jsEnv) jsValue {
	params := make(jsObject, len(gitlabParameters))
	for i, k := range gitlabParameters {
		params[i] = member{k, e.get(k)}
	}
	source := str("git+" + e.text("CI_PROJECT_URL"))
	return jsObject{
		{"_type", str(statementV01)},
		{"subject", subjects},
		{"predicateType", str(slsaV02)},
		{"predicate", jsObject{
			{"buildType", str(gitlabBuild)},
			{"builder", jsObject{{"id", str(e.text("CI_PROJECT_URL") + "/-/runners/" + e.text("CI_RUNNER_ID"))}}},
			{"invocation", jsObject{
				{"configSource", jsObject{
					{"uri", source},
					{"digest", jsObject{{"sha1", e.get("CI_COMMIT_SHA")}}},
					{"entryPoint", e.get("CI_JOB_NAME")},
				}},
				{"parameters", params},
				{"environment", jsObject{
					{"name", e.get("CI_RUNNER_DESCRIPTION")},
					{"architecture", e.get("CI_RUNNER_EXECUTABLE_ARCH")},
					{"server", e.get("CI_SERVER_URL")},
					{"project", e.get("CI_PROJECT_PATH")},
					{"job", jsObject{{"id", e.get("CI_JOB_ID")}}},
					{"pipeline", jsObject{
						{"id", e.get("CI_PIPELINE_ID")},
						{"ref", e.get("CI_CONFIG_PATH")},
					}},
				}},
			}},
			{"metadata", jsObject{
				{"buildInvocationId", str(e.text("CI_JOB_URL"))},
				{"completeness", jsObject{
					{"parameters", jsBool(true)},
					{"environment", jsBool(true)},
					{"materials", jsBool(false)},
				}},
				{"reproducible", jsBool(false)},
			}},
			{"materials", jsArray{jsObject{
				{"uri", source},
				{"digest", jsObject{{"sha1", e.get("CI_COMMIT_SHA")}}},
			}}},
		}},
	}
}
