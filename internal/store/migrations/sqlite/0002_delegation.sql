-- opencoop schema 2: topics, liquid delegation (RULES.md 2.4) and the link
-- from a proposal to the meeting it is a resolution of (RULES.md 2.6).
-- Kept in step with postgres/0002_delegation.sql (a test compares them).

ALTER TABLE coops ADD COLUMN delegation BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE coops ADD COLUMN delegation_within_class BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE coops ADD COLUMN delegation_cap INTEGER NOT NULL DEFAULT 0 CHECK (delegation_cap >= 0);

CREATE TABLE topics (
    id         INTEGER PRIMARY KEY,
    coop_id    BIGINT NOT NULL REFERENCES coops (id),
    key        TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    CONSTRAINT topics_coop_id_key_key UNIQUE (coop_id, key)
);

ALTER TABLE proposals ADD COLUMN topic_id BIGINT REFERENCES topics (id);
ALTER TABLE proposals ADD COLUMN meeting_id BIGINT;
-- within_class_only as it stood at close (NULL before).
ALTER TABLE proposals ADD COLUMN delegation_within_class BOOLEAN;

-- One row per member and scope: scope_id is 0 for the co-op, the topic's
-- id or the proposal's id. trustee_id NULL is a delegation to nobody.
CREATE TABLE delegations (
    coop_id    BIGINT NOT NULL REFERENCES coops (id),
    member_id  BIGINT NOT NULL REFERENCES members (id),
    scope      TEXT NOT NULL CHECK (scope IN ('coop', 'topic', 'proposal')),
    scope_id   BIGINT NOT NULL,
    trustee_id BIGINT REFERENCES members (id),
    created_at DATETIME NOT NULL,
    PRIMARY KEY (member_id, scope, scope_id),
    CHECK (trustee_id IS NULL OR trustee_id <> member_id)
);
CREATE INDEX delegations_trustee_id_idx ON delegations (trustee_id);
CREATE INDEX delegations_coop_id_idx ON delegations (coop_id, scope, scope_id);

-- The delegations in force when a proposal closed, for its decision record.
CREATE TABLE proposal_delegations (
    proposal_id BIGINT NOT NULL REFERENCES proposals (id),
    member_id   BIGINT NOT NULL REFERENCES members (id),
    scope       TEXT NOT NULL,
    trustee_id  BIGINT REFERENCES members (id),
    PRIMARY KEY (proposal_id, member_id, scope)
);
