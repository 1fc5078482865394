package httpapi

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// Large response buffers went back to the pool, so an 88 KB
// request left the process at 721 MB for minutes. A buffer larger than
// maxPooledBuffer is dropped once its response is written.
func TestEncode_PoolKeepsOnlySmallBuffers(t *testing.T) {
	big := errorBody{Detail: strings.Repeat("x", 4*maxPooledBuffer)}
	for range 10 {
		rec := httptest.NewRecorder()
		encode(rec, 422, big)
		if rec.Body.Len() < 4*maxPooledBuffer {
			t.Fatalf("response of %d bytes", rec.Body.Len())
		}
	}
	encode(httptest.NewRecorder(), 200, errorBody{Detail: "small"})
	for range 20 {
		buf := bufs.Get().(*bytes.Buffer)
		if buf.Cap() > maxPooledBuffer {
			t.Fatalf("the pool kept a buffer of %d bytes", buf.Cap())
		}
	}
}

// appendString (and so jsonLen) is exact for the encoder of every response:
// every rune, and a byte that is not UTF-8.
func TestJSONLen_MatchesTheEncoder(t *testing.T) {
	var buf bytes.Buffer
	enc := newEncoder(&buf)
	check := func(s string) {
		buf.Reset()
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got, want := appendString(nil, s), bytes.TrimSuffix(buf.Bytes(), []byte("\n")); !bytes.Equal(got, want) {
			t.Fatalf("%q: appendString %q, the encoder %q", s, got, want)
		}
		if got, want := jsonLen(s), buf.Len()-len(`""`+"\n"); got != want {
			t.Fatalf("%q: jsonLen %d, the encoder %d", s, got, want)
		}
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if utf8.ValidRune(r) {
			check(string(r))
		}
	}
	for b := 0x80; b <= 0xff; b++ {
		check(string([]byte{byte(b)}))
	}
}

// A 422 echoes at most MaxEchoBytes of a loc element as sent: a key of
// control characters (6 bytes each in JSON) is cut sooner than one of
// letters.
func TestTruncate_BoundsTheEncodedForm(t *testing.T) {
	for _, s := range []string{strings.Repeat("\x01", 300), strings.Repeat("\xff", 300), strings.Repeat("\u2028", 300),
		strings.Repeat(`"`, 300), strings.Repeat("x", 300), strings.Repeat("é", 300), strings.Repeat("x", MaxEchoBytes)} {
		got := truncate(s)
		var buf bytes.Buffer
		if err := newEncoder(&buf).Encode(strings.TrimSuffix(got, TruncatedMarker)); err != nil {
			t.Fatal(err)
		}
		if n := buf.Len() - len(`""`+"\n"); n > MaxEchoBytes {
			t.Errorf("%.20q: %d bytes echoed in JSON", s, n)
		}
		if len(s) > MaxEchoBytes != strings.HasSuffix(got, TruncatedMarker) {
			t.Errorf("%.20q: cut is %v", s, strings.HasSuffix(got, TruncatedMarker))
		}
	}
}
