// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package api

import (
	"net/http"
	"strconv"

	"opencoop/internal/pool"
)

// registerPool adds the pooling and income routes (RULES.md 3.2).
func (h *handler) registerPool(handle func(string, func(http.ResponseWriter, *http.Request) error)) {
	handle("GET /coops/{slug}/pooling", h.showPooling)
	handle("PUT /coops/{slug}/pooling", h.setPooling)
	handle("POST /coops/{slug}/pooling/run", h.runPooling)
	handle("GET /coops/{slug}/pooling/periods", h.listPoolPeriods)
	handle("POST /coops/{slug}/pooling/suspensions", h.suspendLevy)
	handle("POST /coops/{slug}/income", h.recordIncome)
	handle("GET /coops/{slug}/income", h.listIncomes)
	handle("GET /coops/{slug}/income/{id}", h.showIncome)
}

// poolPaths documents them.
func poolPaths(add func(method, path string, o obj)) {
	bp := func(desc string) obj {
		return obj{"type": "integer", "minimum": 0, "maximum": 10000, "description": desc + " (basis points: 10000 is 100%)"}
	}
	decimal := func(desc string) obj {
		return obj{"type": []string{"number", "string"}, "description": desc + "; read exactly from its decimal text, never as a float"}
	}
	node := obj{"type": "object", "description": "a node of a split tree: a leaf names the account it pays (to), an inner node " +
		"splits its amount among its parts (split) by their shares (bp, 1 to 10000), which sum to 10000; largest remainder at every node",
		"properties": obj{"bp": integer, "label": str,
			"to":    obj{"type": "string", "description": "member (the income's member), buyer, member:<handle>, coop:pool, coop:foundation, coop:reserves, coop:users_pool or coop:common"},
			"split": obj{"type": "array", "items": obj{"type": "object", "description": "a node like this one"}}}}
	params := obj{"description": "the preset's parameters; left out ones keep their defaults. " +
		"enspiral: collective_bp (2000), foundation_bp (2500, of the collective), venture_bp (500). " +
		"marketplace: fee_bp (500), common_bp (5000, of the fee; the rest to the users' pool). " +
		"solidarity_levy: start_rate (10 minor units per m² a month), step_bp (50, of the previous year's base rent), projects. " +
		"custom: tree, kinds.",
		"type": "object", "properties": obj{
			"collective_bp": bp("enspiral: of a member's invoice, to the collective"),
			"foundation_bp": bp("enspiral: of the collective's part, to coop:foundation; the rest to coop:pool"),
			"venture_bp":    bp("enspiral: of venture revenue, to coop:pool"),
			"fee_bp":        bp("marketplace: the fee on a sale's price, rounded half to even to the minor unit"),
			"common_bp":     bp("marketplace: of the fee, to coop:common; the rest to coop:users_pool"),
			"start_rate":    decimal("solidarity_levy: the first year's rate in minor units per m² a month, up to 4 decimals"),
			"step_bp":       bp("solidarity_levy: the yearly rise, of the previous year's base rent per m²"),
			"projects": arrayOf(object([]string{"member", "area_m2", "start"}, obj{
				"member":     obj{"type": "string", "description": "the project's member handle"},
				"name":       str,
				"area_m2":    decimal("the area in m², up to 2 decimals"),
				"base_rent":  obj{"type": "integer", "description": "the base rent in minor units per m² a month"},
				"base_rents": obj{"type": "array", "items": integer, "description": "the base rent of each year of the project (the last stays); overrides base_rent"},
				"start":      obj{"type": "string", "description": "YYYY-MM: the first levy month, which the project's years count from"}})),
			"tree":  node,
			"kinds": obj{"type": "object", "additionalProperties": node, "description": "custom: trees of their own for kinds of income"},
		}}
	rule := object(nil, obj{"id": integer, "preset": str, "params": params, "set_by": str, "effective_at": when})
	posting := object(nil, obj{"id": str, "debit": str, "credit": str, "amount": integer, "unit": str, "kind": str,
		"part": obj{"type": "string", "description": "the part of the rule it pays, e.g. \"the collective › the pool\""}})
	suspension := object(nil, obj{"id": integer, "project": str, "action": obj{"type": "string", "enum": []string{"suspend", "resume"}},
		"from": str, "proposal": integer, "note": str, "by": str, "at": when})
	income := object(nil, obj{"id": str, "member": str, "amount": integer, "unit": str, "kind": str, "buyer": str, "project": str,
		"note": str, "rule_id": integer, "preset": str, "fee": integer, "recorded_by": str, "at": when})
	split := object(nil, obj{"income": income, "postings": arrayOf(posting)})
	period := object(nil, obj{"job": obj{"type": "string", "enum": []string{"marketplace", "levy"}}, "period": str, "rule_id": integer,
		"totals": obj{"type": "object", "additionalProperties": integer, "description": "per unit"},
		"lines": arrayOf(object(nil, obj{"member": str, "unit": str, "traded": integer, "area_m2": str, "year": integer,
			"rate": obj{"type": "string", "description": "minor units per m² a month, exact"}, "amount": integer, "note": str})),
		"postings": arrayOf(posting), "ran_by": str, "at": when,
		"status": obj{"type": "string", "enum": []string{"created", "done", "skipped"}}, "reason": str})

	add("GET", "/coops/{slug}/pooling", op("The co-op's pooling rule in force, in words and worked examples, with the levy decisions and earlier rules (members)",
		nil, "200", object(nil, obj{"rule": rule, "words": arrayOf(str),
			"examples":    arrayOf(object(nil, obj{"kind": str, "amount": integer, "unit": str, "text": str, "parts": arrayOf(object(nil, obj{"part": str, "to": str, "amount": integer}))})),
			"suspensions": arrayOf(suspension), "history": arrayOf(rule)}), true))
	add("PUT", "/coops/{slug}/pooling", op("Set the co-op's pooling rule from now on (secretaries and treasurers; audited); 422 names each bad parameter",
		object([]string{"preset"}, obj{"preset": obj{"type": "string", "enum": pool.PresetNames}, "params": params}), "200", rule, true))
	add("POST", "/coops/{slug}/pooling/run", op("Run a month's jobs now (treasurers): the marketplace users' pool once the month has ended, the solidarity levy from its first day. "+
		"Each runs once per month: 201 when a run was made, 200 when every job had run before (status done) or had nothing to do (status skipped, with the reason)",
		object([]string{"period"}, obj{"period": obj{"type": "string", "description": "YYYY-MM, UTC"},
			"job": obj{"type": "string", "enum": []string{"marketplace", "levy"}, "description": "leave out to run both"}}),
		"201", object(nil, obj{"period": str, "runs": arrayOf(period)}), true))
	add("GET", "/coops/{slug}/pooling/periods", op("The monthly runs, newest first (members; ?limit=)", nil, "200",
		object(nil, obj{"periods": arrayOf(period)}), true))
	add("POST", "/coops/{slug}/pooling/suspensions", op("Record a passed proposal that suspends (or, with resume, resumes) a project's solidarity levy from a month on (secretaries and treasurers; audited); another co-op's proposal is 404",
		object([]string{"project", "from", "proposal"}, obj{"project": str, "from": obj{"type": "string", "description": "YYYY-MM"},
			"proposal": integer, "resume": boolean, "note": str}), "201", suspension, true))
	add("POST", "/coops/{slug}/income", op("Record an income (treasurers): the rule in force splits it and posts every part from external as one atomic ledger batch "+
		"with ids inc:<id>:<n>. 201 with the postings; the same id and content again is 200 with the original, other content 409",
		object([]string{"id", "amount", "kind"}, obj{"id": obj{"type": "string", "description": "the client's idempotency key, 1 to 64 of A-Z a-z 0-9 . _ : -"},
			"member": obj{"type": "string", "description": "whom the income is for: the invoicing member, the seller"}, "amount": obj{"type": "integer", "description": "minor units"},
			"unit":    obj{"type": "string", "description": "default: the co-op's currency"},
			"kind":    obj{"type": "string", "description": "enspiral: invoice or venture_revenue; marketplace: sale; custom: any"},
			"buyer":   obj{"type": "string", "description": "a sale's buyer, when a member: her purchases count in the users' pool"},
			"project": obj{"type": "string", "description": "the venture or project it came from, for the record"}, "note": str}),
		"201", split, true))
	add("GET", "/coops/{slug}/income", op("The co-op's incomes with their splits, newest first (members; ?limit=)", nil, "200",
		object(nil, obj{"incomes": arrayOf(split)}), true))
	add("GET", "/coops/{slug}/income/{id}", op("One income with its split (members); another co-op's id is 404", nil, "200", split, true))
}

func (h *handler) showPooling(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	o, err := h.Pool.Overview(r.Context(), c, a)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, o)
}

func (h *handler) setPooling(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	var in pool.SetRule
	if err := decode(r, &in); err != nil {
		return err
	}
	rule, err := h.Pool.SetRule(r.Context(), c, a, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rule)
}

func (h *handler) runPooling(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	var in struct {
		Period string `json:"period"`
		Job    string `json:"job"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	runs, err := h.Pool.RunPeriod(r.Context(), c, a, in.Period, in.Job)
	if err != nil {
		return err
	}
	status := http.StatusOK
	for _, p := range runs {
		if p.Status == pool.StatusCreated {
			status = http.StatusCreated
		}
	}
	return writeJSON(w, status, map[string]any{"period": in.Period, "runs": runs})
}

func (h *handler) listPoolPeriods(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	ps, err := h.Pool.Periods(r.Context(), c, a, poolLimit(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"periods": ps})
}

func (h *handler) suspendLevy(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	var in pool.NewSuspension
	if err := decode(r, &in); err != nil {
		return err
	}
	s, err := h.Pool.Suspend(r.Context(), c, a, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, s)
}

func (h *handler) recordIncome(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	var in pool.NewIncome
	if err := decode(r, &in); err != nil {
		return err
	}
	out, created, err := h.Pool.RecordIncome(r.Context(), c, a, in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return writeJSON(w, status, out)
}

func (h *handler) listIncomes(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	list, err := h.Pool.Incomes(r.Context(), c, a, poolLimit(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"incomes": list})
}

func (h *handler) showIncome(w http.ResponseWriter, r *http.Request) error {
	a, c, err := h.caller(r)
	if err != nil {
		return err
	}
	out, err := h.Pool.IncomeByID(r.Context(), c, a, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// poolLimit reads ?limit= (0, the service's default, when absent or bad).
func poolLimit(r *http.Request) int {
	n, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	return n
}
