// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ledger_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/ledger"
	"opencoop/internal/store"
	"opencoop/internal/storetest"
)

// The crash test (RULES.md 3.1, DESIGN.md "Ledger invariants hold at
// every commit"): a child process — this test binary again, told so by
// crashChild in its environment — writes transfers as fast as it can and
// prints the id of each one the ledger acknowledged. The parent kills it
// with SIGKILL at random moments, starts it again on the same database,
// and at the end checks that every acknowledged transfer is in the
// journal exactly once with the content asked for, that at most the one
// request in flight at each kill was written unacknowledged, that Check
// finds the books whole and that the audit chain verifies. It runs on
// SQLite, and on PostgreSQL when OPENCOOP_TEST_POSTGRES is set.

const crashChild = "OPENCOOP_LEDGER_CRASH_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(crashChild) != "" {
		if err := runCrashChild(); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashAmount is the amount of transfer id, so that the parent can check
// each acknowledged transfer's content without being told it.
func crashAmount(id string) int64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return int64(h.Sum64()%1000) + 1
}

// crashBatch is how many transfers a batch of the child holds, and so the
// most a kill can leave written but unacknowledged.
const crashBatch = 10

func crashRequest(id string) ledger.Request {
	return ledger.Request{ID: id, Debit: "external", Credit: "member:bo", Amount: crashAmount(id), Kind: "income", Ref: "crash test"}
}

func TestCrashRecovery(t *testing.T) {
	cfg := storetest.Config(t)
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	setUpCrashCoop(t, db)
	db.Close()

	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("seed %d", seed)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	acked := map[string]int{}
	var replayable []string
	const rounds = 6
	for round := range rounds {
		cmd := exec.Command(exe, "-test.run=^$")
		replay := replayable[max(0, len(replayable)-3):]
		cmd.Env = append(os.Environ(), crashChild+"=1", fmt.Sprintf("CRASH_ROUND=%d", round),
			"CRASH_PATH="+cfg.Path, "CRASH_URL="+cfg.URL, "CRASH_REPLAY="+strings.Join(replay, ","))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Kill it at a random moment once it is writing.
		wait := time.Duration(50+rng.IntN(250)) * time.Millisecond
		var kill <-chan time.Time
		n, replayed := 0, 0
	read:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					break read
				}
				kind, id, _ := strings.Cut(l, " ")
				switch kind {
				case "ready":
					kill = time.After(wait)
				case "ack":
					acked[id]++
					replayable = append(replayable, id)
					n++
				case "replayed":
					replayed++
				}
			case <-kill:
				cmd.Process.Signal(syscall.SIGKILL)
				kill = nil
			}
		}
		err = cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: the child ended with %v, not by SIGKILL:\n%s", round, err, stderr.String())
		}
		if replayed != len(replay) {
			t.Errorf("round %d: %d of the %d acknowledged transfers sent again came back as replays:\n%s", round, replayed, len(replay), stderr.String())
		}
		t.Logf("round %d: killed after %v, %d transfers acknowledged", round, wait, n)
	}
	if len(acked) < rounds {
		t.Fatalf("only %d transfers acknowledged in %d rounds: the child hardly wrote", len(acked), rounds)
	}

	db, err = store.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cs := &coop.Service{DB: db, Now: time.Now}
	ls := &ledger.Service{DB: db, Coops: cs, Now: time.Now}
	c, err := cs.CoopBySlug(ctx, "mill")
	if err != nil {
		t.Fatal(err)
	}
	for id, times := range acked {
		if times != 1 {
			t.Errorf("%s acknowledged %d times", id, times)
		}
		var count int
		if err := db.Read().QueryRow(`SELECT COUNT(*) FROM transfers WHERE coop_id = $1 AND id = $2`, c.ID, id).Scan(&count); err != nil || count != 1 {
			t.Errorf("acknowledged %s is in the journal %d times (%v)", id, count, err)
			continue
		}
		tr, err := ls.TransferByID(ctx, c, id)
		if want := crashRequest(id); err != nil || tr.Amount != want.Amount || tr.Debit != want.Debit || tr.Credit != want.Credit {
			t.Errorf("acknowledged %s is stored as %+v (%v), want %+v", id, tr, err, want)
		}
	}
	rep, err := ls.Check(ctx, c)
	if err != nil || !rep.OK {
		t.Fatalf("Check after %d crashes: %v %+v", rounds, err, rep)
	}
	// Every journal entry is an acknowledged transfer, a bo → cy payment
	// (acknowledged or not, they are not tracked), or one of the at most
	// crashBatch transfers in flight when the child was killed.
	var income int
	db.Read().QueryRow(`SELECT COUNT(*) FROM transfers WHERE coop_id = $1 AND kind = 'income'`, c.ID).Scan(&income)
	if income < len(acked) || income > len(acked)+rounds*crashBatch {
		t.Errorf("the journal holds %d income transfers for %d acknowledged", income, len(acked))
	}
	if r, err := audit.Verify(ctx, db); err != nil || r.Problem != nil {
		t.Errorf("audit chain after the crashes: %v %v", err, r.Problem)
	}
	t.Logf("%d transfers acknowledged over %d crashes, %d income entries in the journal", len(acked), rounds, income)
}

// setUpCrashCoop founds "mill" with ada (treasurer), bo and cy.
func setUpCrashCoop(t *testing.T, db *store.DB) {
	ctx := context.Background()
	as := auth.NewService(db, time.Now)
	cs := &coop.Service{DB: db, Now: time.Now}
	var people []auth.Account
	for _, h := range []string{"ada", "bo", "cy"} {
		a, err := as.CreateAccount(ctx, auth.NewAccount{Handle: h, Name: h, Email: h + "@example.org", Password: "password-" + h})
		if err != nil {
			t.Fatal(err)
		}
		people = append(people, a)
	}
	c, err := cs.Found(ctx, people[0], coop.NewCoop{Slug: "mill", Name: "Mill", Purpose: "Flour.", Preset: "open"})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range people[1:] {
		inv, err := cs.Invite(ctx, c, people[0], coop.NewInvitation{Class: "members"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Join(ctx, c, a, inv.Code); err != nil {
			t.Fatal(err)
		}
	}
}

// runCrashChild writes until it is killed: single transfers through
// Submit (as the treasurer, and bo paying cy), and batches of crashBatch
// through Apply, printing "ack <id>" for each transfer once its commit
// returned. It first sends CRASH_REPLAY's transfers again and prints
// "replayed <id>" for each that came back as a replay.
func runCrashChild() error {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: os.Getenv("CRASH_PATH"), URL: os.Getenv("CRASH_URL")})
	if err != nil {
		return err
	}
	cs := &coop.Service{DB: db, Now: time.Now}
	as := auth.NewService(db, time.Now)
	ls := &ledger.Service{DB: db, Coops: cs, Now: time.Now}
	c, err := cs.CoopBySlug(ctx, "mill")
	if err != nil {
		return err
	}
	ada, err := as.AccountByHandle(ctx, "ada")
	if err != nil {
		return err
	}
	bo, err := as.AccountByHandle(ctx, "bo")
	if err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	say := func(format string, args ...any) {
		fmt.Fprintf(w, format+"\n", args...)
		w.Flush() // an id is acknowledged only once the parent can read it
	}
	if r := os.Getenv("CRASH_REPLAY"); r != "" {
		for _, id := range strings.Split(r, ",") {
			_, created, err := ls.Submit(ctx, c, ada, []ledger.Request{crashRequest(id)})
			if err != nil {
				return fmt.Errorf("replaying %s: %w", id, err)
			}
			if !created {
				say("replayed %s", id)
			}
		}
	}
	say("ready")
	round := os.Getenv("CRASH_ROUND")
	for n := 0; ; n++ {
		id := fmt.Sprintf("c%s-%d", round, n)
		switch n % 3 {
		case 0:
			if _, _, err := ls.Submit(ctx, c, ada, []ledger.Request{crashRequest(id)}); err != nil {
				return err
			}
			say("ack %s", id)
		case 1:
			// bo passes some on; refused when he has too little.
			_, _, err := ls.Submit(ctx, c, bo, []ledger.Request{{ID: id, Debit: "member:bo", Credit: "member:cy", Amount: 7, Kind: "payment"}})
			if err != nil && !errors.Is(err, ledger.ErrInsufficient) {
				return err
			}
		case 2:
			reqs := make([]ledger.Request, crashBatch)
			for i := range reqs {
				reqs[i] = crashRequest(fmt.Sprintf("%s-%d", id, i))
			}
			err := db.InTx(ctx, func(tx *store.Tx) error {
				_, _, err := ls.Apply(ctx, tx, c, "system", reqs)
				return err
			})
			if err != nil {
				return err
			}
			for _, r := range reqs {
				say("ack %s", r.ID)
			}
		}
	}
}
