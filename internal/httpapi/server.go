// Package httpapi is the HTTP layer of the Bond Registry: a chi router with
// the routes of the API contract (routes.go), the middleware every request
// passes through (middleware.go), and the one mapping of domain errors to
// status codes (errors.go).
//
// Handlers follow one shape: decode into domain values, one operation of
// package bond, encode.
// They never log request bodies, subscriber names or emails.
package httpapi

import (
	"crypto/rand"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/rs/zerolog"

	"github.com/bondregistry/bond-registry/internal/apikey"
	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/idempotency"
	"github.com/bondregistry/bond-registry/internal/metrics"
)

// DefaultRequestTimeout bounds a request when Config.RequestTimeout is zero.
const DefaultRequestTimeout = 5 * time.Second

// Config holds the settings of the HTTP layer. The zero value works: a 5 s
// deadline, a random token key, no metrics.
type Config struct {
	// RequestTimeout is the deadline of each request's context; a store call
	// that outlives it gives a 503 with Retry-After.
	RequestTimeout time.Duration

	// TokenKey signs the next_token of GET /bonds. Instances behind one load
	// balancer must share it so that they accept each other's tokens; when
	// empty a random key is drawn, valid for the life of the process.
	TokenKey []byte

	// Metrics, when set, counts and times every request and serves GET
	// /metrics.
	Metrics *metrics.Metrics

	// APIKeys, when it holds keys, guards the bond and subscriber routes
	// (scopes bonds:read and bonds:write, routes.go), and /metrics and the
	// documents unless PublicMetrics and PublicDocs say otherwise. Nil or
	// empty: no route asks for a key, and the service answers local callers
	// only: a request whose Host is not a loopback name or address is a 421
	// (IsLoopbackHost; cmd/bond-registry then listens on loopback, unless
	// told otherwise).
	APIKeys *apikey.Set

	// PublicMetrics serves GET /metrics without a key when APIKeys is set;
	// otherwise it needs bonds:read.
	PublicMetrics bool

	// PublicDocs serves /docs, /openapi.json and /openapi.yaml without a key
	// when APIKeys is set; otherwise they need bonds:read.
	PublicDocs bool

	// MaxInFlight bounds the requests served at once, health probes
	// excepted; one more is a 503 with Retry-After. Zero: no bound.
	MaxInFlight int

	// PageBytesInFlight bounds the bytes of list pages being built or sent
	// at once (pageBudget); a list request that finds it spent until its
	// deadline is a 503 with Retry-After. Zero: DefaultPageBytesInFlight.
	PageBytesInFlight int

	// MaxHeaderBytes bounds a request's request line and header fields; a
	// larger one is a JSON 431. Zero: DefaultMaxHeaderBytes. The http.Server
	// should set its own MaxHeaderBytes above it (net/http answers past that
	// itself, in plain text).
	MaxHeaderBytes int

	// Idempotency, when set, keeps the records of Idempotency-Key
	// (idempotency.go) on the POST routes that routes.go names; nil: the
	// header is ignored.
	Idempotency idempotency.Store

	// IdempotencyTTL is how long a completed record answers retries; an
	// older one is as good as absent. Zero: DefaultIdempotencyTTL.
	IdempotencyTTL time.Duration
}

// NewServer returns the handler of the whole API. log receives one access
// line per request and the causes of internal errors, in ECS field names
// (see newLogMiddleware); it should be an ECS logger (ecszerolog.New, as
// cmd/bond-registry builds it), which gives every line @timestamp,
// log.level and ecs.version.
func NewServer(log zerolog.Logger, repo bond.Repository, cfg Config) http.Handler {
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if len(cfg.TokenKey) == 0 {
		cfg.TokenKey = make([]byte, 32)
		_, _ = rand.Read(cfg.TokenKey) // never fails (crypto/rand docs)
	}

	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = DefaultMaxHeaderBytes
	}

	r := chi.NewRouter()
	r.Use(normalizePath) // before routing: /bo%6Eds is /bonds
	r.Use(newLogMiddleware(log, cfg.Metrics)...)
	r.Use(securityHeaders)
	r.Use(recoverer)
	r.Use(protocolGuard(cfg.MaxHeaderBytes))
	if cfg.APIKeys.Len() == 0 {
		r.Use(localCallersOnly) // no keys: local callers only, by Host too
	}
	r.Use(deadline(cfg.RequestTimeout))
	r.Use(middleware.GetHead)
	addRoutes(r, repo, newTokenSigner(cfg.TokenKey), cfg.Metrics, newGuards(cfg))
	return r
}
