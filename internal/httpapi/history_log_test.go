package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/httpapi"
	"github.com/bondregistry/bond-registry/internal/httpapi/apitest"
)

// TestServer_LogRevision checks bond.revision on the access lines: the
// number of the revision each write appended; none on a write that changed
// nothing, on a refused write, or on a read.
func TestServer_LogRevision(t *testing.T) {
	var logs syncBuffer
	c := newClient(t, httpapi.NewServer(newECSLogger(&logs), newBoltRepo(t), httpapi.Config{}))
	steps := []struct {
		method, path, body string
		status             int
		revision           float64 // 0: none on the line
	}{
		{"POST", "/bonds", `{"bond_id":"R","host_account_id":"H","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d"}`, 201, 1},
		{"PUT", "/bonds/R", `{"sub_cost_center":"e"}`, 200, 2},
		{"PUT", "/bonds/R", `{"sub_cost_center":"e"}`, 200, 0}, // no change
		{"POST", "/bonds/R/subscribers", `{"sid":"s","name":"n","email":"s@example.com"}`, 200, 3},
		{"DELETE", "/bonds/R/subscribers/s", "", 200, 4},
		{"DELETE", "/bonds/R/subscribers/s", "", 200, 0}, // absent: no change
		{"PUT", "/bonds/R", `{"sub_cost_center":""}`, 422, 0},
		{"GET", "/bonds/R", "", 200, 0},
		{"DELETE", "/bonds/R", "", 204, 5},
		{"POST", "/bonds/R/revisions/4/restore", "", 200, 6},
		{"GET", "/bonds/R/revisions/6", "", 200, 0},
	}
	for i, s := range steps {
		res := c.Do(t, s.method, s.path, s.body, nil)
		require.Equal(t, s.status, res.Status, "step %d %s %s: %s", i, s.method, s.path, res.Body)
	}
	var access []map[string]any
	for _, l := range waitLines(t, &logs, len(steps)) {
		if l["message"] == "request" {
			access = append(access, l)
		}
	}
	require.Len(t, access, len(steps))
	for i, s := range steps {
		got, ok := access[i]["bond.revision"]
		if s.revision == 0 {
			assert.False(t, ok, "step %d %s %s: no bond.revision, got %v", i, s.method, s.path, got)
			continue
		}
		assert.Equal(t, s.revision, got, "step %d %s %s: bond.revision", i, s.method, s.path)
	}
}

// TestRevision_Actor checks who a revision names: the API key's name with
// keys (and the request's X-Request-ID), anonymous without.
func TestRevision_Actor(t *testing.T) {
	body := `{"bond_id":"A","host_account_id":"H","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d"}`
	revision := func(t *testing.T, c *apitest.Client, h apitest.Header) (actor, requestID string) {
		t.Helper()
		res := c.Do(t, http.MethodGet, "/bonds/A/revisions/1", "", h)
		require.Equal(t, http.StatusOK, res.Status, res.Body)
		var r struct {
			Actor     string `json:"actor"`
			RequestID string `json:"request_id"`
		}
		require.NoError(t, json.Unmarshal([]byte(res.Body), &r))
		return r.Actor, r.RequestID
	}
	t.Run("API key", func(t *testing.T) {
		set, read, write, _ := testKeys(t)
		c := newClient(t, httpapi.NewServer(newECSLogger(&syncBuffer{}), newBoltRepo(t), httpapi.Config{APIKeys: set}))
		h := bearer(write)
		h["X-Request-ID"] = "req-1"
		require.Equal(t, http.StatusCreated, c.Do(t, http.MethodPost, "/bonds", body, h).Status)
		actor, rid := revision(t, c, bearer(read))
		assert.Equal(t, "writer", actor)
		assert.Equal(t, "req-1", rid)
	})
	t.Run("anonymous", func(t *testing.T) {
		c := newClient(t, httpapi.NewServer(newECSLogger(&syncBuffer{}), newBoltRepo(t), httpapi.Config{}))
		res := c.Do(t, http.MethodPost, "/bonds", body, nil)
		require.Equal(t, http.StatusCreated, res.Status)
		actor, rid := revision(t, c, nil)
		assert.Equal(t, "anonymous", actor)
		assert.Equal(t, res.Header.Get("X-Request-ID"), rid, "the generated request id")
		assert.NotEmpty(t, rid)
	})
}
