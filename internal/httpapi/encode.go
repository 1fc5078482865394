package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// MaxBodyBytes is the largest request body accepted; a larger one is a 413.
const MaxBodyBytes = 1 << 20

// appender is a response body that writes its own JSON (the bond types do,
// byte for byte as encoding/json would, several times faster).
type appender interface{ AppendJSON(dst []byte) []byte }

// bufs recycles response buffers; a bond's JSON is a few hundred bytes.
// Only buffers of at most maxPooledBuffer bytes go back: one large list page
// or 422 would otherwise hold its memory for as long as the pool keeps it
// (issue 10: an 88 KB request left the process at 721 MB for minutes).
var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer is the capacity above which encode drops a buffer instead
// of putting it back in bufs.
const maxPooledBuffer = 64 << 10

// encode writes v as JSON with the given status. Headers are set before
// WriteHeader, so they are sent. v is always one of our own types, so
// marshalling cannot fail; if it did, the client would get a 500.
func encode(w http.ResponseWriter, status int, v any) {
	buf := bufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledBuffer { // a large one would outlive its response
			bufs.Put(buf)
		}
	}()
	buf.Reset()
	if a, ok := v.(appender); ok {
		buf.Write(append(a.AppendJSON(buf.AvailableBuffer()), '\n'))
	} else {
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			buf.Reset()
			buf.WriteString(`{"detail":"` + msgInternal + `"}` + "\n")
			status = http.StatusInternalServerError
		}
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // a failed write means the client left
}

// bondsJSON is a page of bonds, as a JSON array.
type bondsJSON []bond.Bond

func (bs bondsJSON) AppendJSON(dst []byte) []byte {
	dst = append(dst, '[')
	for i, b := range bs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = b.AppendJSON(dst)
	}
	return append(dst, ']')
}

// subscribersJSON is a bond's subscribers, as a JSON object keyed by sid.
type subscribersJSON map[string]bond.Subscriber

func (s subscribersJSON) AppendJSON(dst []byte) []byte { return bond.AppendSubscribersJSON(dst, s) }

// readBody returns the request body: 415 when it is not JSON, 413 when it is
// over MaxBodyBytes, 422 value_error.jsondecode when it is not UTF-8. An
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
		return nil, errBodyRead
	}
	if !utf8.Valid(data) { // encoding/json would turn each bad byte into U+FFFD
		return nil, invalidUTF8(data)
	}
	return data, nil
}

// invalidUTF8 is the 422 of a body that is not UTF-8: RFC 8259 section 8.1
// says JSON text exchanged between systems MUST be UTF-8.
func invalidUTF8(data []byte) error {
	at := 0
	for at < len(data) {
		r, size := utf8.DecodeRune(data[at:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		at += size
	}
	return bond.Invalid(bond.Problem{Loc: []string{"body"},
		Msg:  fmt.Sprintf("malformed JSON at byte %d: invalid UTF-8 (RFC 8259 section 8.1: JSON text is UTF-8)", at),
		Type: "value_error.jsondecode"})
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

// getPathBond returns the bond the path's {bond_id} names, after checking
// the id and the path's other parameters (their problems in more).
func getPathBond(r *http.Request, repo bond.Repository, more ...bond.Problem) (bond.Bond, error) {
	id, problems := pathBondID(r)
	if err := withProblems(append(problems, more...), nil); err != nil {
		return bond.Bond{}, err
	}
	return repo.Get(r.Context(), id)
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

// conditionalWrite runs one write of bond id under the request's If-Match
// (write gets the expected version, or bond.AnyVersion) and answers 200 with
// the bond it returns, or with the error.
func conditionalWrite(w http.ResponseWriter, r *http.Request, id string, write func(ctx context.Context, ifVersion int64) (bond.Bond, error)) {
	cond, err := parseIfMatch(r)
	if err == nil {
		var b bond.Bond
		if b, err = write(r.Context(), cond.version); err == nil {
			respondBond(w, http.StatusOK, b)
			return
		}
		err = cond.notFoundIsStale(err, id)
	}
	writeError(w, r, err)
}

// respondBond writes one bond with its ETag (nil subscribers encode as {}).
func respondBond(w http.ResponseWriter, status int, b bond.Bond) {
	w.Header().Set("ETag", b.ETag())
	encode(w, status, b)
}
