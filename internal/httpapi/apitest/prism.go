package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
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
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// PrismEnv names the Prism binary (scripts/prism.sh install prints it).
const PrismEnv = "PRISM"

// upstreamHeader tells the dispatcher behind Prism which test server a
// request is for: Prism proxies to one upstream, the suite runs one server
// per subtest.
const upstreamHeader = "X-Apitest-Upstream"

// exchangeHeader names the exchange a request through Prism belongs to, so
// that the dispatcher behind Prism can restore it as sent.
const exchangeHeader = "X-Apitest-Exchange"

// prismTimeout bounds the life of the Prism process, whatever the test does.
const prismTimeout = 15 * time.Minute

// Prism is Stoplight's Prism (@stoplight/prism-cli) in proxy mode, in front
// of the suite's servers: it validates every response against
// api/openapi.yaml on its own (a second, independent reading of the
// document) and reports each violation in its sl-violations response header
// and its log.
//
// Prism is a proxy that re-encodes what it carries: it forwards a JSON body
// as it parses it (a body of "bob" arrives as bob, duplicate names merged),
// the query decoded and encoded again, and answers with the JSON value of
// the response (the final newline gone, Content-Length changed). So that it
// changes nothing the suite asserts, the dispatcher behind it (StartPrism)
// restores the request exactly as the suite sent it before it reaches the
// service, and keeps the service's own response, which the suite then
// asserts (after Prism's verdict on what Prism carried). The few requests
// Prism 5.16 cannot carry at all go straight to the service (route says
// which, and why).
type Prism struct {
	URL string
	log string // its log file

	mu        sync.Mutex
	next      int
	exchanges map[string]*exchange // by exchangeHeader
	direct    map[string]int       // requests sent straight to the server, by why
}

// exchangeKey carries the exchange of a request from the dispatcher's
// Rewrite to its ModifyResponse.
type exchangeKey struct{}

// exchange is one request through Prism: as the suite sent it, and the
// service's response as the dispatcher received it.
type exchange struct {
	req      *http.Request
	body     string
	response *Response
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

	p := &Prism{exchanges: map[string]*exchange{}, direct: map[string]int{}}
	dispatcher := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			target, err := url.Parse(r.In.Header.Get(upstreamHeader))
			if err != nil || target.Host == "" {
				target = &url.URL{Scheme: "http", Host: "127.0.0.1:1"} // refused: a 502 the test reports
			}
			r.SetURL(target)
			if x := p.exchange(r.In.Header.Get(exchangeHeader)); x != nil {
				r.Out = r.Out.WithContext(context.WithValue(r.Out.Context(), exchangeKey{}, x))
				// The request as the suite sent it, not as Prism re-encoded it.
				r.Out.Method = x.req.Method
				r.Out.URL.Path, r.Out.URL.RawPath, r.Out.URL.RawQuery = x.req.URL.Path, x.req.URL.RawPath, x.req.URL.RawQuery
				r.Out.Header = x.req.Header.Clone()
				r.Out.Body, r.Out.ContentLength = http.NoBody, 0 // NoBody: an empty body is no body, as the suite sent it
				if x.body != "" {
					r.Out.Body, r.Out.ContentLength = io.NopCloser(strings.NewReader(x.body)), int64(len(x.body))
				}
			}
			r.Out.Header.Del(upstreamHeader)
			r.Out.Header.Del(exchangeHeader)
			r.Out.Host = r.In.Host
		},
		ModifyResponse: func(res *http.Response) error {
			x, _ := res.Request.Context().Value(exchangeKey{}).(*exchange)
			if x == nil {
				return nil
			}
			data, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				return fmt.Errorf("read the service's response: %w", err)
			}
			res.Body = io.NopCloser(bytes.NewReader(data))
			p.mu.Lock()
			x.response = &Response{Status: res.StatusCode, Header: res.Header.Clone(), Body: data}
			p.mu.Unlock()
			return nil
		},
	})
	t.Cleanup(dispatcher.Close)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())

	p.URL, p.log = fmt.Sprintf("http://127.0.0.1:%d", port), filepath.Join(t.TempDir(), "prism.log")
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
		p.mu.Lock()
		t.Logf("prism: %d requests through Prism; straight to the server: %v", p.next, p.direct)
		p.mu.Unlock()
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

// route points req (sent with body) at Prism, with the headers that name its
// server and its exchange, and returns the exchange; nil when req goes
// straight to the server, as the requests that Prism 5.16 cannot carry do:
//   - a HEAD: its proxy reads the empty body as JSON and answers a 500 of
//     its own;
//   - a path with a trailing slash: its router takes /bonds/B1/subscribers/
//     for /bonds/{bond_id}/subscribers/{sid} with an empty sid (the document
//     lists each collection without the slash and says that the slash is
//     the same collection);
//   - a path or query whose percent-encoding is not UTF-8, or a query that
//     does not parse: decoding it throws, and the Prism process exits;
//   - a JSON body that does not parse: Prism never answers;
//   - a Content-Type that is not a media type: Prism answers a 500 of its own.
func (p *Prism) route(req *http.Request, server, body string) *exchange {
	if why := uncarried(req, body); why != "" {
		p.mu.Lock()
		p.direct[why]++
		p.mu.Unlock()
		return nil
	}
	x := &exchange{req: req.Clone(req.Context()), body: body}
	p.mu.Lock()
	p.next++
	id := fmt.Sprint(p.next)
	p.exchanges[id] = x
	p.mu.Unlock()

	u, _ := url.Parse(p.URL)
	req.URL.Scheme, req.URL.Host = u.Scheme, u.Host
	req.Host = u.Host
	req.Header.Set(upstreamHeader, server)
	req.Header.Set(exchangeHeader, id)
	return x
}

// uncarried says why Prism cannot carry req (see route), "" when it can.
func uncarried(req *http.Request, body string) string {
	_, queryErr := url.ParseQuery(req.URL.RawQuery)
	switch {
	case req.Method == http.MethodHead:
		return "HEAD"
	case len(req.URL.Path) > 1 && strings.HasSuffix(req.URL.Path, "/"):
		return "trailing slash"
	case !decodesToUTF8(req.URL.EscapedPath()) || !decodesToUTF8(req.URL.RawQuery) || queryErr != nil:
		return "path or query not UTF-8 or unparseable"
	}
	if ct := req.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case err != nil:
			return "Content-Type not a media type"
		case body != "" && mt == "application/json" && !json.Valid([]byte(body)):
			return "malformed JSON body"
		}
	}
	return ""
}

// decodesToUTF8 reports whether the percent-decoding of s is UTF-8.
func decodesToUTF8(s string) bool {
	d, err := url.PathUnescape(s)
	return err == nil && utf8.ValidString(d)
}

// exchange returns the exchange of id, nil when none.
func (p *Prism) exchange(id string) *exchange {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exchanges[id]
}

// original returns the service's own response to x, and forgets x; false
// when the service was not reached (Prism answered itself).
func (p *Prism) original(x *exchange) (Response, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, y := range p.exchanges {
		if y == x {
			delete(p.exchanges, id)
		}
	}
	if x.response == nil {
		return Response{}, false
	}
	return *x.response, true
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

// prismRequestTimeout bounds one request through Prism.
const prismRequestTimeout = 30 * time.Second
