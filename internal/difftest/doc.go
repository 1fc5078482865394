// Package difftest is the model-based differential test of the Bond
// Registry: random sequences of HTTP requests run against
// a plain in-memory reference model of the API contract ([Model]) and
// against the real service on each store, and every observable answer must
// agree: status, ETag, bond bodies, Link presence, the set of bonds a page
// walk returns, and for a 4xx the detail message or the 422 problems
// (loc and type) where the contract gives them.
//
// The model is an independent statement of README.md, docs/api.md and api/openapi.yaml,
// plus the RFC 9110 semantics of conditional requests (§13): it does not
// call package bond's rules, so a rule wrongly written in both places still
// shows as a difference from the model. The tests talk to the service over
// HTTP only; servers_test.go is the one file that knows how it is built.
//
// The tests (difftest_test.go), each a pgregory.net/rapid state machine:
//
//   - TestDifferentialBolt: the model and the service on bolt.
//   - TestDifferentialStores: the model, bolt and DynamoDB Local at once;
//     the two stores must also answer exactly alike (status, ETag,
//     Location, Content-Type, Allow, Retry-After, Link presence, bodies
//     byte for byte, a page walk's bonds as a sorted set).
//   - TestDifferentialScaleOut: two instances on one DynamoDB table with
//     one page-token key, each request (each page of a walk included) sent
//     to either at random.
//   - TestRegression*: the sequences the differential test found, replayed.
//
// A step ([Op]) is one request: create, get, update (partial, moving the
// account pair, replacing subscribers), delete, the subscriber list, add,
// get and remove, HEAD of every GET route, a list that walks every page
// by following Link, and the revision history: the walk of a bond's
// revisions (small limits, so several pages), one revision, and a restore
// (of an existing, a deleted or a re-created bond, under preconditions).
// The model keeps each id's revisions across delete and re-create and
// predicts every field but the time, whose form is checked; each step
// sends its own X-Request-ID, so request_id is known, and the stores must
// answer a revisions read byte for byte, times aside. Identifiers come from a small pool per sequence, so
// steps collide, drawn from an adversarial alphabet (multi-byte and 4-byte
// characters, '[', ']', '.', '#', ':', '%', '+', '..', inner spaces, shared
// prefixes, 128 characters of up to 4 bytes); preconditions are single,
// listed, weak, '*', "01"-style and malformed tags; bodies reach the
// 1,000-subscriber cap, the 400 KB item and the 1 MiB body.
//
// Where the contract leaves a choice open (which of two errors wins, a size
// within a few kilobytes of the 400 KB limit), the model says so
// ([Expect.Ambiguous]) and the generator draws another step.
//
// Run:
//
//	go test -race ./internal/difftest     # CI budget: 40 sequences of ~40 steps per test
//	DYNAMODB_TEST_ENDPOINT=$(scripts/dynamodb-local.sh start) \
//	  go test ./internal/difftest -run Differential -rapid.checks=2000 -timeout 2h   # a campaign
//
// Without DynamoDB Local the DynamoDB tests skip, and fail with CI=true
// (dynamotest.Local). A failure prints the shrunk sequence as Go literals
// ("step({Kind: ...})"): paste them into a TestRegression function.
package difftest
