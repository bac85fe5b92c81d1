package oidcissuer

import (
	"hash/fnv"
	"strconv"
	"strings"
)

// GitHubRun describes a GitHub Actions job, for GitHubClaims.
type GitHubRun struct {
	Repository        string // OWNER/REPO
	Workflow          string // the workflow's file name, e.g. release.yml
	Ref               string // e.g. refs/heads/main or refs/tags/v1.0.0
	Environment       string // "" for a job without an environment
	RunnerEnvironment string // default github-hosted
	Visibility        string // default public
	SHA               string // the commit
	EventName         string // default push
	Actor             string
}

// GitHubClaims returns the claims GitHub Actions puts in the ID tokens of
// the job r describes, without the ones Mint adds. Numeric ids are made up
// from the names, the same for the same names.
func GitHubClaims(r GitHubRun) map[string]any {
	owner, _, _ := strings.Cut(r.Repository, "/")
	runner := or(r.RunnerEnvironment, "github-hosted")
	sub := "repo:" + r.Repository + ":ref:" + r.Ref
	if r.Environment != "" {
		sub = "repo:" + r.Repository + ":environment:" + r.Environment
	}
	workflowRef := r.Repository + "/.github/workflows/" + r.Workflow + "@" + r.Ref
	c := map[string]any{
		"sub":                   sub,
		"repository":            r.Repository,
		"repository_owner":      owner,
		"repository_id":         fakeID("repository", r.Repository),
		"repository_owner_id":   fakeID("owner", owner),
		"repository_visibility": or(r.Visibility, "public"),
		"actor":                 r.Actor,
		"actor_id":              fakeID("actor", r.Actor),
		// GitHub puts the workflow's name: here, or its path without one;
		// tests need only a stable value.
		"workflow":           r.Workflow,
		"workflow_ref":       workflowRef,
		"workflow_sha":       r.SHA,
		"job_workflow_ref":   workflowRef,
		"job_workflow_sha":   r.SHA,
		"ref":                r.Ref,
		"ref_type":           refType(r.Ref),
		"ref_protected":      "false",
		"sha":                r.SHA,
		"event_name":         or(r.EventName, "push"),
		"run_id":             fakeID("run", r.Repository+"@"+r.Ref),
		"run_number":         "1",
		"run_attempt":        "1",
		"runner_environment": runner,
		"head_ref":           "",
		"base_ref":           "",
	}
	if r.Environment != "" {
		c["environment"] = r.Environment
	}
	return c
}

// GitLabRun describes a GitLab CI job, for GitLabClaims.
type GitLabRun struct {
	Project           string // GROUP/PROJECT, maybe with subgroups
	ConfigPath        string // default .gitlab-ci.yml
	Ref               string // a branch name, or refs/heads/BRANCH or refs/tags/TAG
	Environment       string // "" for a job without an environment
	Visibility        string // default public
	RunnerEnvironment string // default gitlab-hosted
	SHA               string // the commit
	User              string
}

// GitLabClaims returns the claims GitLab CI puts in the id_tokens of the
// job r describes, on gitlab.com, without the ones Mint adds. Numeric ids
// are made up from the names, the same for the same names.
func GitLabClaims(r GitLabRun) map[string]any {
	namespace := r.Project
	if i := strings.LastIndexByte(r.Project, '/'); i >= 0 {
		namespace = r.Project[:i]
	}
	ref, kind := r.Ref, "branch"
	if tag, ok := strings.CutPrefix(r.Ref, "refs/tags/"); ok {
		ref, kind = tag, "tag"
	} else {
		ref = strings.TrimPrefix(r.Ref, "refs/heads/")
	}
	refPath := "refs/heads/" + ref
	if kind == "tag" {
		refPath = "refs/tags/" + ref
	}
	config := or(r.ConfigPath, ".gitlab-ci.yml")
	c := map[string]any{
		"sub":                "project_path:" + r.Project + ":ref_type:" + kind + ":ref:" + ref,
		"namespace_id":       fakeID("namespace", namespace),
		"namespace_path":     namespace,
		"project_id":         fakeID("project", r.Project),
		"project_path":       r.Project,
		"project_visibility": or(r.Visibility, "public"),
		"user_id":            fakeID("user", r.User),
		"user_login":         r.User,
		"pipeline_id":        fakeID("pipeline", r.Project+"@"+refPath),
		"pipeline_source":    "push",
		"job_id":             fakeID("job", r.Project+"@"+refPath),
		"ref":                ref,
		"ref_type":           kind,
		"ref_path":           refPath,
		"ref_protected":      "false",
		"runner_id":          1,
		"runner_environment": or(r.RunnerEnvironment, "gitlab-hosted"),
		"sha":                r.SHA,
		"ci_config_ref_uri":  "gitlab.com/" + r.Project + "//" + config + "@" + refPath,
		"ci_config_sha":      r.SHA,
	}
	if r.Environment != "" {
		c["environment"] = r.Environment
		c["environment_protected"] = "false"
	}
	return c
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func refType(ref string) string {
	switch {
	case strings.HasPrefix(ref, "refs/tags/"):
		return "tag"
	case strings.HasPrefix(ref, "refs/heads/"), strings.HasPrefix(ref, "refs/pull/"):
		return "branch"
	}
	return ""
}

// fakeID makes a stable numeric id, as a decimal string like GitHub's and
// GitLab's, from a kind and a name.
func fakeID(kind, name string) string {
	h := fnv.New32a()
	h.Write([]byte(kind + "\x00" + name))
	return strconv.FormatUint(uint64(h.Sum32()%900_000_000+100_000_000), 10)
}
