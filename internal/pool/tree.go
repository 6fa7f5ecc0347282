// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package pool

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"opencoop/internal/errs"
	"opencoop/internal/ledger"
	"opencoop/internal/money"
)

// Whole is 100% in basis points: the shares of a node's children sum to it.
const Whole = 10000

// Limits of a split tree, so that a rule stays readable and its words short.
const (
	MaxDepth    = 6  // levels of splits below the root
	MaxChildren = 16 // children of one node
	MaxLeaves   = 64 // accounts one income may reach
)

// Leaf names that stand for a party of the income rather than a fixed
// account: the member the income is for, and a marketplace sale's buyer.
const (
	ToMember = "member"
	ToBuyer  = "buyer"
)

// Node is one node of a split tree (RULES.md 3.2). A leaf names the account
// it pays (To); an inner node splits its amount among its Parts ("split" in
// JSON) by their shares in basis points (BP), which sum to [Whole]. The
// root takes the whole input: its BP is 0 or Whole. Label names the part in
// words and in each posting's path.
type Node struct {
	BP    int64  `json:"bp,omitempty"`
	Label string `json:"label,omitempty"`
	To    string `json:"to,omitempty"`
	Parts []Node `json:"split,omitempty"`
}

// Leg is what a split gives one leaf: its account (or ToMember, ToBuyer),
// the amount in minor units and the path of labels that led there.
type Leg struct {
	To     string
	Amount int64
	Part   string
}

// Split divides amount (≥ 0) by the tree: at every inner node the largest
// remainder method (money.Split) shares the node's amount among its
// children by their basis points, earlier children first on equal
// remainders, so every node's children sum exactly to the node. The legs
// come in the tree's order, leaves with nothing included.
func (n *Node) Split(amount int64) ([]Leg, error) {
	var out []Leg
	err := n.split(amount, "", &out)
	return out, err
}

func (n *Node) split(amount int64, path string, out *[]Leg) error {
	switch {
	case n.Label != "":
		path = joinPart(path, n.Label)
	case len(n.Parts) == 0:
		path = joinPart(path, name(n))
	}
	if len(n.Parts) == 0 {
		*out = append(*out, Leg{To: n.To, Amount: amount, Part: path})
		return nil
	}
	weights := make([]int64, len(n.Parts))
	for i, c := range n.Parts {
		weights[i] = c.BP
	}
	shares, err := money.Split(amount, weights)
	if err != nil {
		return fmt.Errorf("pool: split %d: %w", amount, err)
	}
	for i := range n.Parts {
		if err := n.Parts[i].split(shares[i], path, out); err != nil {
			return err
		}
	}
	return nil
}

func joinPart(path, label string) string {
	if path == "" {
		return label
	}
	return path + " › " + label
}

// Validate checks the tree as a rule's root and reports every problem under
// field (e.g. "params.tree"): at most MaxDepth levels and MaxChildren
// children a node, MaxLeaves leaves, shares of 1 to 10000 basis points
// summing to 10000 at each node, and leaves naming an account an income may
// pay: member, buyer, member:<handle> or one of the
// co-op's own accounts (coop:pool, coop:foundation, coop:reserves,
// coop:users_pool, coop:common).
func (n *Node) Validate(v *errs.ValidationError, field string) {
	if n.BP != 0 && n.BP != Whole {
		v.Add(field+".bp", "the root takes the whole income: leave bp out or give 10000")
	}
	leaves := 0
	n.validate(v, field, 0, &leaves)
	if leaves > MaxLeaves {
		v.Add(field, fmt.Sprintf("a tree may pay at most %d accounts, not %d", MaxLeaves, leaves))
	}
}

func (n *Node) validate(v *errs.ValidationError, field string, depth int, leaves *int) {
	if utf8.RuneCountInString(n.Label) > 60 {
		v.Add(field+".label", "a label has at most 60 characters")
	}
	if len(n.Parts) == 0 {
		*leaves++
		if msg := checkLeaf(n.To); msg != "" {
			v.Add(field+".to", msg)
		}
		return
	}
	if n.To != "" {
		v.Add(field+".to", "a node that splits pays no account itself: give either to or split")
	}
	if depth >= MaxDepth {
		v.Add(field+".split", fmt.Sprintf("a tree is at most %d levels deep", MaxDepth))
		return
	}
	if len(n.Parts) > MaxChildren {
		v.Add(field+".split", fmt.Sprintf("a node splits among at most %d parts, not %d", MaxChildren, len(n.Parts)))
		return
	}
	var sum int64
	for i := range n.Parts {
		c := &n.Parts[i]
		cf := fmt.Sprintf("%s.split[%d]", field, i)
		if c.BP < 1 || c.BP > Whole {
			v.Add(cf+".bp", "give a share of 1 to 10000 basis points (10000 is 100%)")
		}
		sum += c.BP
		c.validate(v, cf, depth+1, leaves)
	}
	if sum != Whole {
		v.Add(field+".split", fmt.Sprintf("the shares must sum to 10000 basis points (100%%), not %d", sum))
	}
}

// checkLeaf says what is wrong with a leaf's account, or "" if nothing.
func checkLeaf(to string) string {
	switch {
	case to == ToMember, to == ToBuyer:
		return ""
	case to == "external", strings.HasPrefix(to, "bucket:"), strings.HasPrefix(to, "offer:"):
		return fmt.Sprintf("%s cannot be paid by a pooling rule", to)
	case ledger.ValidOwner(to):
		return ""
	}
	return "name an account: member, buyer, member:<handle>, coop:pool, coop:foundation, coop:reserves, coop:users_pool or coop:common"
}

// leaves returns the tree's leaves' accounts in order.
func (n *Node) leaves() []string {
	if len(n.Parts) == 0 {
		return []string{n.To}
	}
	var out []string
	for i := range n.Parts {
		out = append(out, n.Parts[i].leaves()...)
	}
	return out
}
