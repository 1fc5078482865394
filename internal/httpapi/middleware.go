package httpapi

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"
	"go.opentelemetry.io/otel/propagation"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/metrics"
)

// RequestIDHeader carries the request id: taken from the request when it is
// a sane token, generated otherwise, and always returned in the response.
const RequestIDHeader = "X-Request-ID"

// maxRequestIDLen bounds a client's request id so that it cannot bloat logs.
const maxRequestIDLen = 128

// newLogMiddleware returns, outermost first, the middleware that gives the
// request its scope (requestScope: its id, its logger, its audit context)
// and writes one access line per request once its answer is sent
// (accessLine), also counting it in m when m is not nil (one measurement
// for both).
func newLogMiddleware(log zerolog.Logger, m *metrics.Metrics) []func(http.Handler) http.Handler {
	return []func(http.Handler) http.Handler{requestScope(log), accessLine(m)}
}

// accessLine writes the access line of each request. Only method, route
// and path are logged: never a query string or a body. An answer of known
// length (Content-Length set, or a status without a body) is sent before
// the line is written, so that a log output that blocks (stdout full) holds
// up the line, never an answer already made (a committed write's 201 lost
// to the write deadline); other answers (a stream) end as net/http ends
// them, after the line.
//
// The access line's fields are ECS 8 names (https://www.elastic.co/guide/en/ecs/current/ecs-http.html):
// http.request.method, http.route (the chi route pattern, as OpenTelemetry's
// semantic conventions name it), url.path, http.response.status_code,
// http.response.body.bytes (the body bytes sent: 0 on a HEAD) and
// event.duration (the handler's time, in nanoseconds, as ECS says);
// message is "request".
func accessLine(m *metrics.Metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			aw := &accessWriter{ResponseWriter: w}
			next.ServeHTTP(aw, r)
			d := time.Since(start)
			status, size := aw.status, aw.bytes
			if status == 0 {
				status = http.StatusOK // the handler wrote nothing
			}
			if r.Method == http.MethodHead {
				size = 0 // net/http drops a HEAD's body, but counts it as written
			}
			if _, known := w.Header()["Content-Length"]; known || status == http.StatusNoContent || status == http.StatusNotModified {
				_ = http.NewResponseController(w).Flush() // a client that left: nothing to send
			}
			route := ""
			if rctx := chi.RouteContext(r.Context()); rctx != nil {
				route = rctx.RoutePattern()
			}
			if m != nil {
				m.Observe(route, r.Method, status, d)
			}
			hlog.FromRequest(r).Info().
				Str("http.request.method", r.Method).
				Str("http.route", route).
				Str("url.path", r.URL.Path).
				Int("http.response.status_code", status).
				Int("http.response.body.bytes", size).
				Int64("event.duration", d.Nanoseconds()).
				Msg("request")
		})
	}
}

// accessWriter counts what a handler writes: the status it sent first and
// the body bytes. Flush and Unwrap reach the writer beneath (so do
// http.ResponseController's other methods, through Unwrap).
type accessWriter struct {
	http.ResponseWriter
	status int // 0 until WriteHeader or Write
	bytes  int
}

func (a *accessWriter) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
	a.ResponseWriter.WriteHeader(status)
}

func (a *accessWriter) Write(p []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	n, err := a.ResponseWriter.Write(p)
	a.bytes += n
	return n, err
}

// Flush sends what is buffered (http.Flusher).
func (a *accessWriter) Flush() {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	_ = http.NewResponseController(a.ResponseWriter).Flush()
}

// Unwrap returns the writer beneath, for http.ResponseController.
func (a *accessWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// requestScope gives each request, in one context: its id (X-Request-ID
// from the request, or generated; always set on the response), its own
// copy of log with http.request.id (so every line of the request carries
// it; hlog.FromRequest and zerolog.Ctx find it) and its audit context (the
// request id of the revisions its writes append, actor
// bond.AnonymousActor until a key is known). When the request carries a
// valid W3C traceparent header (https://www.w3.org/TR/trace-context/), its
// trace id goes on the logger as trace.id, so that the lines join the
// caller's trace.
func requestScope(log zerolog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get(RequestIDHeader)
			if !validRequestID(id) {
				id = rand.Text()
			}
			setHeader(w.Header(), "X-Request-Id", id) // RequestIDHeader, canonical
			c := log.With().Str("http.request.id", id)
			if _, ok := r.Header["Traceparent"]; ok { // the canonical name of traceparent
				trace := oteltrace.SpanContextFromContext(
					propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header)))
				if trace.HasTraceID() {
					c = c.Str("trace.id", trace.TraceID().String())
				}
			}
			l := c.Logger()
			ctx := l.WithContext(bond.WithAudit(r.Context(), bond.AnonymousActor, id)) // the API key guard names the key instead
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// validRequestID accepts 1-128 visible ASCII characters, so that a client's
// id can go in a header and a log line as it is.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// recoverer turns a panic into our JSON 500 and logs it, with its stack, at
// error level. http.ErrAbortHandler is re-raised: it is net/http's way to
// abort a response on purpose.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler { //nolint:errorlint // a sentinel value, compared as net/http does
				panic(rec)
			}
			hlog.FromRequest(r).Error().
				Str("error.message", fmt.Sprint(rec)).
				Bytes("error.stack_trace", debug.Stack()).
				Msg("handler panicked")
			writeError(w, r, errPanic)
		}()
		next.ServeHTTP(w, r)
	})
}

// logRevision puts the number of the revision a write appended on the
// request's logger as bond.revision, so its access line says which
// revision it made; a write that changed nothing has none.
func logRevision(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if n := bond.WrittenRevision(r.Context()); n > 0 {
			zerolog.Ctx(r.Context()).UpdateContext(func(c zerolog.Context) zerolog.Context {
				return c.Int64("bond.revision", n)
			})
		}
	})
}
