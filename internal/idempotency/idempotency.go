// Package idempotency holds the records that make a retried POST safe
// (draft-ietf-httpapi-idempotency-key-header-07): what a record is, the
// store contract that keeps them (Store, implemented by each bond store
// beside its bonds), and the rules every store shares: when a record still
// holds its key (Live), its storage key, its bounds and the packing of an
// answer's body. The HTTP side (parsing the header, which answers are kept,
// replaying) is internal/httpapi's.
//
// A record is written once, completed (its answer kept until Expires), in
// the same atomic write as the change it records, on the condition that no
// record is Live at the time of the write: of two executions of one key
// (two instances), exactly one write lands. Past Expires a record is as
// good as absent: the key is new again. Records written by an earlier
// release may be in flight (an executor held a lease on the key until
// LeaseEnd); they are still read, under their lease rules (Live), and
// never written any more.
package idempotency

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"
)

// Bounds of a record, so that memory and storage per key are bounded.
const (
	// MaxKeyLen is the longest key accepted, in bytes (the draft leaves the
	// length to the server; 255 holds any UUID, ULID or hash form).
	MaxKeyLen = 255

	// MaxAnswerBytes is the largest answer body a record keeps, as the
	// service sends it. A bond's representation is at most about twice its
	// stored size (escapes), so every answer the service gives fits.
	MaxAnswerBytes = 1 << 20

	// MaxPackedBytes is the largest body a record holds once packed
	// (PackBody): with the rest of the record it stays under DynamoDB's
	// 400 KB item limit. An answer that does not pack under it is not kept.
	MaxPackedBytes = 350_000

	// packAbove is the body size from which PackBody compresses: smaller
	// bodies are kept as they are (a flate writer costs more than it
	// saves on a bond of a few hundred bytes).
	packAbove = 16 << 10
)

// Key names a record: the caller's scope (an API key's name, or
// "anonymous") and the key it sent. Two callers never share a record.
type Key struct {
	Scope string
	Value string
}

// StorageKey is the key a store files the record under: the hex SHA-256 of
// the length-prefixed scope and the key, 64 characters whatever they hold,
// so that no scope and key can be mistaken for another pair.
func (k Key) StorageKey() string {
	h := sha256.New()
	h.Write(binary.AppendUvarint(nil, uint64(len(k.Scope))))
	h.Write([]byte(k.Scope))
	h.Write([]byte(k.Value))
	return hex.EncodeToString(h.Sum(nil))
}

// Fingerprint identifies a request: a record answers a retry only when the
// retry has the same fingerprint.
type Fingerprint [sha256.Size]byte

// FingerprintOf returns the fingerprint of a request: the SHA-256 of its
// method, its path and the SHA-256 of its body, each length-prefixed.
func FingerprintOf(method, path string, body []byte) Fingerprint {
	digest := sha256.Sum256(body)
	h := sha256.New()
	for _, s := range []string{method, path} {
		h.Write(binary.AppendUvarint(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	h.Write(digest[:])
	var f Fingerprint
	h.Sum(f[:0])
	return f
}

// Answer is the final answer of an executed request, as a retry gets it
// again: the status, the headers that describe the result, and the body.
type Answer struct {
	Status      int
	Location    string
	ETag        string
	ContentType string
	Body        []byte // packed (PackBody): stores keep it as it is
}

// Record is the state of one key.
type Record struct {
	Key         Key
	Fingerprint Fingerprint
	Token       string    // the id of the executor that wrote the record
	Done        bool      // completed: Answer is kept; else in flight (written by an earlier release)
	LeaseEnd    time.Time // in flight: after it, the key is free
	Expires     time.Time // after it, the record counts as absent
	Answer      Answer    // when Done
}

// Live reports whether rec still holds its key at now: a completed record
// until it expires, an in-flight one until its lease ends (then a retry
// executes again, as after a crash of the executor). Every store's Lookup
// and the condition of every record's write apply this rule.
func (rec Record) Live(now time.Time) bool {
	if !now.Before(rec.Expires) {
		return false
	}
	return rec.Done || now.Before(rec.LeaseEnd)
}

// Check applies the rules of a record read back from a store, as a request
// body gets them: an answer must be a 2xx whose packed body is at most
// MaxPackedBytes (UnpackBody checks the rest). A record that breaks them
// is ErrUnreadable.
func (rec Record) Check() error {
	if rec.Token == "" {
		return fmt.Errorf("%w: no executor token", ErrUnreadable)
	}
	if rec.Done && (rec.Answer.Status < 200 || rec.Answer.Status > 299 || len(rec.Answer.Body) > MaxPackedBytes) {
		return fmt.Errorf("%w: answer status %d, %d bytes", ErrUnreadable, rec.Answer.Status, len(rec.Answer.Body))
	}
	if rec.Done {
		// The kept headers are sent again as they are: each must be what the
		// service itself sends (a path of this service, a decimal entity tag,
		// JSON), never text another writer put there (a header split, a
		// redirect elsewhere).
		a := rec.Answer
		if a.Location != "" && !locationRE.MatchString(a.Location) {
			return fmt.Errorf("%w: answer Location is not a path of this service", ErrUnreadable)
		}
		if a.ETag != "" && !etagRE.MatchString(a.ETag) {
			return fmt.Errorf("%w: answer ETag is not an entity tag of this service", ErrUnreadable)
		}
		if a.ContentType != "" && a.ContentType != "application/json" {
			return fmt.Errorf("%w: answer Content-Type is not application/json", ErrUnreadable)
		}
	}
	return nil
}

// The forms of the headers a kept answer may carry: the service's own.
var (
	locationRE = regexp.MustCompile(`^/bonds/[A-Za-z0-9\-._~!$&'()*+,;=:@%]+$`)
	etagRE     = regexp.MustCompile(`^"(0|[1-9][0-9]{0,15})"$`)
)

// Store keeps records. Each method is one atomic step of the store; errors
// other than those named are the store's own (a *bond.Error of
// KindUnavailable when it does not answer in time).
type Store interface {
	// Lookup returns the record of k with a strongly consistent read; found
	// only when it is Live at now. ErrUnreadable when the stored record
	// breaks the rules (Check).
	Lookup(ctx context.Context, k Key, now time.Time) (cur Record, found bool, err error)

	// Complete stores rec (Done, with its answer) where no record is Live
	// at now: absent, expired, or in flight with its lease ended.
	// ErrKeyTaken otherwise. It is the write of an answer that changed
	// nothing; the record of a change travels with the change
	// (bond.Journal.Idempotency) under the same condition.
	Complete(ctx context.Context, rec Record, now time.Time) error
}

// Provider is a bond store that keeps idempotency records beside its bonds.
type Provider interface {
	Idempotency() Store
}

// Errors of a Store.
var (
	// ErrKeyTaken: a record Live at the time of the write holds the key
	// (another execution of it wrote first); nothing was written.
	ErrKeyTaken = errors.New("idempotency: a live record holds the key")
	// ErrUnreadable: a stored record breaks the rules of this package.
	ErrUnreadable = errors.New("idempotency: the stored record cannot be read")
)

// Body packings, the first byte of a packed body.
const (
	packedRaw   = 0
	packedFlate = 1
)

// PackBody returns body as a record stores it: a byte that says how, then
// the body as it is, or compressed (DEFLATE) when it is large. ok is false
// when the packed body would be over MaxPackedBytes: the answer is then not
// kept.
func PackBody(body []byte) (packed []byte, ok bool) {
	if len(body) <= packAbove {
		return append([]byte{packedRaw}, body...), true
	}
	var buf bytes.Buffer
	buf.WriteByte(packedFlate)
	w, _ := flate.NewWriter(&buf, flate.BestSpeed) // the level is valid
	_, _ = w.Write(body)                           // a bytes.Buffer does not fail
	_ = w.Close()
	if buf.Len() > MaxPackedBytes {
		return nil, false
	}
	return buf.Bytes(), true
}

// UnpackBody returns the body PackBody packed. A packing it does not know,
// a stream that does not inflate, or a body over MaxAnswerBytes is
// ErrUnreadable: stored data gets the checks of a request.
func UnpackBody(packed []byte) ([]byte, error) {
	if len(packed) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrUnreadable)
	}
	switch packed[0] {
	case packedRaw:
		if len(packed)-1 > MaxAnswerBytes {
			return nil, fmt.Errorf("%w: body over %d bytes", ErrUnreadable, MaxAnswerBytes)
		}
		return packed[1:], nil
	case packedFlate:
		r := flate.NewReader(bytes.NewReader(packed[1:]))
		defer r.Close()
		body, err := io.ReadAll(io.LimitReader(r, MaxAnswerBytes+1))
		if err != nil {
			return nil, fmt.Errorf("%w: body: %w", ErrUnreadable, err)
		}
		if len(body) > MaxAnswerBytes {
			return nil, fmt.Errorf("%w: body over %d bytes", ErrUnreadable, MaxAnswerBytes)
		}
		return body, nil
	}
	return nil, fmt.Errorf("%w: unknown body packing %d", ErrUnreadable, packed[0])
}
