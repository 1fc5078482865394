package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"golang.org/x/sync/semaphore"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// DefaultMaxHeaderBytes is the header cap of the zero Config: 32 KiB of
// request line and header fields, 1/32 of net/http's default (1 MiB).
const DefaultMaxHeaderBytes = 32 << 10

// errBusy is the answer when MaxInFlight requests are already being served.
var errBusy = &httpError{http.StatusServiceUnavailable, "The service is busy. Retry later."}

// errHeadersTooLarge is the JSON 431 of a request over the header cap.
func errHeadersTooLarge(limit int) error {
	return &httpError{http.StatusRequestHeaderFieldsTooLarge,
		"Request header fields too large (limit " + strconv.Itoa(limit) + " bytes)."}
}

// protocolGuard checks what every request must satisfy before any route
// sees it:
//
//   - A request with a Transfer-Encoding gets its connection closed once it
//     is answered. RFC 9112 section 6.1: a server that receives both
//     Content-Length and Transfer-Encoding MUST close the connection after
//     responding (a request-smuggling defence). net/http (Go 1.26) drops the
//     Content-Length before a handler runs and keeps the connection open, so
//     a request that had both cannot be told from one that had only
//     Transfer-Encoding: every such request closes its connection.
//   - A request whose request line and header fields take more than
//     maxHeaderBytes is a JSON 431 (RFC 6585 section 5), and its connection
//     is closed. net/http answers a larger one itself, in plain text, before
//     any handler runs (see http.Server.MaxHeaderBytes).
func protocolGuard(maxHeaderBytes int) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if len(r.TransferEncoding) > 0 {
				w.Header().Set("Connection", "close")
			}
			if headerBytes(r) > maxHeaderBytes {
				w.Header().Set("Connection", "close")
				writeError(w, r, errHeadersTooLarge(maxHeaderBytes))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// headerBytes is the size of r's request line and header fields as sent on
// the wire (HTTP/1.1 framing: "Name: value\r\n"), within a few bytes:
// net/http keeps Host out of r.Header and may drop a Content-Length.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2 // request line
	n += len("Host: ") + len(r.Host) + 2
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n + 2 // the empty line
}

// limitInFlight lets at most n requests through at once; one more is a 503
// with Retry-After at once rather than a queue, so that overload sheds load
// instead of growing memory and latency; when that request has a body, the
// answer says Connection: close (writeError). n <= 0 is no limit.
func limitInFlight(n int) func(http.Handler) http.Handler {
	if n <= 0 {
		return open
	}
	slots := make(chan struct{}, n)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
				next.ServeHTTP(w, r)
			default:
				writeError(w, r, errBusy) // before the body: Connection: close

			}
		})
	}
}

// jsonErrors makes the errors of a handler that is not ours (Swagger UI's
// files, the Prometheus handler) the JSON {"detail": ...} body of every other
// error: a status of 400 or more written with another Content-Type is
// replaced by writeError's answer with the same status, and the handler's
// body is dropped.
func jsonErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&jsonErrorWriter{ResponseWriter: w, r: r}, r)
	})
}

type jsonErrorWriter struct {
	http.ResponseWriter
	r        *http.Request
	replaced bool
}

func (w *jsonErrorWriter) WriteHeader(status int) {
	if status < http.StatusBadRequest || w.Header().Get("Content-Type") == "application/json" {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.replaced = true
	writeError(w.ResponseWriter, w.r, &httpError{status, http.StatusText(status)})
}

func (w *jsonErrorWriter) Write(p []byte) (int, error) {
	if w.replaced {
		return len(p), nil // the handler's own error text
	}
	return w.ResponseWriter.Write(p)
}

// DefaultPageBytesInFlight is the page budget of the zero Config: 16 list
// pages of bond.MaxPageBytes being built or sent at once.
const DefaultPageBytesInFlight = 16 * bond.MaxPageBytes

// pageBudget bounds the bytes of list pages being built or sent at once. A
// list request reserves a whole page (bond.MaxPageBytes) before it reads
// the store, gives back what its page did not use once it is encoded, and
// the rest once it is sent: a client that does not read holds its page's
// bytes until the server's write timeout ends the response. A request that
// cannot reserve before its deadline is a 503 with Retry-After. So the
// memory of pages in flight stays under the budget whatever the clients do
// (the decoded bonds of a page being built are a small multiple of it).
type pageBudget struct{ sem *semaphore.Weighted }

func newPageBudget(n int) *pageBudget {
	if n <= 0 {
		n = DefaultPageBytesInFlight
	}
	return &pageBudget{sem: semaphore.NewWeighted(int64(max(n, bond.MaxPageBytes)))}
}

// reserve waits for a whole page of the budget until ctx ends, and reports
// whether it got one.
func (b *pageBudget) reserve(ctx context.Context) bool {
	return b.sem.Acquire(ctx, bond.MaxPageBytes) == nil
}

// release gives n reserved bytes back.
func (b *pageBudget) release(n int64) {
	if n > 0 {
		b.sem.Release(n)
	}
}
