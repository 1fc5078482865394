package httpapi

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/bondregistry/bond-registry/api"
	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/metrics"
)

// addRoutes is the one place listing the whole API surface. Collection
// routes are listed with and without their trailing slash. Every GET route
// also answers HEAD (RFC 9110 §9.3.2), by the GetHead middleware of
// NewServer.
func addRoutes(r *chi.Mux, repo bond.Repository, tokens tokenSigner, m *metrics.Metrics) {
	r.Get("/health_check", handleHealthCheck(repo)) // 200 "OK" when the store answers, else 503
	r.Get("/healthz", handleHealthz())              // liveness, no store call
	r.Get("/readyz", handleReadyz(repo))            // readiness: 200 when the store answers, else 503

	r.Get("/bonds", handleBondList(repo, tokens))        // list, filter, paginate (Link rel="next")
	r.Get("/bonds/", handleBondList(repo, tokens))       //   same, trailing slash
	r.Post("/bonds", handleBondCreate(repo))             // create: 201, Location, ETag
	r.Post("/bonds/", handleBondCreate(repo))            //   same, trailing slash
	r.Get("/bonds/{bond_id}", handleBondGet(repo))       // one bond, ETag; 304 on If-None-Match
	r.Put("/bonds/{bond_id}", handleBondUpdate(repo))    // partial update, If-Match
	r.Delete("/bonds/{bond_id}", handleBondDelete(repo)) // 204, If-Match

	r.Get("/bonds/{bond_id}/subscribers", handleSubscriberList(repo))            // the subscribers map
	r.Get("/bonds/{bond_id}/subscribers/", handleSubscriberList(repo))           //   same, trailing slash
	r.Post("/bonds/{bond_id}/subscribers", handleSubscriberAdd(repo))            // add or replace one, atomically, If-Match
	r.Post("/bonds/{bond_id}/subscribers/", handleSubscriberAdd(repo))           //   same, trailing slash
	r.Get("/bonds/{bond_id}/subscribers/{sid}", handleSubscriberGet(repo))       // one subscriber
	r.Delete("/bonds/{bond_id}/subscribers/{sid}", handleSubscriberRemove(repo)) // remove one (no-op when absent), If-Match

	if m != nil {
		r.Method(http.MethodGet, "/metrics", m.Handler()) // Prometheus text format
	}

	r.Get("/openapi.json", handleDocument("application/json", api.JSON())) // the OpenAPI 3 document the UI shows
	r.Get("/openapi.yaml", handleDocument("application/yaml", api.YAML())) // the same, as written
	r.Method(http.MethodGet, "/docs", api.DocsHandler())                   // redirect to /docs/index.html
	r.Method(http.MethodGet, "/docs/*", api.DocsHandler())                 // Swagger UI, assets embedded

	r.NotFound(handleNotFound)                    // JSON 404 for unknown paths
	r.MethodNotAllowed(handleMethodNotAllowed(r)) // JSON 405 with Allow
}

// handleNotFound answers a path that no route matches.
func handleNotFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, errRouteNotFound)
}

// handleMethodNotAllowed answers a known path with a method it lacks, and
// lists the methods it has in Allow (chi's own 405 does, a custom one must).
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
