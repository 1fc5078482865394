package httpapi

// Writing responses: every response body goes through encode.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

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
	if b, ok := v.(bond.Bond); ok {
		buf.Write(appendRepresentation(buf.AvailableBuffer(), b))
	} else if err := newEncoder(buf).Encode(v); err != nil {
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
	_, err := w.Write(appendRepresentation(nil, b))
	return err
}

// appendRepresentation appends the representation of b to dst and returns
// it: the bytes encoding/json's Encoder (SetEscapeHTML(false), as
// newEncoder) writes for shown(b), that is the members of the declaration
// (bond.BondID, bond.BondFields, then subscribers in the order of their
// sids, each with bond.SubscriberFields) and a newline, written without
// reflection. TestRepresentation holds it to encoding/json's bytes.
func appendRepresentation(dst []byte, b bond.Bond) []byte {
	dst = append(dst, '{')
	dst = appendMember(dst, bond.BondID.Name, bond.BondID.Get(b))
	for _, f := range bond.BondFields {
		dst = appendMember(append(dst, ','), f.Name, f.Get(b))
	}
	dst = append(appendString(append(dst, ','), bond.SubscribersName), ':', '{')
	sids := make([]string, 0, 8) // on the stack for most bonds
	for sid := range b.Subscribers {
		sids = append(sids, sid)
	}
	slices.Sort(sids) // encoding/json sorts map keys by their bytes too
	for i, sid := range sids {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(appendString(dst, sid), ':', '{')
		s := b.Subscribers[sid]
		for j, f := range bond.SubscriberFields {
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = appendMember(dst, f.Name, f.Get(s))
		}
		dst = append(dst, '}')
	}
	return append(dst, '}', '}', '\n')
}

// appendMember appends the object member "name":"value".
func appendMember(dst []byte, name, value string) []byte {
	return appendString(append(appendString(dst, name), ':'), value)
}

// hexDigits are the digits of a \u escape.
const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string (RFC 8259 section 7) exactly as
// encoding/json writes it without HTML escaping: '"', '\\' and the control
// characters escaped (\b, \f, \n, \r, \t, else \u00XX), each byte of
// invalid UTF-8 as \ufffd, U+2028 and U+2029 as \u2028 and \u2029, the
// rest as it is.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(append(dst, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(append(dst, s[start:i]...), '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(dst, s[start:]...), '"')
}

// shown returns b as responses show it: subscribers is {} when the bond
// has none, never null.
func shown(b bond.Bond) bond.Bond {
	if b.Subscribers == nil {
		b.Subscribers = map[string]bond.Subscriber{}
	}
	return b
}
