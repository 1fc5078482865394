package dynamotest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// startTimeout bounds starting the container, pulling the image included.
const startTimeout = 3 * time.Minute

// errNoEngine marks the errors that mean "no Docker-compatible engine".
var errNoEngine = errors.New("no Docker-compatible engine answers")

// shared is the one container of a test binary that runs through [Main].
// It is package state on purpose: a test binary has one container,
// started by the first test that asks for it and ended by Main.
var shared struct {
	mu      sync.Mutex
	inMain  bool // Main is running the tests
	started bool
	ctr     testcontainers.Container
	url     string
	err     error
}

// Main runs the tests of a package and then terminates the DynamoDB Local
// container that [Container] started, if any. Call it from TestMain:
//
//	func TestMain(m *testing.M) { dynamotest.Main(m) }
//
// Without Main, every [Container] call starts its own container, ended when
// its test ends: correct, but each costs a container start.
func Main(m *testing.M) {
	shared.mu.Lock()
	shared.inMain = true
	shared.mu.Unlock()

	code := m.Run()

	shared.mu.Lock()
	ctr := shared.ctr
	shared.ctr = nil
	shared.mu.Unlock()
	if err := testcontainers.TerminateContainer(ctr); err != nil {
		fmt.Fprintf(os.Stderr, "dynamotest: terminate DynamoDB Local container: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Container returns a client for a DynamoDB Local container (image
// $DYNAMODB_LOCAL_IMAGE, default amazon/dynamodb-local:2.6.1) on host
// networking, listening on a free port of 127.0.0.1. Under [Main] all
// tests of the binary share one container; otherwise each call starts one,
// terminated when tb ends. It skips tb when no Docker-compatible engine
// answers (fails it when CI=true) and fails tb when the container does not
// start.
func Container(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	url, err := containerURL(tb)
	if errors.Is(err, errNoEngine) {
		skipOrFail(tb, "%v (set DOCKER_HOST, or run scripts/podman.sh start and eval \"$(scripts/podman.sh env)\")", err)
	}
	if err != nil {
		tb.Fatalf("dynamotest: %v", err)
	}
	return NewClient(url)
}

// containerURL returns the endpoint of the shared container, starting it
// on first use, or of a container started for tb alone.
func containerURL(tb testing.TB) (string, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.inMain {
		ctr, url, err := startContainer(context.Background())
		testcontainers.CleanupContainer(tb, ctr)
		return url, err
	}
	if !shared.started {
		shared.started = true
		shared.ctr, shared.url, shared.err = startContainer(context.Background())
		if shared.err != nil && shared.ctr != nil {
			// Never leave a failed container behind.
			_ = testcontainers.TerminateContainer(shared.ctr)
			shared.ctr = nil
		}
	}
	return shared.url, shared.err
}

// startContainer checks that an engine answers, then starts DynamoDB Local
// and waits until it answers HTTP. The container is returned even with an
// error, so that the caller can terminate it.
func startContainer(ctx context.Context) (testcontainers.Container, string, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()

	if err := engineHealth(ctx); err != nil {
		return nil, "", err
	}

	image := os.Getenv(EnvImage)
	if image == "" {
		image = DefaultImage
	}
	port, err := freePort()
	if err != nil {
		return nil, "", fmt.Errorf("start DynamoDB Local container: %w", err)
	}
	ps := strconv.Itoa(port)

	// Host networking keeps all test traffic on 127.0.0.1 (no bridge
	// addresses, no port forwarding); DynamoDB Local gets a free port.
	// The command line matches the real image: its ENTRYPOINT is java.
	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image: image,
			Cmd:   []string{"-jar", "DynamoDBLocal.jar", "-inMemory", "-sharedDb", "-disableTelemetry", "-port", ps},
			HostConfigModifier: func(hc *container.HostConfig) {
				hc.NetworkMode = "host"
			},
			WaitingFor: wait.ForHTTP("/").
				WithPort(ps + "/tcp").
				WithForcedIPv4LocalHost().
				// DynamoDB Local answers an unsigned GET / with 400.
				WithStatusCodeMatcher(func(int) bool { return true }).
				WithPollInterval(200 * time.Millisecond).
				WithStartupTimeout(2 * time.Minute),
			Labels: map[string]string{"org.bondregistry.test": "dynamodb-local"},
		},
		Started: true,
	}
	ctr, err := testcontainers.GenericContainer(ctx, req)
	if err != nil {
		return ctr, "", fmt.Errorf("start DynamoDB Local container from image %s: %w%s", image, err, logTail(ctr))
	}
	url := "http://127.0.0.1:" + ps
	if err := ping(ctx, NewClient(url)); err != nil {
		return ctr, "", fmt.Errorf("DynamoDB Local container (image %s) at %s: %w%s", image, url, err, logTail(ctr))
	}
	return ctr, url, nil
}

// engineHealth reports errNoEngine when no Docker-compatible engine answers.
func engineHealth(ctx context.Context) (err error) {
	// testcontainers panics in some set-ups without an engine (no socket
	// found); report that as "no engine" rather than crash the binary.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errNoEngine, r)
		}
	}()
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return fmt.Errorf("%w: %v", errNoEngine, err)
	}
	defer provider.Close()
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := provider.Health(hctx); err != nil {
		return fmt.Errorf("%w: %v", errNoEngine, err)
	}
	return nil
}

// freePort returns a TCP port that is free on 127.0.0.1 right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// logTail returns the last lines of the container's log, for error messages.
func logTail(ctr testcontainers.Container) string {
	if ctr == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rc, err := ctr.Logs(ctx)
	if err != nil {
		return ""
	}
	defer rc.Close()
	var lines []string
	sc := bufio.NewScanner(rc)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 20 {
			lines = lines[1:]
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return "\ncontainer log:\n" + strings.Join(lines, "\n")
}
