-- opencoop schema 1: accounts, co-ops, members, proposals, ballots, audit.
-- Kept in step with postgres/0001_init.sql (a test compares them).

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    handle        TEXT NOT NULL,
    name          TEXT NOT NULL,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    is_admin      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    DATETIME NOT NULL,
    CONSTRAINT accounts_handle_key UNIQUE (handle),
    CONSTRAINT accounts_email_key UNIQUE (email)
);

CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('session', 'api')),
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  DATETIME NOT NULL,
    expires_at  DATETIME NOT NULL,
    CONSTRAINT sessions_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX sessions_account_id_idx ON sessions (account_id);

CREATE TABLE coops (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    purpose     TEXT NOT NULL CHECK (purpose <> ''),
    preset      TEXT NOT NULL,
    currency    TEXT NOT NULL DEFAULT 'EUR',
    notice_days INTEGER NOT NULL DEFAULT 14,
    proxy_limit INTEGER NOT NULL DEFAULT 1,
    created_by  BIGINT NOT NULL REFERENCES accounts (id),
    created_at  DATETIME NOT NULL,
    CONSTRAINT coops_slug_key UNIQUE (slug)
);

CREATE TABLE classes (
    id       INTEGER PRIMARY KEY,
    coop_id  BIGINT NOT NULL REFERENCES coops (id),
    key      TEXT NOT NULL,
    name     TEXT NOT NULL,
    weight   INTEGER NOT NULL CHECK (weight >= 0 AND weight <= 100),
    votes    BOOLEAN NOT NULL,
    position INTEGER NOT NULL,
    CONSTRAINT classes_coop_id_key_key UNIQUE (coop_id, key)
);

CREATE TABLE members (
    id           INTEGER PRIMARY KEY,
    coop_id      BIGINT NOT NULL REFERENCES coops (id),
    account_id   BIGINT NOT NULL REFERENCES accounts (id),
    class_id     BIGINT NOT NULL REFERENCES classes (id),
    state        TEXT NOT NULL CHECK (state IN ('applicant', 'member', 'suspended', 'left')),
    weight       INTEGER NOT NULL DEFAULT 1 CHECK (weight > 0),
    is_secretary BOOLEAN NOT NULL DEFAULT FALSE,
    joined_at    DATETIME NOT NULL,
    left_at      DATETIME,
    CONSTRAINT members_coop_id_account_id_key UNIQUE (coop_id, account_id)
);
CREATE INDEX members_account_id_idx ON members (account_id);

CREATE TABLE invitations (
    id         INTEGER PRIMARY KEY,
    coop_id    BIGINT NOT NULL REFERENCES coops (id),
    code       TEXT NOT NULL,
    class_id   BIGINT NOT NULL REFERENCES classes (id),
    max_uses   INTEGER NOT NULL CHECK (max_uses >= 0),
    uses       INTEGER NOT NULL DEFAULT 0,
    expires_at DATETIME,
    created_by BIGINT NOT NULL REFERENCES members (id),
    created_at DATETIME NOT NULL,
    CONSTRAINT invitations_code_key UNIQUE (code),
    CHECK (max_uses = 0 OR uses <= max_uses)
);

CREATE TABLE proposals (
    id             INTEGER PRIMARY KEY,
    coop_id        BIGINT NOT NULL REFERENCES coops (id),
    author_id      BIGINT NOT NULL REFERENCES members (id),
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    method         TEXT NOT NULL,
    options        TEXT NOT NULL,
    params         TEXT NOT NULL,
    weighting      TEXT NOT NULL CHECK (weighting IN ('equal', 'classes')),
    empty_class    TEXT NOT NULL CHECK (empty_class IN ('redistribute', 'abstain')),
    class_majority BOOLEAN NOT NULL,
    quorum         TEXT NOT NULL,
    pass_rule      TEXT NOT NULL,
    secret         BOOLEAN NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('draft', 'open', 'closed', 'cancelled')),
    closes_at      DATETIME NOT NULL,
    created_at     DATETIME NOT NULL,
    opened_at      DATETIME,
    closed_at      DATETIME,
    classes        TEXT,
    result         TEXT
);
CREATE INDEX proposals_coop_id_idx ON proposals (coop_id);
CREATE INDEX proposals_state_closes_at_idx ON proposals (state, closes_at);

-- The electorate frozen when a proposal opens (RULES.md 2.1).
CREATE TABLE electorate (
    proposal_id BIGINT NOT NULL REFERENCES proposals (id),
    member_id   BIGINT NOT NULL REFERENCES members (id),
    class_key   TEXT NOT NULL,
    weight      INTEGER NOT NULL CHECK (weight > 0),
    PRIMARY KEY (proposal_id, member_id)
);

-- Who voted, and for open ballots what. A secret ballot's content lives in
-- secret_ballots, away from the voter.
CREATE TABLE ballots (
    proposal_id BIGINT NOT NULL REFERENCES proposals (id),
    member_id   BIGINT NOT NULL REFERENCES members (id),
    content     TEXT,
    cast_at     DATETIME NOT NULL,
    changes     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (proposal_id, member_id)
);

-- Secret ballots: a random id, the content, and until close a keyed hash of
-- (proposal, member) so the voter can replace her ballot. The key is not in
-- the database, and the hash is erased at close.
CREATE TABLE secret_ballots (
    id          BIGINT PRIMARY KEY,
    proposal_id BIGINT NOT NULL REFERENCES proposals (id),
    voter_tag   TEXT,
    class_key   TEXT NOT NULL,
    weight      INTEGER NOT NULL,
    content     TEXT NOT NULL,
    CONSTRAINT secret_ballots_voter_tag_key UNIQUE (voter_tag)
);
CREATE INDEX secret_ballots_proposal_id_idx ON secret_ballots (proposal_id);

-- The audit log: one hash chain per co-op (chain 0 is the instance).
CREATE TABLE audit_events (
    chain       BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    at          DATETIME NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    object      TEXT NOT NULL,
    payload     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
);

-- The head of every chain; updating it serialises appends to one chain.
CREATE TABLE audit_heads (
    chain BIGINT PRIMARY KEY,
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);
