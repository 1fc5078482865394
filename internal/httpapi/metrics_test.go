package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/bond/bondfake"
	"github.com/bondregistry/bond-registry/internal/httpapi"
	"github.com/bondregistry/bond-registry/internal/httpapi/apitest"
	"github.com/bondregistry/bond-registry/internal/metrics"
)

func TestServer_Metrics(t *testing.T) {
	t.Run("served and counted by route pattern", func(t *testing.T) {
		m := metrics.New("test")
		c := newClient(t, httpapi.NewServer(zerolog.Nop(), m.Instrument(newBoltRepo(t)), httpapi.Config{Metrics: m}))
		require.Equal(t, http.StatusNotFound, c.Do(t, http.MethodGet, "/bonds/NOPE", "", nil).Status)
		for _, id := range []string{"M1", "M2"} {
			body := `{"bond_id":"` + id + `","host_account_id":"H` + id + `","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d"}`
			require.Equal(t, http.StatusCreated, c.Do(t, http.MethodPost, "/bonds", body, nil).Status)
		}
		require.Equal(t, http.StatusOK, c.Do(t, http.MethodGet, "/bonds/M1", "", nil).Status)
		require.Equal(t, http.StatusOK, c.Do(t, http.MethodGet, "/bonds/M2", "", nil).Status)

		res := c.Do(t, http.MethodGet, "/metrics", "", nil)
		require.Equal(t, http.StatusOK, res.Status)
		assert.Contains(t, res.Header.Get("Content-Type"), "text/plain")
		for _, want := range []string{
			`http_requests_total{method="GET",route="/bonds/{bond_id}",status="404"} 1`,
			`http_requests_total{method="GET",route="/bonds/{bond_id}",status="200"} 2`,
			`http_requests_total{method="POST",route="/bonds",status="201"} 2`,
			`http_request_duration_seconds_count{method="POST",route="/bonds"} 2`,
			`store_operation_duration_seconds_count{operation="create"} 2`,
		} {
			assert.Contains(t, string(res.Body), want)
		}
	})
	t.Run("unmatched paths share one label, panics count as 500", func(t *testing.T) {
		m := metrics.New("test")
		repo := &bondfake.Repo{Repository: newBoltRepo(t), ReadFn: func(context.Context, string) (bond.Bond, bool, error) { panic("boom") }}
		// Unchecked: the document has no such paths.
		c := apitest.NewClient(t, httpapi.NewServer(zerolog.Nop(), repo, httpapi.Config{Metrics: m}))
		require.Equal(t, http.StatusNotFound, c.Do(t, http.MethodGet, "/no/such/path", "", nil).Status)
		require.Equal(t, http.StatusNotFound, c.Do(t, http.MethodGet, "/another", "", nil).Status)
		require.Equal(t, http.StatusInternalServerError, c.Do(t, http.MethodGet, "/bonds/X", "", nil).Status)

		body := string(c.Do(t, http.MethodGet, "/metrics", "", nil).Body)
		assert.Contains(t, body, `http_requests_total{method="GET",route="`+metrics.UnmatchedRoute+`",status="404"} 2`)
		assert.Contains(t, body, `http_requests_total{method="GET",route="/bonds/{bond_id}",status="500"} 1`)
		assert.NotContains(t, body, "/no/such/path", "a raw path leaked into a label")
	})
	t.Run("absent without metrics", func(t *testing.T) {
		// Unchecked: the document lists /metrics, which this server lacks.
		c := apitest.NewClient(t, httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{}))
		assert.Equal(t, http.StatusNotFound, c.Do(t, http.MethodGet, "/metrics", "", nil).Status)
	})
}
