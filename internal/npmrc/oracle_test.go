package npmrc

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/airlockdev/airlock/internal/npmtest"
)

// The oracle is npm itself: testdata/npmconfig.js loads configuration with
// npm's @npmcli/config and asks npm-registry-fetch for credentials. A
// missing node or npm fails the test; comparing with npm is the point.

var npmRootOnce = sync.OnceValues(func() (string, error) {
	p, err := exec.LookPath("npm")
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", err
	}
	if filepath.Base(real) == "npm-cli.js" {
		return filepath.Dir(filepath.Dir(real)), nil
	}
	out, err := exec.Command(p, "root", "-g").Output()
	if err != nil {
		return "", err
	}
	return filepath.Join(strings.TrimSpace(string(out)), "npm"), nil
})

// npmRoot is the folder of the npm package whose modules the oracle loads.
func npmRoot(t testing.TB) string {
	t.Helper()
	npmtest.NPM(t)
	root, err := npmRootOnce()
	if err != nil {
		t.Fatalf("finding npm's installation folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", "@npmcli", "config")); err != nil {
		t.Fatalf("npm at %s has no @npmcli/config: %v", root, err)
	}
	return root
}

func nodeBin(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is required for the differential tests but was not found on PATH: %v\n"+
			"hint: install Node.js 20+ with npm 11", err)
	}
	return p
}

// baseEnv is the environment both npm and Load see: PATH to find node,
// and nothing else unless a test adds it.
func baseEnv(t testing.TB, extra ...string) []string {
	t.Helper()
	return append([]string{"PATH=" + os.Getenv("PATH")}, extra...)
}

type oracleRequest struct {
	Argv        []string    `json:"argv"`
	Cwd         string      `json:"cwd"`
	Builtin     string      `json:"builtin"`
	Config      bool        `json:"config"` // load config and answer keys, urls and pkgs
	Keys        []string    `json:"keys"`
	URLs        []oracleURL `json:"urls"`
	Pkgs        []string    `json:"pkgs"`
	INI         [][]byte    `json:"ini,omitempty"`
	Expand      []string    `json:"expand,omitempty"`
	Definitions []string    `json:"definitions,omitempty"`
	ParseURLs   []string    `json:"parseURLs,omitempty"`
}

type oracleURL struct {
	URL string `json:"url"`
	Pkg string `json:"pkg,omitempty"`
}

type oracleResponse struct {
	LoadError     string `json:"loadError"`
	ValidateError *struct {
		Code     string `json:"code"`
		Problems []struct {
			Action string `json:"action"`
			Key    string `json:"key"`
			From   string `json:"from"`
			To     string `json:"to"`
			Where  string `json:"where"`
		} `json:"problems"`
	} `json:"validateError"`
	Values map[string]struct {
		Value  json.RawMessage `json:"value"`
		Where  *string         `json:"where"`
		Source *string         `json:"source"`
	} `json:"values"`
	Auth []struct {
		Token   *string         `json:"token"`
		Auth    *string         `json:"auth"`
		RegKey  json.RawMessage `json:"regKey"`
		AuthKey *string         `json:"authKey"`
		ByURI   struct {
			Token    *string `json:"token"`
			Auth     *string `json:"auth"`
			LoggedIn bool    `json:"loggedIn"`
			Error    string  `json:"error"`
		} `json:"byURI"`
	} `json:"auth"`
	Registries []string `json:"registries"`
	INI        []struct {
		Value json.RawMessage `json:"value"`
		Error string          `json:"error"`
	} `json:"ini"`
	Expand    []string `json:"expand"`
	ParseURLs []struct {
		LegacyHref   *string `json:"legacyHref"`
		LegacyThrows bool    `json:"legacyThrows"`
		Host         string  `json:"host"`
		Pathname     string  `json:"pathname"`
		Invalid      bool    `json:"invalid"`
	} `json:"parseURLs"`
	Definitions map[string]*struct {
		Types     []string        `json:"types"`
		Default   json.RawMessage `json:"default"`
		Exclusive []string        `json:"exclusive"`
	} `json:"definitions"`
}

// askNPM runs the oracle with env as its whole environment.
func askNPM(t testing.TB, env []string, req oracleRequest) oracleResponse {
	t.Helper()
	if req.Builtin == "" {
		req.Builtin = t.TempDir()
	}
	if req.Argv == nil {
		req.Argv = []string{}
	}
	if req.Keys == nil {
		req.Keys = []string{}
	}
	if req.URLs == nil {
		req.URLs = []oracleURL{}
	}
	if req.Pkgs == nil {
		req.Pkgs = []string{}
	}
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), nodeBin(t), filepath.Join("testdata", "npmconfig.js"), npmRoot(t))
	cmd.Env = env
	cmd.Dir = req.Cwd
	if cmd.Dir == "" {
		cmd.Dir = t.TempDir()
	}
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if abs, err := filepath.Abs(cmd.Args[1]); err == nil {
		cmd.Args[1] = abs
	}
	if err := cmd.Run(); err != nil {
		t.Fatalf("running npm's config loader: %v\n%s", err, stderr.Bytes())
	}
	var resp oracleResponse
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
		t.Fatalf("decoding npm's answer: %v\n%s", err, stdout.Bytes())
	}
	return resp
}

// npmValue renders a JSON value from npm the way Get renders values.
func npmValue(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	if len(raw) == 0 {
		return ""
	}
	v, ok := parseJSON(string(raw))
	if !ok {
		t.Fatalf("npm gave a value that is not JSON: %s", raw)
	}
	return render(v)
}
