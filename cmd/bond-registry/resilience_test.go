package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/dynamotest"
)

// TestResilience runs the real binary under a load of reads and creates on
// each store and puts it through a store outage (DynamoDB: its connections
// cut by a proxy, then restored), a SIGTERM and a SIGKILL. It asserts what
// the README promises (503 with Retry-After while the store is out and never
// another 5xx, a clean exit on SIGTERM with the requests in flight answered,
// every acknowledged create still there after SIGKILL) and logs the figures.
func TestResilience(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and signals the real binary; skipped with -short")
	}
	bin := buildBinary(t)

	t.Run("bolt", func(t *testing.T) {
		env := []string{"BOLT_PATH=" + filepath.Join(t.TempDir(), "bonds.db")}
		resilience(t, bin, env, nil)
	})
	t.Run("dynamodb", func(t *testing.T) {
		endpoint := aws.ToString(dynamotest.Endpoint(t).Options().BaseEndpoint)
		proxy := newCutProxy(t, strings.TrimPrefix(endpoint, "http://"))
		resilience(t, bin, migratedTable(t, bin, "http://"+proxy.addr, "resilience"), proxy)
	})
}

// migrateWith runs bin migrate with env added to the environment.
func migrateWith(t *testing.T, bin string, env []string) {
	t.Helper()
	migrate := exec.Command(bin, "migrate")
	migrate.Env = append(os.Environ(), env...)
	out, err := migrate.CombinedOutput()
	require.NoError(t, err, "migrate: %s", out)
}

// tally counts the answers a load got, by status, and its transport errors.
type tally struct {
	mu       sync.Mutex
	statuses map[int]int
	errors   int
	acked    []string
	noRetry  int // 503s without Retry-After
}

func (ta *tally) add(status int, h http.Header, created string) {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	ta.statuses[status]++
	if status == http.StatusServiceUnavailable && h.Get("Retry-After") == "" {
		ta.noRetry++
	}
	if created != "" {
		ta.acked = append(ta.acked, created)
	}
}

// load runs 8 clients, half reading bond R, half creating bonds, until stop.
func load(base string, ta *tally, stop <-chan struct{}, seq *atomic.Int64) *sync.WaitGroup {
	client := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var res *http.Response
				var err error
				id := ""
				if w%2 == 0 {
					res, err = client.Get(base + "/bonds/R")
				} else {
					id = fmt.Sprintf("L%d", seq.Add(1))
					body := fmt.Sprintf(`{"bond_id":%q,"host_account_id":"H%s","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d"}`, id, id)
					res, err = client.Post(base+"/bonds", "application/json", strings.NewReader(body))
				}
				if err != nil {
					ta.mu.Lock()
					ta.errors++
					ta.mu.Unlock()
					time.Sleep(5 * time.Millisecond)
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					id = ""
				}
				ta.add(res.StatusCode, res.Header, id)
			}
		})
	}
	return &wg
}

func resilience(t *testing.T, bin string, env []string, proxy *cutProxy) {
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(append(os.Environ(), env...), "PORT="+strconv.Itoa(port), "LOG_LEVEL=warn",
			"REQUEST_TIMEOUT=2s", "SHUTDOWN_TIMEOUT=5s")
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
		waitForReady(t, base+"/readyz")
		return cmd
	}
	server := start()
	res, err := http.Post(base+"/bonds", "application/json", strings.NewReader(
		`{"bond_id":"R","host_account_id":"HR","sub_account_id":"SR","host_cost_center":"c","sub_cost_center":"d"}`))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode)
	var seq atomic.Int64
	wait := func(d time.Duration) { time.Sleep(d) }

	if proxy != nil {
		ta := &tally{statuses: map[int]int{}}
		stop := make(chan struct{})
		wg := load(base, ta, stop, &seq)
		wait(300 * time.Millisecond)
		proxy.cut()
		cutAt := time.Now()
		wait(1500 * time.Millisecond)
		proxy.restore(t)
		restored := time.Now()
		var recovered time.Duration
		for time.Since(restored) < 20*time.Second {
			res, err := http.Get(base + "/bonds/R")
			if err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					recovered = time.Since(restored)
					break
				}
			}
			wait(20 * time.Millisecond)
		}
		close(stop)
		wg.Wait()
		require.NotZero(t, recovered, "the service answers again once the store is back")
		require.Positive(t, ta.statuses[http.StatusServiceUnavailable], "the outage was seen: %v", ta.statuses)
		for status, n := range ta.statuses {
			assert.True(t, status < 500 || status == http.StatusServiceUnavailable, "status %d x%d during the outage", status, n)
		}
		assert.Zero(t, ta.noRetry, "every 503 has Retry-After")
		assert.Zero(t, ta.errors, "no request lost its answer")
		t.Logf("outage: store cut for %s under load: statuses %v, transport errors %d; first 200 %s after the store came back",
			restored.Sub(cutAt).Round(time.Millisecond), ta.statuses, ta.errors, recovered.Round(time.Millisecond))
	}

	// SIGTERM under load: the requests in flight are answered, new
	// connections are refused, the process exits cleanly.
	ta := &tally{statuses: map[int]int{}}
	stop := make(chan struct{})
	wg := load(base, ta, stop, &seq)
	wait(500 * time.Millisecond)
	termAt := time.Now()
	require.NoError(t, server.Process.Signal(syscall.SIGTERM))
	state, err := server.Process.Wait()
	exited := time.Since(termAt)
	close(stop)
	wg.Wait()
	require.NoError(t, err)
	assert.True(t, state.Success(), "a clean exit on SIGTERM: %v", state)
	for status, n := range ta.statuses {
		assert.True(t, status < 500, "status %d x%d around the shutdown", status, n)
	}
	t.Logf("shutdown: SIGTERM under load exited %s later (status %v); answers %v, refused connections after the listener closed %d",
		exited.Round(time.Millisecond), state.ExitCode(), ta.statuses, ta.errors)

	// SIGKILL under load: every create answered 201 is there after a restart.
	server = start()
	ta = &tally{statuses: map[int]int{}}
	stop = make(chan struct{})
	wg = load(base, ta, stop, &seq)
	wait(800 * time.Millisecond)
	require.NoError(t, server.Process.Signal(os.Kill))
	_, _ = server.Process.Wait()
	close(stop)
	wg.Wait()
	ta.mu.Lock()
	acked := append([]string(nil), ta.acked...)
	ta.mu.Unlock()
	require.NotEmpty(t, acked, "creates were acknowledged before the kill")
	restartAt := time.Now()
	start()
	restarted := time.Since(restartAt)
	lost := 0
	for _, id := range acked {
		res, err := http.Get(base + "/bonds/" + id)
		require.NoError(t, err)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			lost++
		}
	}
	assert.Zero(t, lost, "every 201 before SIGKILL survives it")
	t.Logf("crash: SIGKILL under load after %d acknowledged creates: %d lost; ready again %s after restart",
		len(acked), lost, restarted.Round(time.Millisecond))
}

// cutProxy is a TCP proxy to the store whose connections a test can cut
// (the store is out: every connection closed, new ones refused) and restore.
type cutProxy struct {
	target, addr string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]struct{}
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	p := &cutProxy{target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *cutProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = struct{}{}, struct{}{}
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

// cut closes the listener and every connection.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// restore listens on the same address again.
func (p *cutProxy) restore(t *testing.T) {
	ln, err := net.Listen("tcp", p.addr)
	require.NoError(t, err)
	p.serve(ln)
}
