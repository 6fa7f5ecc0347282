// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package govern_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"opencoop/internal/govern"
	"opencoop/internal/store"
	"opencoop/internal/vote"
)

// TestTraceMatchesRecord checks TraceVote, which follows one member's chain
// in SQL, against record.Resolve, which resolves everyone at once, on
// random delegations of every scope (blocks, cycles, chains across
// classes), with and without within_class_only, before and after close.
func TestTraceMatchesRecord(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			const n = 60
			gs, c, founder := bigCoop(t, n)
			ctx := context.Background()
			rnd := rand.New(rand.NewPCG(seed, 7))
			within := seed%2 == 1
			if _, err := gs.DB.Read().Exec(`UPDATE coops SET delegation_within_class = $1`, within); err != nil {
				t.Fatal(err)
			}
			c, _ = gs.Coops.CoopByID(ctx, c.ID)
			p, err := gs.Create(ctx, c, founder, govern.NewProposal{Title: "Traced", Method: vote.YesNo, Topic: "t1",
				ClosesAt: gs.Now().Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			rows, _ := gs.DB.Read().Query(`SELECT id FROM members WHERE coop_id = $1 ORDER BY id`, c.ID)
			for rows.Next() {
				var id int64
				rows.Scan(&id)
				ids = append(ids, id)
			}
			rows.Close()
			var topic int64
			gs.DB.Read().QueryRow(`SELECT id FROM topics WHERE key = 't1'`).Scan(&topic)
			err = gs.DB.InTx(ctx, func(tx *store.Tx) error {
				for _, m := range ids {
					if rnd.IntN(3) == 0 {
						choice := []string{`{"choice":"yes"}`, `{"choice":"no"}`}[rnd.IntN(2)]
						if _, err := tx.Exec(`INSERT INTO ballots (proposal_id, member_id, content, cast_at) VALUES ($1, $2, $3, $4)`,
							p.ID, m, choice, gs.Now()); err != nil {
							return err
						}
					}
					for _, sc := range []struct {
						scope string
						id    int64
					}{{"coop", 0}, {"topic", topic}, {"topic", topic + 1000}, {"proposal", p.ID}} {
						if rnd.IntN(3) != 0 {
							continue
						}
						var to any
						if rnd.IntN(6) != 0 {
							to = ids[rnd.IntN(len(ids))]
							if to == m {
								continue
							}
						}
						if _, err := tx.Exec(`INSERT INTO delegations (coop_id, member_id, scope, scope_id, trustee_id, created_at)
							VALUES ($1, $2, $3, $4, $5, $6)`, c.ID, m, sc.scope, sc.id, to, gs.Now()); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			handles := make([]string, 0, n)
			rows, _ = gs.DB.Read().Query(`SELECT a.handle FROM members m JOIN accounts a ON a.id = m.account_id WHERE m.coop_id = $1`, c.ID)
			for rows.Next() {
				var h string
				rows.Scan(&h)
				handles = append(handles, h)
			}
			rows.Close()
			before := map[string]*govern.Trace{}
			for _, h := range handles {
				if before[h], err = gs.TraceVote(ctx, p, h); err != nil {
					t.Fatal(err)
				}
			}
			if p, err = gs.Close(ctx, c, founder, p.ID); err != nil {
				t.Fatal(err)
			}
			rec, err := gs.Record(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			res, err := rec.Resolve()
			if err != nil {
				t.Fatal(err)
			}
			reasons := map[int32]string{vote.NoDelegation: "none", vote.Blocked: "blocked", vote.Outside: "outside", vote.Cycle: "cycle"}
			var delegated, carriedSum int
			for i, v := range rec.Electorate {
				tr, err := gs.TraceVote(ctx, p, v.Voter)
				if err != nil {
					t.Fatal(err)
				}
				if b, a := traceString(before[v.Voter]), traceString(tr); b != a {
					t.Errorf("%s: trace before close %s, after %s", v.Voter, b, a)
				}
				target := res.Target[i]
				want := govern.Trace{Direct: target == int32(i), Reason: reasons[target], Carries: 0, Via: []string{}}
				// Via names everyone the vote passed, but not the voter it
				// reached; a chain that fails names everyone it passed.
				chain := vote.Chain(res.Next, res.Direct, int32(i))
				if target >= 0 {
					chain = chain[:max(len(chain)-1, 0)]
				}
				for _, m := range chain {
					want.Via = append(want.Via, rec.Electorate[m].Voter)
				}
				if target >= 0 {
					want.Final = rec.Electorate[target].Voter
					if want.Direct {
						want.Carries = res.Carried(target)
						carriedSum += want.Carries
					} else {
						delegated++
					}
				}
				if tr.Direct != want.Direct || tr.Final != want.Final || tr.Reason != want.Reason ||
					!slices.Equal(tr.Via, want.Via) || tr.Carries != want.Carries {
					t.Errorf("%s: trace %+v, record says %+v", v.Voter, *tr, want)
				}
			}
			if delegated == 0 || carriedSum != delegated {
				t.Errorf("%d delegated votes, %d carried: the random case should delegate and the two should agree", delegated, carriedSum)
			}
		})
	}
}

func traceString(t *govern.Trace) string {
	b, _ := json.Marshal(t)
	return string(b)
}
