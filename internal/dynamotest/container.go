package dynamotest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	tcdynamodb "github.com/testcontainers/testcontainers-go/modules/dynamodb"
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
// $DYNAMODB_LOCAL_IMAGE, default amazon/dynamodb-local:2.6.1) started by
// testcontainers-go's DynamoDB module, on host networking, listening on a
// free port of 127.0.0.1. Under [Main] all tests of the binary share one
// container; otherwise each call starts one, terminated when tb ends. It
// skips tb when no Docker-compatible engine answers (fails it when CI=true)
// and fails tb when the container does not start.
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

// startContainer checks that an engine answers, then runs DynamoDB Local
// with the DynamoDB module and waits until it answers the API. The
// container is returned even with an error, so that the caller can
// terminate it.
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
	ctr, err := tcdynamodb.Run(ctx, image,
		tcdynamodb.WithDisableTelemetry(),
		testcontainers.WithCmdArgs("-inMemory", "-sharedDb"),
		// What podman (CI's engine) needs beyond the module's defaults:
		//  - host networking, so that test traffic stays on 127.0.0.1 and
		//    never goes to podman's bridge addresses (10.88.x.x); hence
		//    DynamoDB Local on a free port of the host's instead of a
		//    published port 8000 (which the endpoint provider may hold);
		//  - no network attachment: podman's Docker API calls its default
		//    network "bridge" where testcontainers v0.44 looks for
		//    "podman", so testcontainers attaches its own reaper_default
		//    network, which podman refuses beside host networking;
		//  - the wait on that port from outside only: the locally built
		//    image (scripts/podman.sh build-image) has no shell for the
		//    in-container check.
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) { hc.NetworkMode = "host" }),
		testcontainers.WithEndpointSettingsModifier(func(eps map[string]*network.EndpointSettings) { clear(eps) }),
		testcontainers.WithCmdArgs("-port", ps),
		testcontainers.WithWaitStrategy(wait.ForListeningPort(ps+"/tcp").SkipInternalCheck()),
		testcontainers.WithLabels(map[string]string{"org.bondregistry.test": "dynamodb-local"}),
	)
	var tc testcontainers.Container
	if ctr != nil {
		tc = ctr
	}
	if err != nil {
		return tc, "", fmt.Errorf("start DynamoDB Local container from image %s: %w", image, err)
	}
	url := "http://127.0.0.1:" + ps
	if err := ping(ctx, NewClient(url)); err != nil {
		return tc, "", fmt.Errorf("DynamoDB Local container (image %s) at %s: %w", image, url, err)
	}
	return tc, url, nil
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
