package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/dynamotest"
)

// Sizes of the exactly-once run: logical creates, logical subscriber adds
// (spread over exactlyOnceBonds bonds) and the clients sending them.
const (
	exactlyOnceCreates = 60
	exactlyOnceAdds    = 60
	exactlyOnceBonds   = 4
	exactlyOnceClients = 8
)

// TestExactlyOnce runs the real binary under concurrent clients that send
// keyed creates and subscriber adds and retry, with the same key, every
// request that got no answer (the connection broke, or 503, or 409 while
// the key is in flight), and SIGKILLs it twice on the way. At the end each
// logical write was applied exactly once: every create answered 201 (never
// the 409 of its own earlier execution) and its bond has one revision;
// every add appears in exactly one revision; and a last retry of each add,
// after another client changed that subscriber, is replayed and leaves the
// other client's change in place. On bolt, on DynamoDB, and on two
// instances sharing one DynamoDB table, one of them killed.
func TestExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and signals the real binary; skipped with -short")
	}
	bin := buildBinary(t)

	t.Run("bolt", func(t *testing.T) {
		env := []string{"BOLT_PATH=" + filepath.Join(t.TempDir(), "bonds.db")}
		exactlyOnce(t, bin, env, 1)
	})
	dynamo := func(t *testing.T) []string {
		return migratedTable(t, bin, aws.ToString(dynamotest.Endpoint(t).Options().BaseEndpoint), "exactlyonce")
	}
	t.Run("dynamodb", func(t *testing.T) { exactlyOnce(t, bin, dynamo(t), 1) })
	t.Run("dynamodb-two-instances", func(t *testing.T) { exactlyOnce(t, bin, dynamo(t), 2) })
}

// buildBinary builds the service into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bond-registry")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	return bin
}

// migratedTable returns the environment of a service on a new DynamoDB
// table (named prefix and the time) at endpoint, which migrate created.
func migratedTable(t *testing.T, bin, endpoint, prefix string) []string {
	t.Helper()
	env := []string{"STORE=dynamodb", "DYNAMODB_ENDPOINT=" + endpoint,
		"DYNAMODB_TABLE=" + fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()),
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_REGION=us-east-1"}
	migrateWith(t, bin, env)
	return env
}

// instance is one running service process on its port.
type instance struct {
	t    *testing.T
	bin  string
	env  []string
	port int
	base string
	cmd  *exec.Cmd
}

func newInstance(t *testing.T, bin string, env []string) *instance {
	port := freePort(t)
	in := &instance{t: t, bin: bin, env: env, port: port, base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	in.start()
	return in
}

// start runs the service and waits until it is ready.
func (in *instance) start() {
	cmd := exec.Command(in.bin, "serve")
	cmd.Env = append(append(os.Environ(), in.env...), "PORT="+strconv.Itoa(in.port), "LOG_LEVEL=warn",
		"REQUEST_TIMEOUT=2s", "SHUTDOWN_TIMEOUT=5s")
	require.NoError(in.t, cmd.Start())
	in.t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	waitForReady(in.t, in.base+"/readyz")
	in.cmd = cmd
}

// kill SIGKILLs the process and waits for it to end.
func (in *instance) kill() {
	require.NoError(in.t, in.cmd.Process.Signal(os.Kill))
	_, _ = in.cmd.Process.Wait()
}

// keyedWrite is one logical write: sent with its key until it gets a final
// answer.
type keyedWrite struct {
	path, body, key string
	want            int // the status of its first execution
}

// answer is what a keyedWrite ended with.
type answer struct {
	status   int
	replayed bool
	attempts int
}

// send sends w, retrying with the same key every attempt that got no final
// answer, round robin over the instances, until deadline.
func send(client *http.Client, instances func() []*instance, w keyedWrite, deadline time.Time) (answer, error) {
	for attempt := 0; ; attempt++ {
		if time.Now().After(deadline) {
			return answer{attempts: attempt}, fmt.Errorf("%s %s: no final answer before the deadline", w.path, w.key)
		}
		ins := instances()
		req, err := http.NewRequest(http.MethodPost, ins[attempt%len(ins)].base+w.path, strings.NewReader(w.body))
		if err != nil {
			return answer{}, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", strconv.Quote(w.key))
		res, err := client.Do(req)
		if err != nil { // no answer: the instance died or is restarting
			time.Sleep(50 * time.Millisecond)
			continue
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		inFlight := res.StatusCode == http.StatusConflict && res.Header.Get("Retry-After") != ""
		if res.StatusCode == http.StatusServiceUnavailable || inFlight {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		return answer{status: res.StatusCode, replayed: res.Header.Get("Idempotent-Replayed") == "true", attempts: attempt + 1}, nil
	}
}

func exactlyOnce(t *testing.T, bin string, env []string, n int) {
	instances := []*instance{}
	for range n {
		instances = append(instances, newInstance(t, bin, env))
	}
	current := func() []*instance { return instances }
	client := &http.Client{Timeout: 5 * time.Second}
	post := func(path, body string) int {
		res, err := client.Post(instances[0].base+path, "application/json", strings.NewReader(body))
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	bondBody := func(id string) string {
		return fmt.Sprintf(`{"bond_id":%q,"host_account_id":"H%s","sub_account_id":"S%s","host_cost_center":"c","sub_cost_center":"d"}`, id, id, id)
	}
	subBody := func(j int, name string) string {
		return fmt.Sprintf(`{"sid":"s%d","name":%q,"email":"s%d@example.com"}`, j, name, j)
	}
	for b := range exactlyOnceBonds {
		require.Equal(t, http.StatusCreated, post("/bonds", bondBody(fmt.Sprintf("T%d", b))))
	}
	var writes []keyedWrite
	for i := range exactlyOnceCreates {
		id := fmt.Sprintf("E%d", i)
		writes = append(writes, keyedWrite{path: "/bonds", body: bondBody(id), key: "create-" + id, want: http.StatusCreated})
	}
	for j := range exactlyOnceAdds {
		writes = append(writes, keyedWrite{path: fmt.Sprintf("/bonds/T%d/subscribers", j%exactlyOnceBonds),
			body: subBody(j, fmt.Sprintf("first %d", j)), key: fmt.Sprintf("add-%d", j), want: http.StatusOK})
	}

	// The clients take the writes in turn; the killer SIGKILLs the first
	// instance once a third and again once two thirds are answered.
	deadline := time.Now().Add(40 * time.Second)
	answers := make([]answer, len(writes))
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for range exactlyOnceClients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(writes) {
					return
				}
				a, err := send(client, current, writes[i], deadline)
				assert.NoError(t, err)
				answers[i] = a
				done.Add(1)
			}
		})
	}
	kills := 0
	for _, at := range []int64{int64(len(writes)) / 3, 2 * int64(len(writes)) / 3} {
		for done.Load() < at && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		instances[0].kill()
		kills++
		instances[0].start()
	}
	wg.Wait()
	require.Equal(t, 2, kills)

	retried := 0
	for i, w := range writes {
		a := answers[i]
		assert.Equal(t, w.want, a.status, "%s %s: the answer of its first execution", w.path, w.key)
		if a.attempts > 1 {
			retried++
		}
	}

	// Another client changes each added subscriber; the last retry of each
	// add is replayed and leaves that change in place.
	for j := range exactlyOnceAdds {
		require.Equal(t, http.StatusOK, post(fmt.Sprintf("/bonds/T%d/subscribers", j%exactlyOnceBonds), subBody(j, fmt.Sprintf("other %d", j))))
	}
	for _, w := range writes {
		a, err := send(client, current, w, time.Now().Add(10*time.Second))
		require.NoError(t, err)
		assert.Equal(t, w.want, a.status, "%s", w.key)
		assert.True(t, a.replayed, "%s: the last retry is a replay", w.key)
	}

	// The state: each write applied exactly once.
	revisionsOf := func(id string) []bond.Revision {
		res, err := client.Get(instances[0].base + "/bonds/" + id + "/revisions?limit=1000")
		require.NoError(t, err)
		defer res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode, "revisions of %s", id)
		var revs []bond.Revision
		require.NoError(t, json.NewDecoder(res.Body).Decode(&revs))
		return revs
	}
	for i := range exactlyOnceCreates {
		id := fmt.Sprintf("E%d", i)
		revs := revisionsOf(id)
		if assert.Len(t, revs, 1, "%s: created once, no other write", id) {
			assert.Equal(t, bond.OpCreate, revs[0].Operation, id)
		}
	}
	applied := map[int]int{}
	for b := range exactlyOnceBonds {
		revs := revisionsOf(fmt.Sprintf("T%d", b))
		prev := map[string]bond.Subscriber{}
		for k := len(revs) - 1; k >= 0; k-- { // oldest first
			for sid, s := range revs[k].Bond.Subscribers {
				if prev[sid] != s && strings.HasPrefix(s.Name, "first ") {
					j, err := strconv.Atoi(strings.TrimPrefix(s.Name, "first "))
					require.NoError(t, err)
					applied[j]++
				}
			}
			prev = revs[k].Bond.Subscribers
		}
		want := 1 + exactlyOnceAdds/exactlyOnceBonds*2 // create, each add, each other client's change
		assert.Len(t, revs, want, "T%d: one revision per applied write", b)
		assert.Equal(t, bond.OpCreate, revs[len(revs)-1].Operation)
		for _, s := range revs[0].Bond.Subscribers {
			assert.True(t, strings.HasPrefix(s.Name, "other "), "T%d %s: the other client's change is kept", b, s.SID)
		}
	}
	for j := range exactlyOnceAdds {
		assert.Equal(t, 1, applied[j], "add %d applied exactly once", j)
	}
	t.Logf("exactly once: %d instance(s), %d logical writes (%d creates, %d subscriber adds), %d SIGKILLs of one instance, %d writes sent more than once (no answer, 503, or in flight)",
		n, len(writes), exactlyOnceCreates, exactlyOnceAdds, kills, retried)
}
