package httpapi

import (
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// MaxBodyBytes is the largest request body accepted; a larger one is a 413.
const MaxBodyBytes = 1 << 20

// readBody returns the request body: 415 when it is not JSON, 413 when it is
// over MaxBodyBytes, 400 when it cannot be read (the decoders refuse what
// is not UTF-8 JSON). An
// empty body without a Content-Type is let through, so that the decoder
// reports it as a 422 ("the request body is empty").
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	ct := r.Header.Get("Content-Type")
	if ct != "" || r.ContentLength != 0 {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, errNotJSON
		}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errBodyTooLarge
		}
		// A body that came too slowly ends at the server's read timeout,
		// and its write timeout ends a few milliseconds later: without
		// more time the answer lost that race about half the time and the
		// client saw the connection closed unanswered.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(errorWriteGrace))
		return nil, errBodyRead
	}
	return data, nil
}

// errorWriteGrace is the time the answer to a body that could not be read
// has to get out.
const errorWriteGrace = time.Second

// The steps every bond handler shares: reading the path, joining the
// problems of the path and the body into one 422, and answering with a bond
// or one of its parts under the request's preconditions.

// pathValue returns the decoded value of a path parameter. chi routes on
// r.URL.RawPath when it is set (the path held an escape such as %2F that
// decoding would change), and its parameters are then still escaped; when
// RawPath is empty, chi saw the decoded path and the value is final.
func pathValue(r *http.Request, name string) string {
	v := chi.URLParam(r, name)
	if r.URL.RawPath == "" {
		return v
	}
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// pathBondID returns the {bond_id} of the path and its problems.
func pathBondID(r *http.Request) (string, []bond.Problem) {
	id := pathValue(r, "bond_id")
	return id, at(bond.ValidateBondID(id), "path", "bond_id")
}

// pathSID returns the {sid} of the path and its problems.
func pathSID(r *http.Request) (string, []bond.Problem) {
	sid := pathValue(r, "sid")
	return sid, at(bond.ValidateID(sid), "path", "sid")
}

// at returns the problems with prefix in front of each loc: the part of the
// request (and the parameter) the domain's relative locs are in.
func at(problems []bond.Problem, prefix ...string) []bond.Problem {
	if len(problems) == 0 {
		return nil
	}
	out := make([]bond.Problem, len(problems))
	for i, p := range problems {
		p.Loc = append(slices.Clip(prefix), p.Loc...)
		out[i] = p
	}
	return out
}

// withProblems adds the path's problems to err, the error of decoding the
// body, so that one 422 lists them all.
func withProblems(path []bond.Problem, err error) error {
	if err == nil {
		if len(path) == 0 {
			return nil
		}
		return bond.Invalid(path...)
	}
	if len(path) == 0 || bond.KindOf(err) != bond.KindInvalid {
		return err
	}
	var be *bond.Error
	errors.As(err, &be)
	joined := bond.Invalid(append(slices.Clone(path), be.Problems...)...)
	joined.Omitted = be.Omitted
	return joined
}

// bodyLocs puts "body" in front of the locs of a domain KindInvalid error
// from a write: its problems are about the value the body carried.
func bodyLocs(err error) error {
	var be *bond.Error
	if !errors.As(err, &be) || be.Kind != bond.KindInvalid {
		return err
	}
	placed := bond.Invalid(at(be.Problems, "body")...)
	placed.Omitted = be.Omitted
	return placed
}

// getPathBond returns the bond the path's {bond_id} names, after checking
// the id and the path's other parameters (their problems in more).
func getPathBond(r *http.Request, repo bond.Repository, more ...bond.Problem) (bond.Bond, error) {
	id, problems := pathBondID(r)
	if err := withProblems(append(problems, more...), nil); err != nil {
		return bond.Bond{}, err
	}
	return bond.Get(r.Context(), repo, id)
}

// decodeBody reads the request body (415, 413) and decodes it with decode;
// the path's problems join the body's, so that one 422 lists them all.
func decodeBody[T any](w http.ResponseWriter, r *http.Request, path []bond.Problem, decode func([]byte) (T, error)) (T, error) {
	data, err := readBody(w, r)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := decode(data)
	return v, withProblems(path, err)
}

// respondRead answers a read of bond b (or a part of it, or a revision
// that recorded b's version, v) with b's entity tag, after the request's preconditions: 304 when If-None-Match names the
// current version (RFC 9110 §13.1.2), 412 when If-Match does not.
func respondRead(w http.ResponseWriter, r *http.Request, b bond.Bond, v any) {
	if err := preconditionOf(r.Header).Check(b.BondID, &b); err != nil {
		if bond.KindOf(err) == bond.KindNotModified {
			setHeader(w.Header(), "Etag", etag(b.Version))
			w.WriteHeader(http.StatusNotModified)
			return
		}
		writeError(w, r, err)
		return
	}
	setHeader(w.Header(), "Etag", etag(b.Version))
	encode(w, http.StatusOK, v)
}

// respondWrite answers a write with the bond it left (200), or with its error.
func respondWrite(w http.ResponseWriter, r *http.Request, b bond.Bond, err error) {
	if err != nil {
		writeError(w, r, err)
		return
	}
	respondOK(w, b)
}

// respondOK answers a write that left b: 200 with its entity tag.
func respondOK(w http.ResponseWriter, b bond.Bond) { respondBond(w, http.StatusOK, b) }

// respondBond writes one bond with its entity tag.
func respondBond(w http.ResponseWriter, status int, b bond.Bond) {
	setHeader(w.Header(), "Etag", etag(b.Version))
	encode(w, status, shown(b))
}

// unknownParams returns a problem (value_error.extra at ["query", name]) for
// each parameter of values that route does not take, so that a misspelt
// filter or an option the service lacks (PUT ...?dry_run=1) is never
// ignored: the request would do something else than its sender meant.
func unknownParams(values url.Values, route string, takes []string) []bond.Problem {
	var ps []bond.Problem
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if !slices.Contains(takes, name) {
			msg := "unknown query parameter: " + route + " takes none"
			if len(takes) > 0 {
				msg = "unknown query parameter (" + route + " takes " + strings.Join(takes, ", ") + ")"
			}
			ps = append(ps, bond.Problem{Loc: []string{"query", name}, Type: "value_error.extra", Msg: msg})
		}
	}
	return ps
}

// noQuery is the middleware of every API route that takes no query: a
// parameter is a 422 (unknownParams), a query that is not URL encoding too.
func noQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			values, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				writeError(w, r, bond.Invalid(bond.Problem{Loc: []string{"query"},
					Msg: "the query string is not valid URL encoding", Type: "value_error.query"}))
				return
			}
			if ps := unknownParams(values, r.Method+" "+chi.RouteContext(r.Context()).RoutePattern(), nil); len(ps) > 0 {
				writeError(w, r, bond.Invalid(ps...))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
