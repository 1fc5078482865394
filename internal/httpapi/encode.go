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
	"time"

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

// errorWriteGrace is the time the answer to a body that could not be read
// has to get out.
const errorWriteGrace = time.Second

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
		// A body that came too slowly ends at the server's read timeout,
		// and its write timeout ends a few milliseconds later: without
		// more time the answer lost that race about half the time and the
		// client saw the connection closed unanswered.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(errorWriteGrace))
		return nil, errBodyRead
	}
	return data, nil
}
