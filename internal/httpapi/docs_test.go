package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/httpapi"
)

func TestServer_Docs(t *testing.T) {
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{}))
	c.HTTP.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	t.Run("openapi.json", func(t *testing.T) {
		res := c.Do(t, http.MethodGet, "/openapi.json", "", nil)
		require.Equal(t, http.StatusOK, res.Status)
		assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
		var doc struct {
			OpenAPI string `json:"openapi"`
		}
		require.NoError(t, json.Unmarshal(res.Body, &doc))
		assert.Regexp(t, `^3\.`, doc.OpenAPI)
	})
	t.Run("openapi.yaml", func(t *testing.T) {
		res := c.Do(t, http.MethodGet, "/openapi.yaml", "", nil)
		require.Equal(t, http.StatusOK, res.Status)
		assert.Equal(t, "application/yaml", res.Header.Get("Content-Type"))
		assert.Contains(t, string(res.Body), "openapi: ")
	})
	t.Run("docs redirects to the UI", func(t *testing.T) {
		res := c.Do(t, http.MethodGet, "/docs", "", nil)
		assert.Contains(t, []int{http.StatusFound, http.StatusMovedPermanently}, res.Status)
		assert.Equal(t, "/docs/index.html", res.Header.Get("Location"))
	})
	t.Run("docs UI", func(t *testing.T) {
		res := c.Do(t, http.MethodGet, "/docs/index.html", "", nil)
		require.Equal(t, http.StatusOK, res.Status)
		assert.Contains(t, res.Header.Get("Content-Type"), "text/html")
	})
}
