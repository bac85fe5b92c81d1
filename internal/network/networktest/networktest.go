// Package networktest has the servers tests of the token job's
// connections need, all on 127.0.0.1: a certificate authority, a TLS
// server with a certificate from it, and a proxy that records what
// passes through, either as a tunnel (it sees the CONNECT line only) or
// as an attacker's interception proxy (it presents certificates of its
// own authority, reads every request, headers and all, and forwards it).
package networktest

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"time"
)

// CA is a certificate authority for tests.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// PEM is its certificate, to trust it with.
	PEM []byte
}

// NewCA makes an authority named name.
func NewCA(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// Pool is a pool holding the authority alone.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// Issue makes a server certificate for hosts (names or IP addresses).
func (ca *CA) Issue(hosts ...string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key}, nil
}

// NewTLSServer starts h over TLS on 127.0.0.1 with a certificate from ca
// for 127.0.0.1, localhost and the other hosts given. Handshakes clients
// refuse are not logged: tests cause them on purpose.
func NewTLSServer(ca *CA, h http.Handler, hosts ...string) (*httptest.Server, error) {
	cert, err := ca.Issue(append([]string{"127.0.0.1", "localhost"}, hosts...)...)
	if err != nil {
		return nil, err
	}
	s := httptest.NewUnstartedServer(h)
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.StartTLS()
	return s, nil
}

// ProxyOptions configure a Proxy.
type ProxyOptions struct {
	// Intercept, when set, makes the proxy an attacker's: it answers
	// CONNECT itself with a certificate from this authority, and reads
	// and forwards the requests inside.
	Intercept *CA
	// Upstream are the roots the intercepting proxy trusts to reach the
	// real servers.
	Upstream *x509.CertPool
	// LogFile, if set, receives each log line as it happens.
	LogFile string
	// Dial reaches the servers; nil means a net.Dialer. Tests give one
	// that resolves names of their own.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Proxy is an HTTP proxy on 127.0.0.1 that records what passes through.
type Proxy struct {
	*httptest.Server
	o       ProxyOptions
	forward *http.Transport

	mu  sync.Mutex
	log []string
}

// NewProxy starts a proxy.
func NewProxy(o ProxyOptions) *Proxy {
	if o.Dial == nil {
		o.Dial = (&net.Dialer{}).DialContext
	}
	p := &Proxy{o: o, forward: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: o.Upstream}, DialContext: o.Dial}}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	return p
}

// Log is what the proxy saw: "CONNECT host:port" for each tunnel, and for
// each request it could read, its method and URL and then its
// Authorization header, if any, on a line of its own.
func (p *Proxy) Log() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.log...)
}

func (p *Proxy) record(lines ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log = append(p.log, lines...)
	if p.o.LogFile == "" {
		return
	}
	f, err := os.OpenFile(p.o.LogFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	for _, l := range lines {
		fmt.Fprintln(f, l)
	}
}

func (p *Proxy) recordRequest(r *http.Request, url string) {
	lines := []string{r.Method + " " + url}
	if a := r.Header.Get("Authorization"); a != "" {
		lines = append(lines, "Authorization: "+a)
	}
	p.record(lines...)
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		// An http:// request in absolute form.
		p.recordRequest(r, r.URL.String())
		r.RequestURI = ""
		p.relay(w, r)
		return
	}
	p.record("CONNECT " + r.Host)
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	if p.o.Intercept == nil {
		up, err := p.o.Dial(r.Context(), "tcp", r.Host)
		if err != nil {
			io.WriteString(conn, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
			return
		}
		defer up.Close()
		io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
		done := make(chan struct{}, 2)
		go func() { _, _ = io.Copy(up, conn); done <- struct{}{} }()
		go func() { _, _ = io.Copy(conn, up); done <- struct{}{} }()
		<-done
		return
	}
	host, _, _ := net.SplitHostPort(r.Host)
	cert, err := p.o.Intercept.Issue(host)
	if err != nil {
		return
	}
	io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
	tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{cert}})
	if err := tc.Handshake(); err != nil {
		p.record("TLS handshake refused by the client: " + err.Error())
		return
	}
	br := bufio.NewReader(tc)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		req.URL.Scheme, req.URL.Host = "https", r.Host
		p.recordRequest(req, req.URL.String())
		resp, err := p.forward.RoundTrip(outgoing(req))
		if err != nil {
			io.WriteString(tc, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
			return
		}
		err = resp.Write(tc)
		resp.Body.Close()
		if err != nil {
			return
		}
	}
}

// outgoing is req as a client request.
func outgoing(req *http.Request) *http.Request {
	out := req.Clone(req.Context())
	out.RequestURI = ""
	out.Header.Del("Proxy-Connection")
	return out
}

func (p *Proxy) relay(w http.ResponseWriter, r *http.Request) {
	resp, err := p.forward.RoundTrip(outgoing(r))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		if strings.EqualFold(k, "Connection") {
			continue
		}
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}
