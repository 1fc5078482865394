package difftest

import (
	"flag"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/bondregistry/bond-registry/internal/dynamotest"
)

// The budget. rapid's own flags set it: -rapid.checks (sequences per test)
// and -rapid.steps (average steps per sequence), or RAPID_CHECKS and
// RAPID_STEPS. When neither is given, CI's bounded budget applies:
// ciChecks sequences of ciSteps steps per test. A longer campaign:
//
//	DYNAMODB_TEST_ENDPOINT=$(scripts/dynamodb-local.sh start) \
//	  go test ./internal/difftest -run Differential -rapid.checks=2000 -timeout 2h
//
// DIFFTEST_OFF turns kinds of steps off, to look past a known failure for
// the next one while exploring (never in CI): head (HEAD requests), cond
// (all preconditions), cond-read (on GET/HEAD), inm-write (If-None-Match on
// writes), im-list (If-Match lists and "01"-style tags), bulk (the
// 1,000-subscriber, 400 KB and 1 MiB bodies), invalid (invalid path ids
// and content types), list (page walks), long (ids over 32 characters),
// brackets (ids with '[', ']', '.'). DIFFTEST_BULK=n draws a bulk body
// once in n bodies (default 25).
const (
	ciChecks = 40
	ciSteps  = 40
)

func TestMain(m *testing.M) {
	flag.Parse()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["rapid.checks"] && os.Getenv("RAPID_CHECKS") == "" {
		_ = flag.Set("rapid.checks", strconv.Itoa(ciChecks))
	}
	if !set["rapid.steps"] && os.Getenv("RAPID_STEPS") == "" {
		_ = flag.Set("rapid.steps", strconv.Itoa(ciSteps))
	}
	dynamotest.Main(m)
}

// TestDifferentialBolt runs random sequences against the model and the
// service on bolt.
func TestDifferentialBolt(t *testing.T) {
	runDifferential(t, boltTarget(t))
}

// TestDifferentialStores runs each sequence against the model, the service
// on bolt and the service on DynamoDB Local; the two stores must also
// answer exactly alike.
func TestDifferentialStores(t *testing.T) {
	dynamo := dynamoTarget(t, "dynamodb", 1)
	runDifferential(t, boltTarget(t), dynamo)
}

// TestDifferentialScaleOut runs two service instances on one DynamoDB
// table with one page-token key, each request going to either at random:
// the answers must be those of one instance, the model's.
func TestDifferentialScaleOut(t *testing.T) {
	runDifferential(t, dynamoTarget(t, "dynamodb x2", 2))
}

func runDifferential(t *testing.T, targets ...*target) {
	off := features("DIFFTEST_OFF")
	st := &stats{counts: map[string]int{}}
	defer st.log(t)
	rapid.Check(t, func(rt *rapid.T) {
		st.sequences++
		for _, tg := range targets {
			if err := tg.reset(); err != nil {
				rt.Fatalf("reset %s: %v", tg.name, err)
			}
		}
		m := &machine{model: NewModel(), targets: targets, pools: drawPools(rt, off), off: off, stats: st}
		for _, tg := range targets {
			m.multi = m.multi || len(tg.bases) > 1
		}
		rt.Repeat(m.actions())
	})
}

// features reads a comma-separated list of names from the environment.
func features(env string) map[string]bool {
	off := map[string]bool{}
	for f := range strings.SplitSeq(os.Getenv(env), ",") {
		if f = strings.TrimSpace(f); f != "" {
			off[f] = true
		}
	}
	return off
}

// machine is one sequence: the model, the targets, the identifier pools.
type machine struct {
	model   *Model
	targets []*target
	pools   pools
	off     map[string]bool
	multi   bool // some target has several instances: draw routes
	stats   *stats
}

// stats counts what a run did, by operation and status, for -v.
type stats struct {
	sequences, steps int
	counts           map[string]int
}

func (s *stats) log(t *testing.T) {
	keys := slices.Sorted(maps.Keys(s.counts))
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s:%d", k, s.counts[k])
	}
	t.Logf("%d sequences, %d steps (shrinking included); by operation and status:%s", s.sequences, s.steps, b.String())
}

func (m *machine) actions() map[string]func(*rapid.T) {
	a := map[string]func(*rapid.T){
		"create":    m.create,
		"create2":   m.create, // creates twice as often: sequences need bonds
		"get":       m.simple(Get),
		"update":    m.update,
		"delete":    m.simple(Delete),
		"subList":   m.simple(SubList),
		"subAdd":    m.subAdd,
		"subGet":    m.simple(SubGet),
		"subRemove": m.simple(SubRemove),
		"list":      m.list(List),
		"head":      m.head,
		"revList":   m.revList,
		"revGet":    m.revision(RevGet),
		"restore":   m.revision(RevRestore),
		"":          func(*rapid.T) {},
	}
	if m.off["head"] {
		delete(a, "head")
	}
	if m.off["list"] {
		delete(a, "list")
	}
	return a
}

// run sends op (or skips the step when the model cannot judge it).
func (m *machine) run(t *rapid.T, op Op) {
	if m.multi {
		op.Route = rapid.Uint64().Draw(t, "route")
	}
	why, status := step(t, m.model, m.targets, op)
	if why != "" {
		t.Skip(why)
	}
	m.stats.steps++
	m.stats.counts[op.Kind.String()+"/"+strconv.Itoa(status)]++
}

// base draws what every op on one bond has: the id, the path encoding,
// the preconditions.
func (m *machine) base(t *rapid.T, k Kind) Op {
	op := Op{Kind: k, Esc: Esc(rapid.IntRange(0, 2).Draw(t, "esc"))}
	if m.off["invalid"] {
		op.BondID = rapid.SampledFrom(m.pools.bondIDs).Draw(t, "bondID")
	} else {
		op.BondID = m.pools.pickPath(t, "bondID", m.pools.bondIDs, true)
	}
	op.Slash = rapid.Bool().Draw(t, "slash")
	read := op.Method() == http.MethodGet || op.Method() == http.MethodHead
	if !m.off["cond"] && !(read && m.off["cond-read"]) {
		var v int64
		if b, ok := m.model.Bond(op.BondID); ok {
			v = b.Version
		}
		if chance(t, "withIfMatch", 3) {
			op.IfMatch = condition(t, "ifMatch", v, m.off["im-list"])
		}
		if !(!read && m.off["inm-write"]) && chance(t, "withIfNoneMatch", 4) {
			op.IfNoneMatch = condition(t, "ifNoneMatch", v, false)
		}
	}
	if k, _ := k.Head(); k == SubGet || k == SubRemove {
		b, _ := m.model.Bond(op.BondID)
		if len(b.Subscribers) > 0 && rapid.Bool().Draw(t, "storedSID") {
			op.SID = rapid.SampledFrom(sortedKeys(b.Subscribers)).Draw(t, "sid")
		} else if m.off["invalid"] {
			op.SID = rapid.SampledFrom(m.pools.sids).Draw(t, "sid")
		} else {
			op.SID = m.pools.pickPath(t, "sid", m.pools.sids, false)
		}
	}
	return op
}

func (m *machine) simple(k Kind) func(*rapid.T) {
	return func(t *rapid.T) { m.run(t, m.base(t, k)) }
}

func (m *machine) create(t *rapid.T) {
	op := Op{Kind: Create, Slash: rapid.Bool().Draw(t, "slash"), Body: createBody(t, m.pools),
		Bulk: bulk(t, !m.off["bulk"])}
	if !m.off["invalid"] {
		op.ContentType = contentType(t)
	}
	m.run(t, op)
}

func (m *machine) update(t *rapid.T) {
	op := m.base(t, Update)
	op.Body = updateBody(t, m.pools, op.BondID)
	op.Bulk = bulk(t, !m.off["bulk"])
	if !m.off["invalid"] {
		op.ContentType = contentType(t)
	}
	m.run(t, op)
}

func (m *machine) subAdd(t *rapid.T) {
	op := m.base(t, SubAdd)
	b, _ := m.model.Bond(op.BondID)
	op.Body = subscriberBody(t, m.pools, b.Subscribers)
	if !m.off["invalid"] {
		op.ContentType = contentType(t)
	}
	m.run(t, op)
}

func (m *machine) list(k Kind) func(*rapid.T) {
	return func(t *rapid.T) {
		op := Op{Kind: k, Slash: rapid.Bool().Draw(t, "slash"), Query: listQuery(t, m.pools)}
		if strings.Contains(op.Query, "limit=COUNT") {
			// A limit equal to the number of matching bonds: the last page
			// is full and must have no Link.
			probe := m.model.Do(Op{Kind: List, Query: strings.Replace(op.Query, "limit=COUNT", "limit=1000", 1)})
			op.Query = strings.Replace(op.Query, "limit=COUNT", "limit="+strconv.Itoa(max(1, len(probe.Bonds))), 1)
		}
		m.run(t, op)
	}
}

func (m *machine) head(t *rapid.T) {
	k := rapid.SampledFrom([]Kind{HeadGet, HeadSubList, HeadSubGet, HeadList}).Draw(t, "head")
	if k == HeadList {
		m.list(HeadList)(t)
		return
	}
	m.run(t, m.base(t, k))
}

// revList draws GET /bonds/{id}/revisions: small limits (walks of several
// pages), at times a bad query. Reads of revisions take no preconditions.
func (m *machine) revList(t *rapid.T) {
	op := m.base(t, RevList)
	op.IfMatch, op.IfNoneMatch = nil, nil
	op.Query = revisionQuery(t, m.pools)
	m.run(t, op)
}

// revision draws a read or a restore of one revision of a bond: mostly one
// that exists or the one after the last, at times a number out of form.
func (m *machine) revision(k Kind) func(*rapid.T) {
	return func(t *rapid.T) {
		op := m.base(t, k)
		if k == RevGet {
			op.IfMatch, op.IfNoneMatch = nil, nil
		}
		op.Rev = revisionNumber(t, m.pools, len(m.model.revs[op.BondID]))
		m.run(t, op)
	}
}

// replay runs a recorded sequence (a regression test) on bolt and on
// DynamoDB Local, each against the model.
func replay(t *testing.T, ops ...Op) {
	t.Helper()
	t.Run("bolt", func(t *testing.T) { replayOn(t, ops, boltTarget(t)) })
	t.Run("dynamodb", func(t *testing.T) { replayOn(t, ops, dynamoTarget(t, "dynamodb", 1)) })
}

// replayStores runs a recorded sequence against the model and both stores
// at once, which must also answer exactly alike (for what the model leaves
// open, such as the loc of a 422).
func replayStores(t *testing.T, ops ...Op) {
	t.Helper()
	dynamo := dynamoTarget(t, "dynamodb", 1)
	replayOn(t, ops, boltTarget(t), dynamo)
}

func replayOn(t *testing.T, ops []Op, targets ...*target) {
	t.Helper()
	for _, tg := range targets {
		if err := tg.reset(); err != nil {
			t.Fatalf("reset %s: %v", tg.name, err)
		}
	}
	model := NewModel()
	for _, op := range ops {
		if why, _ := step(t, model, targets, op); why != "" {
			t.Fatalf("step %#v: the model cannot judge it (%s)", op, why)
		}
	}
}
