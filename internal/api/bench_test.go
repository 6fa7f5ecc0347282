// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
)

// BenchmarkCastBallotHTTP casts ballots over real loopback HTTP, each a
// PUT with its bearer token checked, validated, written with its audit
// event in one transaction. 64 members vote and change their votes from
// 16 concurrent clients. Issue 2's target: 2,000 ballots/s on SQLite.
func BenchmarkCastBallotHTTP(b *testing.B) {
	e := newEnv(b)
	toks := benchPeople(b, e, 64)
	id := e.propose(toks[0], "bench", map[string]any{"title": "Load", "method": "yesno", "weighting": "classes"})
	url := fmt.Sprintf("%s/api/v1/proposals/%d/ballot", e.srv.URL, id)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	bodies := [][]byte{[]byte(`{"choice":"yes"}`), []byte(`{"choice":"no"}`), []byte(`{"choice":"abstain"}`)}
	var next atomic.Int64
	b.SetParallelism(8) // 8 × GOMAXPROCS(2) = 16 clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			req, _ := http.NewRequest("PUT", url, bytes.NewReader(bodies[i%3]))
			req.Header.Set("Authorization", "Bearer "+toks[i%int64(len(toks))])
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("PUT ballot = %d", resp.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ballots/s")
}

func benchPeople(b *testing.B, e *env, n int) []string {
	b.Helper()
	var classes []string
	for i := 1; i < n; i++ {
		classes = append(classes, []string{"workers", "users"}[i%2])
	}
	return e.people("bench", classes...)
}
