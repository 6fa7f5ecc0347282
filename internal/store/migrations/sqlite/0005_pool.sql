-- opencoop schema 5: pooling rules, the incomes they split and the periodic
-- pools and levies (RULES.md 3.2). Kept in step with postgres/0005_pool.sql
-- (a test compares them). Every table is append-only: a new rule, income,
-- period or suspension is a new row; the ledger holds the money.

-- A co-op's pooling rules; the one in force at a time is the newest whose
-- effective_at is not after it. params is the rule's canonical JSON with
-- every default filled in.
CREATE TABLE pool_rules (
    id           INTEGER PRIMARY KEY,
    coop_id      BIGINT NOT NULL REFERENCES coops (id),
    preset       TEXT NOT NULL CHECK (preset IN ('enspiral', 'marketplace', 'solidarity_levy', 'custom')),
    params       TEXT NOT NULL,
    set_by       TEXT NOT NULL,
    effective_at DATETIME NOT NULL
);
CREATE INDEX pool_rules_coop_id_effective_at_idx ON pool_rules (coop_id, effective_at);

-- Incomes split by a rule, one per client id: a replay finds its row. body
-- is the canonical request a replay must repeat; postings the transfers the
-- rule made (the ledger holds them too, ids inc:<client_id>:<n>).
-- users_pool is what a marketplace sale gave the users' pool, which the
-- month's distribution shares out.
CREATE TABLE pool_incomes (
    id          INTEGER PRIMARY KEY,
    coop_id     BIGINT NOT NULL REFERENCES coops (id),
    client_id   TEXT NOT NULL,
    rule_id     BIGINT NOT NULL REFERENCES pool_rules (id),
    preset      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    member      TEXT NOT NULL,
    buyer       TEXT NOT NULL,
    project     TEXT NOT NULL,
    note        TEXT NOT NULL,
    amount      BIGINT NOT NULL CHECK (amount > 0),
    unit        TEXT NOT NULL,
    fee         BIGINT NOT NULL,
    users_pool  BIGINT NOT NULL,
    body        TEXT NOT NULL,
    postings    TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    at          DATETIME NOT NULL,
    CONSTRAINT pool_incomes_coop_id_client_id_key UNIQUE (coop_id, client_id)
);
CREATE INDEX pool_incomes_coop_id_at_idx ON pool_incomes (coop_id, at);

-- One row per co-op, job and month: the unique key makes a periodic job
-- run once however often or concurrently it is started. detail holds the
-- run's lines (who, on what basis, how much), totals and postings.
CREATE TABLE pool_periods (
    id       INTEGER PRIMARY KEY,
    coop_id  BIGINT NOT NULL REFERENCES coops (id),
    job      TEXT NOT NULL CHECK (job IN ('marketplace', 'levy')),
    period   TEXT NOT NULL,
    rule_id  BIGINT REFERENCES pool_rules (id),
    detail   TEXT NOT NULL,
    ran_by   TEXT NOT NULL,
    at       DATETIME NOT NULL,
    CONSTRAINT pool_periods_coop_id_job_period_key UNIQUE (coop_id, job, period)
);

-- Decisions that suspend or resume a project's solidarity levy from a
-- month on, each linked to the proposal that decided it.
CREATE TABLE pool_suspensions (
    id          INTEGER PRIMARY KEY,
    coop_id     BIGINT NOT NULL REFERENCES coops (id),
    project     TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('suspend', 'resume')),
    from_period TEXT NOT NULL,
    proposal_id BIGINT NOT NULL REFERENCES proposals (id),
    note        TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    at          DATETIME NOT NULL
);
CREATE INDEX pool_suspensions_coop_id_project_idx ON pool_suspensions (coop_id, project);
