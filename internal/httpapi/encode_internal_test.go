package httpapi

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
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
