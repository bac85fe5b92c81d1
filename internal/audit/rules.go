package audit

// Rule describes one kind of finding.
type Rule struct {
	ID string
	// Title is one line saying what the rule finds.
	Title string
	// Why says why it matters and what to do, for SARIF's help text.
	Why string
}

// The rule ids. They are part of airlock's interface: ignore comments and
// other tools name them.
const (
	RuleUntrustedCheckout       = "untrusted-checkout"
	RuleCachePoisoning          = "cache-poisoning"
	RuleIDTokenScope            = "id-token-scope"
	RulePublishJobRunsCode      = "publish-job-runs-code"
	RuleUnpinnedUses            = "unpinned-uses"
	RuleTemplateInjection       = "template-injection"
	RuleRegistryURLToken        = "registry-url-token"
	RuleNpmWithoutOIDC          = "npm-without-oidc"
	RuleSelfHostedPublish       = "self-hosted-publish"
	RuleUntrustedArtifact       = "untrusted-artifact"
	RulePersistedCredentials    = "persisted-credentials"
	RuleReusableWorkflowBinding = "reusable-workflow-binding"
	RuleGitLabIDTokenScope      = "gitlab-id-token-scope"
	RuleGitLabUnprotected       = "gitlab-unprotected-publish"
	RuleGitLabCacheInPublish    = "gitlab-cache-in-publish"
	RuleGitLabDotenvIntoPublish = "gitlab-dotenv-into-publish"
	RuleParseError              = "parse-error"
	RuleInvalidIgnore           = "invalid-ignore"
)

var ruleList = []Rule{
	{RuleUntrustedCheckout, "A privileged workflow checks out a pull request's code and runs it",
		"pull_request_target, workflow_run and issue_comment run with the base repository's token, secrets and cache scope. Checking out the pull request's head or merge ref and then running anything (a script, a build, a setup action that reads the checkout) runs the author's code with those privileges."},
	{RuleCachePoisoning, "A cache can carry untrusted content into a release",
		"A cache restored in a job that publishes, holds id-token: write or builds what is published, can have been written by any workflow of the repository with the same key, including one that ran a pull request's code. Release jobs should restore no cache."},
	{RuleIDTokenScope, "id-token: write reaches more than the one job that needs it",
		"Whoever runs code in a job with id-token: write can mint the job's OIDC token and publish as the repository. Give it to one job, which checks out nothing, runs no project code, restores no cache and uses only actions pinned by SHA."},
	{RulePublishJobRunsCode, "The job that publishes also installs, builds or tests the source",
		"Dependencies' install scripts, tests and build tools run next to the publish credential. Split the release: build and pack in one job, publish the tarball in another that runs no project code."},
	{RuleUnpinnedUses, "An action or image is not pinned to an immutable version",
		"Tags and branches can be moved to other code. Pin actions and reusable workflows by full commit SHA (with the version in a comment) and images by digest."},
	{RuleTemplateInjection, "An expression that others control is pasted into a script",
		"${{ }} is replaced before the shell parses the script, so a pull request title, branch name or comment becomes code. Pass the value through env: and use the variable, quoted."},
	{RuleRegistryURLToken, "A long-lived npm token sits next to trusted publishing",
		"With trusted publishing the job needs no npm token. setup-node's registry-url, an npmrc _authToken or NODE_AUTH_TOKEN from secrets add one that can leak, and that npm may use instead of the ID token."},
	{RuleNpmWithoutOIDC, "npm publishes by trusted publishing on an npm without OIDC support",
		"npm supports trusted publishing from 11.5.1. Node releases before 24 ship older npms, which fail or fall back to a token."},
	{RuleSelfHostedPublish, "The publishing job runs on a self-hosted runner",
		"npm's trusted publishing and provenance accept GitHub-hosted runners only, and a self-hosted runner keeps state between jobs."},
	{RuleUntrustedArtifact, "The publishing job downloads an artifact from another workflow run",
		"Artifacts of another run can come from a run that built a pull request's code. Publish only what a job of the same run built, pinned by its digest."},
	{RulePersistedCredentials, "actions/checkout leaves the token in .git/config",
		"Without persist-credentials: false the job's GITHUB_TOKEN stays in the checkout, where uploaded artifacts and any code the job runs can read it."},
	{RuleReusableWorkflowBinding, "The publishing job lives in a reusable workflow",
		"npm matches a trusted publisher against the calling workflow's file, not the reusable one. The publisher must name the caller, and every caller can publish."},
	{RuleGitLabIDTokenScope, "A GitLab ID token for npm reaches jobs that do not publish",
		"id_tokens declared in default:, in a template others extend, or in a job that installs, builds or tests, hand the npm identity to code that does not need it."},
	{RuleGitLabUnprotected, "A GitLab publishing job can run on unprotected refs or in merge request pipelines",
		"Restrict the publishing job with rules: to tags or the default branch, so a merge request or an unprotected branch cannot run it."},
	{RuleGitLabCacheInPublish, "A GitLab publishing job uses a cache",
		"A cache can be written by other pipelines, including unprotected ones when cache:unprotect is set. The publishing job should have cache: []."},
	{RuleGitLabDotenvIntoPublish, "A job that runs project code sets variables of the publishing job",
		"A dotenv report becomes variables of the jobs that receive it: the earlier job decides the publishing job's environment."},
	{RuleParseError, "A file could not be read", "The file is not valid YAML or not the shape CI expects, so nothing in it was checked."},
	{RuleInvalidIgnore, "An ignore comment is malformed", "Write # airlock: ignore[rule-id] reason: the rule must exist and the reason is required."},
}

// Rules returns the rules, in the order the documentation lists them.
func Rules() []Rule { return append([]Rule(nil), ruleList...) }

func knownRule(id string) bool {
	for _, r := range ruleList {
		if r.ID == id {
			return true
		}
	}
	return false
}
