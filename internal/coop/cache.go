// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package coop

import (
	"slices"
	"sync"
	"time"
)

// cacheFor bounds how long a co-op read by slug is served from memory.
// This process forgets a co-op the moment it changes one (UpdateSettings);
// the bound is for other processes sharing a PostgreSQL database, which
// see the change within it.
const cacheFor = 2 * time.Second

// cacheMax bounds the co-ops kept; past it the cache starts again empty.
const cacheMax = 4096

// coopCache keeps co-ops by slug for the requests that name one: every
// page and API call of a co-op loads it (with its classes) before
// anything else, and on SQLite that query was about an eighth of a
// transfer's cost over HTTP (docs/BENCHMARKS.md). The zero value is ready.
type coopCache struct {
	mu  sync.Mutex
	gen uint64 // moves on every change, so a load that raced one is not kept
	m   map[string]cachedCoop
}

type cachedCoop struct {
	c    Coop
	till time.Time
}

// get returns a copy of the co-op kept for slug, if fresh, and the
// generation a load started now must carry to put.
func (cc *coopCache) get(slug string) (*Coop, uint64) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	e, ok := cc.m[slug]
	if !ok || time.Now().After(e.till) {
		return nil, cc.gen
	}
	c := e.c
	c.Classes = slices.Clone(e.c.Classes) // callers may change their copy
	return &c, cc.gen
}

// put keeps c, loaded at generation gen, unless a change came since.
func (cc *coopCache) put(slug string, c *Coop, gen uint64) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if gen != cc.gen {
		return
	}
	if cc.m == nil || len(cc.m) >= cacheMax {
		cc.m = map[string]cachedCoop{}
	}
	kept := *c
	kept.Classes = slices.Clone(c.Classes)
	cc.m[slug] = cachedCoop{c: kept, till: time.Now().Add(cacheFor)}
}

// forget drops every co-op kept; call it after a change commits.
func (cc *coopCache) forget() {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.gen++
	clear(cc.m)
}
