package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"sync"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// MaxBodyBytes is the largest request body accepted; a larger one is a 413.
const MaxBodyBytes = 1 << 20

// appender is a response body that writes its own JSON (the bond types do,
// byte for byte as encoding/json would, several times faster).
type appender interface{ AppendJSON(dst []byte) []byte }

// bufs recycles response buffers; a bond's JSON is a few hundred bytes.
var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// encode writes v as JSON with the given status. Headers are set before
// WriteHeader, so they are sent. v is always one of our own types, so
// marshalling cannot fail; if it did, the client would get a 500.
func encode(w http.ResponseWriter, status int, v any) {
	buf := bufs.Get().(*bytes.Buffer)
	defer bufs.Put(buf)
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
