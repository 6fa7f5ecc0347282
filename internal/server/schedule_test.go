// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestEvery: a job runs at once, then on every tick, its failures are
// logged and do not stop it, and it ends with its context.
func TestEvery(t *testing.T) {
	var mu sync.Mutex
	var log bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&syncWriter{&mu, &log}, nil))
	ctx, cancel := context.WithCancel(context.Background())
	runs := make(chan int, 100)
	n := 0
	job := func(context.Context) (int, error) {
		n++
		runs <- n
		if n == 2 {
			return 0, errors.New("disk on fire")
		}
		return 1, nil
	}
	done := make(chan struct{})
	go func() { every(ctx, time.Millisecond, logger, "did a thing", job); close(done) }()
	for got := range runs {
		if got == 4 {
			break
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("every did not stop with its context")
	}
	mu.Lock()
	defer mu.Unlock()
	if s := log.String(); !strings.Contains(s, "disk on fire") || !strings.Contains(s, "did a thing") {
		t.Errorf("log = %q, want the failure and the runs", s)
	}
}

type syncWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
