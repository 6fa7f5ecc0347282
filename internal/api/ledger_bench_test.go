// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTransferHTTP is the ledger's load test: single transfers over
// real loopback HTTP, each a POST with its bearer token checked, the
// amount read, the caller's right to move the money checked, the
// transfer and both balances written with its audit event in one
// transaction. 64 members pay each other from 16 or 64 concurrent
// clients (the client and the server share the machine): the more
// requests arrive together, the more each group commit writes at once
// (ledger/group.go). Issue target: 5,000 transfers/s on SQLite.
func BenchmarkTransferHTTP(b *testing.B) {
	e := newEnv(b)
	toks := benchPeople(b, e, 64)
	var fund []any
	for i := 1; i < len(toks); i++ {
		fund = append(fund, tr(fmt.Sprintf("fund%d", i), "external", fmt.Sprintf("member:m%d", i), 1<<40, "kind", "income"))
	}
	e.must(201, "POST", "/api/v1/coops/bench/transfers/batch", toks[0], map[string]any{"transfers": fund})
	url := e.srv.URL + "/api/v1/coops/bench/transfers"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var next atomic.Int64 // transfer ids, new across every run
	for _, clients := range []int{16, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			b.SetParallelism(clients / runtime.GOMAXPROCS(0))
			b.ResetTimer()
			cpu0 := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1)
					from, to := 1+i%63, 1+(i*7+3)%63
					if from == to {
						to = from%63 + 1
					}
					body := fmt.Sprintf(`{"id":"h%d","debit":"member:m%d","credit":"member:m%d","amount":%d,"kind":"payment"}`, i, from, to, 1+i%500)
					req, _ := http.NewRequest("POST", url, bytes.NewReader([]byte(body)))
					req.Header.Set("Authorization", "Bearer "+toks[from])
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 201 {
						b.Errorf("POST transfer = %d", resp.StatusCode)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "transfers/s")
			// CPU per transfer, client and server together, and the cores
			// busy: below 2 the server waits on its one writer rather than
			// on the CPU.
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
			b.ReportMetric(cpu.Seconds()/b.Elapsed().Seconds(), "cores")
		})
	}
	e.checkBooks(toks[0], "bench")
}
