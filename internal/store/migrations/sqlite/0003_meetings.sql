-- opencoop schema 3: general meetings (RULES.md 2.6) — agenda, proxies,
-- attendance, show-of-hands totals, minutes and the register of resolutions.
-- Kept in step with postgres/0003_meetings.sql (a test compares them).

-- state: draft → called (remote voting) → in_session → closed. The quorum
-- figures and the minutes are written once, at close.
CREATE TABLE meetings (
    id                  INTEGER PRIMARY KEY,
    coop_id             BIGINT NOT NULL REFERENCES coops (id),
    title               TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('general', 'annual')),
    state               TEXT NOT NULL CHECK (state IN ('draft', 'called', 'in_session', 'closed')),
    starts_at           DATETIME NOT NULL,
    notice_days         INTEGER NOT NULL CHECK (notice_days >= 0),
    quorum_count        INTEGER NOT NULL DEFAULT 0 CHECK (quorum_count >= 0),
    count_remote        BOOLEAN NOT NULL DEFAULT TRUE,
    created_by          BIGINT NOT NULL REFERENCES members (id),
    created_at          DATETIME NOT NULL,
    called_at           DATETIME,
    opened_at           DATETIME,
    closed_at           DATETIME,
    eligible            INTEGER,
    present             INTEGER,
    proxies             INTEGER,
    remote              INTEGER,
    required            INTEGER,
    quorate             BOOLEAN,
    minutes             TEXT,
    minutes_approved_at DATETIME,
    minutes_approved_in BIGINT REFERENCES meetings (id)
);
CREATE INDEX meetings_coop_id_idx ON meetings (coop_id, state);

-- An agenda item; one with resolution_kind carries a resolution, the
-- proposal created for it when the meeting is called.
CREATE TABLE agenda_items (
    id                INTEGER PRIMARY KEY,
    meeting_id        BIGINT NOT NULL REFERENCES meetings (id),
    position          INTEGER NOT NULL,
    title             TEXT NOT NULL,
    resolution_kind   TEXT CHECK (resolution_kind IN ('ordinary', 'special')),
    resolution_title  TEXT,
    resolution_body   TEXT,
    proposal_id       BIGINT REFERENCES proposals (id),
    approves_minutes  BIGINT REFERENCES meetings (id),
    CONSTRAINT agenda_items_meeting_id_position_key UNIQUE (meeting_id, position),
    CONSTRAINT agenda_items_proposal_id_key UNIQUE (proposal_id)
);

-- One standing proxy per member and meeting; revoking deletes it (the audit
-- log keeps the history). directions maps resolution ids to yes, no or
-- abstain; {} is a discretionary proxy.
CREATE TABLE proxies (
    meeting_id   BIGINT NOT NULL REFERENCES meetings (id),
    member_id    BIGINT NOT NULL REFERENCES members (id),
    holder_id    BIGINT NOT NULL REFERENCES members (id),
    directions   TEXT NOT NULL,
    appointed_at DATETIME NOT NULL,
    PRIMARY KEY (meeting_id, member_id),
    CHECK (holder_id <> member_id)
);
CREATE INDEX proxies_meeting_id_holder_id_idx ON proxies (meeting_id, holder_id);

CREATE TABLE attendance (
    meeting_id  BIGINT NOT NULL REFERENCES meetings (id),
    member_id   BIGINT NOT NULL REFERENCES members (id),
    status      TEXT NOT NULL CHECK (status IN ('present', 'apologies')),
    recorded_at DATETIME NOT NULL,
    PRIMARY KEY (meeting_id, member_id)
);

-- Show-of-hands totals per resolution, class and choice.
CREATE TABLE meeting_totals (
    proposal_id BIGINT NOT NULL REFERENCES proposals (id),
    class_key   TEXT NOT NULL,
    choice      TEXT NOT NULL CHECK (choice IN ('yes', 'no', 'abstain')),
    count       INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (proposal_id, class_key, choice)
);

-- The register: passed resolutions numbered YYYY/N per co-op and year.
CREATE TABLE resolutions (
    coop_id     BIGINT NOT NULL REFERENCES coops (id),
    year        INTEGER NOT NULL,
    seq         INTEGER NOT NULL CHECK (seq > 0),
    proposal_id BIGINT NOT NULL REFERENCES proposals (id),
    meeting_id  BIGINT NOT NULL REFERENCES meetings (id),
    passed_at   DATETIME NOT NULL,
    PRIMARY KEY (coop_id, year, seq),
    CONSTRAINT resolutions_proposal_id_key UNIQUE (proposal_id)
);
