// Package metrics exposes the service's Prometheus metrics: HTTP requests by
// chi route pattern, method and status; request durations; store operation
// durations and errors by kind; and build info. Every Metrics value has its
// own registry, so tests and several servers in one process never collide.
package metrics

import (
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// UnmatchedRoute is the route label of requests that matched no route (404s
// and 405s). Using it instead of the raw path keeps label cardinality bounded.
const UnmatchedRoute = "unmatched"

// OtherMethod is the method label of every request whose method is not one
// of RFC 9110's (section 9) plus PATCH (RFC 5789): a client can send any
// token as a method, and each would otherwise become a series for good.
const OtherMethod = "OTHER"

// knownMethods is the closed set of method label values, besides OtherMethod.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodDelete: true, http.MethodConnect: true, http.MethodOptions: true,
	http.MethodTrace: true, http.MethodPatch: true,
}

// Metrics holds the service's collectors and the registry they live in.
type Metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	storeDuration   *prometheus.HistogramVec
	storeErrors     *prometheus.CounterVec
}

// New returns Metrics with a fresh registry holding the service metrics, the
// Go runtime and process collectors, and bond_registry_build_info{version}.
func New(version string) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests served, by chi route pattern, method and status code.",
		}, []string{"route", "method", "status"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by chi route pattern and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		storeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "store_operation_duration_seconds",
			Help:    "Time of a bond store operation, by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"operation"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "store_operation_errors_total",
			Help: "Bond store operations that returned an error, by operation and error kind (bond.Kind).",
		}, []string{"operation", "kind"}),
	}
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "bond_registry_build_info",
		Help: "Always 1; the labels carry the service version and the Go version it was built with.",
	}, []string{"version", "goversion"})
	buildInfo.WithLabelValues(version, runtime.Version()).Set(1)

	m.reg.MustRegister(
		m.requests, m.requestDuration, m.storeDuration, m.storeErrors, buildInfo,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry returns the registry, for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Observe counts and times one finished request. route is its chi route
// pattern (e.g. /bonds/{bond_id}), or "" when no route matched; the raw path
// is never a label. method is counted as itself when it is one of the
// standard methods, else as OtherMethod, so that every label value comes from
// a closed set. The HTTP layer calls it from its access log, which has
// measured the request already.
func (m *Metrics) Observe(route, method string, status int, d time.Duration) {
	if route == "" {
		route = UnmatchedRoute
	}
	if !knownMethods[method] {
		method = OtherMethod
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.requestDuration.WithLabelValues(route, method).Observe(d.Seconds())
}
