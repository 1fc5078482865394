package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Server is a server process started by the bench: the service or the bare
// reference server. Stop it with Stop.
type Server struct {
	Name  string
	URL   string        // http://127.0.0.1:PORT
	Ready time.Duration // from exec to the first 200 of the ready path

	cmd  *exec.Cmd
	done chan struct{}
	err  error // of Wait, valid once done is closed
}

// ServerSpec says how to start a server process.
type ServerSpec struct {
	Name      string
	Path      string   // executable
	Args      []string // arguments after the executable
	Env       []string // added to the bench's environment; PORT is set by Start
	ReadyPath string   // polled until it answers 200, e.g. /readyz
	Stderr    string   // file for the process's stderr ("" discards it)
	// Stdout is the file for the process's stdout (the service's JSON log);
	// "" sends it to /dev/null, where writing still costs a write syscall.
	Stdout string
}

// StartServer starts the process on a free port of 127.0.0.1 and waits (up to
// timeout) until ReadyPath answers 200.
func StartServer(ctx context.Context, spec ServerSpec, timeout time.Duration) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Env = append(append(os.Environ(), spec.Env...), "PORT="+strconv.Itoa(port))
	setPdeathsig(cmd)
	var stdout, stderr *os.File
	for _, out := range []struct {
		path string
		w    **os.File
	}{{spec.Stdout, &stdout}, {spec.Stderr, &stderr}} {
		if out.path == "" {
			continue
		}
		fh, err := os.Create(out.path)
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", spec.Name, err)
		}
		defer fh.Close() // the child has its own descriptor once started
		*out.w = fh
	}
	if stdout != nil {
		cmd.Stdout = stdout
	}
	if stderr != nil {
		cmd.Stderr = stderr
	}
	s := &Server{Name: spec.Name, URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{})}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	go func() { s.err = cmd.Wait(); close(s.done) }()

	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(timeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+spec.ReadyPath, nil)
		res, err := client.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				s.Ready = time.Since(t0)
				return s, nil
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("start %s: exited before ready (%v); see %s", spec.Name, s.err, spec.Stderr)
		case <-ctx.Done():
			_ = s.Stop()
			return nil, fmt.Errorf("start %s: %w", spec.Name, ctx.Err())
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = s.Stop()
			return nil, fmt.Errorf("start %s: not ready within %s; see %s", spec.Name, timeout, spec.Stderr)
		}
	}
}

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Stop sends SIGTERM, waits up to 10 s for the process to exit, then kills
// it. Stopping a stopped server is a no-op.
func (s *Server) Stop() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("stop %s: killed after 10s", s.Name)
	}
	var exit *exec.ExitError
	if s.err != nil && !errors.As(s.err, &exit) {
		return fmt.Errorf("stop %s: %w", s.Name, s.err)
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// resetPeakRSS resets the process's VmHWM to its current RSS (Linux
// clear_refs "5"), so that the next reading is the peak of one scenario.
// Where the kernel refuses, VmHWM stays the peak since the process started.
func resetPeakRSS(pid int) {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// peakRSSMiB reads VmHWM (peak resident set size) of the process, in MiB;
// 0 when it cannot be read. It counts the pages of memory-mapped files too
// (bbolt maps its whole file).
func peakRSSMiB(pid int) float64 { return statusMiB(pid, "VmHWM:") }

// anonRSSMiB reads RssAnon (resident anonymous memory: heap, stacks; no
// file pages) of the process, in MiB; 0 when it cannot be read.
func anonRSSMiB(pid int) float64 { return statusMiB(pid, "RssAnon:") }

// statusMiB reads one "kB" field of /proc/PID/status, in MiB.
func statusMiB(pid int, field string) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				return 0
			}
			return kb / 1024
		}
	}
	return 0
}

// anonSampler polls RssAnon of pid every 20 ms until stopped, keeping the
// peak: the kernel keeps no high-water mark of anonymous memory alone.
type anonSampler struct {
	stop chan struct{}
	done chan float64
}

func sampleAnon(pid int) *anonSampler {
	s := &anonSampler{stop: make(chan struct{}), done: make(chan float64, 1)}
	go func() {
		peak := anonRSSMiB(pid)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				s.done <- max(peak, anonRSSMiB(pid))
				return
			case <-t.C:
				peak = max(peak, anonRSSMiB(pid))
			}
		}
	}()
	return s
}

// Peak stops the sampler and returns the peak RssAnon seen, in MiB.
func (s *anonSampler) Peak() float64 {
	close(s.stop)
	return <-s.done
}
