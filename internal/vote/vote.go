// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package vote

import (
	"errors"
	"fmt"
	"math/big"
)

// Method names a counting method (RULES.md 2.2).
type Method string

// The counting methods.
const (
	Consent  Method = "consent"
	YesNo    Method = "yesno"
	Choice   Method = "choice"
	Approval Method = "approval"
	Score    Method = "score"
	STAR     Method = "star"
	Borda    Method = "borda"
	IRV      Method = "irv"
	STV      Method = "stv"
	Schulze  Method = "schulze"
	Dot      Method = "dot"
	Meeting  Method = "meeting"
)

// Methods lists every method in the order pages offer them.
var Methods = []Method{Consent, YesNo, Choice, Approval, Score, STAR, Borda, IRV, STV, Schulze, Dot, Meeting}

// Valid reports whether m is a known method.
func (m Method) Valid() bool {
	for _, k := range Methods {
		if m == k {
			return true
		}
	}
	return false
}

// Ranked reports whether ballots of m are rankings.
func (m Method) Ranked() bool {
	switch m {
	case Borda, IRV, STV, Schulze:
		return true
	}
	return false
}

// Scored reports whether ballots of m give each option a number.
func (m Method) Scored() bool {
	switch m {
	case Score, STAR, Dot, Meeting:
		return true
	}
	return false
}

// Fixed reports whether m brings its own options (consent and yesno), so that a
// proposal may not choose them.
func (m Method) Fixed() bool { return m == Consent || m == YesNo }

// FixedOptions returns the options of consent and yesno, in ballot order, or nil.
func FixedOptions(m Method) []Option {
	switch m {
	case Consent:
		return []Option{{"agree", "Agree"}, {"abstain", "Abstain"}, {"disagree", "Disagree"}, {"block", "Block"}}
	case YesNo:
		return []Option{{"yes", "Yes"}, {"no", "No"}, {"abstain", "Abstain"}}
	}
	return nil
}

// Option is one thing a ballot can choose, rank or score.
type Option struct {
	Key   string `json:"key"`
	Label string `json:"label"`
}

// Class is a stakeholder class as a count sees it: its key and control weight in
// percent (RULES.md 2.3).
type Class struct {
	Key    string `json:"key"`
	Weight int64  `json:"weight"`
}

// Weighting says how ballots of different classes weigh (RULES.md 2.3).
type Weighting string

// The weightings.
const (
	// Equal is one member, one vote (times the member's own weight).
	Equal Weighting = "equal"
	// Classes gives every class its control weight whatever its size.
	Classes Weighting = "classes"
)

// EmptyClass says what happens to the weight of a class with no valid ballot.
type EmptyClass string

// The empty-class policies.
const (
	// Redistribute rescales the classes that voted to 100%.
	Redistribute EmptyClass = "redistribute"
	// Abstain keeps the silent class's weight in the divisor.
	Abstain EmptyClass = "abstain"
)

// Ballot is one member's ballot as counted. Which field is read depends on
// the method: Choices for consent, yesno, choice and approval (a single-choice
// ballot holds one index; an empty one is blank); Scores for score, star, dot
// and meeting (one entry per option; meeting uses 2 yes, 1 maybe, 0 no);
// Ranking for ranked methods. Option indexes refer to Input.Options.
type Ballot struct {
	// Weight is the member's own weight, a positive integer (1 for most
	// co-ops), or the multiplicity of identical ballots read from a file.
	Weight int64
	// Class indexes Input.Classes.
	Class int
	// Delegated marks a ballot counted for a member through delegation, so
	// results can show direct and delegated weight apart (RULES.md 2.4).
	Delegated bool
	Choices   []int
	Scores    []int
	Ranking   Ranking
}

// Params holds the per-method parameters fixed when a proposal opens.
type Params struct {
	// Seats is the number of winners for stv (default 1).
	Seats int `json:"seats,omitempty"`
	// Rules picks the STV rules: "scottish" (default) or "meek".
	Rules string `json:"rules,omitempty"`
	// DefaultOption is schulze's default option key (Debian A.6), if any.
	// A ballot that ranks it ranks the options it leaves out level with it
	// rather than at the bottom (countSchulze).
	DefaultOption string `json:"default_option,omitempty"`
	// Majority gives an option's required majority ratio N (N:1) against
	// the default option; absent means 1.
	Majority map[string]int64 `json:"majority,omitempty"`
	// MaxChoices caps the options a choice ballot may pick (default 1).
	MaxChoices int `json:"max_choices,omitempty"`
	// ScoreMin and ScoreMax bound score ballots (default 0..5).
	ScoreMin int `json:"score_min,omitempty"`
	ScoreMax int `json:"score_max,omitempty"`
	// Points is the dot budget per ballot.
	Points int `json:"points,omitempty"`
	// AllowedBlocks is how many block ballots a consent proposal survives.
	AllowedBlocks int `json:"allowed_blocks,omitempty"`
	// Seed feeds the lot that breaks ties the method's own rule leaves.
	Seed string `json:"seed,omitempty"`
}

// PassRule decides yes/no-like methods (RULES.md 2.5): the yes share of Of
// must be at least (or, with Strict, more than) Num/Den.
type PassRule struct {
	Of     string `json:"of"` // "cast" (yes+no) or "electorate"
	Num    int64  `json:"num"`
	Den    int64  `json:"den"`
	Strict bool   `json:"strict"`
}

// Ordinary is the ordinary-resolution rule: yes > 1/2 of cast.
var Ordinary = PassRule{Of: "cast", Num: 1, Den: 2, Strict: true}

// Special is the special-resolution rule: yes ≥ 3/4 of cast.
var Special = PassRule{Of: "cast", Num: 3, Den: 4}

// String gives the rule as members read it, e.g. "yes > 1/2 of cast".
func (p PassRule) String() string {
	op := "≥"
	if p.Strict {
		op = ">"
	}
	if p.Num == p.Den {
		return "unanimous yes of " + p.Of
	}
	return fmt.Sprintf("yes %s %d/%d of %s", op, p.Num, p.Den, p.Of)
}

// Quorum is the participation a count needs (RULES.md 2.5). Zero fields
// require nothing.
type Quorum struct {
	// Percent of the electorate's weight that must take part.
	Percent int64 `json:"percent,omitempty"`
	// Count is an absolute number of members that must take part.
	Count int64 `json:"count,omitempty"`
	// ClassPercent applies Percent inside every class as well.
	ClassPercent int64 `json:"class_percent,omitempty"`
}

// Input is everything a count needs. It is what a proposal fixes at open,
// plus the ballots at close.
type Input struct {
	Method        Method
	Options       []Option
	Params        Params
	Weighting     Weighting
	Classes       []Class
	EmptyClass    EmptyClass
	ClassMajority bool
	Quorum        Quorum
	Pass          PassRule
	// Electorate is the weight of the frozen electorate in each class
	// (indexed like Classes), and Members the number of people in it;
	// quorum and electorate-based pass rules need them. Nil means
	// "not known", and such rules are not applied.
	Electorate []int64
	Members    int64
	Ballots    []Ballot
}

// Errors returned by [Count].
var (
	ErrMethod = errors.New("vote: unknown method")
	ErrBallot = errors.New("vote: invalid ballot")
	ErrInput  = errors.New("vote: invalid input")
)

// Validate checks the parts of in every method relies on.
func (in *Input) Validate() error {
	if !in.Method.Valid() {
		return fmt.Errorf("%w %q", ErrMethod, in.Method)
	}
	if len(in.Options) == 0 {
		return fmt.Errorf("%w: no options", ErrInput)
	}
	if fixed := FixedOptions(in.Method); fixed != nil {
		if len(in.Options) != len(fixed) {
			return fmt.Errorf("%w: %s has the options %v", ErrInput, in.Method, fixed)
		}
		for i := range fixed {
			if in.Options[i].Key != fixed[i].Key {
				return fmt.Errorf("%w: %s has the options %v", ErrInput, in.Method, fixed)
			}
		}
	}
	if len(in.Classes) == 0 {
		return fmt.Errorf("%w: no classes", ErrInput)
	}
	if in.Weighting == Classes {
		var sum int64
		for _, c := range in.Classes {
			if c.Weight < 0 {
				return fmt.Errorf("%w: class %q has negative weight", ErrInput, c.Key)
			}
			sum += c.Weight
		}
		if sum <= 0 {
			return fmt.Errorf("%w: class weights sum to %d", ErrInput, sum)
		}
	}
	if in.Electorate != nil && len(in.Electorate) != len(in.Classes) {
		return fmt.Errorf("%w: electorate has %d classes, want %d", ErrInput, len(in.Electorate), len(in.Classes))
	}
	for i := range in.Ballots {
		b := &in.Ballots[i]
		if b.Weight <= 0 {
			return fmt.Errorf("%w %d: weight %d", ErrBallot, i, b.Weight)
		}
		if b.Class < 0 || b.Class >= len(in.Classes) {
			return fmt.Errorf("%w %d: class %d", ErrBallot, i, b.Class)
		}
	}
	return nil
}

// Count runs in.Method over in.Ballots and returns the full result. It does
// not change in.
func Count(in *Input) (*Result, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var r *Result
	var err error
	switch in.Method {
	case Consent, YesNo:
		r, err = countYesNo(in)
	case Choice, Approval, Score, Dot, Meeting:
		r, err = countTotals(in)
	default:
		r, err = countRanked(in)
	}
	if err != nil {
		return nil, err
	}
	// Every method's rule begins with the quorum it was held to.
	r.Rule = quorumRule(in) + r.Rule
	r.arrivals(in)
	return r, nil
}

// arrivals sets the direct and delegated weight of r, overall and per
// class, from in.Ballots. It is done here, once for every method, so that
// every result shows how its ballots arrived (RULES.md 2.3, 2.4) and no
// method can leave it out or count it differently.
func (r *Result) arrivals(in *Input) {
	direct := make([]int64, len(in.Classes))
	delegated := make([]int64, len(in.Classes))
	for i := range in.Ballots {
		b := &in.Ballots[i]
		if b.Delegated {
			delegated[b.Class] += b.Weight
		} else {
			direct[b.Class] += b.Weight
		}
	}
	if r.Classes == nil {
		r.Classes = make(map[string]*ClassCount, len(in.Classes))
	}
	r.DirectWeight, r.DelegatedWeight = 0, 0
	for k, c := range in.Classes {
		cc := r.Classes[c.Key]
		if cc == nil {
			cc = &ClassCount{Counts: map[string]int64{}}
			r.Classes[c.Key] = cc
		}
		cc.Direct, cc.Delegated = direct[k], delegated[k]
		r.DirectWeight += direct[k]
		r.DelegatedWeight += delegated[k]
	}
}

// missedQuorum marks r not quorate when participation fell short, and
// reports whether it did, so a method can stop before counting.
func (r *Result) missedQuorum() bool {
	if r.Participation.Quorate {
		return false
	}
	r.Outcome = NotQuorate
	return true
}

// Outcome is what a count decided.
type Outcome string

// The outcomes.
const (
	Passed     Outcome = "passed"
	Rejected   Outcome = "rejected"
	NotQuorate Outcome = "not_quorate"
	Decided    Outcome = "decided"
	// NoVotes is a count of options with no valid ballot at all.
	NoVotes Outcome = "no_votes"
)

// Result is a complete count: the outcome, the weighted totals, the counts
// of every class and the rule that was applied, so members can check it.
type Result struct {
	Method  Method   `json:"method"`
	Outcome Outcome  `json:"outcome"`
	Winners []string `json:"winners"`
	// Weighted is each option's total after class weighting (equal
	// weighting: the summed member weights), as a decimal.
	Weighted map[string]Num `json:"weighted"`
	// Classes holds each class's own counts beside the weighted total.
	Classes map[string]*ClassCount `json:"classes"`
	// Support is the weighted yes share for consent and yesno.
	Support       *Num           `json:"support,omitempty"`
	Participation *Participation `json:"participation,omitempty"`
	// DirectWeight and DelegatedWeight are the summed member weights of
	// the ballots cast directly (secret ballots and show-of-hands totals
	// included) and of the votes counted through delegation, for every
	// method (RULES.md 2.4); ClassCount splits them by class.
	DirectWeight    int64 `json:"direct_weight"`
	DelegatedWeight int64 `json:"delegated_weight"`
	// Direct and Delegated split each option's weighted total by how its
	// ballots arrived (RULES.md 2.4); present when any vote was delegated.
	// Ranked methods split their first-round totals.
	Direct    map[string]Num `json:"direct,omitempty"`
	Delegated map[string]Num `json:"delegated,omitempty"`
	Rule      string         `json:"rule"`
	// Seed is the lot's seed, published so anyone can redo a tie-break.
	Seed string `json:"seed,omitempty"`
	// TieBroken names the options a lot decided between, if any.
	TieBroken []string `json:"tie_broken,omitempty"`
	// Rounds, Pairwise and the rest record how ranked methods got there.
	Rounds   []Round                   `json:"rounds,omitempty"`
	Pairwise map[string]map[string]Num `json:"pairwise,omitempty"`
	Paths    map[string]map[string]Num `json:"paths,omitempty"`
	Dropped  []string                  `json:"dropped,omitempty"`
	Extra    map[string]any            `json:"extra,omitempty"`
}

// ClassCount is one class's share of a count.
type ClassCount struct {
	// Weight is the class's control weight in percent (0 under equal weighting).
	Weight int64 `json:"weight"`
	// Electorate is the class's member weight in the frozen electorate.
	Electorate int64 `json:"electorate"`
	// Ballots is the weight of ballots cast in the class, blank and
	// abstaining ones included; Valid leaves those out (n_k of RULES 2.3).
	Ballots int64 `json:"ballots"`
	Valid   int64 `json:"valid"`
	// Direct and Delegated split Ballots by how they arrived: cast by the
	// member (or a proxy on her directions), or counted through delegation
	// with the trustee's content and her own class and weight (RULES.md 2.4).
	Direct    int64 `json:"direct"`
	Delegated int64 `json:"delegated"`
	// Counts is the summed member weight per option (points for borda,
	// score times weight for scored methods, first preferences for the
	// other ranked methods).
	Counts map[string]int64 `json:"counts"`
	// DelegatedCounts is the delegated part of Counts, present when a
	// delegated vote counted for some option in any class.
	DelegatedCounts map[string]int64 `json:"delegated_counts,omitempty"`
	// Majority reports, under class_majority, whether yes won inside the class.
	Majority *bool `json:"majority,omitempty"`
}

// Participation compares who took part with the quorum.
type Participation struct {
	Electorate int64 `json:"electorate"`
	Members    int64 `json:"members"`
	// Voted is the weight of members who took part (abstentions included),
	// Voters their number.
	Voted    int64 `json:"voted"`
	Voters   int64 `json:"voters"`
	Required int64 `json:"required"`
	Quorate  bool  `json:"quorate"`
}

// Round is one round or stage of a ranked count.
type Round struct {
	Number    int            `json:"round"`
	Quota     *Num           `json:"quota,omitempty"`
	Counts    map[string]Num `json:"counts"`
	Exhausted *Num           `json:"exhausted,omitempty"`
	Elected   []string       `json:"elected,omitempty"`
	Excluded  []string       `json:"excluded,omitempty"`
	Transfer  *Transfer      `json:"transfer,omitempty"`
	// Keep holds the keep factors of Meek STV's elected candidates.
	Keep map[string]Num `json:"keep_factors,omitempty"`
	Note string         `json:"note,omitempty"`
}

// Transfer describes the votes an STV stage moved.
type Transfer struct {
	From  string `json:"from"`
	Kind  string `json:"kind"` // "surplus" or "exclusion"
	Value *Num   `json:"value,omitempty"`
}

// Num is an exact rational number that reads and writes as a JSON decimal
// (rounded to nine places for display; [Num.Exact] keeps every digit).
type Num struct{ r big.Rat }

// NumOf returns a/b.
func NumOf(a, b int64) Num {
	var n Num
	n.r.SetFrac64(a, b)
	return n
}

// NumRat returns a copy of r.
func NumRat(r *big.Rat) Num {
	var n Num
	n.r.Set(r)
	return n
}

// Rat returns the value as a new big.Rat.
func (n Num) Rat() *big.Rat { return new(big.Rat).Set(&n.r) }

// Exact returns the value as "a/b" (or "a" when whole).
func (n Num) Exact() string { return n.r.RatString() }

// Float returns the nearest float64, for charts.
func (n Num) Float() float64 { f, _ := n.r.Float64(); return f }

// String returns the value as a decimal rounded to nine places, with
// trailing zeros removed.
func (n Num) String() string {
	s := n.r.FloatString(9)
	for len(s) > 1 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

// MarshalJSON writes the decimal as a JSON number.
func (n Num) MarshalJSON() ([]byte, error) { return []byte(n.String()), nil }

// UnmarshalJSON reads a JSON number or a string "a/b".
func (n *Num) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) >= 2 && s[0] == '"' {
		s = s[1 : len(s)-1]
	}
	if _, ok := n.r.SetString(s); !ok {
		return fmt.Errorf("vote: bad number %q", s)
	}
	return nil
}
