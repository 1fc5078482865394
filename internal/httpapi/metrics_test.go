package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/httpapi"
	"github.com/bondregistry/bond-registry/internal/httpapi/apitest"
	"github.com/bondregistry/bond-registry/internal/metrics"
)

func TestServer_Metrics(t *testing.T) {
	t.Run("served and counted by route pattern", func(t *testing.T) {
		m := metrics.New("test")
		c := newClient(t, httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{Metrics: m}))
		require.Equal(t, http.StatusNotFound, c.Do(t, http.MethodGet, "/bonds/NOPE", "", nil).Status)

		res := c.Do(t, http.MethodGet, "/metrics", "", nil)
		require.Equal(t, http.StatusOK, res.Status)
		assert.Contains(t, res.Header.Get("Content-Type"), "text/plain")
		assert.Contains(t, string(res.Body), `http_requests_total{method="GET",route="/bonds/{bond_id}",status="404"} 1`)
	})
	t.Run("absent without metrics", func(t *testing.T) {
		// Unchecked: the document lists /metrics, which this server lacks.
		c := apitest.NewClient(t, httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{}))
		assert.Equal(t, http.StatusNotFound, c.Do(t, http.MethodGet, "/metrics", "", nil).Status)
	})
}
