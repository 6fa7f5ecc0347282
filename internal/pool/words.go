// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package pool

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"opencoop/internal/auth"
	"opencoop/internal/coop"
)

// Overview is a co-op's pooling rule as members see it: the rule in force
// (nil before one is set), in words and worked examples, with the levy
// decisions and the rules before it.
type Overview struct {
	Rule        *Rule        `json:"rule"`
	Words       []string     `json:"words"`
	Examples    []Example    `json:"examples"`
	Suspensions []Suspension `json:"suspensions"`
	History     []Rule       `json:"history"`
}

// Example is a worked example of the rule: an income (or a levy month) and
// the parts it makes, each with its account.
type Example struct {
	Kind   string `json:"kind,omitempty"`
	Amount int64  `json:"amount"`
	Unit   string `json:"unit"`
	Text   string `json:"text"`
	Parts  []Part `json:"parts"`
}

// Part is one part of a worked example.
type Part struct {
	Part   string `json:"part"`
	To     string `json:"to"`
	Amount int64  `json:"amount"`
}

// ExampleAmount is the income of the worked examples: 1,000.00 in a
// two-decimal currency.
const ExampleAmount = 100000

// Overview returns c's rule in force in words and numbers, for a member.
func (s *Service) Overview(ctx context.Context, c *coop.Coop, a auth.Account) (*Overview, error) {
	if _, err := s.Coops.RequireMember(ctx, c, a.ID); err != nil {
		return nil, err
	}
	rules, err := s.Rules(ctx, c)
	if err != nil {
		return nil, err
	}
	sus, err := s.Suspensions(ctx, c)
	if err != nil {
		return nil, err
	}
	o := &Overview{Words: []string{}, Examples: []Example{}, Suspensions: sus, History: rules}
	if len(rules) == 0 {
		o.Words = append(o.Words, c.Name+" has no pooling rule yet: incomes are not split until a secretary or treasurer sets one.")
		return o, nil
	}
	o.Rule = &rules[0]
	o.Words, o.Examples, err = describeRule(o.Rule, c.Currency, monthOf(s.now()))
	return o, err
}

// describeRule says the rule in words and works its examples, the levy's
// for the month now.
func describeRule(r *Rule, unit string, now int) ([]string, []Example, error) {
	var words []string
	examples := []Example{}
	for _, pl := range r.Params.plans() {
		words = append(words, pl.words())
		legs, _, err := pl.split(ExampleAmount)
		if err != nil {
			return nil, nil, err
		}
		ex := Example{Kind: pl.Kind, Amount: ExampleAmount, Unit: unit, Parts: []Part{}}
		var said []string
		for _, l := range legs {
			ex.Parts = append(ex.Parts, Part{Part: l.Part, To: l.To, Amount: l.Amount})
			said = append(said, l.Part+" "+FormatAmount(l.Amount))
		}
		ex.Text = fmt.Sprintf("%s of %s %s → %s", pl.noun(), FormatAmount(ExampleAmount), unit, strings.Join(said, ", "))
		examples = append(examples, ex)
	}
	switch p := r.Params.(type) {
	case *MarketplaceParams:
		words = append(words, "After each month, the users' pool that month's sales paid in is shared among the members who sold or "+
			"bought in it, in proportion to the value each traded (sold plus bought), by largest remainder, ties to the earlier handle.")
	case *LevyParams:
		w, ex, err := p.describe(unit, now)
		if err != nil {
			return nil, nil, err
		}
		words, examples = append(words, w...), append(examples, ex...)
	}
	words = append(words, "Each split is by largest remainder at every step, so its parts always add up exactly to what was split.")
	return words, examples, nil
}

func (pl *plan) noun() string {
	switch {
	case pl.Kind == KindInvoice:
		return "An invoice"
	case pl.Kind == KindVenture:
		return "Venture revenue"
	case pl.Kind == KindSale:
		return "A sale"
	case pl.Kind != "":
		return "An income of kind " + pl.Kind
	}
	return "An income"
}

func (pl *plan) words() string {
	of := pl.What
	if pl.Kind != "" && pl.What != "income of kind "+pl.Kind {
		of += " (kind " + pl.Kind + ")"
	}
	if pl.Rest != "" {
		return fmt.Sprintf("On %s the fee is %s of the price, rounded half to even to the minor unit, and %s gets the rest; the fee goes %s.",
			of, Percent(pl.FeeBP), pl.Rest, describe(&pl.Tree))
	}
	return fmt.Sprintf("Of %s: %s.", of, describe(&pl.Tree))
}

// describe says how a node splits: "80% to the member and 20% to …".
func describe(n *Node) string {
	if len(n.Parts) == 0 {
		return "all to " + name(n)
	}
	parts := make([]string, len(n.Parts))
	for i := range n.Parts {
		c := &n.Parts[i]
		parts[i] = Percent(c.BP) + " to " + name(c)
		if len(c.Parts) > 0 {
			parts[i] += " (of that, " + describe(c) + ")"
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

func name(n *Node) string {
	switch {
	case n.To == ToMember && n.Label == "":
		return "the member"
	case n.To == ToBuyer && n.Label == "":
		return "the buyer"
	case n.Label == "":
		return n.To
	case n.To == "" || n.To == ToMember || n.To == ToBuyer:
		return n.Label
	}
	return n.Label + " (" + n.To + ")"
}

// describe says the levy and works each project's charge this year and
// next.
func (p *LevyParams) describe(unit string, now int) ([]string, []Example, error) {
	words := []string{
		"Each month every member project pays the solidarity levy, its area × the rate, to the pool (coop:pool); " +
			"the charge is rounded half to even to the minor unit, and nothing is rounded before it.",
		fmt.Sprintf("The rate starts at %s minor units per m² a month (%s %s) and rises each year of a project by %s of the project's "+
			"base rent per m² of the year before.", formatRate(p.start), formatScaled(p.start, 6, 2), unit, Percent(p.StepBP)),
		"A passed proposal may suspend a project's levy from a month on, or resume it; months charged stay charged.",
	}
	var examples []Example
	for i := range p.Projects {
		pr := &p.Projects[i]
		rents := strconv.FormatInt(pr.BaseRent, 10)
		if len(pr.BaseRents) > 0 {
			rs := make([]string, len(pr.BaseRents))
			for j, b := range pr.BaseRents {
				rs[j] = strconv.FormatInt(b, 10)
			}
			rents = strings.Join(rs, ", ") + " in its years 1 to " + strconv.Itoa(len(rs))
		}
		words = append(words, fmt.Sprintf("%s: %s m², base rent %s minor units per m² a month, levy from %s.",
			pr.title(), pr.AreaM2, rents, pr.Start))
		k := max(pr.year(now), 0)
		for _, y := range []int{k, k + 1} {
			amount, err := p.charge(pr, y)
			if err != nil {
				return nil, nil, err
			}
			from := periodKey(pr.start + 12*y)
			examples = append(examples, Example{Kind: KindLevy, Amount: amount, Unit: unit,
				Text: fmt.Sprintf("%s in year %d (from %s): %s m² × %s minor units = %s %s a month", pr.title(), y+1, from,
					pr.AreaM2, formatRate(p.rate(pr, y)), FormatAmount(amount), unit),
				Parts: []Part{{Part: "the levy of " + pr.Member, To: "coop:pool", Amount: amount}}})
		}
	}
	return words, examples, nil
}

func (pr *Project) title() string {
	if pr.Name != "" {
		return pr.Name + " (" + pr.Member + ")"
	}
	return pr.Member
}

// Percent writes basis points as a percentage: 2000 → "20%", 2550 →
// "25.5%", 1 → "0.01%".
func Percent(bp int64) string { return formatScaled(bp, 2, 0) + "%" }

// FormatAmount writes minor units of a two-decimal currency with
// thousands separators: 100000 → "1,000.00".
func FormatAmount(a int64) string {
	s := formatScaled(a, 2, 2)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	out := b.String() + "." + frac
	if neg {
		out = "-" + out
	}
	return out
}
