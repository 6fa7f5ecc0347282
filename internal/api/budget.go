// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api

import (
	"net/http"

	"opencoop/internal/budget"
)

// registerBudget adds the budget-round routes (RULES.md 3.3).
func (h *handler) registerBudget(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
	handle("POST /coops/{slug}/rounds", h.createRound)
	handle("GET /coops/{slug}/rounds", h.listRounds)
	handle("GET /coops/{slug}/rounds/{id}", h.showRound)
	handle("POST /coops/{slug}/rounds/{id}/close", h.closeRound)
	handle("GET /coops/{slug}/rounds/{id}/allowances/{handle}", h.showAllowance)
	handle("POST /coops/{slug}/rounds/{id}/buckets", h.createBucket)
	handle("GET /coops/{slug}/rounds/{id}/buckets", h.listBuckets)
	handle("GET /coops/{slug}/buckets/{id}", h.showBucket)
	for _, action := range []string{budget.ActPublish, budget.ActOpen, budget.ActAccept, budget.ActComplete, budget.ActCancel} {
		handle("POST /coops/{slug}/buckets/{id}/"+action, h.changeBucket(action))
	}
	handle("POST /coops/{slug}/buckets/{id}/contributions", h.contribute)
	handle("DELETE /coops/{slug}/buckets/{id}/contributions", h.withdraw)
}

// budgetPaths documents them.
func budgetPaths(add func(method, path string, o obj)) {
	amount := func(desc string) obj {
		return obj{"type": "integer", "format": "int64", "minimum": 0, "description": desc + ", in minor units of the round's unit"}
	}
	expense := object([]string{"title", "amount", "proposal_id"}, obj{"title": str, "amount": amount("the expense"),
		"proposal_id": obj{"type": "integer", "format": "int64", "description": "the decision that approved it: a closed proposal of the co-op that passed"}})
	newRound := object([]string{"title", "buckets_from", "buckets_to", "funding_from", "funding_to"}, obj{
		"title":        str,
		"unit":         obj{"type": "string", "description": "a unit code such as EUR or HOURS; default the co-op's currency"},
		"buckets_from": when, "buckets_to": when, "funding_from": when,
		"funding_to": obj{"type": "string", "format": "date-time", "description": "in the future; the scheduler closes the round when it passes"},
		"member_cap": amount("the most one member may give one bucket; 0 (default) is no cap"),
		"underfunded": obj{"type": "string", "enum": []string{"refund", "keep", "reclaim_to_pool"}, "default": "refund",
			"description": "what the close does with a bucket still open: reverse its contributions to the allowances, let it keep what it raised, or move it to coop:pool"},
		"unspent": obj{"type": "string", "enum": []string{"return_to_pool", "roll_over"}, "default": "return_to_pool",
			"description": "what the close does with allowances left: to coop:pool, or to each member's allowance in the next round of the unit"},
		"allowance": obj{"type": "string", "enum": []string{"proportional", "equal", "by_class"}, "default": "equal",
			"description": "how D is shared, largest remainder, ties to the earlier member: proportional to each member's contribution to coop:pool in the period (her own transfers and the pool's part of incomes recorded for her, less their reversals), equally, or by class weight and equally inside each class"},
		"period_from":   obj{"type": "string", "format": "date-time", "description": "the contributions period; needed for proportional; it must have ended"},
		"period_to":     when,
		"contributions": amount("C, the period's contributions; default coop:pool's available balance"),
		"expenses":      obj{"type": "array", "items": expense, "maxItems": budget.MaxExpenses, "description": "core expenses E, taken off first: D = C − E, 0 when negative and the shortfall then taken from coop:reserves into coop:pool"},
	})
	totals := object(nil, obj{"refunded": integer, "kept": integer, "reclaimed": integer, "returned": integer, "rolled_over": integer})
	round := object(nil, obj{"id": integer, "coop": str, "title": str, "unit": str, "buckets_from": when, "buckets_to": when,
		"funding_from": when, "funding_to": when, "member_cap": integer, "underfunded": str, "unspent": str, "allowance": str,
		"period_from": when, "period_to": when, "contributions": amount("C"), "expenses": arrayOf(expense),
		"core_expenses": amount("E"), "discretionary": amount("D = max(0, C − E), shared as allowances"),
		"shortfall":   amount("E − C when positive, taken from coop:reserves"),
		"members":     obj{"type": "integer", "description": "members who got an allowance"},
		"rolled_in":   amount("what earlier roll_over rounds carried into this one's allowances"),
		"rolled_into": obj{"type": "integer", "description": "the round this one's unspent allowances rolled into"},
		"state":       obj{"type": "string", "enum": []string{"open", "closed"}},
		"created_by":  str, "creation_open": boolean, "funding_open": boolean, "created_at": when, "closed_at": when,
		"close": totals})
	item := object([]string{"title", "max"}, obj{"title": str, "min": amount("the least it needs"), "max": amount("the most it may take")})
	bucket := object(nil, obj{"id": integer, "round_id": integer, "coop": str, "title": str, "description": str, "author": str,
		"cocreators": arrayOf(str), "items": arrayOf(item), "min": amount("Σ item minimums"), "max": amount("Σ item maximums"), "unit": str,
		"state":   obj{"type": "string", "enum": []string{"draft", "idea", "open", "funded", "completed", "cancelled"}},
		"outcome": obj{"type": "string", "enum": []string{"refunded", "kept", "reclaimed"}, "description": "what the close did to it, found under-funded"},
		"paid_to": obj{"type": "string", "description": "where completion paid what it held: external or member:<handle>"},
		"account": obj{"type": "string", "description": "its ledger account, bucket:<id>"},
		"raised":  amount("its ledger balance"),
		"progress": object(nil, obj{"min_bp": obj{"type": "integer", "description": "raised toward the minimum, in basis points (10000: reached), rounded down"},
			"max_bp": obj{"type": "integer", "description": "raised toward the maximum, in basis points"}}),
		"contributors": obj{"type": "array", "description": "who gave, net of returns, most first (single bucket only)",
			"items": object(nil, obj{"handle": str, "amount": integer})},
		"created_at": when, "published_at": when, "opened_at": when, "funded_at": when, "completed_at": when, "cancelled_at": when})
	contribution := object(nil, obj{"id": obj{"type": "string", "description": "the ledger transfer"}, "bucket_id": integer, "member": str,
		"amount": integer, "unit": str, "at": when, "reversal": str, "reversed_by": str, "reversed_at": when})
	allowance := object(nil, obj{"round_id": integer, "handle": str, "unit": str,
		"account":   obj{"type": "string", "description": "her allowance's own ledger account, apart from her own money"},
		"basis":     obj{"type": "integer", "description": "what her share was computed from: her contribution in the period, her class's weight, or 1"},
		"granted":   amount("her share of D"),
		"rolled_in": amount("carried over from an earlier round"),
		"balance":   amount("what her allowance holds now, from the ledger"),
		"given":     amount("what she has in buckets now")})

	add("POST", "/coops/{slug}/rounds", op("Set up a budget round (treasurers, secretaries): records C, E (each approved by a passed proposal) and D, "+
		"takes any shortfall from coop:reserves, and posts every member's allowance from coop:pool to her own allowance account, and allowances "+
		"rolled over from earlier rounds, as one atomic batch whose ids derive from the round; 409 when coop:pool or coop:reserves cannot pay",
		newRound, "201", round, true))
	add("GET", "/coops/{slug}/rounds", op("The co-op's budget rounds, newest first (members)", nil, "200", object(nil, obj{"rounds": arrayOf(round)}), true))
	add("GET", "/coops/{slug}/rounds/{id}", op("A budget round (members); other co-ops' rounds are 404", nil, "200", round, true))
	add("POST", "/coops/{slug}/rounds/{id}/close", op("Close a round (treasurers, secretaries) by its policies: under-funded buckets refunded, kept or reclaimed "+
		"to coop:pool, then unspent allowances returned to coop:pool or left to roll over; all by ledger transfers, in one transaction; "+
		"closing a closed round changes nothing", nil, "200", round, true))
	add("GET", "/coops/{slug}/rounds/{id}/allowances/{handle}", op("A member's allowance in the round, balance from the ledger: "+
		"\"me\" for the caller's; others' to treasurers and secretaries", nil, "200", allowance, true))
	add("POST", "/coops/{slug}/rounds/{id}/buckets", op("Propose a bucket (members, in the bucket-creation window; 409 outside it): a draft, or an idea with publish",
		object([]string{"title", "items"}, obj{"title": str, "description": str,
			"cocreators": obj{"type": "array", "items": str, "maxItems": budget.MaxCocreators, "description": "handles of members who run it with the author"},
			"items":      obj{"type": "array", "items": item, "minItems": 1, "maxItems": budget.MaxItems},
			"publish":    obj{"type": "boolean", "description": "publish as an idea at once"}}),
		"201", bucket, true))
	add("GET", "/coops/{slug}/rounds/{id}/buckets", op("The round's buckets with what each raised (members; drafts only to their creators and officers)",
		nil, "200", object(nil, obj{"buckets": arrayOf(bucket)}), true))
	add("GET", "/coops/{slug}/buckets/{id}", op("A bucket with its progress and who gave (members); other co-ops' buckets are 404", nil, "200", bucket, true))
	add("POST", "/coops/{slug}/buckets/{id}/publish", op("Publish a draft as an idea (its creators)", nil, "200", bucket, true))
	add("POST", "/coops/{slug}/buckets/{id}/open", op("Open an idea for funding (its creators, treasurers, secretaries), before funding ends", nil, "200", bucket, true))
	add("POST", "/coops/{slug}/buckets/{id}/accept", op("Accept an open bucket's funding once it raised its minimum: funded (its creators, treasurers, secretaries)",
		nil, "200", bucket, true))
	add("POST", "/coops/{slug}/buckets/{id}/complete", op("Complete a funded bucket (treasurers), paying what it holds to pay_to: external (default) or a member's handle",
		object(nil, obj{"pay_to": str}), "200", bucket, true))
	add("POST", "/coops/{slug}/buckets/{id}/cancel", op("Cancel a bucket while its round is open (its creators, treasurers, secretaries): every contribution is returned by a reversing transfer",
		nil, "200", bucket, true))
	add("POST", "/coops/{slug}/buckets/{id}/contributions", op("Give from the caller's allowance: the funding window open, the bucket open, "+
		"within the round's per-member cap (422), not beyond the bucket's maximum (409) and the allowance sufficient (409); a bucket reaching "+
		"its maximum is funded. An id makes the request safe to repeat: a replay answers 200 with the first",
		object([]string{"amount"}, obj{"amount": amount("what to give, 1 or more"),
			"id": obj{"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$", "description": "an idempotency key of the caller's choice"}}),
		"201", contribution, true))
	add("DELETE", "/coops/{slug}/buckets/{id}/contributions", op("Withdraw everything the caller gave the bucket while it is open, by reversing transfers; 409 if nothing",
		nil, "200", object(nil, obj{"returned": integer, "bucket": bucket}), true))
}

func (h *handler) createRound(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	var in budget.NewRound
	if err := decode(r, &in); err != nil {
		return err
	}
	round, err := h.Budget.CreateRound(r.Context(), c, a, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, round)
}

func (h *handler) listRounds(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	rs, err := h.Budget.Rounds(r.Context(), c, a)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"rounds": rs})
}

func (h *handler) showRound(w http.ResponseWriter, r *http.Request) error {
	a, c, id, err := h.callerAndID(r, "round")
	if err != nil {
		return err
	}
	round, err := h.Budget.Round(r.Context(), c, a, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, round)
}

func (h *handler) closeRound(w http.ResponseWriter, r *http.Request) error {
	a, c, id, err := h.callerAndID(r, "round")
	if err != nil {
		return err
	}
	round, _, err := h.Budget.CloseRound(r.Context(), c, a, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, round)
}

func (h *handler) showAllowance(w http.ResponseWriter, r *http.Request) error {
	a, c, id, err := h.callerAndID(r, "round")
	if err != nil {
		return err
	}
	al, err := h.Budget.Allowance(r.Context(), c, a, id, r.PathValue("handle"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, al)
}

func (h *handler) createBucket(w http.ResponseWriter, r *http.Request) error {
	a, c, id, err := h.callerAndID(r, "round")
	if err != nil {
		return err
	}
	var in budget.NewBucket
	if err := decode(r, &in); err != nil {
		return err
	}
	b, err := h.Budget.CreateBucket(r.Context(), c, a, id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, b)
}

func (h *handler) listBuckets(w http.ResponseWriter, r *http.Request) error {
	a, c, id, err := h.callerAndID(r, "round")
	if err != nil {
		return err
	}
	bs, err := h.Budget.Buckets(r.Context(), c, a, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"buckets": bs})
}

func (h *handler) showBucket(w http.ResponseWriter, r *http.Request) error {
	a, c, id, err := h.callerAndID(r, "bucket")
	if err != nil {
		return err
	}
	b, err := h.Budget.Bucket(r.Context(), c, a, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, b)
}

// changeBucket is the handler of one bucket action; complete may carry
// {"pay_to": …}, the others no body.
func (h *handler) changeBucket(action string) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		a, c, id, err := h.callerAndID(r, "bucket")
		if err != nil {
			return err
		}
		var in struct {
			PayTo string `json:"pay_to"`
		}
		if action == budget.ActComplete {
			if err := decodeOptional(r, &in); err != nil {
				return err
			}
		}
		b, err := h.Budget.Change(r.Context(), c, a, id, action, in.PayTo)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, b)
	}
}

func (h *handler) contribute(w http.ResponseWriter, r *http.Request) error {
	a, c, id, err := h.callerAndID(r, "bucket")
	if err != nil {
		return err
	}
	var in budget.NewContribution
	if err := decode(r, &in); err != nil {
		return err
	}
	k, isNew, err := h.Budget.Contribute(r.Context(), c, a, id, in)
	if err != nil {
		return err
	}
	return created(w, isNew, k)
}

func (h *handler) withdraw(w http.ResponseWriter, r *http.Request) error {
	a, c, id, err := h.callerAndID(r, "bucket")
	if err != nil {
		return err
	}
	n, err := h.Budget.Withdraw(r.Context(), c, a, id)
	if err != nil {
		return err
	}
	b, err := h.Budget.Bucket(r.Context(), c, a, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"returned": n, "bucket": b})
}
