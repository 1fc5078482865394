package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/api"
	"github.com/bondregistry/bond-registry/internal/httpapi"
	"github.com/bondregistry/bond-registry/internal/metrics"
)

// TestRoutes_MatchTheDocument keeps routes.go and api/openapi.yaml in step:
// every route the router serves is documented, and every documented
// operation is served. Trailing-slash twins and the Swagger UI are the only
// routes outside the document.
func TestRoutes_MatchTheDocument(t *testing.T) {
	h := httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{Metrics: metrics.New("test")})
	routes, ok := h.(chi.Routes)
	require.True(t, ok, "NewServer returns a chi router")

	var served []string
	require.NoError(t, chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasPrefix(route, "/docs") {
			return nil // Swagger UI, not an API operation
		}
		if route != "/" {
			route = strings.TrimSuffix(route, "/")
		}
		served = append(served, method+" "+route)
		return nil
	}))
	slices.Sort(served)
	served = slices.Compact(served)

	doc, err := openapi3.NewLoader().LoadFromData(api.YAML())
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	slices.Sort(documented)

	assert.Contains(t, served, "GET /bonds/{bond_id}")
	assert.Len(t, served, 18)
	assert.Equal(t, documented, served)
}
