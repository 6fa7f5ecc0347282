// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ballotfile

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
)

// randomPrefLib writes a .soi file of n ballots over c candidates, one line
// per ballot (no merging of equal orders, the parser's worst case), drawn
// as in the vote package's benchmarks: a uniform length 1..c and
// candidates without replacement with popularity 1..c.
func randomPrefLib(seed uint64, n, c int) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x0c00b))
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# FILE NAME: bench.soi\n# DATA TYPE: soi\n# NUMBER ALTERNATIVES: %d\n# NUMBER VOTERS: %d\n", c, n)
	for i := range c {
		fmt.Fprintf(&buf, "# ALTERNATIVE NAME %d: Candidate %d\n", i+1, i+1)
	}
	pop := make([]int, c)
	line := make([]byte, 0, 64)
	for range n {
		for j := range pop {
			pop[j] = j + 1
		}
		total := c * (c + 1) / 2
		l := 1 + rng.IntN(c)
		line = append(line[:0], "1: "...)
		for k := range l {
			x := rng.IntN(total)
			j := 0
			for x >= pop[j] {
				x -= pop[j]
				j++
			}
			if k > 0 {
				line = append(line, ',')
			}
			line = strconv.AppendInt(line, int64(j+1), 10)
			total -= pop[j]
			pop[j] = 0
		}
		line = append(line, '\n')
		buf.Write(line)
	}
	return buf.Bytes()
}

var (
	benchOnce sync.Once
	benchFile []byte
)

func BenchmarkParsePrefLib(b *testing.B) {
	benchOnce.Do(func() { benchFile = randomPrefLib(1, 1_000_000, 10) })
	b.SetBytes(int64(len(benchFile)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := ParsePrefLib(benchFile)
		if err != nil {
			b.Fatal(err)
		}
		if len(f.Ballots) != 1_000_000 {
			b.Fatalf("%d ballots", len(f.Ballots))
		}
	}
}
