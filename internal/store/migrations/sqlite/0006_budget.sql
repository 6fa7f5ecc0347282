-- opencoop schema 6: budget rounds (RULES.md 3.3) — rounds, their core
-- expenses, the pots that hold a round's money in the ledger (members'
-- allowances and buckets), buckets with their items and co-creators, and
-- the index of contributions. Balances live only in the ledger.
-- Kept in step with postgres/0006_budget.sql (a test compares them).

-- A round's policies and its money in (C, E, D and the shortfall taken
-- from the reserves) are fixed at creation; the close totals at close.
CREATE TABLE budget_rounds (
    id             INTEGER PRIMARY KEY,
    coop_id        BIGINT NOT NULL REFERENCES coops (id),
    title          TEXT NOT NULL,
    unit           TEXT NOT NULL,
    buckets_from   DATETIME NOT NULL,
    buckets_to     DATETIME NOT NULL,
    funding_from   DATETIME NOT NULL,
    funding_to     DATETIME NOT NULL,
    member_cap     BIGINT NOT NULL CHECK (member_cap >= 0),
    underfunded    TEXT NOT NULL CHECK (underfunded IN ('refund', 'keep', 'reclaim_to_pool')),
    unspent        TEXT NOT NULL CHECK (unspent IN ('return_to_pool', 'roll_over')),
    allowance_rule TEXT NOT NULL CHECK (allowance_rule IN ('proportional', 'equal', 'by_class')),
    period_from    DATETIME,
    period_to      DATETIME,
    contributions  BIGINT NOT NULL CHECK (contributions >= 0),
    core_expenses  BIGINT NOT NULL CHECK (core_expenses >= 0),
    discretionary  BIGINT NOT NULL CHECK (discretionary >= 0),
    shortfall      BIGINT NOT NULL CHECK (shortfall >= 0),
    members        INTEGER NOT NULL,
    rolled_in      BIGINT NOT NULL DEFAULT 0,
    rolled_into    BIGINT REFERENCES budget_rounds (id),
    state          TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    created_by     BIGINT NOT NULL REFERENCES members (id),
    created_at     DATETIME NOT NULL,
    closed_at      DATETIME,
    refunded       BIGINT NOT NULL DEFAULT 0,
    kept           BIGINT NOT NULL DEFAULT 0,
    reclaimed      BIGINT NOT NULL DEFAULT 0,
    returned       BIGINT NOT NULL DEFAULT 0,
    rolled_over    BIGINT NOT NULL DEFAULT 0,
    CHECK (buckets_from < buckets_to AND funding_from < funding_to)
);
CREATE INDEX budget_rounds_coop_id_idx ON budget_rounds (coop_id, state);

-- Core expenses E, each approved by a decision: a closed, passed proposal.
CREATE TABLE budget_expenses (
    round_id    BIGINT NOT NULL REFERENCES budget_rounds (id),
    position    INTEGER NOT NULL,
    title       TEXT NOT NULL,
    amount      BIGINT NOT NULL CHECK (amount > 0),
    proposal_id BIGINT NOT NULL REFERENCES proposals (id),
    PRIMARY KEY (round_id, position)
);

-- A pot is one ledger account of a round, owner "bucket:<id>": a bucket
-- (details in buckets, same id) or a member's allowance (member_id set),
-- so her own money (member:<handle>) and her allowance never mix. basis is
-- what her share was computed from (her contribution, or 1), granted her
-- share of D, rolled_in what the last roll_over round carried to her.
CREATE TABLE budget_pots (
    id        INTEGER PRIMARY KEY,
    coop_id   BIGINT NOT NULL REFERENCES coops (id),
    round_id  BIGINT NOT NULL REFERENCES budget_rounds (id),
    kind      TEXT NOT NULL CHECK (kind IN ('bucket', 'allowance')),
    member_id BIGINT REFERENCES members (id),
    basis     BIGINT NOT NULL DEFAULT 0,
    granted   BIGINT NOT NULL DEFAULT 0 CHECK (granted >= 0),
    rolled_in BIGINT NOT NULL DEFAULT 0 CHECK (rolled_in >= 0),
    CONSTRAINT budget_pots_round_id_member_id_key UNIQUE (round_id, member_id),
    CHECK ((kind = 'allowance') = (member_id IS NOT NULL))
);

-- state: draft → idea → open → funded → completed, or cancelled. outcome
-- is what the close did to a bucket it found under-funded.
CREATE TABLE buckets (
    id           INTEGER PRIMARY KEY REFERENCES budget_pots (id),
    coop_id      BIGINT NOT NULL REFERENCES coops (id),
    round_id     BIGINT NOT NULL REFERENCES budget_rounds (id),
    author_id    BIGINT NOT NULL REFERENCES members (id),
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('draft', 'idea', 'open', 'funded', 'completed', 'cancelled')),
    min_goal     BIGINT NOT NULL CHECK (min_goal >= 0),
    max_goal     BIGINT NOT NULL CHECK (max_goal > 0),
    outcome      TEXT NOT NULL DEFAULT '' CHECK (outcome IN ('', 'refunded', 'kept', 'reclaimed')),
    paid_to      TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    published_at DATETIME,
    opened_at    DATETIME,
    funded_at    DATETIME,
    completed_at DATETIME,
    cancelled_at DATETIME,
    CHECK (min_goal <= max_goal)
);
CREATE INDEX buckets_round_id_idx ON buckets (round_id);

CREATE TABLE bucket_items (
    bucket_id  BIGINT NOT NULL REFERENCES buckets (id),
    position   INTEGER NOT NULL,
    title      TEXT NOT NULL,
    min_amount BIGINT NOT NULL CHECK (min_amount >= 0),
    max_amount BIGINT NOT NULL CHECK (max_amount >= min_amount),
    PRIMARY KEY (bucket_id, position)
);

CREATE TABLE bucket_cocreators (
    bucket_id BIGINT NOT NULL REFERENCES buckets (id),
    member_id BIGINT NOT NULL REFERENCES members (id),
    PRIMARY KEY (bucket_id, member_id)
);

-- Which ledger transfers are contributions, by whom to which bucket, and
-- the reversing transfer that returned one (withdrawn, cancelled or
-- refunded). Amounts repeat the journal's; the ledger holds the balances.
CREATE TABLE budget_contributions (
    coop_id     BIGINT NOT NULL REFERENCES coops (id),
    id          TEXT NOT NULL,
    round_id    BIGINT NOT NULL REFERENCES budget_rounds (id),
    bucket_id   BIGINT NOT NULL REFERENCES buckets (id),
    member_id   BIGINT NOT NULL REFERENCES members (id),
    amount      BIGINT NOT NULL CHECK (amount > 0),
    at          DATETIME NOT NULL,
    reversed_by TEXT,
    reversal    TEXT CHECK (reversal IN ('withdrawn', 'cancelled', 'refunded')),
    reversed_at DATETIME,
    PRIMARY KEY (coop_id, id)
);
CREATE INDEX budget_contributions_bucket_id_member_id_idx ON budget_contributions (bucket_id, member_id);
