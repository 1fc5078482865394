package main

import (
	"context"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/bondregistry/bond-registry/internal/boltstore"
	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/config"
	"github.com/bondregistry/bond-registry/internal/httpapi"
	"github.com/bondregistry/bond-registry/internal/idempotency"
	"github.com/bondregistry/bond-registry/internal/metrics"
)

// serve runs the HTTP server until ctx is cancelled (SIGINT, SIGTERM), then
// stops accepting, lets in-flight requests finish within the shutdown
// timeout, and closes the store.
func serve(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
	start := time.Now()
	repo, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := repo.Close(); err != nil {
			log.Error().Err(err).Msg("close store")
		}
	}()

	m := metrics.New(version)
	var records idempotency.Store
	if p, ok := repo.(idempotency.Provider); ok {
		records = p.Idempotency()
	}
	handler := httpapi.NewServer(log, m.Instrument(repo), httpapi.Config{
		RequestTimeout: cfg.RequestTimeout,
		TokenKey:       cfg.PageTokenKey,
		Metrics:        m,
		APIKeys:        cfg.APIKeys,
		PublicMetrics:  cfg.PublicMetrics,
		PublicDocs:     cfg.PublicDocs,
		MaxInFlight:    cfg.MaxInFlight,
		MaxHeaderBytes: cfg.MaxHeaderBytes,
		Idempotency:    records,
		IdempotencyTTL: cfg.IdempotencyTTL,
	})
	srv := &http.Server{
		Handler: handler,
		// Headers up to twice MAX_HEADER_BYTES reach the handler, which
		// answers a JSON 431 past MAX_HEADER_BYTES; past this (plus the
		// 4 KiB net/http adds) net/http answers a plain-text 431 itself.
		MaxHeaderBytes:    2 * cfg.MaxHeaderBytes,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       cfg.RequestTimeout + 5*time.Second, // a 1 MiB body on a slow link
		WriteTimeout:      cfg.RequestTimeout + 5*time.Second, // handlers stop at the request deadline
		IdleTimeout:       90 * time.Second,
		ErrorLog:          stdlog.New(errorLogWriter{log}, "", 0),
	}
	addr := listenAddr(cfg)
	if msg := bindNotice(cfg); msg != "" {
		log.Warn().Str("addr", addr).Msg(msg)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info().Str("addr", ln.Addr().String()).Str("config", cfg.String()).
		Dur("startup_ms", time.Since(start)).Msg("serving")

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	log.Info().Dur("timeout", cfg.ShutdownTimeout).Msg("shutting down")
	// A fresh context: ctx is already cancelled, and in-flight requests must
	// still get their time.
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info().Msg("stopped")
	return nil
}

// listenAddr is where serve listens: HOST and PORT, whatever the keys, so
// that the bind is always the operator's choice (config refuses a HOST
// other than loopback without keys, unless ALLOW_UNAUTHENTICATED).
func listenAddr(cfg config.Config) string {
	return net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
}

// bindNotice is the start-up warning about who can reach the service, or ""
// when there is nothing to say: keys guard the routes and HOST was widened
// on purpose.
func bindNotice(cfg config.Config) string {
	switch {
	case cfg.APIKeys.Len() > 0 && cfg.LoopbackHost():
		return "API keys configured, and HOST is loopback: serving local programs only (keys do not widen the bind; set HOST=0.0.0.0 to serve other hosts)"
	case cfg.APIKeys.Len() > 0:
		return ""
	case !cfg.LoopbackHost():
		return "no API keys and ALLOW_UNAUTHENTICATED=true: listening beyond loopback; anyone who reaches the port and sends Host: localhost can read and change every bond (requests for other names get 421)"
	case cfg.AllowUnauthenticated:
		return "no API keys: serving local callers only (HOST is loopback, and a request whose Host is not localhost, 127.0.0.0/8 or [::1] gets 421); ALLOW_UNAUTHENTICATED=true changes nothing until HOST is set wider"
	default:
		return "no API keys (API_KEYS_FILE, API_KEYS): serving local callers only (HOST is loopback, and a request whose Host is not localhost, 127.0.0.0/8 or [::1] gets 421); set keys to serve others"
	}
}

// openStore opens the configured bond store.
func openStore(ctx context.Context, cfg config.Config, log zerolog.Logger) (bond.Repository, error) {
	switch cfg.Store {
	case config.StoreDynamoDB:
		return openDynamo(ctx, cfg, log)
	default:
		return boltstore.Open(cfg.BoltPath, boltstore.WithRetention(cfg.HistoryRetention))
	}
}

// healthcheck asks the local server's /healthz, for container health checks
// in images that have no curl. It probes the port serve listens on with the
// same configuration (PORT, default config.DefaultPort), on loopback, which
// serve always listens on.
func healthcheck(ctx context.Context, cfg config.Config) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	url := healthURL(cfg)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: no answer on PORT %d: %w", cfg.Port, err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", url, res.Status)
	}
	return nil
}

// healthURL is the /healthz URL of a server serving with cfg.
func healthURL(cfg config.Config) string {
	return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Port)) + "/healthz"
}

// errorLogWriter sends net/http's own error lines (TLS, malformed requests)
// to the JSON log instead of bare text on stderr.
type errorLogWriter struct{ log zerolog.Logger }

func (w errorLogWriter) Write(p []byte) (int, error) {
	w.log.Warn().Str("log.logger", "net/http").Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}
