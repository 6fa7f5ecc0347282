// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package vote

import "fmt"

// Ranking is a ranked ballot: groups of option indexes, best first; a group
// of more than one option ranks them level.
type Ranking [][]int

// countRanked counts the ranked and STAR methods.
func countRanked(in *Input) (*Result, error) {
	return nil, fmt.Errorf("%w %q: not counted yet", ErrMethod, in.Method)
}
