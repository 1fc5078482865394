package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/rs/zerolog/hlog"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// retryAfterSeconds is the Retry-After of every 503: stores answer again
// quickly or not at all, so a short wait is the useful hint.
const retryAfterSeconds = "1"

// statusOf is the only mapping of domain error kinds to HTTP statuses.
// KindInternal, and any error without a kind, is a 500.
var statusOf = map[bond.Kind]int{
	bond.KindNotFound:        http.StatusNotFound,
	bond.KindExists:          http.StatusConflict,
	bond.KindPairTaken:       http.StatusConflict,
	bond.KindVersionMismatch: http.StatusPreconditionFailed,
	bond.KindNotModified:     http.StatusPreconditionFailed, // on a write; a read answers 304 (respondRead), RFC 9110 §13.1.2
	bond.KindUnreadable:      http.StatusConflict,           // the stored item, not the request, is at fault
	bond.KindInvalid:         http.StatusUnprocessableEntity,
	bond.KindUnavailable:     http.StatusServiceUnavailable,
	bond.KindKeyTaken:        http.StatusConflict, // answered from the key's record when it can be read (idempotent)
}

// Client-facing messages of the errors that have no domain message.
const (
	msgInternal = "Internal server error."
	msgDeadline = "The request did not finish in time. Retry later."
)

// httpError is an error of the HTTP protocol rather than the domain: an
// unknown route, a wrong method, a body too large or not JSON, a panic.
type httpError struct {
	status int
	detail string
}

func (e *httpError) Error() string { return e.detail }

var (
	errPanic            = &httpError{http.StatusInternalServerError, msgInternal}
	errRouteNotFound    = &httpError{http.StatusNotFound, "Not Found"}
	errMethodNotAllowed = &httpError{http.StatusMethodNotAllowed, "Method Not Allowed"}
	errBodyTooLarge     = &httpError{http.StatusRequestEntityTooLarge, "Request body too large (limit 1 MiB)."}
	errNotJSON          = &httpError{http.StatusUnsupportedMediaType, "The request body must be JSON (Content-Type: application/json)."}
	errBodyRead         = &httpError{http.StatusBadRequest, "The request body could not be read."}
)

// errorBody is the body of every error response.
type errorBody struct {
	Detail any `json:"detail"`
}

// writeError writes err as a JSON {"detail": ...} response with the status of
// its kind. Internal errors are logged here, once, with their cause and the
// request id; the client sees a generic message. Messages of domain errors
// hold ids only, never names or emails, so they are safe to show and to log.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, detail := classify(err)
	switch status {
	case http.StatusInternalServerError:
		if err != errPanic { // the recoverer logged the panic
			hlog.FromRequest(r).Error().Err(err).Msg("internal error")
		}
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", retryAfterSeconds)
		if err != errBusy { // load shedding: the access line says enough
			hlog.FromRequest(r).Warn().Err(err).Msg("store unavailable")
		}
	}
	if r.ContentLength != 0 && answeredBeforeBody[status] {
		// Answer at once: else net/http first reads what is left of the
		// body (up to 256 KiB), which from a slow client takes until the
		// read timeout, and the client sees no answer at all.
		w.Header().Set("Connection", "close")
	}
	encode(w, status, errorBody{Detail: detail})
}

// answeredBeforeBody are the statuses that can be answered before the
// request's body was read: the Host, the credentials, the key, the route,
// the size, the media type or the load decide them (a 400 of a body that
// could not be read closes the connection too: the rest of it is not worth
// waiting for).
var answeredBeforeBody = map[int]bool{
	http.StatusBadRequest: true, http.StatusMisdirectedRequest: true, http.StatusUnauthorized: true, http.StatusForbidden: true, http.StatusNotFound: true,
	http.StatusMethodNotAllowed: true, http.StatusRequestEntityTooLarge: true,
	http.StatusUnsupportedMediaType: true, http.StatusServiceUnavailable: true,
}

// classify returns the status and the client-safe detail of err.
func classify(err error) (int, any) {
	var he *httpError
	if errors.As(err, &he) {
		return he.status, he.detail
	}
	var be *bond.Error
	if errors.As(err, &be) {
		if status, ok := statusOf[be.Kind]; ok {
			if be.Kind == bond.KindInvalid {
				return status, problemsOf(be)
			}
			return status, be.Message
		}
	}
	// No kind: the request's deadline passed (or the client left) while the
	// store was working, which is a store that did not answer in time; or a
	// bug, whose cause stays in the log.
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return http.StatusServiceUnavailable, msgDeadline
	}
	return http.StatusInternalServerError, msgInternal
}

// Bounds of a 422 body, so that its size stays proportional to the request
// whatever the request holds (a 39,750-byte body once got a 32 MB
// 422, each of its 1,000 problems repeating a 32,000-character key).
const (
	// MaxProblems is the most problems a 422 lists; when there are more, one
	// last problem of type ProblemsOmittedType says how many were left out.
	MaxProblems = 100
	// MaxEchoBytes is the most bytes of a loc element or a msg that a 422
	// echoes, as sent (in JSON); a longer one is cut, on a character
	// boundary, and ends with TruncatedMarker.
	MaxEchoBytes = 256
	// TruncatedMarker ends every loc element or msg that was cut.
	TruncatedMarker = "…[truncated]"
	// ProblemsOmittedType is the type of the problem that ends a list cut
	// at MaxProblems.
	ProblemsOmittedType = "value_error.problems_omitted"
)

// problemsOf returns the problems of a KindInvalid error, never an empty
// list (a store's bare Invalid becomes one problem with its message), and
// never more than MaxProblems+1 of them, each element cut at MaxEchoBytes.
func problemsOf(e *bond.Error) []bond.Problem {
	if len(e.Problems) == 0 {
		return []bond.Problem{{Loc: []string{}, Msg: truncate(e.Message), Type: "value_error"}}
	}
	n := min(len(e.Problems), MaxProblems)
	out := make([]bond.Problem, n, n+1)
	for i, p := range e.Problems[:n] {
		loc := make([]string, len(p.Loc))
		for j, l := range p.Loc {
			loc[j] = truncate(l)
		}
		out[i] = bond.Problem{Loc: loc, Msg: truncate(p.Msg), Type: truncate(p.Type)}
	}
	if left := len(e.Problems) - n + e.Omitted; left > 0 {
		out = append(out, bond.Problem{
			Loc:  []string{},
			Msg:  fmt.Sprintf("%d more problems left out (a response lists at most %d)", left, MaxProblems),
			Type: ProblemsOmittedType,
		})
	}
	return out
}

// truncate returns s when its JSON string (as newEncoder writes it, quotes
// aside) is at most MaxEchoBytes long, else its longest prefix of whole
// characters whose JSON takes at most MaxEchoBytes, followed by
// TruncatedMarker: the bound is in the bytes sent, where a control
// character takes 6 (\u0001) and a byte that is not UTF-8 6 (\ufffd).
func truncate(s string) string {
	n, cut := 0, -1
	for i := 0; i < len(s); {
		_, size := utf8.DecodeRuneInString(s[i:])
		n += jsonLen(s[i : i+size])
		if n > MaxEchoBytes && cut < 0 {
			cut = i
			break
		}
		i += size
	}
	if cut < 0 {
		return s
	}
	return s[:cut] + TruncatedMarker
}

// jsonLen is the length of s inside a JSON string written by newEncoder
// (appendString, quotes aside).
func jsonLen(s string) int {
	var buf [16]byte
	return len(appendString(buf[:0], s)) - len(`""`)
}
