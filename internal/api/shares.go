// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api

import (
	"net/http"

	"opencoop/internal/errs"
	"opencoop/internal/shares"
)

// registerShares adds the share-offer routes (RULES.md 3.4).
func (h *handler) registerShares(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
	handle("POST /coops/{slug}/offers", h.createOffer)
	handle("GET /coops/{slug}/offers", h.listOffers)
	handle("GET /coops/{slug}/offers/{id}", h.showOffer)
	handle("POST /coops/{slug}/offers/{id}/applicants", h.registerApplicant)
	handle("POST /coops/{slug}/offers/{id}/applications", h.applyForShares)
	handle("GET /coops/{slug}/offers/{id}/applications", h.listApplications)
	handle("POST /coops/{slug}/offers/{id}/applications/{app}/withdraw", h.withdrawApplication)
	handle("POST /coops/{slug}/offers/{id}/close", h.closeOffer)
	handle("GET /coops/{slug}/shares/mine", h.myShares)
	handle("GET /coops/{slug}/shares/register", h.shareRegister)
	handle("POST /coops/{slug}/withdrawals", h.requestWithdrawal)
	handle("GET /coops/{slug}/withdrawals", h.listWithdrawals)
	handle("POST /coops/{slug}/withdrawals/{id}/approve", h.approveWithdrawal)
	handle("POST /coops/{slug}/withdrawals/{id}/reject", h.rejectWithdrawal)
	handle("POST /coops/{slug}/withdrawals/suspend", h.suspendWithdrawals)
	handle("POST /coops/{slug}/withdrawals/resume", h.resumeWithdrawals)
}

// sharesPaths documents them.
func sharesPaths(add func(method, path string, o obj)) {
	rule := obj{"type": "string", "enum": shares.Rules,
		"description": "how an oversubscribed offer is scaled back in whole shares: fcfs (earliest applications first), pro_rata (in proportion, largest remainder, never below member_min_shares while that can be kept for all), cap_largest (the largest cut to a common cap; leftover shares to the earliest of those at the cap)"}
	newOffer := object([]string{"title", "class", "par", "max_shares", "optimum_shares", "member_min_shares", "member_max_shares", "closes_at", "rule"}, obj{
		"title": str, "description": str,
		"class":             obj{"type": "string", "description": "the stakeholder class of the shares; applicants who get shares become its members"},
		"unit":              obj{"type": "string", "description": "default: the co-op's currency"},
		"par":               obj{"type": "integer", "format": "int64", "description": "price of one share in minor units (100 = 1.00 EUR)"},
		"min_shares":        obj{"type": "integer", "format": "int64", "description": "targets are in whole shares (money = shares × par); below min_shares at the close every application is refunded; min_shares ≤ max_shares − member_min_shares + 1"},
		"optimum_shares":    obj{"type": "integer", "format": "int64", "description": "min_shares ≤ optimum_shares ≤ max_shares"},
		"max_shares":        obj{"type": "integer", "format": "int64", "description": "above it the rule scales applications back"},
		"member_min_shares": obj{"type": "integer", "format": "int64", "description": "the least one person applies for, and the least an allotment is (or nothing)"},
		"member_max_shares": obj{"type": "integer", "format": "int64", "description": "the most one person may hold of the class, counting shares she holds already"},
		"opens_at":          obj{"type": "string", "format": "date-time", "description": "default: now"},
		"closes_at":         obj{"type": "string", "format": "date-time", "description": "the window ends; the offer then closes by itself within seconds"},
		"rule":              rule,
		"lock_in_days":      obj{"type": "integer", "description": "days after the issue before shares may be withdrawn"},
		"notice_days":       obj{"type": "integer", "description": "days a withdrawal request waits before the board may pay it"},
	})
	offer := object(nil, obj{"id": integer, "coop": str, "title": str, "description": str, "class": str, "unit": str, "par": integer,
		"min_shares": integer, "optimum_shares": integer, "max_shares": integer, "member_min_shares": integer, "member_max_shares": integer,
		"min_amount": integer, "optimum_amount": integer, "max_amount": integer, "opens_at": when, "closes_at": when, "rule": rule,
		"lock_in_days": integer, "notice_days": integer,
		"state": obj{"type": "string", "enum": []string{shares.StateOpen, shares.StateAllotted, shares.StateFailed}},
		"phase": obj{"type": "string", "enum": []string{shares.PhaseUpcoming, shares.PhaseOpen, shares.PhaseEnded, shares.StateAllotted, shares.StateFailed},
			"description": "an open offer is upcoming before its window, open in it, ended after it until closed"},
		"applied_shares": obj{"type": "integer", "format": "int64", "description": "the live applications' total (while open) or the total counted at the close"},
		"applied_amount": integer, "applications": integer, "allotted_shares": integer, "allotted_amount": integer,
		"created_by": str, "created_at": when, "closed_by": str, "closed_at": when})
	application := object(nil, obj{"id": integer, "offer_id": integer, "offer_title": str, "handle": str, "name": str, "shares": integer,
		"amount": obj{"type": "integer", "format": "int64", "description": "reserved: shares × par, in minor units of unit"}, "unit": str,
		"state":           obj{"type": "string", "enum": []string{shares.AppPending, shares.AppWithdrawn, shares.AppAllotted, shares.AppRefunded}},
		"allotted_shares": integer, "allotted_amount": integer,
		"transfer_id": obj{"type": "string", "description": "the pending ledger transfer to the offer's escrow (offer:<id>)"},
		"applied_at":  when, "resolved_at": when})
	member := ref("Member")
	holding := object(nil, obj{"offer_id": integer, "offer_title": str, "class": str, "unit": str, "par": integer, "shares": integer,
		"amount": integer, "issued_at": when, "unlocks_at": when, "notice_days": integer, "requested": integer, "withdrawable": integer})
	withdrawal := object(nil, obj{"id": integer, "offer_id": integer, "offer_title": str, "handle": str, "name": str, "shares": integer,
		"amount": integer, "unit": str, "state": obj{"type": "string", "enum": []string{shares.WithdrawalPending, shares.WithdrawalApproved, shares.WithdrawalRejected}},
		"reason": str, "requested_at": when, "due_at": obj{"type": "string", "format": "date-time", "description": "the notice ends; the board may approve from then"},
		"decided_by": str, "decided_at": when, "transfer_id": str})
	suspension := object(nil, obj{"suspended": boolean, "reason": str, "decided_by": str, "decided_at": when})
	reason := object([]string{"reason"}, obj{"reason": obj{"type": "string", "description": "the board's reason, or the resolution that decided it"}})

	add("POST", "/coops/{slug}/offers", op("Open a community share offer (secretaries and treasurers)", newOffer, "201", offer, true))
	add("GET", "/coops/{slug}/offers", op("The co-op's share offers, newest first, with their totals (public)", nil, "200",
		object(nil, obj{"offers": arrayOf(offer)}), false))
	add("GET", "/coops/{slug}/offers/{id}", op("A share offer with its totals (public); another co-op's offer is 404", nil, "200", offer, false))
	add("POST", "/coops/{slug}/offers/{id}/applicants", op("Register the caller, not yet a member, as an applicant of the offer's class, so a treasurer can record her payment (external → member:<handle>) and she can apply; 201 when registered, 200 with her membership unchanged when she is a member or applicant already",
		nil, "201", member, true))
	add("POST", "/coops/{slug}/offers/{id}/applications", op("Apply for shares (members and registered applicants, while the window is open): reserves shares × par from member:<handle> to the offer's escrow; 409 when she has not that much available or the window is shut; the same application again is 200 with the first",
		object([]string{"shares"}, obj{"shares": integer}), "201", application, true))
	add("GET", "/coops/{slug}/offers/{id}/applications", op("Every application to the offer, in the order made (secretaries and treasurers)", nil, "200",
		object(nil, obj{"applications": arrayOf(application)}), true))
	add("POST", "/coops/{slug}/offers/{id}/applications/{app}/withdraw", op("Withdraw the caller's application while the window is open: its reservation is voided", nil, "200", application, true))
	add("POST", "/coops/{slug}/offers/{id}/close", op("Close the offer: below min_shares every application is refunded (state failed); otherwise shares are allotted (scaled back by the rule above max_shares), posted from escrow to coop:reserves and issued, and applicants become members of the class. Secretaries and treasurers after the window, only secretaries before; closing again is 200 with the same result and changes nothing",
		nil, "200", object(nil, obj{"offer": offer, "applications": arrayOf(application), "created": boolean}), true))
	add("GET", "/coops/{slug}/shares/mine", op("The caller's membership, applications, holdings and withdrawal requests in the co-op, and whether withdrawals are suspended", nil, "200",
		object(nil, obj{"member": member, "applications": arrayOf(application), "holdings": arrayOf(holding), "withdrawals": arrayOf(withdrawal), "suspension": suspension}), true))
	add("GET", "/coops/{slug}/shares/register", op("The share register: every holder by class, with totals (members)", nil, "200",
		object(nil, obj{"holders": arrayOf(object(nil, obj{"handle": str, "name": str, "state": str, "class": str, "unit": str, "shares": integer, "amount": integer})),
			"totals": arrayOf(object(nil, obj{"class": str, "unit": str, "holders": integer, "shares": integer, "amount": integer}))}), true))
	add("POST", "/coops/{slug}/withdrawals", op("Ask for shares of a holding back at par, after its lock-in; due after the offer's notice (allowed while withdrawals are suspended: the payment waits)",
		object([]string{"offer_id", "shares"}, obj{"offer_id": integer, "shares": integer}), "201", withdrawal, true))
	add("GET", "/coops/{slug}/withdrawals", op("Withdrawal requests, newest first — everyone's to secretaries and treasurers (all: true), the caller's own to others — with the board's decisions on suspending them", nil, "200",
		object(nil, obj{"suspension": suspension, "decisions": arrayOf(suspension), "withdrawals": arrayOf(withdrawal), "all": boolean}), true))
	add("POST", "/coops/{slug}/withdrawals/{id}/approve", op("Approve a request once its notice has run and while withdrawals are not suspended (secretaries): shares × par from coop:reserves to the holder, shares cancelled; 409 when the capital is short; approving again is 200 and changes nothing",
		nil, "200", withdrawal, true))
	add("POST", "/coops/{slug}/withdrawals/{id}/reject", op("Reject a pending request with the board's reason (secretaries)", reason, "200", withdrawal, true))
	add("POST", "/coops/{slug}/withdrawals/suspend", op("Record the board's decision to suspend withdrawals (secretaries); 409 when suspended already", reason, "201", suspension, true))
	add("POST", "/coops/{slug}/withdrawals/resume", op("Record the board's decision to resume withdrawals (secretaries); 409 when they run already", reason, "201", suspension, true))
}

// sharesStatus is 201 for what was created, 200 for a replay.
func sharesStatus(created bool) int {
	if created {
		return http.StatusCreated
	}
	return http.StatusOK
}

func (h *handler) createOffer(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	var in shares.NewOffer
	if err := decode(r, &in); err != nil {
		return err
	}
	o, err := h.Shares.CreateOffer(r.Context(), c, a, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, o)
}

func (h *handler) listOffers(w http.ResponseWriter, r *http.Request) error {
	c, err := h.coop(r)
	if err != nil {
		return err
	}
	os, err := h.Shares.Offers(r.Context(), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"offers": os})
}

func (h *handler) showOffer(w http.ResponseWriter, r *http.Request) error {
	c, err := h.coop(r)
	if err != nil {
		return err
	}
	id, err := pathInt64(r, "id", "offer")
	if err != nil {
		return err
	}
	o, err := h.Shares.Offer(r.Context(), c, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, o)
}

func (h *handler) registerApplicant(w http.ResponseWriter, r *http.Request) error {
	a, c, id, err := h.callerAndID(r, "offer")
	if err != nil {
		return err
	}
	m, created, err := h.Shares.RegisterApplicant(r.Context(), c, a, id)
	if err != nil {
		return err
	}
	return writeJSON(w, sharesStatus(created), m)
}

func (h *handler) applyForShares(w http.ResponseWriter, r *http.Request) error {
	a, c, id, err := h.callerAndID(r, "offer")
	if err != nil {
		return err
	}
	var in struct {
		Shares int64 `json:"shares"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	p, created, err := h.Shares.Apply(r.Context(), c, a, id, in.Shares)
	if err != nil {
		return err
	}
	return writeJSON(w, sharesStatus(created), p)
}

func (h *handler) listApplications(w http.ResponseWriter, r *http.Request) error {
	a, c, id, err := h.callerAndID(r, "offer")
	if err != nil {
		return err
	}
	ps, err := h.Shares.Applications(r.Context(), c, a, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"applications": ps})
}

func (h *handler) withdrawApplication(w http.ResponseWriter, r *http.Request) error {
	a, c, id, err := h.callerAndID(r, "offer")
	if err != nil {
		return err
	}
	app, err := pathInt64(r, "app", "application")
	if err != nil {
		return err
	}
	p, _, err := h.Shares.WithdrawApplication(r.Context(), c, a, id, app)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (h *handler) closeOffer(w http.ResponseWriter, r *http.Request) error {
	a, c, id, err := h.callerAndID(r, "offer")
	if err != nil {
		return err
	}
	out, created, err := h.Shares.Close(r.Context(), c, a, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"offer": out.Offer, "applications": out.Applications, "created": created})
}

func (h *handler) myShares(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	p, err := h.Shares.Mine(r.Context(), c, a)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (h *handler) shareRegister(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	reg, err := h.Shares.ShareRegister(r.Context(), c, a)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, reg)
}

func (h *handler) requestWithdrawal(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	var in struct {
		OfferID int64 `json:"offer_id"`
		Shares  int64 `json:"shares"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.OfferID <= 0 {
		return errs.Invalid("offer_id", "name the offer whose shares you hold")
	}
	wd, err := h.Shares.RequestWithdrawal(r.Context(), c, a, in.OfferID, in.Shares)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, wd)
}

func (h *handler) listWithdrawals(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	b, err := h.Shares.Withdrawals(r.Context(), c, a)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, b)
}

func (h *handler) approveWithdrawal(w http.ResponseWriter, r *http.Request) error {
	a, c, id, err := h.callerAndID(r, "withdrawal request")
	if err != nil {
		return err
	}
	wd, _, err := h.Shares.ApproveWithdrawal(r.Context(), c, a, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, wd)
}

func (h *handler) rejectWithdrawal(w http.ResponseWriter, r *http.Request) error {
	a, c, id, err := h.callerAndID(r, "withdrawal request")
	if err != nil {
		return err
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	wd, _, err := h.Shares.RejectWithdrawal(r.Context(), c, a, id, in.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, wd)
}

func (h *handler) suspendWithdrawals(w http.ResponseWriter, r *http.Request) error {
	return h.decideWithdrawals(w, r, true)
}

func (h *handler) resumeWithdrawals(w http.ResponseWriter, r *http.Request) error {
	return h.decideWithdrawals(w, r, false)
}

func (h *handler) decideWithdrawals(w http.ResponseWriter, r *http.Request, suspend bool) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	s, err := h.Shares.SuspendWithdrawals(r.Context(), c, a, suspend, in.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, s)
}
