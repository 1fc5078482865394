// Package difftest is the model-based differential test of the Bond
// Registry (issue 9, item 6): random sequences of HTTP requests run against
// a plain in-memory reference model of the API contract ([Model]) and
// against the real service on each store, and every observable answer must
// agree.
//
// The model is an independent statement of README.md and api/openapi.yaml,
// plus the RFC 9110 semantics of conditional requests (§13): it does not
// call package bond's rules, so a rule wrongly written in both places still
// shows as a difference from the model. The tests talk to the service over
// HTTP only.
//
// Where the contract leaves a choice open (which of two errors wins, a size
// within a few kilobytes of the 400 KB limit), the model says so
// ([Expect.Ambiguous]) and the generator draws another step.
//
// Run (see difftest_test.go for the knobs):
//
//	go test -race ./internal/difftest                 # CI budget
//	DYNAMODB_TEST_ENDPOINT=... go test ./internal/difftest -run Differential -rapid.checks=2000
package difftest
