package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/bond/bondfake"
	"github.com/bondregistry/bond-registry/internal/metrics"
)

func TestMetrics_Observe(t *testing.T) {
	t.Run("CountsByRoutePatternMethodStatus", func(t *testing.T) {
		m := metrics.New("test")
		m.Observe("/bonds/{bond_id}", http.MethodGet, 200, time.Millisecond)
		m.Observe("/bonds/{bond_id}", http.MethodGet, 200, time.Millisecond)
		m.Observe("/bonds/{bond_id}", http.MethodGet, 404, time.Millisecond)
		m.Observe("/bonds/{bond_id}/subscribers/{sid}", http.MethodDelete, 200, time.Millisecond)

		c := m.Registry()
		for _, tc := range []struct {
			route, method, status string
			want                  float64
		}{
			{"/bonds/{bond_id}", "GET", "200", 2},
			{"/bonds/{bond_id}", "GET", "404", 1},
			{"/bonds/{bond_id}/subscribers/{sid}", "DELETE", "200", 1},
		} {
			got := counterValue(t, c, "http_requests_total", map[string]string{
				"route": tc.route, "method": tc.method, "status": tc.status})
			assert.Equal(t, tc.want, got, "%s %s %s", tc.method, tc.route, tc.status)
		}
		got := histogramCount(t, c, "http_request_duration_seconds", map[string]string{
			"route": "/bonds/{bond_id}", "method": "GET"})
		assert.Equal(t, uint64(3), got)
	})

	t.Run("NoRouteIsUnmatched", func(t *testing.T) {
		m := metrics.New("test")
		m.Observe("", http.MethodGet, 404, time.Millisecond)
		m.Observe("", http.MethodGet, 404, time.Millisecond)
		got := counterValue(t, m.Registry(), "http_requests_total", map[string]string{
			"route": metrics.UnmatchedRoute, "method": "GET", "status": "404"})
		assert.Equal(t, float64(2), got)
	})

	// Any token sent as the method became a label value, so 1,000
	// random methods added 15,000 series for good.
	t.Run("UnknownMethodsAreOneLabelValue", func(t *testing.T) {
		m := metrics.New("test")
		for i := range 1000 {
			m.Observe("", "M"+strconv.Itoa(i), 405, time.Millisecond)
		}
		m.Observe("", "get", 404, time.Millisecond) // methods are case-sensitive (RFC 9110 9.1)
		m.Observe("/bonds", http.MethodPatch, 405, time.Millisecond)
		got := counterValue(t, m.Registry(), "http_requests_total", map[string]string{
			"route": metrics.UnmatchedRoute, "method": metrics.OtherMethod, "status": "405"})
		assert.Equal(t, float64(1000), got)
		assert.Equal(t, 3, testutil.CollectAndCount(m.Registry(), "http_requests_total"))
		assert.Equal(t, 2, testutil.CollectAndCount(m.Registry(), "http_request_duration_seconds"))
	})

	t.Run("HandlerServesTextFormatWithBuildInfo", func(t *testing.T) {
		m := metrics.New("v1.2.3")
		m.Observe("/bonds/{bond_id}", http.MethodGet, 200, time.Millisecond)
		body := scrape(t, m.Handler())
		for _, want := range []string{
			`http_requests_total{method="GET",route="/bonds/{bond_id}",status="200"} 1`,
			`http_request_duration_seconds_bucket{method="GET",route="/bonds/{bond_id}",le="+Inf"} 1`,
			`bond_registry_build_info{goversion="go`,
			`version="v1.2.3"} 1`,
			"go_goroutines ",
			"process_",
		} {
			assert.Contains(t, body, want)
		}
	})

	t.Run("SeparateInstancesDoNotShareCounts", func(t *testing.T) {
		a, b := metrics.New("a"), metrics.New("b")
		a.Observe("/bonds/{bond_id}", http.MethodGet, 200, time.Millisecond)
		got := testutil.CollectAndCount(b.Registry(), "http_requests_total")
		assert.Equal(t, 0, got)
	})
}

func TestMetrics_Instrument(t *testing.T) {
	t.Run("CountsOperationsAndErrorKinds", func(t *testing.T) {
		m := metrics.New("test")
		calls := 0
		repo := m.Instrument(&bondfake.Repo{
			ReadFn: func(_ context.Context, id string) (bond.Bond, bool, error) {
				calls++
				switch id {
				case "missing":
					return bond.Bond{}, false, bond.ErrUnreadable(id, "x")
				case "broken":
					return bond.Bond{}, false, errors.New("disk on fire")
				}
				return bond.Bond{BondID: id, Version: 3}, true, nil
			},
			RemoveFn: func(_ context.Context, old bond.Bond, _ bond.Journal) error {
				calls++
				return bond.ErrRace
			},
			PingFn: func(context.Context) error {
				calls++
				return bond.Unavailable("ping", context.DeadlineExceeded)
			},
		})
		ctx := context.Background()

		got, found, err := repo.Read(ctx, "ok")
		require.NoError(t, err)
		assert.True(t, found)
		assert.Equal(t, bond.Bond{BondID: "ok", Version: 3}, got, "result passes through")
		_, _, err = repo.Read(ctx, "missing")
		assert.Equal(t, bond.KindUnreadable, bond.KindOf(err), "error passes through unchanged")
		_, _, _ = repo.Read(ctx, "broken")
		_ = repo.Remove(ctx, bond.Bond{BondID: "x", Version: 2}, bond.Journal{})
		_ = repo.Ping(ctx)
		assert.Equal(t, 5, calls)

		reg := m.Registry()
		assert.Equal(t, uint64(3), histogramCount(t, reg, "store_operation_duration_seconds", map[string]string{"operation": "read"}))
		assert.Equal(t, uint64(1), histogramCount(t, reg, "store_operation_duration_seconds", map[string]string{"operation": "remove"}))
		for _, tc := range []struct {
			op, kind string
			want     float64
		}{
			{"read", "unreadable", 1},
			{"read", "internal", 1},
			{"remove", "unavailable", 1},
			{"ping", "unavailable", 1},
		} {
			got := counterValue(t, reg, "store_operation_errors_total", map[string]string{"operation": tc.op, "kind": tc.kind})
			assert.Equal(t, tc.want, got, "%s %s", tc.op, tc.kind)
		}
		assert.Equal(t, 4, testutil.CollectAndCount(reg, "store_operation_errors_total"),
			"a successful call must not create an error series")
	})

	t.Run("EveryMethodIsForwarded", func(t *testing.T) {
		m := metrics.New("test")
		var called []string
		note := func(op string) { called = append(called, op) }
		repo := m.Instrument(&bondfake.Repo{
			ReadFn:    func(context.Context, string) (bond.Bond, bool, error) { note("read"); return bond.Bond{}, false, nil },
			CreateFn:  func(context.Context, bond.Bond, int64, bond.Journal) error { note("create"); return nil },
			ReplaceFn: func(context.Context, bond.Bond, bond.Bond, bond.Journal) error { note("replace"); return nil },
			RemoveFn:  func(context.Context, bond.Bond, bond.Journal) error { note("remove"); return nil },
			ListFn: func(context.Context, bond.Filter, string, int, func(bond.Bond, func() string) bool) error {
				note("list")
				return nil
			},
			ReadRevisionFn: func(context.Context, string, int64) (bond.Revision, bool, error) {
				note("read_revision")
				return bond.Revision{}, false, nil
			},
			ListRevisionsFn: func(context.Context, string, int64, int, func(bond.Revision) bool) error {
				note("list_revisions")
				return nil
			},
			PingFn:  func(context.Context) error { note("ping"); return nil },
			CloseFn: func() error { note("close"); return nil },
		})
		ctx := context.Background()
		_, _, _ = repo.Read(ctx, "a")
		_ = repo.Create(ctx, bond.Bond{}, 0, bond.Journal{})
		_ = repo.Replace(ctx, bond.Bond{}, bond.Bond{}, bond.Journal{})
		_ = repo.Remove(ctx, bond.Bond{}, bond.Journal{})
		_ = repo.List(ctx, bond.Filter{}, "", 10, nil)
		_, _, _ = repo.ReadRevision(ctx, "a", 1)
		_ = repo.ListRevisions(ctx, "a", 0, 10, nil)
		_ = repo.Ping(ctx)
		_ = repo.Close()

		want := []string{"read", "create", "replace", "remove", "list", "read_revision", "list_revisions", "ping", "close"}
		assert.Equal(t, want, called)
		for _, op := range want[:len(want)-1] {
			assert.Equal(t, uint64(1), histogramCount(t, m.Registry(), "store_operation_duration_seconds", map[string]string{"operation": op}), op)
		}
	})
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain"), rec.Header().Get("Content-Type"))
	return rec.Body.String()
}
