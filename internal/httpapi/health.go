package httpapi

import (
	"net/http"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// status is the body of /healthz and /readyz.
type status struct {
	Status string `json:"status"`
}

// handleHealthCheck handles "GET /health_check", the original service's
// check: 200 "OK" when the store answers (check, at most once a second),
// else 503.
func handleHealthCheck(check *storeCheck) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := ping(r, check); err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, "OK")
	}
}

// handleHealthz handles "GET /healthz", liveness: the process serves HTTP.
// It does not call the store, so a store outage does not get the process
// restarted.
func handleHealthz() http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		encode(w, http.StatusOK, status{Status: "ok"})
	}
}

// handleReadyz handles "GET /readyz", readiness: 200 when the store answers
// (check, at most once a second), else 503, so that a load balancer sends
// no traffic to an instance whose store is down.
func handleReadyz(check *storeCheck) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := ping(r, check); err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, status{Status: "ready"})
	}
}

// ping asks check whether the store answers; any failure is "unavailable"
// (a 503), whatever its kind, because that is what a health check reports.
func ping(r *http.Request, check *storeCheck) error {
	err := check.Check(r.Context())
	if err != nil && bond.KindOf(err) != bond.KindUnavailable {
		err = bond.Unavailable("ping", err)
	}
	return err
}
