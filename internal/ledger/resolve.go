// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"opencoop/internal/audit"
	"opencoop/internal/auth"
	"opencoop/internal/coop"
	"opencoop/internal/errs"
	"opencoop/internal/store"
)

// Resolve posts, voids or expires the pending transfer id inside tx, for
// the services that move money by rules (RULES.md 3.1). Posting settles
// amount (0: all of it; at most what was reserved) and releases the rest.
// The resolving entry's id is "<id>:<action>", so repeating the same
// resolution is a replay (created false); another one is refused, since a
// pending transfer resolves once.
func (s *Service) Resolve(ctx context.Context, tx *store.Tx, c *coop.Coop, actor, id, action string, amount int64) (Transfer, bool, error) {
	if action != ActPost && action != ActVoid && action != ActExpire {
		return Transfer{}, false, errs.Invalid("action", "post, void or expire")
	}
	p, err := s.byID(ctx, tx, c.ID, id)
	if err != nil {
		return Transfer{}, false, err
	}
	if p.Action != ActPending {
		return Transfer{}, false, errs.Invalid("id", fmt.Sprintf("transfer %s is not pending", id))
	}
	if amount == 0 || action != ActPost {
		amount = p.Amount
	}
	if amount < 0 || amount > p.Amount {
		return Transfer{}, false, errs.Invalid("amount", fmt.Sprintf("post 1 to %d, the amount reserved", p.Amount))
	}
	body, _ := json.Marshal(map[string]any{"pending_id": id, "action": action, "amount": amount})
	if p.State != "pending" {
		was := map[string]string{"posted": ActPost, "voided": ActVoid, "expired": ActExpire}[p.State]
		done, err := s.byID(ctx, tx, c.ID, id+":"+was)
		if err == nil && done.body == string(body) {
			return done.Transfer, false, nil
		}
		return Transfer{}, false, fmt.Errorf("transfer %s is %s already: %w", id, p.State, errs.ErrConflict)
	}
	now := s.now()
	if action == ActPost && p.ExpiresAt != nil && !now.Before(*p.ExpiresAt) {
		return Transfer{}, false, fmt.Errorf("transfer %s expired at %s: %w", id, p.ExpiresAt.Format(time.RFC3339), errs.ErrConflict)
	}
	if action == ActExpire && (p.ExpiresAt == nil || now.Before(*p.ExpiresAt)) {
		return Transfer{}, false, errs.Invalid("action", fmt.Sprintf("transfer %s is not due to expire", id))
	}
	t := Transfer{ID: id + ":" + action, Action: action, Debit: p.Debit, Credit: p.Credit, Amount: amount, Unit: p.Unit,
		Kind: p.Kind, Ref: p.Ref, PendingID: id, Actor: actor, At: now}
	posted := int64(0)
	if action == ActPost {
		posted = amount
	}
	sc := newStmts(tx)
	defer sc.close()
	if err := s.commit(ctx, sc, c, []entry{{t: &t, body: string(body), posted: posted, pending: -p.Amount}}); err != nil {
		return Transfer{}, false, err
	}
	_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: actor, Action: "ledger." + action,
		Object: "transfer:" + id, Payload: t})
	return t, true, err
}

// Reverse undoes the posted transfer id inside tx with a new transfer
// newID the other way, linked to it (RULES.md 3.1: corrections never
// update or delete). A transfer is reversed at most once.
func (s *Service) Reverse(ctx context.Context, tx *store.Tx, c *coop.Coop, actor, id, newID, kind string) (Transfer, bool, error) {
	if msg := checkID(newID); msg != "" {
		return Transfer{}, false, errs.Invalid("id", msg)
	}
	if kind != "" && !validKind(kind) {
		return Transfer{}, false, errs.Invalid("kind", "give a kind: a lower-case word such as reversal or correction")
	}
	if kind == "" {
		kind = "reversal"
	}
	o, err := s.byID(ctx, tx, c.ID, id)
	if err != nil {
		return Transfer{}, false, err
	}
	if o.Action != ActTransfer && o.Action != ActPost {
		return Transfer{}, false, errs.Invalid("id", fmt.Sprintf("only posted transfers are reversed; %s is a %s", id, o.Action))
	}
	body, _ := json.Marshal(map[string]any{"reverses": id, "kind": kind})
	if done, err := s.byID(ctx, tx, c.ID, newID); err == nil {
		if done.body == string(body) {
			return done.Transfer, false, nil
		}
		return Transfer{}, false, fmt.Errorf("transfer id %q was used for a different transfer: %w", newID, errs.ErrConflict)
	} else if !errors.Is(err, errs.ErrNotFound) {
		return Transfer{}, false, err
	}
	now := s.now()
	t := Transfer{ID: newID, Action: ActReverse, Debit: o.Credit, Credit: o.Debit, Amount: o.Amount, Unit: o.Unit,
		Kind: kind, Ref: o.Ref, Reverses: id, Actor: actor, At: now}
	sc := newStmts(tx)
	defer sc.close()
	if err := s.commit(ctx, sc, c, []entry{{t: &t, body: string(body), posted: o.Amount}}); err != nil {
		return Transfer{}, false, err
	}
	_, err = audit.Record(ctx, tx, audit.Entry{Chain: c.ID, At: now, Actor: actor, Action: "ledger.reverse",
		Object: "transfer:" + id, Payload: t})
	return t, true, err
}

// SubmitResolve is Resolve for a signed-in caller: the member whose
// account the pending transfer debits, or a treasurer for the co-op's
// accounts and the outside world.
func (s *Service) SubmitResolve(ctx context.Context, c *coop.Coop, a auth.Account, id, action string, amount int64) (t Transfer, created bool, err error) {
	m, err := s.Coops.RequireMember(ctx, c, a.ID)
	if err != nil {
		return t, false, err
	}
	err = s.inTx(ctx, func(tx *store.Tx) error {
		p, err := s.byID(ctx, tx, c.ID, id)
		if err != nil {
			return err
		}
		if err := byHand(m, p.Debit, p.Credit); err != nil {
			return err
		}
		t, created, err = s.Resolve(ctx, tx, c, a.Actor(), id, action, amount)
		return err
	})
	return t, created, err
}

// SubmitReverse is Reverse for a treasurer.
func (s *Service) SubmitReverse(ctx context.Context, c *coop.Coop, a auth.Account, id, newID, kind string) (t Transfer, created bool, err error) {
	if _, err := s.Coops.RequireTreasurer(ctx, c, a.ID); err != nil {
		return t, false, err
	}
	err = s.inTx(ctx, func(tx *store.Tx) error {
		o, err := s.byID(ctx, tx, c.ID, id)
		if err != nil {
			return err
		}
		if err := byRules(o.Debit, o.Credit); err != nil {
			return err
		}
		t, created, err = s.Reverse(ctx, tx, c, a.Actor(), id, newID, kind)
		return err
	})
	return t, created, err
}

// byHand says whether member m may move money from debit to credit by
// hand: out of her own account, or, as a treasurer, out of the co-op's
// accounts and the outside world; never into or out of a bucket or an
// offer, which move only by their rules.
func byHand(m coop.Member, debit, credit string) error {
	if err := byRules(debit, credit); err != nil {
		return err
	}
	return mayDebit(m, debit)
}

// byRules refuses a bucket or offer account on either side: the budget
// round or share offer that owns it keeps its own limits (caps, targets,
// windows), which a transfer by hand would bypass.
func byRules(debit, credit string) error {
	for _, o := range []string{debit, credit} {
		if strings.HasPrefix(o, "bucket:") || strings.HasPrefix(o, "offer:") {
			return fmt.Errorf("%s moves only by its own rules (a budget round or a share offer): %w", o, errs.ErrForbidden)
		}
	}
	return nil
}

// mayDebit says whether member m may move money out of owner's account
// by hand.
func mayDebit(m coop.Member, owner string) error {
	switch {
	case owner == "member:"+m.Handle:
		return nil
	case m.Treasurer && (strings.HasPrefix(owner, "coop:") || owner == "external"):
		return nil
	case strings.HasPrefix(owner, "member:"):
		return fmt.Errorf("you may move only your own money, not %s's: %w", strings.TrimPrefix(owner, "member:"), errs.ErrForbidden)
	case strings.HasPrefix(owner, "coop:") || owner == "external":
		return fmt.Errorf("only a treasurer moves the co-op's accounts: %w", errs.ErrForbidden)
	}
	return fmt.Errorf("%s moves only by its own rules (a budget round or a share offer): %w", owner, errs.ErrForbidden)
}

// ExpireDue expires every pending transfer whose time has run out, each
// in its own transaction; the scheduler calls it. It returns how many.
func (s *Service) ExpireDue(ctx context.Context) (int, error) {
	rows, err := s.DB.Read().QueryContext(ctx, `SELECT t.coop_id, t.id FROM transfers t WHERE t.action = 'pending'
		AND t.expires_at <= $1 AND NOT EXISTS (SELECT 1 FROM transfers r WHERE r.coop_id = t.coop_id AND r.pending_id = t.id)
		ORDER BY t.expires_at LIMIT 1000`, s.now())
	if err != nil {
		return 0, fmt.Errorf("ledger: due pending transfers: %w", err)
	}
	type due struct {
		coop int64
		id   string
	}
	var list []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.coop, &d.id); err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, d)
	}
	rows.Close()
	n := 0
	for _, d := range list {
		c, err := s.Coops.CoopByID(ctx, d.coop)
		if err != nil {
			return n, err
		}
		err = s.DB.InTx(ctx, func(tx *store.Tx) error {
			_, _, err := s.Resolve(ctx, tx, c, "system", d.id, ActExpire, 0)
			return err
		})
		if errors.Is(err, errs.ErrConflict) {
			continue // resolved meanwhile
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
