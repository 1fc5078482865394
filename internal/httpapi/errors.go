package httpapi

import (
	"context"
	"errors"
	"net/http"

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
		hlog.FromRequest(r).Warn().Err(err).Msg("store unavailable")
	}
	encode(w, status, errorBody{Detail: detail})
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

// problemsOf returns the problems of a KindInvalid error, never an empty
// list: a store's bare Invalid becomes one problem with its message.
func problemsOf(e *bond.Error) []bond.Problem {
	if len(e.Problems) > 0 {
		return e.Problems
	}
	return []bond.Problem{{Loc: []string{}, Msg: e.Message, Type: "value_error"}}
}
