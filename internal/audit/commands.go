package audit

import (
	"path"
	"regexp"
	"strings"
)

// What a command does, as far as the rules care.
type action int

const (
	// doInstall installs the project's dependencies, running their
	// install scripts.
	doInstall action = iota
	// doRun runs project code: package scripts, tests, builds, npx, node,
	// make, a script from the checkout.
	doRun
	// doPublish publishes to a registry.
	doPublish
	// doUpgradeNpm installs npm itself, globally.
	doUpgradeNpm
	// doFetchPR checks out a pull request's code (gh pr checkout, git
	// fetch of refs/pull/…).
	doFetchPR
	// doClone clones a repository.
	doClone
	// doDownloadRun downloads another run's artifacts (gh run download).
	doDownloadRun
	// doWriteToken writes an npm token into the configuration.
	doWriteToken
)

// fact is one thing a command does.
type fact struct {
	do action
	// what says it for a message: "npm ci", "npm publish".
	what string
	// tool is the publishing tool (npm, pnpm, yarn, changesets,
	// semantic-release, airlock, lerna, bun) or, for doUpgradeNpm, the
	// version asked for ("latest" when none).
	tool string
	// fromFolder: a publish that packs the folder, running its lifecycle
	// scripts.
	fromFolder bool
	// stage: npm stage publish or airlock publish --stage.
	stage bool
	// arg is the word that matters (a refspec, a version), for positions.
	arg word
	cmd command
}

// scripts resolves package.json scripts, for "npm run release" and the
// like; nil when there is no package.json.
type scripts func(name string) (string, bool)

// classify says what a command does. Scripts named through npm, pnpm,
// yarn or bun are looked up and classified too, a few levels deep.
func classify(c command, lookup scripts, depth int) []fact {
	argv := c.argv()
	if len(argv) == 0 || depth > 4 {
		return nil
	}
	prog := path.Base(argv[0])
	f := func(do action, what string) fact {
		return fact{do: do, what: what, cmd: c, arg: c.args[0]}
	}
	rest := func(from int) command {
		return command{args: c.args[from:], offset: c.offset}
	}
	script := func(name string) []fact {
		if lookup == nil {
			return nil
		}
		body, ok := lookup(name)
		if !ok {
			return nil
		}
		var out []fact
		for _, sc := range commands(body) {
			for _, sf := range classify(sc, lookup, depth+1) {
				sf.what = sf.what + " (script " + name + ")"
				sf.cmd, sf.arg = c, c.args[0]
				out = append(out, sf)
			}
		}
		return out
	}
	switch prog {
	case "npm":
		sub, i := subcommand(argv, npmValueFlags)
		switch sub {
		case "ci", "clean-install", "ic", "install-clean", "isntall-clean", "install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal", "isntall", "add", "rebuild", "rb", "update", "up", "upgrade", "udpate":
			if hasFlag(argv, "-g", "--global", "--location=global") {
				for _, a := range c.args[i+1:] {
					if name, version, _ := strings.Cut(a.text, "@"); name == "npm" {
						if version == "" {
							version = "latest"
						}
						fx := f(doUpgradeNpm, "npm install --global "+a.text)
						fx.tool, fx.arg = version, a
						return []fact{fx}
					}
				}
				return nil
			}
			return []fact{f(doInstall, "npm "+sub)}
		case "install-test", "it", "install-ci-test", "cit", "clean-install-test", "sit":
			return []fact{f(doInstall, "npm "+sub), f(doRun, "npm "+sub)}
		case "test", "t", "tst", "start", "stop", "restart", "run", "run-script", "rum", "urn", "explore", "version":
			out := []fact{f(doRun, "npm "+sub)}
			if sub == "run" || sub == "run-script" || sub == "rum" || sub == "urn" {
				if i+1 < len(argv) {
					out = append(out, script(argv[i+1])...)
				}
			} else if name := map[string]string{"t": "test", "tst": "test", "test": "test", "start": "start", "stop": "stop", "restart": "restart"}[sub]; name != "" {
				out = append(out, script(name)...)
			}
			return out
		case "exec", "x":
			return append([]fact{f(doRun, "npm "+sub)}, classify(rest(afterDashes(argv, i+1)), lookup, depth+1)...)
		case "pack":
			if !hasFlag(argv, "--ignore-scripts", "--dry-run") {
				return []fact{f(doRun, "npm pack")}
			}
		case "publish":
			if hasFlag(argv, "--dry-run") {
				return nil
			}
			p := f(doPublish, "npm publish")
			p.tool = "npm"
			p.fromFolder = folderPublish(argv[i+1:])
			p.stage = hasFlag(argv, "--stage")
			out := []fact{p}
			if p.fromFolder {
				out = append(out, f(doRun, "npm publish (its lifecycle scripts)"))
			}
			return out
		case "stage":
			if i+1 < len(argv) && argv[i+1] == "publish" && !hasFlag(argv, "--dry-run") {
				p := f(doPublish, "npm stage publish")
				p.tool, p.stage = "npm", true
				p.fromFolder = folderPublish(argv[i+2:])
				out := []fact{p}
				if p.fromFolder {
					out = append(out, f(doRun, "npm stage publish (its lifecycle scripts)"))
				}
				return out
			}
		case "config", "set":
			if strings.Contains(c.String(), "_authToken") || strings.Contains(c.String(), "_auth") {
				return []fact{f(doWriteToken, "npm "+sub+" …_authToken")}
			}
		}
		return nil
	case "npx", "bunx", "pnpx":
		i := 1
		for i < len(argv) && strings.HasPrefix(argv[i], "-") {
			if argv[i] == "-p" || argv[i] == "--package" {
				i++
			}
			i++
		}
		if i < len(argv) {
			if name, version, ok := strings.Cut(strings.TrimPrefix(argv[i], "@"), "@"); ok && name == "npm" {
				// npx npm@11 publish: that npm runs.
				if i+1 < len(argv) {
					npm := rest(i)
					npm.args = append([]word{{text: "npm", offset: c.args[i].offset}}, npm.args[1:]...)
					inner := classify(npm, lookup, depth+1)
					for k := range inner {
						if inner[k].do == doPublish {
							fx := f(doUpgradeNpm, argv[0]+" "+argv[i])
							fx.tool = version
							inner = append(inner, fx)
							break
						}
					}
					return inner
				}
			}
		}
		return append([]fact{f(doRun, prog)}, classify(rest(i), lookup, depth+1)...)
	case "pnpm", "yarn", "bun":
		sub, i := subcommand(argv, pmValueFlags)
		global := hasFlag(argv, "-g", "--global") || sub == "global"
		switch {
		case sub == "" && prog != "bun":
			return []fact{f(doInstall, prog)}
		case global:
			return nil
		case sub == "install" || sub == "i" || sub == "add" || sub == "update" || sub == "up" || sub == "rebuild" || sub == "rb" || sub == "upgrade":
			return []fact{f(doInstall, prog+" "+sub)}
		case sub == "publish":
			p := f(doPublish, prog+" publish")
			p.tool = prog
			p.fromFolder = folderPublish(argv[i+1:])
			return []fact{p, f(doRun, prog+" publish (its lifecycle scripts)")}
		case prog == "yarn" && sub == "npm":
			if i+1 < len(argv) && argv[i+1] == "publish" {
				p := f(doPublish, "yarn npm publish")
				p.tool, p.fromFolder = "yarn", true
				return []fact{p, f(doRun, "yarn npm publish (its lifecycle scripts)")}
			}
			return nil
		case sub == "config" || sub == "set" || sub == "cache" || sub == "store" || sub == "env" || sub == "setup" ||
			sub == "policies" || sub == "--version" || sub == "-v" || sub == "why" || sub == "list" || sub == "ls" ||
			sub == "info" || sub == "view" || sub == "login" || sub == "logout" || sub == "whoami" || sub == "audit" ||
			sub == "outdated" || sub == "licenses" || sub == "upgrade-interactive" || sub == "help":
			return nil
		case sub == "run" || sub == "run-script" || sub == "exec" || sub == "dlx" || sub == "x":
			out := []fact{f(doRun, prog+" "+sub)}
			if i+1 < len(argv) {
				if sub == "run" || sub == "run-script" {
					out = append(out, script(argv[i+1])...)
				}
				out = append(out, classify(rest(afterDashes(argv, i+1)), lookup, depth+1)...)
			}
			return out
		default:
			// pnpm build, yarn test, yarn changeset publish: a script or
			// a dependency's program.
			out := []fact{f(doRun, prog+" "+sub)}
			out = append(out, script(sub)...)
			out = append(out, classify(rest(i), lookup, depth+1)...)
			return out
		}
	case "changeset", "changesets":
		if len(argv) > 1 && argv[1] == "publish" {
			p := f(doPublish, "changeset publish")
			p.tool, p.fromFolder = "changesets", true
			return []fact{p, f(doRun, "changeset publish")}
		}
		return []fact{f(doRun, prog)}
	case "semantic-release":
		if hasFlag(argv, "--dry-run", "-d") {
			return []fact{f(doRun, "semantic-release")}
		}
		p := f(doPublish, "semantic-release")
		p.tool, p.fromFolder = "semantic-release", true
		return []fact{p, f(doRun, "semantic-release")}
	case "lerna":
		if len(argv) > 1 && argv[1] == "publish" {
			p := f(doPublish, "lerna publish")
			p.tool, p.fromFolder = "lerna", true
			return []fact{p, f(doRun, "lerna publish")}
		}
		return []fact{f(doRun, "lerna")}
	case "airlock":
		switch sub, _ := subcommand(argv, nil); sub {
		case "publish":
			if hasFlag(argv, "--dry-run") {
				return nil
			}
			p := f(doPublish, "airlock publish")
			p.tool, p.stage = "airlock", hasFlag(argv, "--stage")
			return []fact{p}
		case "pack":
			if !hasFlag(argv, "--ignore-scripts") {
				return []fact{f(doRun, "airlock pack (the package's lifecycle scripts)")}
			}
		}
		return nil
	case "corepack":
		for _, a := range c.args[1:] {
			if name, version, ok := strings.Cut(a.text, "@"); ok && name == "npm" {
				fx := f(doUpgradeNpm, "corepack "+a.text)
				fx.tool, fx.arg = version, a
				return []fact{fx}
			}
		}
		return nil
	case "gh":
		if len(argv) > 2 && argv[1] == "pr" && argv[2] == "checkout" {
			return []fact{f(doFetchPR, "gh pr checkout")}
		}
		if len(argv) > 2 && argv[1] == "run" && argv[2] == "download" && len(argv) > 3 {
			return []fact{f(doDownloadRun, "gh run download")}
		}
		if len(argv) > 2 && argv[1] == "repo" && argv[2] == "clone" {
			return []fact{f(doClone, "gh repo clone")}
		}
		return nil
	case "git":
		sub, i := subcommand(argv, gitValueFlags)
		switch sub {
		case "clone":
			return []fact{f(doClone, "git clone")}
		case "fetch", "pull":
			for _, a := range c.args[i+1:] {
				if pullRefspec.MatchString(a.text) {
					fx := f(doFetchPR, "git "+sub+" "+a.text)
					fx.arg = a
					return []fact{fx}
				}
			}
		case "checkout", "switch", "reset", "merge", "rebase":
			for _, a := range c.args[i+1:] {
				if pullRefspec.MatchString(a.text) {
					fx := f(doFetchPR, "git "+sub+" "+a.text)
					fx.arg = a
					return []fact{fx}
				}
			}
		}
		return nil
	case "node", "deno", "tsx", "ts-node", "tsc", "make", "cmake", "cargo", "gradle", "gradlew", "mvn", "mvnw",
		"turbo", "nx", "vitest", "jest", "mocha", "ava", "playwright", "cypress", "eslint", "prettier", "webpack",
		"vite", "rollup", "esbuild", "tsup", "rspack", "biome", "oxlint", "rake", "bundle", "pytest", "tox", "nox":
		return []fact{f(doRun, prog)}
	case "go":
		if len(argv) > 1 {
			switch argv[1] {
			case "build", "test", "run", "generate", "install", "vet":
				return []fact{f(doRun, "go "+argv[1])}
			}
		}
		return nil
	case "python", "python3", "ruby", "perl", "php", "bash", "sh", "zsh", "dash", "ksh", "pwsh", "powershell":
		for _, a := range argv[1:] {
			if a == "-c" || a == "-e" || a == "--command" || a == "-Command" {
				// Inline code is the workflow's own.
				return nil
			}
			if strings.HasPrefix(a, "-") {
				continue
			}
			// A file of the checkout; one under $RUNNER_TEMP or /tmp the
			// workflow put there itself.
			if !strings.HasPrefix(a, "/") && !strings.HasPrefix(a, "$") && !strings.HasPrefix(a, "~") {
				return []fact{f(doRun, prog+" "+a)}
			}
			return nil
		}
		return nil
	}
	if isRelativeProgram(argv[0]) {
		return []fact{f(doRun, argv[0])}
	}
	return nil
}

// pullRefspec matches the refs of a pull request: pull/N/head,
// refs/pull/N/merge, +refs/pull/*/head:….
var pullRefspec = regexp.MustCompile(`(^|[/:+])pull/[^/\s]+/(head|merge)\b`)

var (
	npmValueFlags = map[string]bool{"--prefix": true, "-w": true, "--workspace": true, "-C": true, "--registry": true,
		"--userconfig": true, "--cache": true, "--loglevel": true, "--tag": true, "--otp": true, "--access": true}
	pmValueFlags = map[string]bool{"--filter": true, "-F": true, "-C": true, "--dir": true, "--cwd": true,
		"--workspace": true, "-w": false, "--reporter": true, "--loglevel": true}
	gitValueFlags = map[string]bool{"-C": true, "-c": true, "--git-dir": true, "--work-tree": true}
)

// subcommand returns the first argument after the program that is not a
// flag, and its index.
func subcommand(argv []string, valueFlags map[string]bool) (string, int) {
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		if strings.HasPrefix(a, "-") {
			if valueFlags[a] {
				i++
			}
			continue
		}
		return a, i
	}
	return "", len(argv)
}

func afterDashes(argv []string, i int) int {
	for j := i; j < len(argv); j++ {
		if argv[j] == "--" {
			return j + 1
		}
		if !strings.HasPrefix(argv[j], "-") {
			return j
		}
	}
	return len(argv)
}

func hasFlag(argv []string, flags ...string) bool {
	for _, a := range argv {
		for _, f := range flags {
			if a == f || strings.HasPrefix(a, f+"=") && !strings.HasSuffix(a, "=false") {
				return true
			}
		}
	}
	return false
}

// folderPublish tells a publish of the folder (which packs it and runs its
// lifecycle scripts) from a publish of a tarball.
func folderPublish(args []string) bool {
	if hasFlag(args, "--ignore-scripts") {
		return false
	}
	skip := false
	for _, a := range args {
		if skip {
			skip = false
			continue
		}
		if strings.HasPrefix(a, "-") {
			skip = npmValueFlags[a]
			continue
		}
		if strings.HasSuffix(a, ".tgz") || strings.HasSuffix(a, ".tar.gz") || strings.Contains(a, "$") {
			return false
		}
	}
	return true
}

func isRelativeProgram(p string) bool {
	if strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") {
		return true
	}
	return strings.Contains(p, "/") && !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "$") && !strings.HasPrefix(p, "~")
}
