package audit

import (
	"strings"
	"testing"
)

func TestCommands(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"npm ci && npm test", "npm ci|npm test"},
		{"FOO=1 sudo -E env X=2 npm publish", "npm publish"},
		{"echo 'a && b' \"c; d\" # npm publish", "echo a && b c; d"},
		{"cat <<EOF > out\nnpm publish\nEOF\nmake", "cat|make"},
		{"cat <<-'X'\n\tnpm publish\n\tX\nnode build.js", "cat|node build.js"},
		{"if [ -n \"$X\" ]; then npm run build; fi", "[ -n $X ]|npm run build"},
		{"out=$(npm pack) && echo $out", "npm pack|echo $out"},
		{"npm \\\n  publish", "npm publish"},
		{"echo ${{ github.head_ref }} | tee x", "echo ${{ github.head_ref }}|tee x"},
		{"echo \"${{ 'a; b' }}\"", "echo ${{ 'a; b' }}"},
	} {
		var got []string
		for _, c := range commands(tc.in) {
			got = append(got, c.String())
		}
		if strings.Join(got, "|") != tc.want {
			t.Errorf("commands(%q) = %q, want %q", tc.in, strings.Join(got, "|"), tc.want)
		}
	}
}

func TestClassify(t *testing.T) {
	pkg := map[string]string{"release": "pnpm build && changeset publish", "build": "tsc", "test": "vitest"}
	lookup := func(name string) (string, bool) { s, ok := pkg[name]; return s, ok }
	names := map[action]string{doInstall: "install", doRun: "run", doPublish: "publish", doUpgradeNpm: "npm", doFetchPR: "pr",
		doClone: "clone", doDownloadRun: "download", doWriteToken: "token"}
	for _, tc := range []struct{ in, want string }{
		{"npm ci", "install"},
		{"npm install --global npm@11.6.0", "npm:11.6.0"},
		{"npm i -g npm", "npm:latest"},
		{"npm publish", "publish:npm:folder run"},
		{"npm publish ./demo-1.0.0.tgz --provenance", "publish:npm"},
		{"npm publish --dry-run", ""},
		{"npm stage publish x.tgz", "publish:npm:stage"},
		{"npm test", "run run"},
		{"npm run release", "run run run publish:changesets:folder run"},
		{"pnpm -r --filter ./pkg publish", "publish:pnpm:folder run"},
		{"pnpm install --frozen-lockfile", "install"},
		{"pnpm changeset publish", "run publish:changesets:folder run"},
		{"yarn", "install"},
		{"yarn npm publish", "publish:yarn:folder run"},
		{"npx semantic-release", "run publish:semantic-release:folder run"},
		{"npx npm@11 publish x.tgz", "publish:npm npm:11"},
		{"airlock publish --integrity sha512-x a.tgz", "publish:airlock"},
		{"airlock publish --stage a.tgz", "publish:airlock:stage"},
		{"airlock pack", "run"},
		{"airlock pack --ignore-scripts", ""},
		{"gh pr checkout 12", "pr"},
		{"git fetch origin pull/12/head:pr", "pr"},
		{"git fetch origin main", ""},
		{"gh run download 123 -n tarball", "download"},
		{"npm config set //registry.npmjs.org/:_authToken x", "token"},
		{"./scripts/build.sh", "run"},
		{"bash -c 'echo hi'", ""},
		{"sh scripts/x.sh", "run"},
		{"sh \"$RUNNER_TEMP/install.sh\" --dir x", ""},
		{"bash /tmp/x.sh", ""},
		{"echo npm publish", ""},
		{"corepack prepare npm@11.6.0 --activate", "npm:11.6.0"},
	} {
		var got []string
		for _, c := range commands(tc.in) {
			for _, f := range classify(c, lookup, 0) {
				s := names[f.do]
				if f.do == doPublish {
					s += ":" + f.tool
					if f.fromFolder {
						s += ":folder"
					}
					if f.stage {
						s += ":stage"
					}
				}
				if f.do == doUpgradeNpm {
					s += ":" + f.tool
				}
				got = append(got, s)
			}
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("classify(%q) = %q, want %q", tc.in, strings.Join(got, " "), tc.want)
		}
	}
}

func TestNpmVersions(t *testing.T) {
	for spec, want := range map[string]bool{"latest": true, "11": true, "^11.0.0": true, "11.x": true, "11.5.1": true,
		"11.5.0": false, "~11.4.0": false, "11.4.2": false, "10": false, "12.0.0": true, ">=11.5.1": true, "next-10": false} {
		if got := npmHasOIDC(spec); got != want {
			t.Errorf("npmHasOIDC(%q) = %v", spec, got)
		}
	}
	for spec, want := range map[string]int{"22": 22, "22.x": 22, "v20.11.0": 20, "lts/jod": 22, "lts/*": 24, "latest": 24, ">=18": 24, "24.1": 24} {
		if got, ok := nodeMajor(spec); !ok || got != want {
			t.Errorf("nodeMajor(%q) = %d %v", spec, got, ok)
		}
	}
	if _, ok := nodeMajor("${{ x }}"); ok {
		t.Error("an expression has a version")
	}
}

func TestOverlap(t *testing.T) {
	for _, tc := range []struct {
		p, q string
		want bool
	}{
		{"#-pnpm-#", "#-pnpm-#", true},
		{"Linux-pnpm-abc", "#-pnpm-*", true},
		{"#-pnpm-#", "#-npm-#", false},
		{"#-pnpm-store-#", "#-pnpm-*", true},
		{"node-cache-#-#-npm-#", "node-cache-*", true},
		{"setup-go-#", "node-cache-*", false},
	} {
		if got := overlap(tc.p, tc.q); got != tc.want {
			t.Errorf("overlap(%q, %q) = %v", tc.p, tc.q, got)
		}
	}
}
