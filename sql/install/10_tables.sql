--
-- Durable state.  Names and fields follow the design document (UserSession,
-- UserEvent, AnonymousSession, AnonymousPageView, PageAnalytics).
--
-- Anonymous data is partitioned by UTC day so that retention drops whole
-- partitions instead of deleting rows; a DEFAULT partition catches rows for
-- days whose partition does not exist yet, so an insert never fails.  Daily
-- partitions are created by ensure_partitions(), which the background worker
-- and the pg_cron jobs call.  Page views carry no foreign key to their
-- session: a session row is written only every few pages (anon_persist_every)
-- and may never exist for a short visit.
--

-- Per-install secret for keyed hashes when visittrack.fingerprint_secret is
-- unset.  Readable by nobody but the extension owner.
CREATE TABLE secret (
    id      boolean PRIMARY KEY DEFAULT true CHECK (id),
    value   bytea   NOT NULL CHECK (length(value) >= 16)
);
INSERT INTO secret (value)
    VALUES (uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()));
COMMENT ON TABLE secret IS 'per-install key for fingerprints and session ids when visittrack.fingerprint_secret is empty';

CREATE TABLE user_session (
    id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id             uuid        NOT NULL,
    session_id          text        NOT NULL,
    username            text,
    ip_address          inet,
    user_agent          text,
    device_info         jsonb       NOT NULL DEFAULT '{}',
    location_data       jsonb       NOT NULL DEFAULT '{}',
    device_fingerprint  text,
    fast_fingerprint    text,
    persistent          boolean     NOT NULL DEFAULT false,
    pages_visited       integer     NOT NULL DEFAULT 0,
    started_at          timestamptz NOT NULL DEFAULT now(),
    last_activity       timestamptz NOT NULL DEFAULT now(),
    ended_at            timestamptz,
    expires_at          timestamptz NOT NULL,
    is_active           boolean     NOT NULL DEFAULT true,
    is_bot              boolean     NOT NULL DEFAULT false,
    enriched_at         timestamptz,
    CHECK (is_active = (ended_at IS NULL))
);
-- one live session per session id; ended ones stay as history
CREATE UNIQUE INDEX user_session_active_session_id_key
    ON user_session (session_id) WHERE is_active;
CREATE INDEX user_session_session_id_idx ON user_session (session_id, started_at DESC);
CREATE INDEX user_session_user_started_idx ON user_session (user_id, started_at DESC);
CREATE INDEX user_session_ended_at_idx ON user_session (ended_at) WHERE NOT is_active;
CREATE INDEX user_session_expires_idx ON user_session (expires_at) WHERE is_active;
CREATE INDEX user_session_unenriched_idx ON user_session (id) WHERE enriched_at IS NULL;
COMMENT ON TABLE user_session IS 'signed-in sessions; session_id is a keyed hash of the application''s session key';

CREATE TABLE user_event (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      uuid        NOT NULL,
    event_type   text        NOT NULL,
    description  text,
    metadata     jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    ip_address   inet,
    user_agent   text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_event_user_created_idx ON user_event (user_id, created_at DESC);
CREATE INDEX user_event_type_created_idx ON user_event (event_type, created_at DESC);
COMMENT ON TABLE user_event IS 'events of signed-in users; anonymous events are never stored';

CREATE TABLE anonymous_session (
    session_id          uuid        NOT NULL,
    device_fingerprint  text        NOT NULL,
    session_start       timestamptz NOT NULL,
    session_end         timestamptz,
    last_activity       timestamptz NOT NULL,
    ip_address          inet,
    user_agent          text,
    device_type         text,
    browser             text,
    os                  text,
    location_data       jsonb,
    pages_visited       integer     NOT NULL DEFAULT 0,
    duration_seconds    integer,
    landing_page        text,
    referrer            text,
    converted_to_user   uuid,
    converted_at        timestamptz,
    is_active           boolean     NOT NULL DEFAULT true,
    is_bot              boolean     NOT NULL DEFAULT false,
    enriched_at         timestamptz,
    PRIMARY KEY (session_id, session_start)
) PARTITION BY RANGE (session_start);
CREATE INDEX anonymous_session_fingerprint_idx
    ON anonymous_session (device_fingerprint, session_start DESC);
-- Live sessions by start, not by last activity: the upsert every
-- anon_persist_every pages moves last_activity, and an index on it would
-- make every such update a non-HOT one (new entries in all five indexes).
-- A session idle past the TTL started before the TTL too, which is how
-- finalize_anonymous_sessions() uses this index.
CREATE INDEX anonymous_session_active_idx
    ON anonymous_session (session_start) WHERE is_active;
CREATE INDEX anonymous_session_converted_idx
    ON anonymous_session (converted_at) WHERE converted_to_user IS NOT NULL;
CREATE INDEX anonymous_session_ended_idx
    ON anonymous_session (session_end) WHERE NOT is_active;
CREATE TABLE anonymous_session_default PARTITION OF anonymous_session DEFAULT
    WITH (fillfactor = 80);     -- room for HOT updates of live sessions (ensure_partitions)
COMMENT ON TABLE anonymous_session IS 'anonymous browsing sessions (cookieless, by device fingerprint); retention visittrack.anon_retention';

CREATE SEQUENCE page_view_id_seq AS bigint CACHE 32;

CREATE TABLE anonymous_page_view (
    id                    bigint      NOT NULL DEFAULT nextval('page_view_id_seq'),
    session_id            uuid        NOT NULL,
    device_fingerprint    text        NOT NULL,
    url                   text        NOT NULL,
    url_name              text,
    page_type             text,
    referrer              text,
    viewed_at             timestamptz NOT NULL DEFAULT now(),
    time_on_page_seconds  integer,
    is_bot                boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (id, viewed_at)
) PARTITION BY RANGE (viewed_at);
CREATE INDEX anonymous_page_view_session_idx ON anonymous_page_view (session_id, viewed_at);
CREATE INDEX anonymous_page_view_fingerprint_idx ON anonymous_page_view (device_fingerprint, viewed_at);
CREATE TABLE anonymous_page_view_default PARTITION OF anonymous_page_view DEFAULT
    WITH (fillfactor = 80);     -- room for the time-on-page update (ensure_partitions)
COMMENT ON TABLE anonymous_page_view IS 'pages seen by anonymous visitors; retention visittrack.anon_retention';

-- Page views of signed-in users: kept like the rest of their data (no
-- anonymous retention), counted as authenticated views in page_analytics.
CREATE TABLE user_page_view (
    id                    bigint      NOT NULL DEFAULT nextval('page_view_id_seq') PRIMARY KEY,
    session_id            text,       -- NULL: seen outside any live session
    user_id               uuid        NOT NULL,
    url                   text        NOT NULL,
    url_name              text,
    page_type             text,
    referrer              text,
    viewed_at             timestamptz NOT NULL DEFAULT now(),
    time_on_page_seconds  integer,
    is_bot                boolean     NOT NULL DEFAULT false
) WITH (fillfactor = 80);       -- room for the time-on-page update: a HOT update
CREATE INDEX user_page_view_viewed_idx ON user_page_view (viewed_at);
CREATE INDEX user_page_view_user_idx ON user_page_view (user_id, viewed_at);
CREATE INDEX user_page_view_session_idx ON user_page_view (session_id, viewed_at);
COMMENT ON TABLE user_page_view IS 'pages seen by signed-in users';

CREATE TABLE page_analytics (
    date                      date        NOT NULL,
    url_path                  text        NOT NULL,
    page_type                 text,
    total_views               integer     NOT NULL DEFAULT 0,
    anonymous_views           integer     NOT NULL DEFAULT 0,
    authenticated_views       integer     NOT NULL DEFAULT 0,
    unique_visitors           integer     NOT NULL DEFAULT 0,
    avg_time_on_page_seconds  numeric(10,2),
    entries                   integer     NOT NULL DEFAULT 0,
    exits                     integer     NOT NULL DEFAULT 0,
    bounces                   integer     NOT NULL DEFAULT 0,
    computed_at               timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (date, url_path)
);
COMMENT ON TABLE page_analytics IS 'daily per-path rollup of page views, bots excluded';

--
-- Hot state kept in PostgreSQL itself when Redis is not configured or not
-- reachable (the "local" hot store).  Unlogged: it is as short-lived as the
-- Redis keys it stands in for.  Its rows are updated on every page view or
-- visit, so no index covers a column that changes (every update stays HOT,
-- in place, and no index grows with dead entries), pages keep room for the
-- new versions, and autovacuum visits them after a thousand changes.
--
CREATE UNLOGGED TABLE hot_anon_session (
    device_fingerprint  text        PRIMARY KEY,
    session_id          uuid        NOT NULL,
    started_at          timestamptz NOT NULL,
    last_activity       timestamptz NOT NULL,
    pages_visited       integer     NOT NULL,
    current_page        text,
    landing_page        text,
    referrer            text,
    last_view_at        timestamptz,   -- viewed_at of the latest page view
    prev_view_at        timestamptz    -- the one before: its time on page is closed now
) WITH (fillfactor = 50, autovacuum_vacuum_scale_factor = 0,
        autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);

CREATE UNLOGGED TABLE hot_community_visitor (
    community_id      uuid        NOT NULL,
    visitor_key       text        NOT NULL,
    is_authenticated  boolean     NOT NULL,
    fields            text        NOT NULL,   -- JSON members, as stored in Redis
    pages_viewed      integer     NOT NULL,
    first_seen        timestamptz NOT NULL,
    last_seen         timestamptz NOT NULL,
    PRIMARY KEY (community_id, visitor_key)
) WITH (fillfactor = 50, autovacuum_vacuum_scale_factor = 0,
        autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0);
CREATE INDEX hot_community_visitor_key_idx ON hot_community_visitor (visitor_key);

-- Redis keys that went stale while Redis was unreachable: the worker
-- repairs them when Redis is back (doc/operations.md, "Reconciliation").
CREATE UNLOGGED TABLE hot_redis_backlog (
    key_kind  text        NOT NULL,
    key_id    text        NOT NULL,
    noted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key_kind, key_id)
);

SELECT pg_catalog.pg_extension_config_dump('secret', '');
SELECT pg_catalog.pg_extension_config_dump('user_session', '');
SELECT pg_catalog.pg_extension_config_dump('user_event', '');
SELECT pg_catalog.pg_extension_config_dump('anonymous_session_default', '');
SELECT pg_catalog.pg_extension_config_dump('anonymous_page_view_default', '');
SELECT pg_catalog.pg_extension_config_dump('user_page_view', '');
SELECT pg_catalog.pg_extension_config_dump('page_analytics', '');
SELECT pg_catalog.pg_extension_config_dump('page_view_id_seq', '');
