-- opencoop schema 7: community share offers (RULES.md 3.4).
-- Kept in step with postgres/0007_shares.sql (a test compares them).

-- An offer of shares of one class at par. Targets and holdings are in
-- whole shares; money is shares × par in unit. applied_shares is the sum
-- of the live (pending) applications, changed only together with them:
-- every application takes this row's lock first, and so does the close.
CREATE TABLE share_offers (
    id                INTEGER PRIMARY KEY,
    coop_id           BIGINT NOT NULL REFERENCES coops (id),
    class_id          BIGINT NOT NULL REFERENCES classes (id),
    title             TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    unit              TEXT NOT NULL,
    par               BIGINT NOT NULL CHECK (par > 0),
    min_shares        BIGINT NOT NULL CHECK (min_shares >= 0),
    optimum_shares    BIGINT NOT NULL,
    max_shares        BIGINT NOT NULL,
    member_min_shares BIGINT NOT NULL CHECK (member_min_shares >= 1),
    member_max_shares BIGINT NOT NULL,
    opens_at          DATETIME NOT NULL,
    closes_at         DATETIME NOT NULL,
    rule              TEXT NOT NULL CHECK (rule IN ('fcfs', 'pro_rata', 'cap_largest')),
    lock_in_days      INTEGER NOT NULL CHECK (lock_in_days >= 0),
    notice_days       INTEGER NOT NULL CHECK (notice_days >= 0),
    state             TEXT NOT NULL CHECK (state IN ('open', 'allotted', 'failed')),
    applied_shares    BIGINT NOT NULL DEFAULT 0 CHECK (applied_shares >= 0),
    allotted_shares   BIGINT NOT NULL DEFAULT 0 CHECK (allotted_shares >= 0),
    created_by        BIGINT NOT NULL REFERENCES accounts (id),
    created_at        DATETIME NOT NULL,
    closed_by         TEXT,
    closed_at         DATETIME,
    CHECK (min_shares <= optimum_shares AND optimum_shares <= max_shares),
    CHECK (member_min_shares <= member_max_shares),
    CHECK (opens_at < closes_at)
);
CREATE INDEX share_offers_coop_id_idx ON share_offers (coop_id);
CREATE INDEX share_offers_closes_at_idx ON share_offers (closes_at);

-- An application reserves shares × par from the applicant's account to
-- the offer's escrow (a pending ledger transfer, transfer_id). state:
-- pending, withdrawn (voided by her before the close), allotted (posted,
-- allotted_shares of shares) or refunded (voided at the close).
CREATE TABLE share_applications (
    id              INTEGER PRIMARY KEY,
    coop_id         BIGINT NOT NULL REFERENCES coops (id),
    offer_id        BIGINT NOT NULL REFERENCES share_offers (id),
    account_id      BIGINT NOT NULL REFERENCES accounts (id),
    shares          BIGINT NOT NULL CHECK (shares > 0),
    amount          BIGINT NOT NULL CHECK (amount > 0),
    transfer_id     TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'withdrawn', 'allotted', 'refunded')),
    allotted_shares BIGINT NOT NULL DEFAULT 0 CHECK (allotted_shares >= 0 AND allotted_shares <= shares),
    applied_at      DATETIME NOT NULL,
    resolved_at     DATETIME
);
CREATE INDEX share_applications_offer_id_idx ON share_applications (offer_id);
CREATE INDEX share_applications_account_id_idx ON share_applications (account_id);
-- One live application per person and offer.
CREATE UNIQUE INDEX share_applications_offer_id_account_id_key ON share_applications (offer_id, account_id) WHERE state = 'pending';

-- A withdrawal request: shares of one holding (an offer's issue) back at
-- par, due notice_days after it was made; the board approves or rejects.
CREATE TABLE share_withdrawals (
    id           INTEGER PRIMARY KEY,
    coop_id      BIGINT NOT NULL REFERENCES coops (id),
    offer_id     BIGINT NOT NULL REFERENCES share_offers (id),
    account_id   BIGINT NOT NULL REFERENCES accounts (id),
    shares       BIGINT NOT NULL CHECK (shares > 0),
    amount       BIGINT NOT NULL CHECK (amount > 0),
    state        TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
    reason       TEXT NOT NULL DEFAULT '',
    requested_at DATETIME NOT NULL,
    due_at       DATETIME NOT NULL,
    decided_by   BIGINT REFERENCES accounts (id),
    decided_at   DATETIME,
    transfer_id  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX share_withdrawals_coop_id_state_idx ON share_withdrawals (coop_id, state);
CREATE INDEX share_withdrawals_account_id_idx ON share_withdrawals (account_id);

-- The share register: append-only. Shares issued at a close (positive,
-- with the application) and cancelled by an approved withdrawal
-- (negative, with the request). A holding is the sum per offer and person.
CREATE TABLE share_register (
    id             INTEGER PRIMARY KEY,
    coop_id        BIGINT NOT NULL REFERENCES coops (id),
    class_id       BIGINT NOT NULL REFERENCES classes (id),
    offer_id       BIGINT NOT NULL REFERENCES share_offers (id),
    account_id     BIGINT NOT NULL REFERENCES accounts (id),
    shares         BIGINT NOT NULL CHECK (shares <> 0),
    application_id BIGINT REFERENCES share_applications (id),
    withdrawal_id  BIGINT REFERENCES share_withdrawals (id),
    at             DATETIME NOT NULL,
    CHECK ((shares > 0 AND application_id IS NOT NULL AND withdrawal_id IS NULL)
        OR (shares < 0 AND withdrawal_id IS NOT NULL AND application_id IS NULL)),
    CONSTRAINT share_register_application_id_key UNIQUE (application_id),
    CONSTRAINT share_register_withdrawal_id_key UNIQUE (withdrawal_id)
);
CREATE INDEX share_register_coop_id_account_id_idx ON share_register (coop_id, account_id);
CREATE INDEX share_register_offer_id_idx ON share_register (offer_id);

-- The board's decisions to suspend and resume withdrawals: append-only;
-- the latest row per co-op is in force (none: withdrawals run).
CREATE TABLE share_suspensions (
    id         INTEGER PRIMARY KEY,
    coop_id    BIGINT NOT NULL REFERENCES coops (id),
    suspended  BOOLEAN NOT NULL,
    reason     TEXT NOT NULL,
    decided_by BIGINT NOT NULL REFERENCES accounts (id),
    decided_at DATETIME NOT NULL
);
CREATE INDEX share_suspensions_coop_id_idx ON share_suspensions (coop_id);
