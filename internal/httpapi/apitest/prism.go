package apitest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// PrismEnv names the Prism binary (scripts/prism.sh install prints it).
const PrismEnv = "PRISM"

// upstreamHeader tells the dispatcher behind Prism which test server a
// request is for: Prism proxies to one upstream, the suite runs one server
// per subtest.
const upstreamHeader = "X-Apitest-Upstream"

// prismTimeout bounds the life of the Prism process, whatever the test does.
const prismTimeout = 15 * time.Minute

// Prism is Stoplight's Prism (@stoplight/prism-cli) in proxy mode, in front
// of the suite's servers: it validates every response against
// api/openapi.yaml on its own (a second, independent reading of the
// document) and reports each violation in its sl-violations response header
// and its log.
//
// Prism is a proxy that re-encodes what it carries (JSON bodies without the
// final newline, queries decoded and encoded again) and cannot carry every
// request of the hostile kind (malformed bodies, tags by the hundred): the
// suite's groups that assert such bytes on the wire (prismSkips) do not run
// through it.
type Prism struct {
	URL string
	log string // its log file
}

// StartPrism starts Prism from $PRISM for the length of the test, in proxy
// mode on 127.0.0.1, and stops it (by its PID) at cleanup, when it also
// fails the test on any response violation in Prism's log. Without $PRISM
// the test is skipped, with one line; with CI=true it fails.
func StartPrism(t *testing.T) *Prism {
	t.Helper()
	bin := os.Getenv(PrismEnv)
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: scripts/prism.sh install gives the binary (CI=true: nothing may skip)", PrismEnv)
		}
		t.Skipf("%s is not set: the Prism contract proxy is skipped (PRISM=$(scripts/prism.sh install))", PrismEnv)
	}
	_, here, _, _ := runtime.Caller(0)
	doc := filepath.Join(filepath.Dir(here), "..", "..", "..", "api", "openapi.yaml")

	dispatcher := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		target, err := url.Parse(r.In.Header.Get(upstreamHeader))
		if err != nil || target.Host == "" {
			target = &url.URL{Scheme: "http", Host: "127.0.0.1:1"} // refused: a 502 the test reports
		}
		r.Out.Header.Del(upstreamHeader)
		r.SetURL(target)
		r.Out.Host = r.In.Host
	}})
	t.Cleanup(dispatcher.Close)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())

	p := &Prism{URL: fmt.Sprintf("http://127.0.0.1:%d", port), log: filepath.Join(t.TempDir(), "prism.log")}
	logFile, err := os.Create(p.log)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), prismTimeout)
	cmd := exec.CommandContext(ctx, bin, "proxy", doc, dispatcher.URL,
		"--host", "127.0.0.1", "--port", fmt.Sprint(port), "--cors=false", "--errors=false")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.WaitDelay = 5 * time.Second
	require.NoError(t, cmd.Start(), "start %s", bin)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt) // by its PID
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		cancel()
		logFile.Close()
		p.checkLog(t)
	})

	for deadline := time.Now().Add(60 * time.Second); ; {
		select {
		case err := <-exited:
			t.Fatalf("prism exited during start-up (%v): %s", err, p.tail())
		default:
		}
		if c, err := net.DialTimeout("tcp", strings.TrimPrefix(p.URL, "http://"), time.Second); err == nil {
			c.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("prism did not listen on %s within 60s: %s", p.URL, p.tail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// route points req at Prism, with the header that names its server. Two
// kinds of request go straight to the server, where Prism 5.16 is wrong:
// a HEAD (its proxy reads the empty body as JSON and answers a 500 of its
// own) and a path with a trailing slash (its router takes
// /bonds/B1/subscribers/ for /bonds/{bond_id}/subscribers/{sid} with an
// empty sid; the document lists each collection without the slash and says
// that the slash is the same collection).
func (p *Prism) route(req *http.Request, server string) {
	if req.Method == http.MethodHead || (len(req.URL.Path) > 1 && strings.HasSuffix(req.URL.Path, "/")) {
		return
	}
	if _, err := url.ParseQuery(req.URL.RawQuery); err != nil {
		return // Prism decodes and re-encodes the query: one that does not parse would not reach the server as sent
	}
	u, _ := url.Parse(p.URL)
	req.URL.Scheme, req.URL.Host = u.Scheme, u.Host
	req.Host = u.Host
	req.Header.Set(upstreamHeader, server)
}

// violation is one entry of Prism's sl-violations header.
type violation struct {
	Location []string `json:"location"`
	Severity string   `json:"severity"`
	Message  string   `json:"message"`
}

// check fails the test on each response violation Prism found in res (the
// request's own violations are the suite's business: it sends invalid
// requests on purpose), and removes the header, which is Prism's, not the
// service's.
func (p *Prism) check(t *testing.T, req *http.Request, res *http.Response) {
	t.Helper()
	raw := res.Header.Get("Sl-Violations")
	res.Header.Del("Sl-Violations")
	if raw == "" {
		return
	}
	var vs []violation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		t.Errorf("prism: %s %s: unreadable sl-violations %q: %v", req.Method, req.URL.RequestURI(), raw, err)
		return
	}
	for _, v := range vs {
		if len(v.Location) > 0 && v.Location[0] == "response" {
			t.Errorf("prism: %s %s -> %d breaks api/openapi.yaml: %s at %s (%s)",
				req.Method, req.URL.RequestURI(), res.StatusCode, v.Message, strings.Join(v.Location, "."), v.Severity)
		}
	}
}

// checkLog fails the test on any response violation in Prism's log, and on
// an error Prism answered itself.
func (p *Prism) checkLog(t *testing.T) {
	data, err := os.ReadFile(p.log)
	if err != nil {
		t.Errorf("prism log: %v", err)
		return
	}
	for line := range strings.Lines(string(data)) {
		if strings.Contains(line, "Violation: response") || strings.Contains(line, "Request terminated with error") {
			t.Errorf("prism: %s", strings.TrimSpace(line))
		}
	}
}

// tail is the end of Prism's log, for a failure message.
func (p *Prism) tail() string {
	data, _ := os.ReadFile(p.log)
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return string(data)
}
