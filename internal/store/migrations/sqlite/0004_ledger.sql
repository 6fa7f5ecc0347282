-- opencoop schema 4: the ledger (RULES.md 3.1) and treasurers.
-- Kept in step with postgres/0004_ledger.sql (a test compares them).

ALTER TABLE members ADD COLUMN is_treasurer BOOLEAN NOT NULL DEFAULT FALSE;

-- Balances are materialised here and changed only together with the
-- journal row that explains them; GET …/ledger/check replays the journal.
CREATE TABLE ledger_accounts (
    id              INTEGER PRIMARY KEY,
    coop_id         BIGINT NOT NULL REFERENCES coops (id),
    owner           TEXT NOT NULL,
    unit            TEXT NOT NULL,
    no_overdraft    BOOLEAN NOT NULL,
    external        BOOLEAN NOT NULL,
    debits_posted   BIGINT NOT NULL DEFAULT 0,
    credits_posted  BIGINT NOT NULL DEFAULT 0,
    debits_pending  BIGINT NOT NULL DEFAULT 0,
    credits_pending BIGINT NOT NULL DEFAULT 0,
    created_at      DATETIME NOT NULL,
    CONSTRAINT ledger_accounts_coop_id_owner_unit_key UNIQUE (coop_id, owner, unit),
    CHECK (NOT no_overdraft OR credits_posted - debits_posted - debits_pending >= 0),
    CHECK (debits_pending >= 0 AND credits_pending >= 0)
);

-- The journal: append-only. action is transfer (posted at once), pending
-- (reserves), post, void or expire (resolve a pending one, named by
-- pending_id, once), or reverse (undoes a posted one, named by reverses).
CREATE TABLE transfers (
    seq        INTEGER PRIMARY KEY,
    coop_id    BIGINT NOT NULL REFERENCES coops (id),
    id         TEXT NOT NULL,
    action     TEXT NOT NULL CHECK (action IN ('transfer', 'pending', 'post', 'void', 'expire', 'reverse')),
    debit_id   BIGINT NOT NULL REFERENCES ledger_accounts (id),
    credit_id  BIGINT NOT NULL REFERENCES ledger_accounts (id),
    amount     BIGINT NOT NULL CHECK (amount >= 0),
    unit       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    ref        TEXT NOT NULL DEFAULT '',
    pending_id TEXT,
    reverses   TEXT,
    expires_at DATETIME,
    batch      TEXT NOT NULL DEFAULT '',
    body       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    at         DATETIME NOT NULL,
    CONSTRAINT transfers_coop_id_id_key UNIQUE (coop_id, id),
    CONSTRAINT transfers_coop_id_pending_id_key UNIQUE (coop_id, pending_id),
    CONSTRAINT transfers_coop_id_reverses_key UNIQUE (coop_id, reverses),
    CHECK (debit_id <> credit_id)
);
CREATE INDEX transfers_debit_id_idx ON transfers (debit_id);
CREATE INDEX transfers_credit_id_idx ON transfers (credit_id);
CREATE INDEX transfers_expires_at_idx ON transfers (expires_at);
