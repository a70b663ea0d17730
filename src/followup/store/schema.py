"""The SQLite schema as an ordered list of migrations (``PRAGMA user_version`` counts them).

Never edit a migration that has shipped: append a new one. Each runs in its own transaction.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: the foundation
    """
    CREATE TABLE messages (
        id              INTEGER PRIMARY KEY,
        account         TEXT NOT NULL,
        message_id      TEXT NOT NULL,           -- identity: account + Message-ID (a UID is only a location)
        date            TEXT,                    -- ISO 8601 with offset
        sender          TEXT,                    -- lower-case address
        sender_name     TEXT,
        recipients      TEXT NOT NULL DEFAULT '',-- comma-separated lower-case addresses (To + Cc)
        subject         TEXT NOT NULL DEFAULT '',
        subject_key     TEXT NOT NULL DEFAULT '',-- subject without Re:/Fwd: prefixes, lower-case
        in_reply_to     TEXT,
        refs            TEXT NOT NULL DEFAULT '',-- space-separated Message-IDs
        gm_msgid        TEXT,
        gm_thrid        TEXT,
        outbound        INTEGER NOT NULL DEFAULT 0,
        sent_at         TEXT,                    -- outbound: when it was seen sent (Date of the copy in Sent)
        followup_key    TEXT,                    -- X-Followup-Key of our own drafts (and what the user sent of them)
        thread_key      TEXT NOT NULL,
        raw             BLOB,                    -- the whole message, kept only for candidates
        headers_only    INTEGER NOT NULL DEFAULT 1,
        label           TEXT,
        confidence      REAL,
        evidence        TEXT,                    -- JSON list
        facts           TEXT,                    -- JSON object
        confirmed_label TEXT,                    -- set by `followup confirm`
        learned_at      TEXT NOT NULL,
        UNIQUE (account, message_id)
    );
    CREATE INDEX messages_thread ON messages (account, thread_key);
    CREATE INDEX messages_gm_thrid ON messages (account, gm_thrid);
    CREATE INDEX messages_in_reply_to ON messages (account, in_reply_to);
    CREATE INDEX messages_subject_key ON messages (account, subject_key);

    CREATE TABLE locations (
        account     TEXT NOT NULL,
        folder_role TEXT NOT NULL,
        ref         TEXT NOT NULL,
        validity    INTEGER NOT NULL,
        message_id  TEXT NOT NULL,
        PRIMARY KEY (account, folder_role, ref)
    );
    CREATE INDEX locations_message ON locations (account, message_id);

    CREATE TABLE cursors (
        account     TEXT NOT NULL,
        folder_role TEXT NOT NULL,
        validity    INTEGER NOT NULL,
        last_ref    INTEGER,
        next_ref    INTEGER,
        messages    INTEGER NOT NULL,
        modseq      INTEGER,
        synced_at   TEXT NOT NULL,
        PRIMARY KEY (account, folder_role)
    );

    CREATE TABLE threads (
        account        TEXT NOT NULL,
        thread_key     TEXT NOT NULL,
        application_id TEXT,
        PRIMARY KEY (account, thread_key)
    );

    CREATE TABLE applications (
        id            TEXT PRIMARY KEY,
        account       TEXT NOT NULL,
        company       TEXT,
        role          TEXT,
        stage         TEXT NOT NULL,
        contact_name  TEXT,
        contact_email TEXT,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );

    CREATE TABLE events (
        id             INTEGER PRIMARY KEY,
        application_id TEXT NOT NULL REFERENCES applications (id),
        at             TEXT NOT NULL,
        stage          TEXT NOT NULL,
        cause          TEXT NOT NULL,
        recorded_at    TEXT NOT NULL
    );
    CREATE INDEX events_application ON events (application_id, at);

    CREATE TABLE drafts (
        key            TEXT PRIMARY KEY,         -- deterministic per (account, application, step)
        account        TEXT NOT NULL,
        application_id TEXT NOT NULL,
        kind           TEXT NOT NULL,
        fate           TEXT NOT NULL,            -- journalled | placed | edited | sent | dismissed
        recipient      TEXT,
        subject        TEXT,
        message_id     TEXT NOT NULL,            -- the draft's own Message-ID (holds the key)
        in_reply_to    TEXT,                     -- the message it answers, to recognise it once sent
        body_sha256    TEXT,
        ref            TEXT,
        due_at         TEXT,
        journalled_at  TEXT NOT NULL,
        placed_at      TEXT,
        sent_at        TEXT,
        fate_at        TEXT
    );

    CREATE TABLE notes (
        id             INTEGER PRIMARY KEY,
        application_id TEXT NOT NULL REFERENCES applications (id),
        at             TEXT NOT NULL,
        text           TEXT NOT NULL
    );
    """,
    # 2: the daily digest, at most one per local day (see followup.digest_job)
    """
    CREATE TABLE digests (
        local_date  TEXT PRIMARY KEY,            -- the user's local day (YYYY-MM-DD) it was for
        status      TEXT NOT NULL,               -- sending | sent | skipped
        delivery    TEXT NOT NULL,               -- imap | smtp
        subject     TEXT,
        message_id  TEXT,
        claimed_at  TEXT NOT NULL,
        sent_at     TEXT
    );
    """,
    # 3: which stored message names which Message-ID (In-Reply-To, References), so a message
    # that arrives after its replies finds them by index instead of scanning every row
    """
    CREATE TABLE message_refs (
        account    TEXT NOT NULL,
        ref_id     TEXT NOT NULL,                -- a Message-ID named by the message
        message_id TEXT NOT NULL                 -- the naming message
    );
    CREATE INDEX message_refs_ref ON message_refs (account, ref_id);
    INSERT INTO message_refs (account, ref_id, message_id)
        SELECT account, in_reply_to, message_id FROM messages WHERE in_reply_to IS NOT NULL;
    WITH RECURSIVE split (account, message_id, ref_id, rest) AS (
        SELECT account, message_id, '', refs || ' ' FROM messages WHERE refs <> ''
        UNION ALL
        SELECT account, message_id, substr(rest, 1, instr(rest, ' ') - 1), substr(rest, instr(rest, ' ') + 1)
        FROM split WHERE rest <> ''
    )
    INSERT INTO message_refs (account, ref_id, message_id)
        SELECT account, ref_id, message_id FROM split WHERE ref_id <> '';
    """,
    # 4: what the engine last decided for an application, so an unchanged one is not decided
    # again before its next_wakeup (see followup.engine.needs_decision)
    """
    ALTER TABLE applications ADD COLUMN decided_at TEXT;
    ALTER TABLE applications ADD COLUMN decided_with TEXT;
    ALTER TABLE applications ADD COLUMN next_wakeup TEXT;
    """,
    # 5: drafts are matched to what the user sent by key every cycle (followup.engine.track_fates);
    # without an index each lookup read every stored message
    """
    CREATE INDEX messages_followup_key ON messages (account, followup_key);
    """,
    # 6: every cycle looks for labelled mail still awaiting the user's confirmation (a tag in
    # the mail, followup.confirmations); a partial index keeps that from reading every message
    """
    CREATE INDEX messages_unconfirmed ON messages (account, confidence)
        WHERE confirmed_label IS NULL AND outbound = 0 AND label IS NOT NULL AND label <> 'other';
    """,
    # 7: a cold sync writes thousands of messages a batch. Three indexes only ever answer
    # `column = ?` (Gmail thread ids, our drafts' keys, In-Reply-To), which no NULL satisfies:
    # without the NULLs (nearly every row off Gmail; most rows) each insert updates fewer
    # b-trees, and those lookups use them as before. The sync also reads an account's
    # applications in order for every classified message it stores
    # (followup.sync._matching_application): an index hands them over sorted.
    """
    DROP INDEX messages_gm_thrid;
    CREATE INDEX messages_gm_thrid ON messages (account, gm_thrid) WHERE gm_thrid IS NOT NULL;
    DROP INDEX messages_followup_key;
    CREATE INDEX messages_followup_key ON messages (account, followup_key) WHERE followup_key IS NOT NULL;
    DROP INDEX messages_in_reply_to;
    CREATE INDEX messages_in_reply_to ON messages (account, in_reply_to) WHERE in_reply_to IS NOT NULL;
    CREATE INDEX applications_account ON applications (account, created_at, id);
    """,
)
