package httpapi

// Safe retries of POST: the Idempotency-Key request header
// (draft-ietf-httpapi-idempotency-key-header-07). The records and their
// store contract are package idempotency's; here are the header, the
// policy of which answers are kept, and the replay.

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog/hlog"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/idempotency"
)

// IdempotencyKeyHeader is the request header that makes a POST safe to
// retry.
const IdempotencyKeyHeader = "Idempotency-Key"

// ReplayedHeader is set ("true") on an answer that is a replay of the
// first answer to the same key, as Stripe's API does.
const ReplayedHeader = "Idempotent-Replayed"

// DefaultIdempotencyTTL is how long a completed record answers retries when
// Config.IdempotencyTTL is zero.
const DefaultIdempotencyTTL = 24 * time.Hour

// anonymousScope is the scope of the keys of callers without an API key
// (no keys are configured).
const anonymousScope = "anonymous"

// completeTimeout bounds the reads and the write of a record that run
// after the handler, when the request's own deadline may have passed.
const completeTimeout = 2 * time.Second

// The answers of a key that cannot be used as it is.
var (
	errKeyInvalid = &httpError{http.StatusBadRequest, "Idempotency-Key must be a string of 1-255 characters, " +
		`as a Structured Field string ("8e03978e-40d5-43e8-bc93-6894a57f9324") or a token.`}
	errKeyTwice     = &httpError{http.StatusBadRequest, "Send Idempotency-Key once."}
	errKeyInFlight  = &httpError{http.StatusConflict, "A request with this Idempotency-Key is still being processed. Retry later."}
	errKeyUnusable  = &httpError{http.StatusConflict, "The stored record of this Idempotency-Key cannot be read; send the request with another key."}
	errKeyReusedMsg = "this Idempotency-Key was used for another request (method, path or body differ); use a new key for a new request"
)

// parseIdempotencyKey returns the key of a header value: an RFC 8941
// sf-string (a quoted string of printable ASCII, with \" and \\ as its
// only escapes), or, as Stripe's clients send it, an unquoted token of
// RFC 9110 tchar and, after the first, the ':' and '/' an sf-token may
// hold (a UUID, which may start with a digit, is one; ":YWJj:", an sf
// byte sequence, is not). The key is 1-MaxKeyLen characters;
// parameters are not taken. ok is false for anything else.
func parseIdempotencyKey(v string) (key string, ok bool) {
	if v == "" {
		return "", false
	}
	if v[0] != '"' {
		if len(v) > idempotency.MaxKeyLen {
			return "", false
		}
		for i := 0; i < len(v); i++ {
			if !isTchar(v[i]) && (i == 0 || (v[i] != ':' && v[i] != '/')) {
				return "", false
			}
		}
		return v, true
	}
	var b []byte
	for i := 1; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\':
			i++
			if i == len(v) || (v[i] != '"' && v[i] != '\\') {
				return "", false
			}
			b = append(b, v[i])
		case c == '"':
			if i != len(v)-1 || len(b) == 0 || len(b) > idempotency.MaxKeyLen {
				return "", false
			}
			return string(b), true
		case c < 0x20 || c > 0x7e:
			return "", false
		default:
			b = append(b, c)
		}
	}
	return "", false // no closing quote
}

// isTchar reports whether c is an RFC 9110 tchar (section 5.6.2).
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// kept reports whether the answer of an executed request is kept for its
// retries. The draft leaves the choice to the server; the rule here is:
// every 2xx (the request was applied, or was a no-op under the rules) is
// kept, and nothing else is. Every 4xx of the service means the request
// wrote nothing (docs/api.md, "Safe retries"): those that depend on the request alone
// (400, 413, 415, 422) come out the same when it executes again, so
// keeping them would buy nothing and would stop a client from fixing its
// body under the same key; those that depend on the stored state (404,
// 409, 412, and the 422 of a bond that would grow too large) must answer
// from the state the retry meets. A 5xx or a 503 is never kept: whether
// the change happened is unknown to the client, and the retry executes
// again.
func kept(status int) bool { return status >= 200 && status <= 299 }

// idempotent is the middleware of the POST routes: a request without an
// Idempotency-Key passes as it is; with one, the first request of the key
// (in the caller's scope) executes, and its answer, when kept, answers every
// later request with the same key and fingerprint, which writes nothing.
// Another fingerprint is a 422; a request while the first is in flight in
// this process is a 409 with Retry-After. Across processes sharing a store
// there is no 409: two executions of a key race on the condition of its
// record's write (atomic with the change), exactly one write lands, and
// both answer with its answer (answerAfter). A nil store takes no keys: the
// header is ignored.
func idempotent(store idempotency.Store, ttl time.Duration) func(http.Handler) http.Handler {
	if store == nil {
		return open
	}
	if ttl <= 0 {
		ttl = DefaultIdempotencyTTL
	}
	running := &keysInFlight{deadlines: map[idempotency.Key]time.Time{}}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			values := r.Header.Values(IdempotencyKeyHeader)
			if len(values) == 0 {
				next.ServeHTTP(w, r)
				return
			}
			if len(values) > 1 {
				writeError(w, r, errKeyTwice)
				return
			}
			value, ok := parseIdempotencyKey(values[0])
			if !ok {
				writeError(w, r, errKeyInvalid)
				return
			}
			body, err := readBody(w, r)
			if err != nil {
				writeError(w, r, err) // 413, 415, 400: nothing executed, nothing kept
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))

			now := time.Now()
			deadline := now.Add(DefaultRequestTimeout)
			if d, ok := r.Context().Deadline(); ok {
				deadline = d
			}
			rec := idempotency.Record{
				Key:         idempotency.Key{Scope: callerOf(r), Value: value},
				Fingerprint: idempotency.FingerprintOf(r.Method, strings.TrimSuffix(r.URL.Path, "/"), body), // decoded (%31 is 1) and without a trailing slash: the same route and bond
				Token:       rand.Text(),
				Expires:     now.Add(ttl),
			}
			if until, entered := running.enter(rec.Key, deadline); !entered {
				w.Header().Set("Retry-After", strconv.Itoa(secondsUntil(until, now)))
				writeError(w, r, errKeyInFlight)
				return
			}
			defer running.leave(rec.Key)
			if cur, found, err := store.Lookup(r.Context(), rec.Key, now); err != nil || found {
				answerRecord(w, r, cur, err, rec.Fingerprint, now)
				return
			}

			k := &keyed{rec: rec, at: now}
			rw := &answerRecorder{ResponseWriter: w, renderedAnswer: newRenderedAnswer()}
			next.ServeHTTP(rw, r.WithContext(context.WithValue(r.Context(), keyedKey{}, k)))
			answerAfter(w, r, store, k, rw)
		})
	}
}

// keysInFlight is the set of keys whose requests execute in this process,
// each with the executing request's deadline. It holds one entry per
// request in flight, so it is bounded as they are.
type keysInFlight struct {
	mu        sync.Mutex
	deadlines map[idempotency.Key]time.Time
}

// enter adds k, executing until deadline, unless k is in the set: then it
// returns the deadline of the request that holds it, and entered false.
func (s *keysInFlight) enter(k idempotency.Key, deadline time.Time) (until time.Time, entered bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.deadlines[k]; ok {
		return d, false
	}
	s.deadlines[k] = deadline
	return deadline, true
}

// leave removes k.
func (s *keysInFlight) leave(k idempotency.Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.deadlines, k)
}

// secondsUntil is the Retry-After of a wait until t: whole seconds, at
// least 1.
func secondsUntil(t, now time.Time) int {
	return max(1, int(math.Ceil(t.Sub(now).Seconds())))
}

// keyed is the state of a keyed request that executes: its record (to be
// completed with its answer), the time its key was found free, and the
// completion its write may carry (completing).
type keyed struct {
	rec        idempotency.Record
	at         time.Time
	completion bond.Completion
}

type keyedKey struct{}

// completing returns r's context, in which the write of a keyed request
// completes its record with the change, in the same atomic write
// (bond.Completion): the answer is what respond writes for the bond the
// write leaves, the function the handler then answers with, so the stored
// answer and the one sent are the same bytes. Without a key it is r's
// context as it is.
func completing(r *http.Request, respond func(http.ResponseWriter, bond.Bond)) context.Context {
	k, ok := r.Context().Value(keyedKey{}).(*keyed)
	if !ok {
		return r.Context()
	}
	k.completion.Record = func(b bond.Bond) *idempotency.Record {
		a := newRenderedAnswer()
		respond(&a, b)
		rec, ok := keptRecord(k.rec, &a)
		if !ok {
			return nil
		}
		return &rec
	}
	k.completion.At = k.at
	return bond.WithCompletion(r.Context(), &k.completion)
}

// keptRecord returns rec completed with answer a (its status, the headers
// that describe the result, its body), and whether it is kept: kept says
// so, and the body is at most idempotency.MaxAnswerBytes and packs within
// the bounds.
func keptRecord(rec idempotency.Record, a *renderedAnswer) (idempotency.Record, bool) {
	status, h, body := a.status, a.header, a.body.Bytes()
	if !kept(status) || len(body) > idempotency.MaxAnswerBytes {
		return rec, false
	}
	packed, ok := idempotency.PackBody(body)
	if !ok {
		return rec, false
	}
	rec.Done = true
	rec.Answer = idempotency.Answer{Status: status, Location: h.Get("Location"), ETag: h.Get("ETag"),
		ContentType: h.Get("Content-Type"), Body: packed}
	return rec, true
}

// renderedAnswer is a ResponseWriter that keeps what is written to it: the
// answer a write's record stores before it is sent.
type renderedAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// newRenderedAnswer is an empty answer, 200 until WriteHeader says
// otherwise.
func newRenderedAnswer() renderedAnswer {
	return renderedAnswer{header: http.Header{}, status: http.StatusOK}
}

func (a *renderedAnswer) Header() http.Header         { return a.header }
func (a *renderedAnswer) WriteHeader(status int)      { a.status = status }
func (a *renderedAnswer) Write(p []byte) (int, error) { return a.body.Write(p) }

// answerRecord answers a request from the outcome of the Lookup of its
// key: the error of a failed one, else cur, the live record that holds the
// key: its answer again for the same fingerprint, a 422 for another, a 409
// while it is in flight (a record of an earlier release).
func answerRecord(w http.ResponseWriter, r *http.Request, cur idempotency.Record, err error, fp idempotency.Fingerprint, now time.Time) {
	switch {
	case errors.Is(err, idempotency.ErrUnreadable):
		writeError(w, r, errKeyUnusable)
		return
	case err != nil:
		writeError(w, r, err)
		return
	}
	if cur.Fingerprint != fp {
		writeError(w, r, bond.Invalid(bond.Problem{Loc: []string{"header", IdempotencyKeyHeader},
			Msg: errKeyReusedMsg, Type: "value_error.idempotency_key_reused"}))
		return
	}
	if !cur.Done {
		w.Header().Set("Retry-After", strconv.Itoa(secondsUntil(cur.LeaseEnd, now)))
		writeError(w, r, errKeyInFlight)
		return
	}
	body, err := idempotency.UnpackBody(cur.Answer.Body)
	if err != nil {
		writeError(w, r, errKeyUnusable)
		return
	}
	h := w.Header()
	for name, v := range map[string]string{"Location": cur.Answer.Location, "ETag": cur.Answer.ETag, "Content-Type": cur.Answer.ContentType} {
		if v != "" {
			h.Set(name, v)
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set(ReplayedHeader, "true")
	w.WriteHeader(cur.Answer.Status)
	_, _ = w.Write(body)
}

// answerAfter sends the answer of an executed keyed request. When its write
// completed the record with its change (completing), that is the handler's
// answer. Else nothing was completed (a 4xx, a 2xx that changed nothing, or
// bond.ErrKeyTaken because another execution's write landed first): a
// record that now holds the key answers instead of the handler (its answer
// is the key's); else a kept answer is completed on its own (Complete) and
// sent, or, when Complete fails, replaced by a 503 (a 2xx is only sent
// kept); one that is not kept is sent as it is. The answer goes out after
// its record is written, so that a client that saw it finds it on a retry.
func answerAfter(w http.ResponseWriter, r *http.Request, store idempotency.Store, k *keyed, rw *answerRecorder) {
	if k.completion.Done() || rw.overflow {
		rw.send() // an overflowing answer went out as it came: not kept
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), completeTimeout)
	defer cancel()
	if answeredByRecord(ctx, w, r, store, k) {
		return
	}
	rec, keep := keptRecord(k.rec, &rw.renderedAnswer)
	if !keep {
		rw.send()
		return
	}
	err := store.Complete(ctx, rec, k.at)
	if errors.Is(err, idempotency.ErrKeyTaken) && answeredByRecord(ctx, w, r, store, k) {
		return
	}
	if err != nil {
		// A 2xx goes out only kept: this one is not, so the client gets a
		// 503 (the request changed nothing; the retry executes again, or
		// replays the record when the write landed after all), and none of
		// the discarded answer's headers. writeError logs the cause.
		if bond.KindOf(err) != bond.KindUnavailable {
			err = bond.Unavailable("complete idempotency record", err)
		}
		writeError(w, r, err)
		return
	}
	rw.send()
}

// answeredByRecord answers r from the record that holds its key, when a
// Lookup finds one Live, and reports whether it did. A failed Lookup
// answers nothing (the handler's answer, of a request that changed
// nothing, goes out).
func answeredByRecord(ctx context.Context, w http.ResponseWriter, r *http.Request, store idempotency.Store, k *keyed) bool {
	cur, found, err := store.Lookup(ctx, k.rec.Key, k.at)
	if err != nil && !errors.Is(err, idempotency.ErrUnreadable) {
		hlog.FromRequest(r).Warn().Err(err).Msg("idempotency record not read")
		return false
	}
	if err == nil && !found {
		return false
	}
	answerRecord(w, r, cur, err, k.rec.Fingerprint, k.at)
	return true
}

// answerRecorder holds a handler's answer until its record is written or
// another record answers instead (renderedAnswer: its own header map,
// copied to the real writer only when the handler's answer is sent, so that
// none of a discarded answer's headers leak; the status; at most
// idempotency.MaxAnswerBytes of body: past that, what was held and the
// rest go out as they come, and the answer is not kept).
type answerRecorder struct {
	http.ResponseWriter
	renderedAnswer
	overflow bool
	wrote    bool // the header was sent on the real writer
}

func (a *answerRecorder) Header() http.Header { return a.header }

func (a *answerRecorder) WriteHeader(status int) {
	if !a.overflow {
		a.status = status
	}
}

func (a *answerRecorder) Write(p []byte) (int, error) {
	if !a.overflow && a.body.Len()+len(p) <= idempotency.MaxAnswerBytes {
		return a.body.Write(p)
	}
	a.overflow = true
	a.sendHeader()
	if a.body.Len() > 0 {
		if _, err := a.ResponseWriter.Write(a.body.Bytes()); err != nil {
			return 0, err
		}
		a.body.Reset()
	}
	return a.ResponseWriter.Write(p)
}

// sendHeader sends the handler's headers and status, once.
func (a *answerRecorder) sendHeader() {
	if a.wrote {
		return
	}
	a.wrote = true
	h := a.ResponseWriter.Header()
	for name, v := range a.header {
		h[name] = v
	}
	a.ResponseWriter.WriteHeader(a.status)
}

// send sends the handler's answer: what is held.
func (a *answerRecorder) send() {
	a.sendHeader()
	if a.body.Len() > 0 {
		_, _ = a.ResponseWriter.Write(a.body.Bytes()) // a failed write means the client left
		a.body.Reset()
	}
}

// Unwrap lets http.ResponseController reach the real writer.
func (a *answerRecorder) Unwrap() http.ResponseWriter { return a.ResponseWriter }
