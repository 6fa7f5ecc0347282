// Copyright 2026 The opencoop Authors.
// SPDX-License-Identifier: AGPL-3.0-or-later

package govern

import (
	"context"
	"fmt"

	"opencoop/internal/ballotfile"
	"opencoop/internal/errs"
)

// Export returns the ballots of closed proposal p as a ballot file, with
// the method, parameters (the lot's seed included), classes and weights
// its count used, so that `opencoop tally` on the export gives the stored
// result. Open ballots name their voters; secret ones never do.
func (s *Service) Export(ctx context.Context, p *Proposal) (*ballotfile.File, error) {
	if p.State != StateClosed {
		return nil, fmt.Errorf("ballots are exported once the proposal has closed: %w", errs.ErrConflict)
	}
	in, voters, err := s.countInput(ctx, s.DB.Read(), p)
	if err != nil {
		return nil, err
	}
	// Candidates are named by option key, not label: a recount keys its
	// options by name, and the lot draws over keys, so only then does a
	// tie broken by lot break the same way.
	names := make([]string, len(p.Options))
	for i, o := range p.Options {
		names[i] = o.Key
	}
	params := in.Params
	return &ballotfile.File{
		Title: p.Title, Names: names, Seats: params.Seats, Scored: p.Method.Scored(), Ballots: in.Ballots,
		Voters: voters, Options: in.Options, Classes: in.Classes, Weighting: in.Weighting, EmptyClass: in.EmptyClass,
		Method: in.Method, Params: &params,
	}, nil
}
