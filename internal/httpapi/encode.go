package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// MaxBodyBytes is the largest request body accepted; a larger one is a 413.
const MaxBodyBytes = 1 << 20

// encode writes v as JSON with the given status. Headers are set before
// WriteHeader, so they are sent. v is always one of our own types, so
// marshalling cannot fail; if it did, the client would get a 500.
func encode(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		buf.Reset()
		buf.WriteString(`{"detail":"` + msgInternal + `"}` + "\n")
		status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // a failed write means the client left
}

// readBody returns the request body: 415 when it is not JSON, 413 when it is
// over MaxBodyBytes. An empty body without a Content-Type is let through, so
// that the decoder reports it as a 422 ("the request body is empty").
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
		return nil, errBodyRead
	}
	return data, nil
}

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
	return v // net/http already checked the escapes; not reached
}

// pathBondID returns the {bond_id} of the path and its problems.
func pathBondID(r *http.Request) (string, []bond.Problem) {
	id := pathValue(r, "bond_id")
	return id, bond.ValidateBondID(id, "path", "bond_id")
}

// pathSID returns the {sid} of the path and its problems.
func pathSID(r *http.Request) (string, []bond.Problem) {
	sid := pathValue(r, "sid")
	return sid, bond.ValidateID(sid, "path", "sid")
}

// withProblems adds the path's problems to err, the error of decoding the
// body, so that one 422 lists them all. A non-validation err (none here, but
// kept safe) is returned as it is.
func withProblems(path []bond.Problem, err error) error {
	if err == nil {
		if len(path) == 0 {
			return nil
		}
		return bond.Invalid(path...)
	}
	var be *bond.Error
	if len(path) == 0 || !errors.As(err, &be) || be.Kind != bond.KindInvalid {
		return err
	}
	return bond.Invalid(append(append([]bond.Problem{}, path...), be.Problems...)...)
}

// respondBond writes one bond with its ETag.
func respondBond(w http.ResponseWriter, status int, b bond.Bond) {
	if b.Subscribers == nil {
		b.Subscribers = map[string]bond.Subscriber{}
	}
	w.Header().Set("ETag", b.ETag())
	encode(w, status, b)
}
