package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestREADME runs the shell blocks of README.md against the server of
// `make run`, so that every command the README prints stays true.
//
// The convention, which the README states too: a fenced block of language
// `sh` is run; a block of language `console` (make init, docker-compose,
// DynamoDB Local, make test) and any other language is not. Each `sh` block
// runs as one bash script in a fresh shell, in the README's order, in a
// directory that holds what the checkout holds for it: bin/bond-registry
// (built by `make run`, which runs `make build`), localdb/, and
// data/bonds.db, the BOLT_PATH of `make run`, seeded as `make run` seeds it.
// `make run` itself serves that file on 127.0.0.1:5000, the port the README
// names (the test skips with one line when 5000 is taken, and fails then with
// CI=true). A block whose first line begins with "# with the server stopped"
// runs after the test has stopped that server (SIGTERM), and so does every
// later block.
//
// A command is a line with its continuations (a trailing backslash, an open
// quote). Every command must exit 0. A command that runs curl must run it
// once and end in a comment whose first word is the HTTP status it gets
// (`# 201, Location: ...`), and must get exactly that status. Every URL in a
// run block must name 127.0.0.1.
func TestREADME(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	md, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	blocks := readmeBlocks(string(md))
	var runs int
	for _, b := range blocks {
		if b.lang == "sh" {
			runs++
		}
	}
	require.NotZero(t, runs, "README.md has no sh block: nothing would keep its commands true")

	if ln, err := net.Listen("tcp", readmeAddr); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("port 5000, the README's, is taken (%v): the README's commands cannot run", err)
		}
		t.Skipf("port 5000, the README's, is taken (%v); free it to run the README's commands", err)
	} else {
		ln.Close()
	}

	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "home"), 0o755))
	require.NoError(t, os.Symlink(filepath.Join(root, "localdb"), filepath.Join(dir, "localdb")))
	server := startMakeRun(t, root, dir)

	var curls int
	stopped := false
	for _, b := range blocks {
		if b.lang != "sh" {
			continue
		}
		for _, u := range regexp.MustCompile(`https?://([^/\s'"]+)`).FindAllStringSubmatch(b.text, -1) {
			host, _, err := net.SplitHostPort(u[1])
			if err != nil {
				host = u[1]
			}
			assert.Equal(t, "127.0.0.1", host, "README.md:%d: a run block talks to %s", b.line, u[0])
		}
		if strings.HasPrefix(b.text, "# with the server stopped") && !stopped {
			server.stop(t)
			stopped = true
		}
		curls += runREADMEBlock(t, dir, b)
	}
	assert.NotZero(t, curls, "no curl command ran")
}

// readmeAddr is where the README says `make run` serves.
const readmeAddr = "127.0.0.1:5000"

// readmeBlock is one fenced code block of the README: its language (the
// info string's first word), the line of its first content line, its text.
type readmeBlock struct {
	lang string
	line int
	text string
}

func readmeBlocks(md string) []readmeBlock {
	var blocks []readmeBlock
	var cur *readmeBlock
	var body strings.Builder
	sc := bufio.NewScanner(strings.NewReader(md))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			if cur == nil {
				lang, _, _ := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "```")), " ")
				cur = &readmeBlock{lang: lang, line: n + 1}
				body.Reset()
				continue
			}
			cur.text = body.String()
			blocks = append(blocks, *cur)
			cur = nil
			continue
		}
		if cur != nil {
			body.WriteString(line)
			body.WriteByte('\n')
		}
	}
	return blocks
}

// shellCommand is one command of a block: its text as written (with its
// continuation lines), the comment at its end, and its first line in the
// README.
type shellCommand struct {
	text, comment string
	line          int
}

// shellCommands splits a block into its commands, as bash would for the
// README's simple scripts: a newline ends a command unless it is inside
// quotes or follows a backslash; `#` outside quotes after a blank starts a
// comment to the end of the line. Lines of comments alone are not commands.
// An unclosed quote at the end is an error.
func shellCommands(text string, firstLine int) ([]shellCommand, error) {
	var cmds []shellCommand
	var cur strings.Builder
	var comment string
	var single, double, inComment bool
	start, line := firstLine, firstLine
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inComment:
			if c != '\n' {
				comment += string(c)
				continue
			}
			inComment = false
		case single:
			single = c != '\''
		case double && c == '\\' && i+1 < len(text):
			cur.WriteByte(c)
			i++
			c = text[i]
		case double:
			double = c != '"'
		case c == '\\' && i+1 < len(text):
			cur.WriteByte(c)
			i++
			c = text[i]
			if c == '\n' {
				line++
			}
			cur.WriteByte(c)
			continue
		case c == '\'':
			single = true
		case c == '"':
			double = true
		case c == '#' && (cur.Len() == 0 || strings.ContainsRune(" \t", rune(cur.String()[cur.Len()-1]))):
			inComment, comment = true, ""
			continue
		}
		if c == '\n' {
			line++
			if !single && !double {
				if s := strings.TrimSpace(cur.String()); s != "" {
					cmds = append(cmds, shellCommand{text: s, comment: strings.TrimSpace(comment), line: start})
				}
				cur.Reset()
				comment, start = "", line
				continue
			}
		}
		cur.WriteByte(c)
	}
	if single || double {
		return nil, fmt.Errorf("README.md:%d: a quote is not closed", start)
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		cmds = append(cmds, shellCommand{text: s, comment: strings.TrimSpace(comment), line: start})
	}
	return cmds, nil
}

var (
	curlCommand    = regexp.MustCompile(`(^|[\s;&|(])curl\s`)
	promisedStatus = regexp.MustCompile(`^(\d{3})\b`)
	markerLine     = regexp.MustCompile(`(?m)^@@(cmd|rc|status) (\d+)(?: (\d+))?$`)
)

// runREADMEBlock runs block b in dir as one bash script, each command
// between markers that carry its exit status, with curl wrapped to print the
// status it got; it checks them and returns the number of curl commands.
func runREADMEBlock(t *testing.T, dir string, b readmeBlock) int {
	t.Helper()
	cmds, err := shellCommands(b.text, b.line)
	require.NoError(t, err)
	var script strings.Builder
	script.WriteString("curl() { command curl -sS --max-time 30 -w '\\n@@status %{http_code}\\n' \"$@\"; }\n")
	for i, c := range cmds {
		fmt.Fprintf(&script, "printf '\\n@@cmd %d\\n'\n{ %s\n} 2>&1\nprintf '\\n@@rc %d %%d\\n' \"$?\"\n", i, c.text, i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sh := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", script.String())
	sh.Dir = dir
	// Nothing of the test's environment but PATH: no proxy, no curlrc, no
	// setting of the service that the README does not give.
	sh.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Join(dir, "home"), "LANG=C.UTF-8"}
	out, err := sh.Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		require.NoError(t, err, "README.md:%d: bash", b.line)
	}

	type result struct {
		output   strings.Builder
		rc       int
		ran      bool
		statuses []int
	}
	results := make([]result, len(cmds))
	cur := -1
	for _, ln := range strings.SplitAfter(string(out), "\n") {
		if m := markerLine.FindStringSubmatch(strings.TrimRight(ln, "\n")); m != nil {
			n, _ := strconv.Atoi(m[2])
			switch m[1] {
			case "cmd":
				cur = n
			case "rc":
				results[n].rc, _ = strconv.Atoi(m[3])
				results[n].ran = true
				cur = -1
			case "status":
				if cur >= 0 {
					results[cur].statuses = append(results[cur].statuses, n)
				}
			}
			continue
		}
		if cur >= 0 {
			results[cur].output.WriteString(ln)
		}
	}

	curls := 0
	for i, c := range cmds {
		r := &results[i]
		where := fmt.Sprintf("README.md:%d: %s\n%s", c.line, c.text, r.output.String())
		if !assert.True(t, r.ran, "did not run (the script stopped before it): %s", where) {
			continue
		}
		assert.Equal(t, 0, r.rc, "exit status: %s", where)
		if !curlCommand.MatchString(c.text) {
			continue
		}
		curls++
		m := promisedStatus.FindStringSubmatch(c.comment)
		if !assert.NotNil(t, m, "a curl command must end in a comment naming the status it gets (# 200): %s", where) {
			continue
		}
		want, _ := strconv.Atoi(m[1])
		if assert.Len(t, r.statuses, 1, "one curl per command: %s", where) {
			assert.Equal(t, want, r.statuses[0], "status: %s", where)
		}
	}
	t.Logf("README.md:%d: %d commands ran, %d of them curl", b.line, len(cmds), curls)
	return curls
}

// makeRunServer is `make run` started by the test, in a process group of
// its own (make and the server it starts), stopped by the group's id.
type makeRunServer struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

// startMakeRun runs `make run` in root with BIN in dir/bin and BOLT_PATH
// dir/data/bonds.db, and waits until 127.0.0.1:5000/readyz answers 200 (the
// first build may take minutes). Only PATH, HOME, TMPDIR and the Go
// toolchain's variables of the test's environment pass, so that no setting
// of the service changes what `make run` serves. The server is stopped when
// t ends, if the test did not stop it before.
func startMakeRun(t *testing.T, root, dir string) *makeRunServer {
	t.Helper()
	env := []string{"BOLT_PATH=" + filepath.Join(dir, "data", "bonds.db")}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "PATH" || k == "HOME" || k == "TMPDIR" || k == "XDG_CACHE_HOME" || strings.HasPrefix(k, "GO") {
			env = append(env, kv)
		}
	}
	s := &makeRunServer{out: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command("make", "--no-print-directory", "-C", root, "run", "BIN="+filepath.Join(dir, "bin", "bond-registry"))
	s.cmd.Env = env
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, s.cmd.Start())
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() { s.stop(t) })

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		select {
		case <-s.done:
			t.Fatalf("make run exited before serving:\n%s", s.out.String())
		default:
		}
		res, err := client.Get("http://" + readmeAddr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("make run did not serve /readyz within 5 minutes:\n%s", s.out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.True(t, bytes.Contains([]byte(s.out.String()), []byte("serve")), "make run ran serve:\n%s", s.out.String())
	return s
}

// stop sends SIGTERM to the process group of make run, and SIGKILL when it
// has not ended 15 s later; it waits for make to exit.
func (s *makeRunServer) stop(t *testing.T) {
	t.Helper()
	select {
	case <-s.done:
		return
	default:
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// TestDocs_Links checks that every relative link of README.md, CHANGELOG.md
// and docs/*.md names a file that exists and, with a #fragment, a heading of
// that file (the anchor GitHub derives from it: lower case, punctuation
// dropped, spaces as hyphens), so that moving a section breaks this test
// rather than a reader's link. Code blocks are left out.
func TestDocs_Links(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	require.NotEmpty(t, docs)
	files := append([]string{filepath.Join(root, "README.md"), filepath.Join(root, "CHANGELOG.md")}, docs...)
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	var checked int
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range link.FindAllStringSubmatch(proseOf(string(raw)), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			checked++
			path, fragment, _ := strings.Cut(target, "#")
			file := f
			if path != "" {
				file = filepath.Join(filepath.Dir(f), path)
			}
			rel, _ := filepath.Rel(root, f)
			if _, err := os.Stat(file); !assert.NoError(t, err, "%s links to %s", rel, target) || fragment == "" {
				continue
			}
			raw, err := os.ReadFile(file)
			require.NoError(t, err)
			assert.Contains(t, headingAnchors(string(raw)), fragment, "%s links to %s: no such heading", rel, target)
		}
	}
	assert.NotZero(t, checked)
}

// proseOf returns md without its fenced code blocks.
func proseOf(md string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.SplitAfter(md, "\n") {
		if strings.HasPrefix(line, "```") {
			in = !in
			continue
		}
		if !in {
			b.WriteString(line)
		}
	}
	return b.String()
}

// headingAnchors returns the anchors GitHub gives the headings of md.
func headingAnchors(md string) []string {
	var anchors []string
	for _, line := range strings.Split(proseOf(md), "\n") {
		text := strings.TrimLeft(line, "#")
		if len(text) == len(line) || !strings.HasPrefix(text, " ") {
			continue
		}
		var a strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(text)) {
			switch {
			case r == ' ':
				a.WriteByte('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				a.WriteRune(r)
			}
		}
		anchors = append(anchors, a.String())
	}
	return anchors
}
