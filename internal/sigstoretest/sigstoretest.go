// Package sigstoretest starts a real Sigstore for tests: Fulcio with an
// ephemeral CA that trusts one local OIDC issuer, and Rekor v1 over
// Trillian's log server and signer, which keep the log in a MariaDB with a
// temporary data folder. Every server listens on 127.0.0.1, so signing in a
// test reaches nothing beyond the machine.
//
// The servers are built by `make deps` (internal/sigstoretest/install.sh)
// into <repo root>/.cache/tools/sigstore/bin, or wherever $AIRLOCK_SIGSTORE
// points; MariaDB comes from the system. A missing install fails the test:
// it never skips.
package sigstoretest

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airlockdev/airlock/internal/devtools"
)

// The releases install.sh pins; Start refuses binaries built from others.
const (
	FulcioVersion   = "v1.8.8"
	RekorVersion    = "v1.5.4"
	TrillianVersion = "v1.7.3"
)

// ClientID is the audience Fulcio expects in ID tokens.
const ClientID = "sigstore"

const startTimeout = 60 * time.Second

// Stack is a running Fulcio and Rekor.
type Stack struct {
	fulcioURL string
	rekorURL  string
	dir       string
	procs     []*proc

	chain      []*x509.Certificate
	rekorKey   crypto.PublicKey
	rekorPEM   []byte
	rekorLog   LogInfo
	rekorLogID string

	// Startup is how long Start took, from launching the first server
	// to Fulcio and Rekor answering.
	Startup time.Duration
}

// LogInfo is what Rekor's /api/v1/log answers.
type LogInfo struct {
	RootHash       string `json:"rootHash"`
	TreeSize       int64  `json:"treeSize"`
	SignedTreeHead string `json:"signedTreeHead"`
	TreeID         string `json:"treeID"`
}

// Start starts MariaDB, Trillian, Rekor and Fulcio, with Fulcio trusting
// GitHub Actions-style ID tokens (issuer type github-workflow) from
// issuerURL for the audience ClientID, and stops them all when the test
// ends. issuerURL must already serve its discovery document: Fulcio reads
// it at startup.
func Start(t testing.TB, issuerURL string) *Stack {
	t.Helper()
	bins := binaries(t)
	begin := time.Now()
	s := &Stack{dir: t.TempDir()}
	t.Cleanup(s.stop)

	ports := freePorts(t, 6)
	dbPort, trillianPort, signerPort, rekorPort, fulcioPort, fulcioGRPCPort := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]

	// Fulcio needs nothing else, so it starts first and comes up while
	// the log does.
	fulcioCfg := filepath.Join(s.dir, "fulcio.json")
	cfg, err := json.Marshal(map[string]any{
		"OIDCIssuers": map[string]any{
			issuerURL: map[string]any{"IssuerURL": issuerURL, "ClientID": ClientID, "Type": "github-workflow"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fulcioCfg, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	s.fulcioURL = "http://127.0.0.1:" + fulcioPort
	fulcio := s.launch(t, "fulcio", bins.fulcio,
		"serve",
		"--ca=ephemeralca",
		"--config-path="+fulcioCfg,
		"--host=127.0.0.1", "--port="+fulcioPort,
		// Not the HTTP port: serving both on one port (duplex mode)
		// panics at startup in Fulcio v1.8.8, registering gRPC metrics
		// twice.
		"--grpc-host=127.0.0.1", "--grpc-port="+fulcioGRPCPort,
		// Metrics go to a port the kernel picks (on every interface:
		// Fulcio has no flag for their host).
		"--metrics-port=0",
		// No CT log: certificates come without SCTs.
		"--ct-log-url=",
		// The default is one fixed abstract socket, which a second stack
		// on the machine could not take.
		"--legacy-unix-domain-socket=@sigstoretest-fulcio-"+fulcioPort,
	)

	db := s.startMariaDB(t, bins, dbPort)
	uri := "root@tcp(" + db + ")/trillian"
	trillian := s.launch(t, "trillian_log_server", bins.logServer,
		"--storage_system=mysql", "--quota_system=mysql", "--mysql_uri="+uri,
		"--rpc_endpoint=127.0.0.1:"+trillianPort, "--http_endpoint=",
		"--logtostderr",
	)
	s.launch(t, "trillian_log_signer", bins.logSigner,
		"--storage_system=mysql", "--quota_system=mysql", "--mysql_uri="+uri,
		"--rpc_endpoint=127.0.0.1:"+signerPort, "--http_endpoint=",
		"--force_master", "--pre_election_pause=0s", "--sequencer_interval=50ms",
		"--logtostderr",
	)
	waitFor(t, trillian, func() error { return dial("127.0.0.1:" + trillianPort) })

	// Rekor creates and initializes its tree itself when given no tree id.
	s.rekorURL = "http://127.0.0.1:" + rekorPort
	rekor := s.launch(t, "rekor-server", bins.rekor,
		"serve",
		"--trillian_log_server.address=127.0.0.1",
		"--trillian_log_server.port="+trillianPort,
		"--rekor_server.address=127.0.0.1", "--port="+rekorPort,
		"--rekor_server.hostname=rekor.sigstoretest",
		"--rekor_server.signer=memory",
		// The search index needs Redis: leave it out.
		"--enable_retrieve_api=false",
		"--enabled_api_endpoints=getLogInfo,getPublicKey,getLogProof,createLogEntry,"+
			"getLogEntryByIndex,getLogEntryByUUID,searchLogQuery",
		"--log_type=dev",
	)
	waitFor(t, rekor, func() error { return getJSON(s.rekorURL+"/api/v1/log", &s.rekorLog) })
	waitFor(t, rekor, func() error {
		pemBytes, err := get(s.rekorURL + "/api/v1/log/publicKey")
		if err != nil {
			return err
		}
		key, logID, err := parsePublicKey(pemBytes)
		if err != nil {
			return err
		}
		s.rekorPEM, s.rekorKey, s.rekorLogID = pemBytes, key, logID
		return nil
	})
	waitFor(t, fulcio, func() error {
		chain, err := trustBundle(s.fulcioURL)
		if err != nil {
			return err
		}
		s.chain = chain
		return nil
	})
	s.Startup = time.Since(begin)
	t.Logf("sigstoretest: fulcio %s at %s, rekor %s at %s (tree %s), up in %v",
		FulcioVersion, s.fulcioURL, RekorVersion, s.rekorURL, s.rekorLog.TreeID, s.Startup.Round(time.Millisecond))
	return s
}

// FulcioURL is Fulcio's address, without a trailing slash.
func (s *Stack) FulcioURL() string { return s.fulcioURL }

// RekorURL is Rekor's address, without a trailing slash.
func (s *Stack) RekorURL() string { return s.rekorURL }

// FulcioChain is Fulcio's CA chain from /api/v2/trustBundle, issuing CA
// first and root last. The ephemeral CA signs leaf certificates with its
// root directly, so the chain holds just the root.
func (s *Stack) FulcioChain() []*x509.Certificate { return s.chain }

// RekorPublicKey is the key Rekor signs tree heads and entry timestamps
// with, from /api/v1/log/publicKey.
func (s *Stack) RekorPublicKey() crypto.PublicKey { return s.rekorKey }

// RekorPublicKeyPEM is RekorPublicKey as Rekor serves it.
func (s *Stack) RekorPublicKeyPEM() []byte { return s.rekorPEM }

// RekorLogID is the hex SHA-256 of Rekor's public key in PKIX DER form: the
// log id in Rekor's entries and in a trusted root.
func (s *Stack) RekorLogID() string { return s.rekorLogID }

// RekorLog is Rekor's log info as it was when Start returned.
func (s *Stack) RekorLog() LogInfo { return s.rekorLog }

// Logs returns the ends of the servers' logs, for failure messages.
func (s *Stack) Logs() string {
	var b strings.Builder
	for _, p := range s.procs {
		b.WriteString(p.tail())
	}
	return b.String()
}

func (s *Stack) stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		s.procs[i].stop()
	}
}

// startMariaDB starts a MariaDB with an empty data folder, no grant tables
// (any user may do anything) and Trillian's schema in database trillian,
// and returns its host:port.
func (s *Stack) startMariaDB(t testing.TB, bins bins, port string) string {
	t.Helper()
	data := filepath.Join(s.dir, "mariadb")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	// An empty data folder is enough with --skip-grant-tables, and saves
	// the seconds mariadb-install-db takes. The InnoDB settings trade
	// durability, which a test database does not need, for speed and disk.
	args := []string{
		"--no-defaults",
		"--datadir=" + data,
		"--socket=" + filepath.Join(data, "mariadb.sock"),
		"--pid-file=" + filepath.Join(data, "mariadb.pid"),
		"--bind-address=127.0.0.1", "--port=" + port,
		"--skip-grant-tables", "--skip-name-resolve", "--skip-log-bin",
		"--innodb-buffer-pool-size=32M", "--innodb-log-file-size=8M",
		"--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
	}
	if os.Geteuid() == 0 {
		// mariadbd refuses to run as root unless told to.
		args = append(args, "--user=root")
	}
	db := s.launch(t, "mariadbd", bins.mariadbd, args...)
	client := func(stdin io.Reader, args ...string) error {
		args = append([]string{"--no-defaults", "--protocol=tcp", "--host=127.0.0.1", "--port=" + port, "--user=root"}, args...)
		cmd := exec.Command(bins.mariadb, args...)
		cmd.Stdin = stdin
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s %s: %v: %s", filepath.Base(bins.mariadb), strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
		return nil
	}
	waitFor(t, db, func() error { return client(nil, "--execute=SELECT 1") })
	schema, err := os.ReadFile(bins.schema)
	if err != nil {
		t.Fatalf("sigstoretest: reading Trillian's schema: %v\n%s", err, installHint)
	}
	if err := client(nil, "--execute=CREATE DATABASE trillian"); err != nil {
		t.Fatalf("sigstoretest: creating Trillian's database: %v", err)
	}
	if err := client(bytes.NewReader(schema), "trillian"); err != nil {
		t.Fatalf("sigstoretest: loading Trillian's schema: %v", err)
	}
	return "127.0.0.1:" + port
}

// proc is a running server.
type proc struct {
	name   string
	log    string
	cmd    *exec.Cmd
	exited chan struct{}
}

// launch starts a server with its output in a log file; it stops when the
// test ends.
func (s *Stack) launch(t testing.TB, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, log: filepath.Join(s.dir, name+".log")}
	out, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = s.dir
	p.cmd.Stdout, p.cmd.Stderr = out, out
	devtools.OwnGroup(p.cmd)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("sigstoretest: starting %s: %v", name, err)
	}
	p.exited = make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	s.procs = append(s.procs, p)
	return p
}

func (p *proc) stop() {
	devtools.KillGroup(p.cmd.Process)
	<-p.exited
}

func (p *proc) tail() string {
	data, err := os.ReadFile(p.log)
	if err != nil {
		return ""
	}
	if len(data) > 4000 {
		data = append([]byte("…"), data[len(data)-4000:]...)
	}
	return fmt.Sprintf("--- %s ---\n%s\n", p.name, bytes.TrimSpace(data))
}

// waitFor polls ready until it succeeds, failing the test if p exits first
// or startTimeout passes.
func waitFor(t testing.TB, p *proc, ready func() error) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		err := ready()
		if err == nil {
			return
		}
		select {
		case <-p.exited:
			t.Fatalf("sigstoretest: %s exited while starting (%v):\n%s", p.name, p.cmd.ProcessState, p.tail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sigstoretest: %s not ready after %v: %v\n%s", p.name, startTimeout, err, p.tail())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

func get(url string) ([]byte, error) {
	resp, err := httpClient.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, bytes.TrimSpace(body))
	}
	return body, nil
}

func getJSON(url string, v any) error {
	body, err := get(url)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decoding %s: %v", url, err)
	}
	return nil
}

func dial(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

// trustBundle fetches Fulcio's CA chain.
func trustBundle(fulcioURL string) ([]*x509.Certificate, error) {
	var tb struct {
		Chains []struct {
			Certificates []string `json:"certificates"`
		} `json:"chains"`
	}
	if err := getJSON(fulcioURL+"/api/v2/trustBundle", &tb); err != nil {
		return nil, err
	}
	if len(tb.Chains) == 0 || len(tb.Chains[0].Certificates) == 0 {
		return nil, errors.New("fulcio's trust bundle holds no chain")
	}
	var chain []*x509.Certificate
	for _, c := range tb.Chains[0].Certificates {
		block, _ := pem.Decode([]byte(c))
		if block == nil {
			return nil, errors.New("fulcio's trust bundle holds a certificate that is not PEM")
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing fulcio's trust bundle: %v", err)
		}
		chain = append(chain, cert)
	}
	return chain, nil
}

func parsePublicKey(pemBytes []byte) (crypto.PublicKey, string, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, "", errors.New("rekor's public key is not PEM")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, "", fmt.Errorf("parsing rekor's public key: %v", err)
	}
	sum := sha256.Sum256(block.Bytes)
	return key, hex.EncodeToString(sum[:]), nil
}

// freePorts returns n distinct ports the kernel picks on 127.0.0.1. They
// are released for the servers to take, so another process could take one
// first; that fails the test rather than being retried, as it is rare and
// retrying five servers is not simple.
func freePorts(t testing.TB, n int) []string {
	t.Helper()
	var ports []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("sigstoretest: picking a port: %v", err)
		}
		defer l.Close()
		_, port, _ := net.SplitHostPort(l.Addr().String())
		ports = append(ports, port)
	}
	return ports
}

// bins are the programs Start runs.
type bins struct {
	fulcio, rekor, logServer, logSigner string
	schema                              string
	mariadbd, mariadb                   string
}

// InstallDir is where install.sh put the servers: $AIRLOCK_SIGSTORE, or
// .cache/tools/sigstore at the root of the module the test runs in.
func InstallDir() (string, error) { return devtools.Dir("AIRLOCK_SIGSTORE", "sigstore") }

const installHint = "install them with `make deps` (it runs `sh internal/sigstoretest/install.sh .cache/tools/sigstore`), " +
	"or point $AIRLOCK_SIGSTORE at a folder install.sh filled"

func binaries(t testing.TB) bins {
	t.Helper()
	dir, err := InstallDir()
	if err != nil {
		t.Fatalf("sigstoretest: finding the Sigstore servers: %v\n%s", err, installHint)
	}
	bin := func(name, module, version string) string {
		t.Helper()
		path := filepath.Join(dir, "bin", name)
		info, err := buildinfo.ReadFile(path)
		if err != nil {
			t.Fatalf("sigstoretest: %s is not installed in %s: %v\n%s", name, dir, err, installHint)
		}
		if info.Main.Path != module || info.Main.Version != version {
			t.Fatalf("sigstoretest: %s was built from %s@%s, want %s@%s\n%s",
				path, info.Main.Path, info.Main.Version, module, version, installHint)
		}
		return path
	}
	b := bins{
		fulcio:    bin("fulcio", "github.com/sigstore/fulcio", FulcioVersion),
		rekor:     bin("rekor-server", "github.com/sigstore/rekor", RekorVersion),
		logServer: bin("trillian_log_server", "github.com/google/trillian", TrillianVersion),
		logSigner: bin("trillian_log_signer", "github.com/google/trillian", TrillianVersion),
		schema:    filepath.Join(dir, "trillian-storage.sql"),
	}
	b.mariadbd = lookPath(t, "mariadbd", "mysqld")
	b.mariadb = lookPath(t, "mariadb", "mysql")
	return b
}

// lookPath finds the first of names on PATH or in /usr/sbin, where Debian
// puts mariadbd and which is not on every user's PATH.
func lookPath(t testing.TB, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		if p := filepath.Join("/usr/sbin", name); isExecutable(p) {
			return p
		}
	}
	t.Fatalf("sigstoretest: none of %s is on PATH: Trillian needs MariaDB\n%s", strings.Join(names, ", "), installHint)
	return ""
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}
