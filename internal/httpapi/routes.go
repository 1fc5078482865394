package httpapi

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/bondregistry/bond-registry/api"
	"github.com/bondregistry/bond-registry/internal/apikey"
	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/metrics"
)

// guards are the middleware that routes.go puts in front of each route: an
// access guard (open, or a scope to require) and the in-flight limit.
type guards struct {
	read, write   func(http.Handler) http.Handler // need bonds:read, bonds:write
	metrics, docs func(http.Handler) http.Handler // open, or need bonds:read (Config)
	limit         func(http.Handler) http.Handler // Config.MaxInFlight
	pages         *pageBudget                     // Config.PageBytesInFlight
	idempotent    func(http.Handler) http.Handler // Idempotency-Key (Config.Idempotency)
}

// newGuards returns the guards cfg asks for.
func newGuards(cfg Config) guards {
	auth := authenticator{keys: cfg.APIKeys}
	g := guards{
		read:       auth.require(apikey.ScopeRead),
		write:      auth.require(apikey.ScopeWrite),
		metrics:    auth.require(apikey.ScopeRead),
		docs:       auth.require(apikey.ScopeRead),
		limit:      limitInFlight(cfg.MaxInFlight),
		pages:      newPageBudget(cfg.PageBytesInFlight),
		idempotent: idempotent(cfg.Idempotency, cfg.IdempotencyTTL),
	}
	if cfg.PublicMetrics {
		g.metrics = open
	}
	if cfg.PublicDocs {
		g.docs = open
	}
	return g
}

// addRoutes is the one place listing the whole API surface, each route with
// its guards. Collection routes are listed with and without their trailing
// slash. The probes are open and outside the in-flight limit, so that they
// answer under load; every other route counts against the limit and needs
// the scope its group names (when keys are configured). Every POST route
// takes an Idempotency-Key (idempotency.go). Every GET route also
// answers HEAD (RFC 9110 §9.3.2), by the GetHead middleware of NewServer.
func addRoutes(r *chi.Mux, repo bond.Repository, tokens tokenSigner, m *metrics.Metrics, g guards) {
	probe := newStoreCheck(repo)                     // one store check a second, shared by the two probes
	r.Get("/health_check", handleHealthCheck(probe)) // 200 "OK" when the store answers, else 503
	r.Get("/healthz", handleHealthz())               // liveness, no store call
	r.Get("/readyz", handleReadyz(probe))            // readiness: 200 when the store answers, else 503

	list := r.With(personalData, g.limit, g.read)                         // bonds:read; Cache-Control: private, no-cache; the listings check their own query
	read := list.With(noQuery)                                            // and a query parameter is a 422
	write := r.With(personalData, g.limit, g.write, logRevision, noQuery) // bonds:write; bond.revision on the access line; a query parameter is a 422
	post := write.With(g.idempotent)                                      // and a retry with the same Idempotency-Key gets the first answer

	list.Get("/bonds", handleBondList(repo, tokens, g.pages))  // list, filter, paginate (Link rel="next"); pages under Config.PageBytesInFlight
	list.Get("/bonds/", handleBondList(repo, tokens, g.pages)) //   same, trailing slash
	post.Post("/bonds", handleBondCreate(repo))                // create: 201, Location, ETag
	post.Post("/bonds/", handleBondCreate(repo))               //   same, trailing slash
	read.Get("/bonds/{bond_id}", handleBondGet(repo))          // one bond, ETag; If-Match, If-None-Match (304)
	write.Put("/bonds/{bond_id}", handleBondUpdate(repo))      // partial update; If-Match, If-None-Match
	write.Delete("/bonds/{bond_id}", handleBondDelete(repo))   // 204, If-Match

	read.Get("/bonds/{bond_id}/subscribers", handleSubscriberList(repo))             // the subscribers map
	read.Get("/bonds/{bond_id}/subscribers/", handleSubscriberList(repo))            //   same, trailing slash
	post.Post("/bonds/{bond_id}/subscribers", handleSubscriberAdd(repo))             // add or replace one, atomically, If-Match
	post.Post("/bonds/{bond_id}/subscribers/", handleSubscriberAdd(repo))            //   same, trailing slash
	read.Get("/bonds/{bond_id}/subscribers/{sid}", handleSubscriberGet(repo))        // one subscriber
	write.Delete("/bonds/{bond_id}/subscribers/{sid}", handleSubscriberRemove(repo)) // remove one (no-op when absent), If-Match

	list.Get("/bonds/{bond_id}/revisions", handleRevisionList(repo, tokens))                // history, newest first, paginate (Link rel="next"); also after a delete
	list.Get("/bonds/{bond_id}/revisions/", handleRevisionList(repo, tokens))               //   same, trailing slash
	read.Get("/bonds/{bond_id}/revisions/{revision}", handleRevisionGet(repo))              // one revision
	post.Post("/bonds/{bond_id}/revisions/{revision}/restore", handleRevisionRestore(repo)) // restore it as a new revision, If-Match; re-creates a deleted bond; Idempotency-Key

	if m != nil {
		r.With(g.limit, g.metrics, jsonErrors).Method(http.MethodGet, "/metrics", m.Handler()) // Prometheus text format; bonds:read unless PUBLIC_METRICS
	}

	docs := r.With(g.limit, g.docs, jsonErrors)                               // open unless PUBLIC_DOCS=false, then bonds:read
	docs.Get("/openapi.json", handleDocument("application/json", api.JSON())) // the OpenAPI 3 document the UI shows
	docs.Get("/openapi.yaml", handleDocument("application/yaml", api.YAML())) // the same, as written
	docs.Method(http.MethodGet, "/docs", api.DocsHandler())                   // redirect to /docs/index.html
	docs.Method(http.MethodGet, "/docs/*", api.DocsHandler())                 // Swagger UI, assets embedded

	r.NotFound(handleNotFound)                    // JSON 404 for unknown paths
	r.MethodNotAllowed(handleMethodNotAllowed(r)) // JSON 405 with Allow
}

// handleNotFound answers a path that no route matches.
func handleNotFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, errRouteNotFound)
}

// handleMethodNotAllowed answers a known path with a method it lacks, and
// lists the methods it has in Allow (chi's own 405 does, a custom one must;
// RFC 9110 section 15.5.6). chi also calls it for any method it has no route
// for at all (FOO /no/such/path), before it looks at the path: a path that
// no method matches is a 404, as for the methods chi knows.
func handleMethodNotAllowed(routes chi.Routes) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.RawPath
		if path == "" {
			path = r.URL.Path
		}
		var allow []string
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
			if routes.Match(chi.NewRouteContext(), method, path) {
				allow = append(allow, method)
				if method == http.MethodGet {
					allow = append(allow, http.MethodHead)
				}
			}
		}
		if len(allow) == 0 {
			writeError(w, r, errRouteNotFound)
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, r, errMethodNotAllowed)
	}
}

// handleDocument serves a fixed document (the OpenAPI file) with its type.
func handleDocument(contentType string, doc []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(doc)
	}
}
