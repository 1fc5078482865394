package httpapi

// Writing responses: every response body goes through encode.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// bufs recycles response buffers; a bond's JSON is a few hundred bytes.
// Only buffers of at most maxPooledBuffer bytes go back: one large list page
// or 422 would otherwise hold its memory for as long as the pool keeps it
// (an 88 KB request once left the process at 721 MB for minutes).
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
	if err := newEncoder(buf).Encode(v); err != nil {
		buf.Reset()
		buf.WriteString(`{"detail":"` + msgInternal + `"}` + "\n")
		status = http.StatusInternalServerError
	}
	writeJSON(w, status, buf.Bytes())
}

// newEncoder is the JSON encoder of every response body: programs read
// these bodies, not HTML pages, so '<', '>' and '&' are sent as they are.
func newEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// writeJSON sends body, a JSON text, with the given status and its length.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = valueJSON
	setHeader(h, "Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // a failed write means the client left
}

// WriteRepresentation writes the representation of b, the body GET
// /bonds/{id} answers for it (its JSON and a newline), to w; export files
// hold one per line. It fails only when w does.
func WriteRepresentation(w io.Writer, b bond.Bond) error {
	return newEncoder(w).Encode(shown(b))
}

// shown returns b as responses show it: subscribers is {} when the bond
// has none, never null.
func shown(b bond.Bond) bond.Bond {
	if b.Subscribers == nil {
		b.Subscribers = map[string]bond.Subscriber{}
	}
	return b
}
