// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package server wires the domain services, the JSON API and the web pages
// into one HTTP handler with its middleware, and runs the scheduler that
// closes proposals on time.
package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"opencoop/internal/api"
	"opencoop/internal/app"
	"opencoop/internal/store"
	"opencoop/internal/web"
)

// App is one instance: its services, served over HTTP.
type App struct {
	*app.Services
}

// NewApp builds the instance's services; see [app.New].
func NewApp(db *store.DB, now func() time.Time, ballotKey []byte, logger *slog.Logger, baseURL string) *App {
	return &App{app.New(db, now, ballotKey, logger, baseURL)}
}

// BallotKey reads the secret-ballot key from dir, creating it on first use.
func BallotKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, "ballot.key")
	b, err := os.ReadFile(path)
	if err == nil && len(b) == 32 {
		return b, nil
	}
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("server: %s is unreadable or not 32 bytes: %v", path, err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("server: create data folder: %w", err)
	}
	b = make([]byte, 32)
	rand.Read(b)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("server: write ballot key: %w", err)
	}
	return b, nil
}

// Handler returns the whole HTTP handler: API, pages, health and metrics,
// behind the middleware chain.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	api.Register(mux, a.Services)
	web.Register(mux, a.Services)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.DB.Read().PingContext(ctx); err != nil {
			a.Logger.Warn("health check: database unreachable", "err", err)
			http.Error(w, "database unreachable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := newMetrics(reg)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return a.middleware(mux, m)
}

// middleware is the chain, outermost first: recover, logging and metrics,
// security headers, cross-origin protection (CSRF for the pages' forms;
// API clients send no Origin or Sec-Fetch-Site and pass). Sessions and
// per-route auth are the web and api packages' own.
func (a *App) middleware(next http.Handler, m *metrics) http.Handler {
	csrf := http.NewCrossOriginProtection()
	h := csrf.Handler(next)
	h = securityHeaders(h)
	h = a.logging(h, m)
	return a.recoverer(h)
}

func (a *App) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.Logger.Error("panic serving request", "method", r.Method, "path", r.URL.Path,
					"err", fmt.Errorf("%v", v), "stack", string(debug.Stack()))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (a *App) logging(next http.Handler, m *metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := time.Since(start)
		pattern := r.Pattern
		if pattern == "" {
			pattern = "unmatched"
		}
		m.requests.WithLabelValues(pattern, strconv.Itoa(sw.status)).Inc()
		m.duration.WithLabelValues(pattern).Observe(d.Seconds())
		a.Logger.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", d)
	})
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; form-action 'self'")
		next.ServeHTTP(w, r)
	})
}

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "opencoop_http_requests_total",
			Help: "HTTP requests by route pattern and status."}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "opencoop_http_request_duration_seconds",
			Help: "HTTP request latency by route pattern.", Buckets: prometheus.DefBuckets}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// every runs job at once and then every interval until ctx ends, logging
// what it did (a count of things) and any error. Each domain package
// exposes its due work as such a job; this is the one scheduler.
func every(ctx context.Context, interval time.Duration, logger *slog.Logger, did string, job func(context.Context) (int, error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := job(ctx); err != nil && ctx.Err() == nil {
			logger.Error("scheduled job failed", "job", did, "err", err)
		} else if n > 0 {
			logger.Info(did, "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Serve listens on addr until ctx ends, running the scheduler beside it,
// then shuts down gracefully.
func (a *App) Serve(ctx context.Context, addr string) error {
	srv := &http.Server{Addr: addr, Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go every(ctx, time.Second, a.Logger, "closed due proposals", a.Govern.CloseDue)
	go every(ctx, time.Second, a.Logger, "expired due pending transfers", a.Ledger.ExpireDue)
	go every(ctx, time.Minute, a.Logger, "ran due pools and levies", a.Pool.RunDue)
	go every(ctx, time.Second, a.Logger, "closed due budget rounds", a.Budget.CloseDue)
	go every(ctx, time.Second, a.Logger, "closed due share offers", a.Shares.CloseDue)
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	a.Logger.Info("serving", "addr", addr, "url", a.BaseURL, "engine", a.DB.Engine())
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	shut, done := context.WithTimeout(context.Background(), 10*time.Second)
	defer done()
	return srv.Shutdown(shut)
}
