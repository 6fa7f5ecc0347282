// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

// Package record is the decision record: everything a closed decision was
// counted from — method, parameters, classes, the frozen electorate, every
// open ballot, the delegations in force at close, a meeting's proxies and
// show-of-hands totals — in one JSON document that anyone can recount
// (docs/decision-record.md). The server counts every proposal through
// [Count], so a recount of its record gives the stored result exactly.
//
// It is pure, like vote: no I/O but encoding.
package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"opencoop/internal/vote"
)

// Format is the value of a record's "format" field.
const Format = "opencoop-decision/1"

// Delegation scopes (RULES.md 2.4), narrowest last.
const (
	ScopeCoop     = "coop"
	ScopeTopic    = "topic"
	ScopeProposal = "proposal"
)

// Record is one decision as it was counted.
type Record struct {
	Format   string `json:"format"`
	Proposal int64  `json:"proposal,omitempty"`
	Coop     string `json:"coop,omitempty"`
	Title    string `json:"title,omitempty"`

	Method        vote.Method     `json:"method"`
	Params        vote.Params     `json:"params"`
	Weighting     vote.Weighting  `json:"weighting"`
	EmptyClass    vote.EmptyClass `json:"empty_class,omitempty"`
	ClassMajority bool            `json:"class_majority,omitempty"`
	Quorum        vote.Quorum     `json:"quorum"`
	// Pass is the pass rule of yes/no-like methods; absent means ordinary.
	Pass    *vote.PassRule `json:"pass,omitempty"`
	Classes []vote.Class   `json:"classes"`
	// Topic selects which topic delegations apply.
	Topic string `json:"topic,omitempty"`
	// WithinClassOnly makes a delegation hop into another class a dead end
	// (the co-op's within_class_only setting at close).
	WithinClassOnly bool          `json:"within_class_only,omitempty"`
	Options         []vote.Option `json:"options"`
	Electorate      []Voter       `json:"electorate"`
	Ballots         []Ballot      `json:"ballots"`
	Delegations     []Delegation  `json:"delegations,omitempty"`
	// Totals are show-of-hands counts a meeting's secretary entered for
	// attendees without a ballot (RULES.md 2.6).
	Totals []Total `json:"totals,omitempty"`
	// Meeting, for a resolution, is the meeting's quorum: a resolution of
	// a meeting that was not quorate is never passed (RULES.md 2.5).
	Meeting *Meeting `json:"meeting,omitempty"`

	Result *vote.Result `json:"result,omitempty"`
}

// Voter is one member of the frozen electorate.
type Voter struct {
	Voter  string `json:"voter"`
	Class  string `json:"class"`
	Weight int64  `json:"weight"`
}

// Ballot is one direct ballot. Proxy names the holder who cast it on the
// voter's directions, if a proxy did. A secret ballot names no voter and
// carries its class and weight itself; it is never a trustee's.
type Ballot struct {
	Voter  string `json:"voter,omitempty"`
	Proxy  string `json:"proxy,omitempty"`
	Class  string `json:"class,omitempty"`
	Weight int64  `json:"weight,omitempty"`
	Content
}

// Delegation is one delegation in force at close. To is nil for a
// delegation to nobody, which blocks a wider one. Kind "proxy" marks a
// meeting's discretionary proxy, which counts like a proposal delegation.
type Delegation struct {
	From     string  `json:"from"`
	To       *string `json:"to"`
	Scope    string  `json:"scope"`
	Topic    string  `json:"topic,omitempty"`
	Proposal int64   `json:"proposal,omitempty"`
	Kind     string  `json:"kind,omitempty"`
}

// Total is a number of hands raised for one choice in one class.
type Total struct {
	Class  string `json:"class"`
	Choice string `json:"choice"`
	Count  int64  `json:"count"`
}

// Meeting is the quorum of the meeting a resolution was decided at.
type Meeting struct {
	ID      int64 `json:"id,omitempty"`
	Present int64 `json:"present"`
	Proxies int64 `json:"proxies"`
	// Remote counts members who voted remotely and were neither present
	// nor represented, when the meeting counts them towards its quorum.
	Remote   int64 `json:"remote,omitempty"`
	Required int64 `json:"required"`
	Quorate  bool  `json:"quorate"`
}

// ErrRecord reports a record that cannot be counted.
var ErrRecord = errors.New("record: invalid")

// Read decodes a record, refusing unknown fields and other formats.
func Read(r io.Reader) (*Record, error) {
	rec, _, err := ReadResult(r)
	return rec, err
}

// ReadResult is [Read] that also returns the record's "result" exactly as
// written (nil when it has none), so that a recount can be compared with it
// number for number; the document is parsed once.
func ReadResult(r io.Reader) (*Record, json.RawMessage, error) {
	// The outer Result, being shallower, takes "result" from the embedded
	// Record's field; it is decoded into the record below.
	var doc struct {
		*Record
		Result json.RawMessage `json:"result"`
	}
	doc.Record = new(Record)
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrRecord, err)
	}
	rec := doc.Record
	if rec.Format != Format {
		return nil, nil, fmt.Errorf("%w: format %q, want %q", ErrRecord, rec.Format, Format)
	}
	if len(doc.Result) == 0 || string(doc.Result) == "null" {
		return rec, nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(doc.Result))
	d.DisallowUnknownFields()
	rec.Result = new(vote.Result)
	if err := d.Decode(rec.Result); err != nil {
		return nil, nil, fmt.Errorf("%w: result: %w", ErrRecord, err)
	}
	return rec, doc.Result, nil
}

// Resolution is where every electorate member's vote went.
type Resolution struct {
	// Next is the member each one's chosen delegation points to, or a
	// vote.Resolve reason; Direct marks direct voters (ballot or total).
	Next   []int32
	Direct []bool
	// Target is vote.Resolve's answer: the direct voter whose ballot
	// counts for each member, or why none does.
	Target []int32
	// Scope is the scope of the delegation each member followed ("" if none).
	Scope []string
}

// Carried returns how many members other than t herself her ballot counts
// for. It walks every member: O(n) per call.
func (res *Resolution) Carried(t int32) int {
	n := 0
	for i, x := range res.Target {
		if x == t && int32(i) != t {
			n++
		}
	}
	return n
}

// Scope ranks, narrowest highest (RULES.md 2.4: the most specific wins).
var scopeRank = map[string]int8{ScopeCoop: 1, ScopeTopic: 2, ScopeProposal: 3}

// Resolve picks every member's most specific delegation (proposal over
// topic over co-op; only topic delegations of the record's topic and
// proposal delegations of its proposal apply) and follows the chains
// (RULES.md 2.4). It fails with ErrRecord on a record that cannot be
// counted: a voter twice in the electorate, a class the record does not
// list, a weight below 1, a ballot of someone outside the electorate, two
// ballots of one voter, an unknown scope or two delegations of one member
// in one scope.
func (rec *Record) Resolve() (*Resolution, error) {
	res, _, err := rec.resolve()
	return res, err
}

// resolve is Resolve, also returning the position in rec.Ballots of each
// member's ballot (-1 if none), so Input need not look voters up again.
//
// It looks every voter up once in one map built once: at a million members
// the map, not the chain following, is what costs (docs/BENCHMARKS.md).
func (rec *Record) resolve() (*Resolution, []int32, error) {
	idx, err := rec.electorateIndex()
	if err != nil {
		return nil, nil, err
	}
	n := len(rec.Electorate)
	res := &Resolution{Next: make([]int32, n), Direct: make([]bool, n), Scope: make([]string, n)}
	ballotOf := make([]int32, n)
	for i := range ballotOf {
		ballotOf[i] = -1
		res.Next[i] = vote.NoDelegation
	}
	for bi := range rec.Ballots {
		b := &rec.Ballots[bi]
		if b.Voter == "" {
			continue // secret: nobody's, and never a trustee's
		}
		i, ok := idx[b.Voter]
		if !ok {
			return nil, nil, fmt.Errorf("%w: ballot of %q, who is not in the electorate", ErrRecord, b.Voter)
		}
		if res.Direct[i] {
			return nil, nil, fmt.Errorf("%w: two ballots of %q", ErrRecord, b.Voter)
		}
		res.Direct[i] = true
		ballotOf[i] = int32(bi)
	}
	best := make([]int8, n)
	held := make([]uint8, n) // bit r: member holds an applicable delegation of scope rank r
	for di := range rec.Delegations {
		d := &rec.Delegations[di]
		r, ok := scopeRank[d.Scope]
		if !ok {
			return nil, nil, fmt.Errorf("%w: delegation scope %q", ErrRecord, d.Scope)
		}
		if d.Scope == ScopeTopic && d.Topic != rec.Topic {
			continue
		}
		if d.Scope == ScopeProposal && d.Proposal != 0 && rec.Proposal != 0 && d.Proposal != rec.Proposal {
			continue
		}
		i, ok := idx[d.From]
		if !ok {
			continue // not in the electorate: cannot vote, so cannot delegate
		}
		if held[i]&(1<<r) != 0 {
			return nil, nil, fmt.Errorf("%w: %q has two %s delegations", ErrRecord, d.From, d.Scope)
		}
		held[i] |= 1 << r
		if best[i] > r {
			continue
		}
		best[i] = r
		res.Scope[i] = d.Scope
		if d.To == nil {
			res.Next[i] = vote.Blocked
			continue
		}
		j, ok := idx[*d.To]
		switch {
		case !ok:
			res.Next[i] = vote.Outside
		case rec.WithinClassOnly && rec.Electorate[j].Class != rec.Electorate[i].Class:
			res.Next[i] = vote.Outside
		default:
			res.Next[i] = j
		}
	}
	res.Target = vote.Resolve(res.Next, res.Direct)
	return res, ballotOf, nil
}

func (rec *Record) electorateIndex() (map[string]int32, error) {
	classes := make(map[string]bool, len(rec.Classes))
	for _, c := range rec.Classes {
		classes[c.Key] = true
	}
	idx := make(map[string]int32, len(rec.Electorate))
	for i := range rec.Electorate {
		v := &rec.Electorate[i]
		if _, dup := idx[v.Voter]; dup {
			return nil, fmt.Errorf("%w: %q is twice in the electorate", ErrRecord, v.Voter)
		}
		if v.Voter == "" {
			return nil, fmt.Errorf("%w: electorate member %d has no name", ErrRecord, i)
		}
		if !classes[v.Class] {
			return nil, fmt.Errorf("%w: %q is in class %q, which the record does not list", ErrRecord, v.Voter, v.Class)
		}
		if v.Weight <= 0 {
			return nil, fmt.Errorf("%w: %q has weight %d; weights are positive integers", ErrRecord, v.Voter, v.Weight)
		}
		idx[v.Voter] = int32(i)
	}
	return idx, nil
}

// Input turns the record into a count: every direct ballot with its voter's
// class and weight, every delegated vote with the trustee's ballot content
// and the delegator's own class and weight, and each total as one ballot
// weighing its count. Ballots follow the electorate's order, then secret
// ballots in the record's order, then totals. A delegated vote shares its
// trustee's choices, scores or ranking (vote.Count does not change them).
func (rec *Record) Input() (*vote.Input, *Resolution, error) {
	res, ballotOf, err := rec.resolve()
	if err != nil {
		return nil, nil, err
	}
	pass := vote.Ordinary
	if rec.Pass != nil {
		pass = *rec.Pass
	}
	weighting, emptyClass := rec.Weighting, rec.EmptyClass
	if weighting == "" {
		weighting = vote.Equal
	}
	if emptyClass == "" {
		emptyClass = vote.Redistribute
	}
	in := &vote.Input{Method: rec.Method, Options: rec.Options, Params: rec.Params, Weighting: weighting,
		Classes: rec.Classes, EmptyClass: emptyClass, ClassMajority: rec.ClassMajority, Quorum: rec.Quorum,
		Pass: pass, Electorate: make([]int64, len(rec.Classes)), Members: int64(len(rec.Electorate))}
	if len(in.Options) == 0 {
		in.Options = vote.FixedOptions(rec.Method)
	}
	classIdx := make(map[string]int, len(rec.Classes))
	for i, c := range rec.Classes {
		classIdx[c.Key] = i
	}
	// Each member's class, looked up once rather than once per ballot.
	memberClass := make([]int32, len(rec.Electorate))
	for i := range rec.Electorate {
		k := classIdx[rec.Electorate[i].Class]
		memberClass[i] = int32(k)
		in.Electorate[k] += rec.Electorate[i].Weight
	}

	size := 0
	for i := range rec.Ballots {
		size += rec.Ballots[i].size(len(in.Options))
	}
	z := newNormalizer(in.Method, in.Options, in.Params, size)
	norm := make([]vote.Ballot, len(rec.Ballots))
	secret := 0
	for i := range rec.Ballots {
		b := &rec.Ballots[i]
		_, vb, err := z.normalize(b.Content)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: ballot %d (%q): %w", ErrRecord, i, b.Voter, err)
		}
		if b.Voter == "" {
			k, ok := classIdx[b.Class]
			if !ok || b.Weight <= 0 {
				return nil, nil, fmt.Errorf("%w: secret ballot %d needs a listed class and a positive weight", ErrRecord, i)
			}
			vb.Class, vb.Weight = k, b.Weight
			secret++
		}
		norm[i] = vb
	}
	counted := secret + len(rec.Totals)
	for _, t := range res.Target {
		if t >= 0 {
			counted++
		}
	}
	in.Ballots = make([]vote.Ballot, 0, counted)
	for i, t := range res.Target {
		if t < 0 {
			continue
		}
		b := norm[ballotOf[t]]
		b.Weight, b.Class, b.Delegated = rec.Electorate[i].Weight, int(memberClass[i]), t != int32(i)
		in.Ballots = append(in.Ballots, b)
	}
	for i := range rec.Ballots {
		if rec.Ballots[i].Voter == "" {
			in.Ballots = append(in.Ballots, norm[i])
		}
	}
	for _, t := range rec.Totals {
		k, ok := classIdx[t.Class]
		if !ok {
			return nil, nil, fmt.Errorf("%w: total for class %q, which the record does not list", ErrRecord, t.Class)
		}
		if t.Count < 0 {
			return nil, nil, fmt.Errorf("%w: negative total %d", ErrRecord, t.Count)
		}
		if t.Count == 0 {
			continue
		}
		choice := t.Choice
		_, vb, err := z.normalize(Content{Choice: &choice})
		if err != nil {
			return nil, nil, fmt.Errorf("%w: total for %q: %w", ErrRecord, t.Choice, err)
		}
		vb.Weight, vb.Class = t.Count, k
		in.Ballots = append(in.Ballots, vb)
	}
	return in, res, nil
}

// Count recounts the record. It does not look at rec.Result.
func Count(rec *Record) (*vote.Result, error) {
	in, _, err := rec.Input()
	if err != nil {
		return nil, err
	}
	r, err := vote.Count(in)
	if err != nil {
		return nil, err
	}
	if m := rec.Meeting; m != nil && !m.Quorate {
		r.Outcome = vote.NotQuorate
		r.Winners = nil
		remote := ""
		if m.Remote > 0 {
			remote = fmt.Sprintf(", %d remote", m.Remote)
		}
		r.Rule = fmt.Sprintf("the meeting was not quorate (%d present, %d by proxy%s, %d required); ", m.Present, m.Proxies, remote, m.Required) + r.Rule
	}
	return r, nil
}
