-- visittrack install script, assembled at build time from sql/install/*.sql.
\echo Use "CREATE EXTENSION visittrack" to load this file. \quit
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
--
-- Settings as values, for SQL code and for people.
--

CREATE FUNCTION windows(OUT session_ttl integer, OUT remember_me_ttl integer,
                        OUT anon_session_ttl integer, OUT community_window integer,
                        OUT anon_persist_every integer, OUT anon_retention integer)
AS 'MODULE_PATHNAME', 'vt_windows'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION windows() IS
'the current windows and thresholds, in seconds (anon_persist_every in pages)';

-- The request-path API: what an application role needs (grant_application_role).
CREATE FUNCTION application_functions()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ARRAY['fingerprint', 'session_start', 'session_touch', 'session_end',
                 'session_get', 'log_event', 'community_visit', 'visitor_stats',
                 'current_visitors', 'track_page_view', 'link_conversion',
                 'parse_user_agent', 'is_bot', 'windows']
$$;
--
-- Fingerprints, signed-in sessions and events.
--
-- API functions are SECURITY DEFINER: the application role needs EXECUTE on
-- them (see grant_application_role) and no privilege on any table.  The C
-- functions run their SQL under search_path pg_catalog, visittrack.
--

CREATE FUNCTION fingerprint(ip inet, user_agent text,
                            accept_language text DEFAULT NULL, extra text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'vt_fingerprint_sql'
LANGUAGE C STABLE PARALLEL RESTRICTED SECURITY DEFINER;
COMMENT ON FUNCTION fingerprint(inet, text, text, text) IS
'device fingerprint: 32 hex digits of a keyed hash of ip (/64 for IPv6) and headers';

CREATE FUNCTION session_start(user_id uuid, session_key text, ip inet DEFAULT NULL,
                              user_agent text DEFAULT NULL, remember_me boolean DEFAULT false,
                              username text DEFAULT NULL, device_fingerprint text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'vt_session_start'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION session_start(uuid, text, inet, text, boolean, text, text) IS
'login: get or create the user_session row and the session:{session_id} entry; returns session_id';

CREATE FUNCTION session_touch(session_id text, url text DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'vt_session_touch'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION session_touch(text, text) IS
'one page of a signed-in user: returns the new page count, NULL for an unknown, ended or expired session';

CREATE FUNCTION session_end(session_id text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'vt_session_end'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION session_end(text) IS
'logout: ends the session and deletes its Redis entry; true for a known session, idempotent';

CREATE FUNCTION session_get(session_id text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'vt_session_get'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION session_get(text) IS
'the session as stored in Redis; read through to user_session (refilling Redis) on a miss';

CREATE FUNCTION log_event(user_id uuid, event_type text, description text DEFAULT NULL,
                          metadata jsonb DEFAULT '{}', ip inet DEFAULT NULL,
                          user_agent text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'vt_log_event'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION log_event(uuid, text, text, jsonb, inet, text) IS
'records a user_event for a signed-in user; returns its id (NULL, nothing stored, for anonymous)';

CREATE FUNCTION end_expired_sessions()
RETURNS bigint
AS 'MODULE_PATHNAME', 'vt_end_expired_sessions'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION end_expired_sessions() IS
'ends signed-in sessions past expires_at (the worker runs it every round); returns how many';

CREATE FUNCTION status()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'vt_status'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION status() IS
'Redis health, fallback and reconciliation figures, queues, worker and counters';
--
-- Anonymous visitors, community presence and conversions.
--

CREATE FUNCTION track_page_view(fingerprint text, url text, referrer text DEFAULT NULL,
                                user_agent text DEFAULT NULL, ip inet DEFAULT NULL,
                                user_id uuid DEFAULT NULL, session_id text DEFAULT NULL,
                                url_name text DEFAULT NULL, page_type text DEFAULT NULL)
RETURNS integer
AS 'MODULE_PATHNAME', 'vt_track_page_view'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION track_page_view(text, text, text, text, inet, uuid, text, text, text) IS
'one page view; anonymous when user_id and session_id are NULL; returns pages visited in this session';

CREATE FUNCTION finalize_anonymous_sessions()
RETURNS integer
AS 'MODULE_PATHNAME', 'vt_finalize_anonymous_sessions'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION finalize_anonymous_sessions() IS
'closes anonymous sessions idle past anon_session_ttl (the worker runs it every round); returns how many';

CREATE FUNCTION link_conversion(user_id uuid, fingerprint text)
RETURNS uuid
AS 'MODULE_PATHNAME', 'vt_link_conversion'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION link_conversion(uuid, text) IS
'sign-up or login: links the visitor''s latest anonymous session to the user, with one account_created event';

CREATE FUNCTION community_visit(community_id uuid, user_id uuid DEFAULT NULL,
                                device_fingerprint text DEFAULT NULL,
                                visitor_division_id uuid DEFAULT NULL,
                                community_division_id uuid DEFAULT NULL,
                                community_slug text DEFAULT NULL, url text DEFAULT NULL,
                                referrer text DEFAULT NULL, ip inet DEFAULT NULL,
                                user_agent text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'vt_community_visit'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION community_visit(uuid, uuid, text, uuid, uuid, text, text, text, inet, text) IS
'a visit to a community: presence for everyone (community_window), a community_visit event for signed-in users only';

CREATE FUNCTION visitor_stats(community_id uuid)
RETURNS TABLE (total_visitors integer, authenticated_visitors integer, anonymous_visitors integer,
               authenticated_percentage numeric, anonymous_percentage numeric)
AS 'MODULE_PATHNAME', 'vt_visitor_stats'
LANGUAGE C VOLATILE SECURITY DEFINER ROWS 1;
COMMENT ON FUNCTION visitor_stats(uuid) IS
'distinct visitors of a community in the last community_window, with shares to two decimals';

CREATE FUNCTION current_visitors(community_id uuid)
RETURNS SETOF jsonb
AS 'MODULE_PATHNAME', 'vt_current_visitors'
LANGUAGE C VOLATILE SECURITY DEFINER ROWS 50;
COMMENT ON FUNCTION current_visitors(uuid) IS
'who is viewing a community now: one JSON object per visitor, as stored in Redis';
--
-- Enrichment: user agents (ua-parser rules, crawler patterns, heuristics),
-- IP geolocation (MaxMind-format database), and the batch that fills the
-- device, location and bot columns of sessions.  See doc/enrichment.md.
--
-- Rule files and the GeoIP database are read at run time from the paths in
-- visittrack.uap_regexes_path, visittrack.bot_patterns_path and
-- visittrack.geoip_database, hence STABLE rather than IMMUTABLE.
--

CREATE FUNCTION parse_user_agent(user_agent text)
RETURNS TABLE (device_type text, browser text, browser_version text, os text, is_bot boolean)
AS 'MODULE_PATHNAME', 'vt_parse_user_agent'
LANGUAGE C STABLE PARALLEL SAFE SECURITY DEFINER ROWS 1;
COMMENT ON FUNCTION parse_user_agent(text) IS
'device type (desktop, mobile, tablet, bot, other), browser and version, OS and bot flag of a user agent; NULL or empty counts as a bot';

CREATE FUNCTION is_bot(user_agent text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'vt_is_bot'
LANGUAGE C STABLE PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION is_bot(text) IS
'true for crawlers (ua-parser Spider, crawler pattern list), headless browsers, HTTP client libraries and missing user agents';

CREATE FUNCTION ua_details(user_agent text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'vt_ua_details'
LANGUAGE C STABLE PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION ua_details(text) IS
'everything parse_user_agent found, with OS version, ua-parser device family, brand and model, and why a bot is a bot';

CREATE FUNCTION device_type_of(user_agent text, device_family text, device_brand text,
                               device_model text, os_family text)
RETURNS text
AS 'MODULE_PATHNAME', 'vt_device_type_of'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION device_type_of(text, text, text, text, text) IS
'the device type visittrack gives a ua-parser result (device family "Spider" is bot); for checking parsers against uap-core''s tests';

CREATE FUNCTION geolocate(ip inet)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'vt_geolocate_sql'
LANGUAGE C STABLE STRICT PARALLEL SAFE SECURITY DEFINER;
COMMENT ON FUNCTION geolocate(inet) IS
'country, country_code, region, city, latitude, longitude of an address from visittrack.geoip_database; NULL when unset or not found';

CREATE FUNCTION enrichment_status()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'vt_enrichment_status'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION enrichment_status() IS
'rule files in use, rule counts, this backend''s user-agent cache figures and the GeoIP database';

-- Finds anonymous sessions still to enrich without reading every partition.
CREATE INDEX anonymous_session_unenriched_idx
    ON anonymous_session (session_start) WHERE enriched_at IS NULL;

-- Fills device, location and bot columns of sessions not enriched yet, at
-- most max_rows of each table per call, oldest first.  Rows locked by
-- someone else are left for the next call.  Returns rows enriched.  The
-- worker runs it every round.
CREATE FUNCTION enrich_pending(max_rows integer DEFAULT 1000)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, visittrack
AS $$
DECLARE
    signed_in integer;
    anonymous integer;
BEGIN
    IF max_rows IS NULL OR max_rows < 0 THEN
        RAISE EXCEPTION 'max_rows must be a non-negative integer'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    WITH todo AS (
        SELECT s.id, p.*, geolocate(s.ip_address) AS location
          FROM user_session s
               CROSS JOIN LATERAL parse_user_agent(s.user_agent) p
         WHERE s.enriched_at IS NULL
         ORDER BY s.id
         LIMIT max_rows
           FOR UPDATE OF s SKIP LOCKED)
    UPDATE user_session u
       SET device_info = jsonb_build_object('device_type', t.device_type,
                                            'browser', t.browser,
                                            'browser_version', t.browser_version,
                                            'os', t.os),
           location_data = coalesce(t.location, '{}'),
           is_bot = u.is_bot OR t.is_bot,
           enriched_at = now()
      FROM todo t
     WHERE u.id = t.id;
    GET DIAGNOSTICS signed_in = ROW_COUNT;

    WITH todo AS (
        SELECT s.session_id, s.session_start, p.*, geolocate(s.ip_address) AS location
          FROM anonymous_session s
               CROSS JOIN LATERAL parse_user_agent(s.user_agent) p
         WHERE s.enriched_at IS NULL
         ORDER BY s.session_start
         LIMIT max_rows
           FOR UPDATE OF s SKIP LOCKED)
    -- A NULL user agent here means "not known to visittrack" (a session that
    -- link_conversion persisted from its page views, or page views sent
    -- without one), not a client that sent none: it does not make a bot, as
    -- it does not on the request path (track_page_view).
    UPDATE anonymous_session a
       SET device_type = t.device_type,
           browser = t.browser,
           os = t.os,
           location_data = coalesce(t.location, '{}'),
           is_bot = a.is_bot OR (t.is_bot AND a.user_agent IS NOT NULL),
           enriched_at = now()
      FROM todo t
     WHERE a.session_id = t.session_id AND a.session_start = t.session_start;
    GET DIAGNOSTICS anonymous = ROW_COUNT;

    RETURN signed_in + anonymous;
END
$$;
COMMENT ON FUNCTION enrich_pending(integer) IS
'fills device_info/location_data/is_bot of user_session and device_type/browser/os/location_data/is_bot of anonymous_session rows not enriched yet; returns rows enriched';
--
-- Page analytics: the daily rollup and the design document's use cases 2-4
-- (conversion funnel, content popularity, session duration comparison).
-- See doc/analytics.md for the exact meaning of every figure.
--

-- Finds the signed-in sessions flagged as bots without reading the table.
CREATE INDEX user_session_bot_idx ON user_session (session_id) WHERE is_bot;

-- One path of one day, as collect_page_day() returns it.
CREATE TYPE page_day_stats AS (
    url_path            text,
    page_type           text,
    total_views         integer,
    anonymous_views     integer,
    authenticated_views integer,
    unique_visitors     integer,
    time_on_page_sum    bigint,
    time_on_page_count  integer,
    entries             integer,
    exits               integer,
    bounces             integer
);

CREATE FUNCTION page_day_transfn(internal, boolean, uuid, text, text, uuid, text, text,
                                 timestamptz, bigint, integer)
RETURNS internal
AS 'MODULE_PATHNAME', 'vt_page_day_transfn'
LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;

CREATE FUNCTION page_day_finalfn(internal, boolean, uuid, text, text, uuid, text, text,
                                 timestamptz, bigint, integer)
RETURNS page_day_stats[]
AS 'MODULE_PATHNAME', 'vt_page_day_finalfn'
LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;

-- Parallel aggregation: each process's state goes to the leader as bytes,
-- where the states are merged (src/analytics.c, "parallel aggregation").
CREATE FUNCTION page_day_serialfn(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'vt_page_day_serialfn'
LANGUAGE C STRICT PARALLEL SAFE;

CREATE FUNCTION page_day_deserialfn(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'vt_page_day_deserialfn'
LANGUAGE C STRICT PARALLEL SAFE;

CREATE FUNCTION page_day_combinefn(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'vt_page_day_combinefn'
LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;

-- One pass over a day's page views (bots already left out): one element per
-- URL path.  Arguments: authenticated, the anonymous session, the signed-in
-- session (NULL: none), the visitor (fingerprint, or user id when signed
-- in), url, page_type, viewed_at, view id, time_on_page_seconds.  Parallel
-- safe: partial states over any split of the rows combine into exactly the
-- serial result.
CREATE AGGREGATE collect_page_day(authenticated boolean, anon_session uuid, user_session text,
                                  fingerprint text, user_id uuid, url text, page_type text,
                                  viewed_at timestamptz, view_id bigint, time_on_page integer) (
    SFUNC = page_day_transfn,
    STYPE = internal,
    FINALFUNC = page_day_finalfn,
    FINALFUNC_EXTRA,
    FINALFUNC_MODIFY = READ_WRITE,
    COMBINEFUNC = page_day_combinefn,
    SERIALFUNC = page_day_serialfn,
    DESERIALFUNC = page_day_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE collect_page_day(boolean, uuid, text, text, uuid, text, text, timestamptz, bigint, integer) IS
'one-pass rollup of a day''s page views per URL path (used by aggregate_page_analytics)';

-- The UTC day before today.
CREATE FUNCTION utc_yesterday()
RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT (pg_catalog.now() AT TIME ZONE 'UTC')::date - 1 $$;
COMMENT ON FUNCTION utc_yesterday() IS 'yesterday as a UTC day (the default day of aggregate_page_analytics)';

-- Rebuilds the page_analytics rows of one UTC day from anonymous_page_view
-- and user_page_view, bots left out.  Delete and insert happen in the
-- caller's transaction, so readers see either the old or the new rows;
-- concurrent runs for the same day wait for each other.  Returns rows written.
CREATE FUNCTION aggregate_page_analytics(day date DEFAULT utc_yesterday())
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, visittrack
SET jit = off
AS $$
DECLARE
    lo timestamptz;
    hi timestamptz;
    sessions_from timestamptz;
    bot_anon uuid[];
    bot_user text[];
    stats page_day_stats[];
    written integer;
BEGIN
    IF day IS NULL THEN
        RAISE EXCEPTION 'day must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT isfinite(day) THEN
        RAISE EXCEPTION 'day must be a finite date, not %', day
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    lo := day::timestamp AT TIME ZONE 'UTC';
    hi := (day + 1)::timestamp AT TIME ZONE 'UTC';

    PERFORM pg_advisory_xact_lock(hashtext('visittrack.aggregate_page_analytics'),
                                  day - date '2000-01-01');
    DELETE FROM page_analytics WHERE date = day;

    -- Sessions flagged as bots: anonymous ones by enrichment (looked for
    -- among the sessions started from the day before on), signed-in ones.
    -- Read just before the views, in the same transaction.  The bound is a
    -- value, not an expression, so the planner prunes anonymous_session's
    -- partitions (timestamptz - interval is only stable: with it, the plan
    -- would open every partition).
    sessions_from := lo - interval '1 day';
    bot_anon := ARRAY(SELECT b.session_id FROM anonymous_session b
                       WHERE b.is_bot AND b.session_start >= sessions_from
                         AND b.session_start < hi);
    bot_user := ARRAY(SELECT b.session_id FROM user_session b WHERE b.is_bot);

    -- The views go through collect_page_day in a read-only statement of its
    -- own: a statement that writes (INSERT ... SELECT) never runs in
    -- parallel, this one gets parallel workers at a million views, whose
    -- partial states the leader combines.  EXECUTE ... INTO (parameters, no
    -- string building), because on PostgreSQL 15 a static SELECT ... INTO
    -- planned the Gather but launched no workers (doc/analytics.md).  The
    -- parameters are planned as constants, so "<> ALL (flagged sessions)"
    -- is a hash lookup in the scan: the same rows as the anti-join on the
    -- session tables it replaces, without a join per view.
    EXECUTE $q$
        SELECT collect_page_day(v.authenticated, v.anon_session, v.user_session,
                                v.fingerprint, v.user_id, v.url, v.page_type, v.viewed_at, v.id,
                                v.time_on_page_seconds)
          FROM (SELECT false AS authenticated, a.session_id AS anon_session,
                       NULL::text AS user_session, a.device_fingerprint AS fingerprint,
                       NULL::uuid AS user_id,
                       a.url, a.page_type, a.viewed_at, a.id, a.time_on_page_seconds
                  FROM anonymous_page_view a
                 WHERE a.viewed_at >= $1 AND a.viewed_at < $2 AND NOT a.is_bot
                   AND a.session_id <> ALL ($3)
                UNION ALL
                SELECT true, NULL, u.session_id, NULL, u.user_id,
                       u.url, u.page_type, u.viewed_at, u.id, u.time_on_page_seconds
                  FROM user_page_view u
                 WHERE u.viewed_at >= $1 AND u.viewed_at < $2 AND NOT u.is_bot
                   AND (u.session_id IS NULL OR u.session_id <> ALL ($4))) v
    $q$ INTO stats USING lo, hi, bot_anon, bot_user;

    INSERT INTO page_analytics
        (date, url_path, page_type, total_views, anonymous_views, authenticated_views,
         unique_visitors, avg_time_on_page_seconds, entries, exits, bounces, computed_at)
    SELECT day, s.url_path, s.page_type, s.total_views, s.anonymous_views,
           s.authenticated_views, s.unique_visitors,
           round(s.time_on_page_sum::numeric / NULLIF(s.time_on_page_count, 0), 2),
           s.entries, s.exits, s.bounces, now()
      FROM unnest(stats) s;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$$;
COMMENT ON FUNCTION aggregate_page_analytics(date) IS
'rebuilds page_analytics for one UTC day (default yesterday): views, unique visitors, time on page, entries, exits, bounces per path, bots excluded; returns rows written';

-- Argument checks shared by the use-case functions: NULL is 22004, out of
-- range is 22023, and the message names the argument.
CREATE FUNCTION check_range(value integer, name text, lowest integer, highest integer)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% must not be null', name
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF value < lowest OR value > highest THEN
        RAISE EXCEPTION '% must be between % and %, got %', name, lowest, highest, value
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = CASE WHEN value < lowest THEN format('Pass a value of at least %s.', lowest)
                              ELSE format('%s is capped at %s.', name, highest) END;
    END IF;
    RETURN value;
END
$$;
COMMENT ON FUNCTION check_range(integer, text, integer, integer) IS
'value when lowest <= value <= highest, else an error naming the argument (22004 for NULL, 22023)';

-- Use case 3: which pages are most popular.
CREATE FUNCTION top_pages(days integer DEFAULT 7, max_rows integer DEFAULT 10)
RETURNS TABLE (url_path text, page_type text, total_views bigint, anonymous_views bigint,
               authenticated_views bigint, unique_visitors bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, visittrack
AS $$
BEGIN
    PERFORM check_range(days, 'days', 1, 3660);
    PERFORM check_range(max_rows, 'max_rows', 1, 10000);
    RETURN QUERY
    WITH per_path AS (
        SELECT p.url_path, sum(p.total_views)::bigint AS total_views,
               sum(p.anonymous_views)::bigint AS anonymous_views,
               sum(p.authenticated_views)::bigint AS authenticated_views,
               sum(p.unique_visitors)::bigint AS unique_visitors
          FROM page_analytics p
         WHERE p.date >= utc_yesterday() + 1 - days
         GROUP BY p.url_path
    ), per_type AS (
        SELECT DISTINCT ON (p.url_path) p.url_path, p.page_type
          FROM page_analytics p
         WHERE p.date >= utc_yesterday() + 1 - days AND p.page_type IS NOT NULL
         GROUP BY p.url_path, p.page_type
         ORDER BY p.url_path, sum(p.total_views) DESC, p.page_type
    )
    SELECT pp.url_path, pt.page_type, pp.total_views, pp.anonymous_views,
           pp.authenticated_views, pp.unique_visitors
      FROM per_path pp LEFT JOIN per_type pt USING (url_path)
     ORDER BY pp.total_views DESC, pp.url_path
     LIMIT max_rows;
END
$$;
COMMENT ON FUNCTION top_pages(integer, integer) IS
'most viewed paths of the last days UTC days (date >= today - days) from page_analytics; unique_visitors is the sum of daily unique visitors';

-- Use case 2: what anonymous visitors do before signing up.  The sessions
-- considered are the persisted anonymous sessions, bots excluded, that
-- started in the last "days" days.
CREATE FUNCTION conversion_funnel(days integer DEFAULT 30)
RETURNS TABLE (sessions bigint, conversions bigint, conversion_rate numeric,
               avg_pages_before_signup numeric, avg_duration_seconds numeric,
               top_landing_page text, top_referrer text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, visittrack
AS $$
BEGIN
    PERFORM check_range(days, 'days', 1, 3660);
    RETURN QUERY
    WITH s AS (
        SELECT * FROM conversion_sessions(days)
    )
    SELECT count(*),
           count(*) FILTER (WHERE s.converted),
           round(100.0 * count(*) FILTER (WHERE s.converted) / NULLIF(count(*), 0), 2),
           round(avg(s.pages_visited) FILTER (WHERE s.converted), 2),
           round(avg(s.duration_seconds) FILTER (WHERE s.converted), 2),
           (SELECT l.landing_page FROM conversion_landing_pages(days, 1) l WHERE l.conversions > 0),
           (SELECT r.referrer FROM conversion_referrers(days, 1) r WHERE r.conversions > 0)
      FROM s;
END
$$;

-- The sessions behind the funnel: landing page as a path, referrer as the
-- referring host ('(direct)' without one, the referrer itself when it has
-- no scheme), duration up to the end of the session (or its last activity
-- while it is open).
CREATE FUNCTION conversion_sessions(days integer)
RETURNS TABLE (landing_page text, referrer text, pages_visited integer,
               duration_seconds numeric, converted boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, visittrack
AS $$
    SELECT COALESCE(NULLIF(split_part(split_part(a.landing_page, '?', 1), '#', 1), ''), '(unknown)'),
           CASE WHEN a.referrer IS NULL OR a.referrer = '' THEN '(direct)'
                ELSE COALESCE(lower(substring(a.referrer FROM '^[A-Za-z][A-Za-z0-9+.-]*://([^/?#:]+)')),
                              split_part(split_part(a.referrer, '?', 1), '#', 1))
           END,
           a.pages_visited,
           COALESCE(a.duration_seconds,
                    floor(extract(epoch FROM COALESCE(a.session_end, a.last_activity) - a.session_start)))::numeric,
           a.converted_to_user IS NOT NULL
      FROM anonymous_session a
     WHERE a.session_start >= now() - make_interval(days => days)
       AND NOT a.is_bot
$$;
COMMENT ON FUNCTION conversion_sessions(integer) IS
'persisted, non-bot anonymous sessions started in the last days days, as the conversion functions count them';

CREATE FUNCTION conversion_landing_pages(days integer DEFAULT 30, max_rows integer DEFAULT 10)
RETURNS TABLE (landing_page text, sessions bigint, conversions bigint, conversion_rate numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, visittrack
AS $$
BEGIN
    PERFORM check_range(days, 'days', 1, 3660);
    PERFORM check_range(max_rows, 'max_rows', 1, 10000);
    RETURN QUERY
    SELECT s.landing_page, count(*), count(*) FILTER (WHERE s.converted),
           round(100.0 * count(*) FILTER (WHERE s.converted) / count(*), 2)
      FROM conversion_sessions(days) s
     GROUP BY s.landing_page
     ORDER BY 3 DESC, 4 DESC, 2 DESC, 1
     LIMIT max_rows;
END
$$;
COMMENT ON FUNCTION conversion_landing_pages(integer, integer) IS
'landing pages (paths) of anonymous sessions started in the last days days: sessions, conversions, conversion rate in percent';

CREATE FUNCTION conversion_referrers(days integer DEFAULT 30, max_rows integer DEFAULT 10)
RETURNS TABLE (referrer text, sessions bigint, conversions bigint, conversion_rate numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, visittrack
AS $$
BEGIN
    PERFORM check_range(days, 'days', 1, 3660);
    PERFORM check_range(max_rows, 'max_rows', 1, 10000);
    RETURN QUERY
    SELECT s.referrer, count(*), count(*) FILTER (WHERE s.converted),
           round(100.0 * count(*) FILTER (WHERE s.converted) / count(*), 2)
      FROM conversion_sessions(days) s
     GROUP BY s.referrer
     ORDER BY 3 DESC, 4 DESC, 2 DESC, 1
     LIMIT max_rows;
END
$$;
COMMENT ON FUNCTION conversion_referrers(integer, integer) IS
'referring hosts of anonymous sessions started in the last days days: sessions, conversions, conversion rate in percent';

COMMENT ON FUNCTION conversion_funnel(integer) IS
'anonymous sessions of the last days days, how many converted, the share in percent, average pages and duration before sign-up, the best converting landing page and referrer';

-- Use case 4: do signed-in users spend more time on the site?
CREATE FUNCTION session_duration_comparison(days integer DEFAULT 7)
RETURNS TABLE (visitor_kind text, sessions bigint, avg_duration_seconds numeric,
               avg_pages numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, visittrack
AS $$
DECLARE
    since timestamptz;
BEGIN
    PERFORM check_range(days, 'days', 1, 3660);
    since := now() - make_interval(days => days);
    RETURN QUERY
    SELECT 'authenticated'::text, count(*),
           round(avg(extract(epoch FROM u.ended_at - u.started_at)), 2),
           round(avg(u.pages_visited), 2)
      FROM user_session u
     WHERE NOT u.is_active AND u.ended_at >= since AND NOT u.is_bot
    UNION ALL
    SELECT 'anonymous'::text, count(*),
           round(avg(a.duration_seconds), 2),
           round(avg(a.pages_visited), 2)
      FROM anonymous_session a
     WHERE NOT a.is_active AND a.session_end >= since AND NOT a.is_bot;
END
$$;
COMMENT ON FUNCTION session_duration_comparison(integer) IS
'ended signed-in sessions and finalized anonymous sessions of the last days days (bots excluded): count, average duration in seconds and pages';
--
-- Retention of anonymous data and the pg_cron jobs.  See doc/operations.md
-- ("Retention", "Scheduling").
--

-- Removes anonymous sessions (by session_start) and page views (by
-- viewed_at) older than now() - retention; returns rows removed.  Daily
-- partitions entirely older than the cutoff are dropped; rows are deleted
-- only in the partition holding the cutoff and in the DEFAULT partition, so
-- the cost does not grow with the rows removed -- except for counting them:
-- with exact (the default) each dropped partition is counted first, a scan
-- about twenty times cheaper than deleting its rows; with exact => false
-- (the daily pg_cron job) the count of a dropped partition is the planner's
-- statistics (pg_class.reltuples, kept by autovacuum), and the cost is flat.  Deletes run
-- first and drops last: the ACCESS EXCLUSIVE locks that DROP takes on the
-- parent tables (held until commit) then last a few milliseconds only.  A
-- drop that cannot get its lock within lock_timeout (5 s) is skipped with a
-- warning and done by the next run.
--
-- retention NULL (the default) means visittrack.anon_retention (90 days
-- unless set otherwise).  An explicit retention must be at least one day and
-- at most 100 years; shorter windows (tests) are set through
-- visittrack.anon_retention, which only a superuser can change.
CREATE FUNCTION cleanup_anonymous_data(retention interval DEFAULT NULL,
                                       exact boolean DEFAULT true)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, visittrack
SET lock_timeout = '5s'
AS $$
DECLARE
    cutoff timestamptz;
    t record;
    p record;
    n bigint;
    removed bigint := 0;
    to_drop text[] := '{}';
    part text;
BEGIN
    IF retention IS NULL THEN
        retention := make_interval(secs => (windows()).anon_retention);
    ELSIF retention < interval '1 day' THEN
        RAISE EXCEPTION 'retention must be at least 1 day, got %', retention
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'To keep anonymous data for less than a day (tests), set visittrack.anon_retention as a superuser and call cleanup_anonymous_data() without an argument.';
    ELSIF retention > interval '36500 days' THEN
        RAISE EXCEPTION 'retention must be at most 100 years, got %', retention
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    cutoff := now() - retention;

    FOR t IN SELECT * FROM (VALUES ('anonymous_session', 'session_start'),
                                   ('anonymous_page_view', 'viewed_at')) AS v(tbl, col)
    LOOP
        FOR p IN
            SELECT c.relname,
                   c.relpartbound IS NOT NULL
                       AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' AS is_default,
                   (regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                 'FROM \(''([^'']*)''\) TO'))[1]::timestamptz AS lower_bound,
                   (regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                 'TO \(''([^'']*)''\)'))[1]::timestamptz AS upper_bound
              FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = format('visittrack.%I', t.tbl)::regclass
             ORDER BY 1
        LOOP
            IF p.upper_bound IS NOT NULL AND p.upper_bound <= cutoff THEN
                to_drop := to_drop || p.relname::text;
            ELSIF p.is_default OR p.lower_bound < cutoff THEN
                -- the boundary day, and rows of days without a partition
                EXECUTE format('DELETE FROM visittrack.%I WHERE %I < $1', p.relname, t.col)
                    USING cutoff;
                GET DIAGNOSTICS n = ROW_COUNT;
                removed := removed + n;
            END IF;
        END LOOP;
    END LOOP;

    FOREACH part IN ARRAY to_drop
    LOOP
        BEGIN
            -- lock before counting, so no row arrives between count and drop
            EXECUTE format('LOCK TABLE visittrack.%I IN ACCESS EXCLUSIVE MODE', part);
            n := NULL;
            IF NOT exact THEN
                SELECT round(c.reltuples) INTO n FROM pg_class c
                 WHERE c.oid = format('visittrack.%I', part)::regclass AND c.reltuples >= 0;
            END IF;
            IF n IS NULL THEN
                EXECUTE format('SELECT count(*) FROM visittrack.%I', part) INTO n;
            END IF;
            EXECUTE format('DROP TABLE visittrack.%I', part);
            removed := removed + n;
        EXCEPTION WHEN lock_not_available THEN
            RAISE WARNING 'visittrack: partition % was not dropped: it is in use', part
                USING HINT = 'The next cleanup_anonymous_data() run drops it.';
        END;
    END LOOP;
    RETURN removed;
END
$$;
COMMENT ON FUNCTION cleanup_anonymous_data(interval, boolean) IS
'removes anonymous sessions and page views older than the retention (NULL: visittrack.anon_retention, 90 days) by dropping whole daily partitions; returns rows removed (exact => false: dropped partitions counted from statistics, flat cost)';

-- The pg_cron jobs visittrack wants for one database (doc/operations.md).
-- The last one runs in the pg_cron database itself (the current one) and
-- keeps a week of run history for visittrack's jobs; it is shared by every
-- database scheduled from here.
CREATE FUNCTION cron_job_specs(target_database name)
RETURNS TABLE (job_name text, schedule text, command text, database text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, visittrack
AS $$
    SELECT 'visittrack-' || j.task
               || CASE WHEN j.per_database AND target_database <> current_database()
                       THEN '@' || target_database ELSE '' END,
           j.schedule, j.command,
           CASE WHEN j.per_database THEN target_database ELSE current_database() END::text
      FROM (VALUES
        (1, 'aggregate', true, '10 0 * * *', 'SELECT visittrack.aggregate_page_analytics()'),
        (2, 'cleanup', true, '20 0 * * *',
         'SELECT visittrack.ensure_partitions(); SELECT visittrack.cleanup_anonymous_data(exact => false)'),
        (3, 'finalize', true, '* * * * *',
         'SELECT visittrack.end_expired_sessions(); SELECT visittrack.finalize_anonymous_sessions(); '
         'SELECT visittrack.reconcile_hot_state(); SELECT visittrack.purge_hot_state(); '
         'SELECT visittrack.enrich_pending()'),
        (4, 'cron-history', false, '30 0 * * *',
         'DELETE FROM cron.job_run_details WHERE end_time < now() - interval ''7 days'' '
         'AND jobid IN (SELECT jobid FROM cron.job WHERE jobname LIKE ''visittrack-%'')')
      ) AS j(n, task, per_database, schedule, command)
     ORDER BY j.n
$$;
COMMENT ON FUNCTION cron_job_specs(name) IS
'the pg_cron jobs schedule_jobs() registers for a database: name, schedule (UTC), command';

-- ERROR unless pg_cron is usable from this database.
CREATE FUNCTION require_pg_cron()
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, visittrack
AS $$
DECLARE
    cron_db text := current_setting('cron.database_name', true);
BEGIN
    IF to_regprocedure('cron.schedule_in_database(text,text,text,text,text,boolean)') IS NOT NULL THEN
        RETURN;
    END IF;
    IF cron_db IS NOT NULL AND cron_db <> current_database() THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('pg_cron runs its jobs from database "%s" (cron.database_name).', cron_db),
                  HINT = format('In database "%s": CREATE EXTENSION pg_cron; CREATE EXTENSION visittrack; SELECT visittrack.schedule_jobs(%L);',
                                cron_db, current_database());
    END IF;
    RAISE EXCEPTION 'pg_cron is not installed in this database'
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = 'Add pg_cron to shared_preload_libraries (and set cron.database_name), restart, then run CREATE EXTENSION pg_cron.';
END
$$;

-- Registers (or updates: cron.schedule_in_database is an upsert by name)
-- the jobs for target_database, from the database where pg_cron is
-- installed.  The minutely job is registered only when visittrack's
-- background worker is not running in target_database, and removed when it
-- is.  Returns the jobs now registered for target_database.
CREATE FUNCTION schedule_jobs(target_database name DEFAULT current_database())
RETURNS TABLE (job_name text, schedule text, command text, database text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, visittrack
AS $$
DECLARE
    j record;
    worker jsonb := status()->'worker';
    worker_here boolean;
BEGIN
    IF target_database IS NULL THEN
        RAISE EXCEPTION 'target_database must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM require_pg_cron();
    IF NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = target_database) THEN
        RAISE EXCEPTION 'database "%" does not exist', target_database
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    worker_here := worker->>'pid' IS NOT NULL AND worker->>'database' = target_database;

    FOR j IN SELECT * FROM cron_job_specs(target_database) LOOP
        IF j.job_name LIKE 'visittrack-finalize%' AND worker_here THEN
            IF EXISTS (SELECT 1 FROM cron.job c WHERE c.jobname = j.job_name
                                                  AND c.username = current_user) THEN
                PERFORM cron.unschedule(j.job_name);
            END IF;
            CONTINUE;
        END IF;
        PERFORM cron.schedule_in_database(j.job_name, j.schedule, j.command, j.database);
    END LOOP;

    RETURN QUERY
    SELECT c.jobname::text, c.schedule, c.command, c.database
      FROM cron.job c JOIN cron_job_specs(target_database) s ON s.job_name = c.jobname
     WHERE c.username = current_user
     ORDER BY c.jobname;
END
$$;
COMMENT ON FUNCTION schedule_jobs(name) IS
'registers the pg_cron jobs (daily aggregation, daily cleanup and partitions, minutely finalization when the worker is not running) for a database; call it where pg_cron is installed; idempotent';

-- Removes the jobs of target_database; returns how many were removed.
CREATE FUNCTION unschedule_jobs(target_database name DEFAULT current_database())
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, visittrack
AS $$
DECLARE
    j record;
    removed integer := 0;
BEGIN
    IF target_database IS NULL THEN
        RAISE EXCEPTION 'target_database must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM require_pg_cron();
    FOR j IN SELECT c.jobname FROM cron.job c JOIN cron_job_specs(target_database) s
                                  ON s.job_name = c.jobname
              WHERE c.username = current_user AND c.jobname <> 'visittrack-cron-history' LOOP
        PERFORM cron.unschedule(j.jobname);
        removed := removed + 1;
    END LOOP;
    -- the shared history job goes with the last database scheduled from here
    IF NOT EXISTS (SELECT 1 FROM cron.job c WHERE c.username = current_user
                      AND c.jobname LIKE 'visittrack-%' AND c.jobname <> 'visittrack-cron-history')
       AND EXISTS (SELECT 1 FROM cron.job c WHERE c.username = current_user
                      AND c.jobname = 'visittrack-cron-history') THEN
        PERFORM cron.unschedule('visittrack-cron-history');
        removed := removed + 1;
    END IF;
    RETURN removed;
END
$$;
COMMENT ON FUNCTION unschedule_jobs(name) IS
'removes the pg_cron jobs schedule_jobs() registered for a database; returns how many; idempotent';
--
-- Erasure: every row and hot-state entry about one person.  Not part of the
-- application's API (application_functions); see doc/privacy.md.
--

CREATE FUNCTION forget_user(user_id uuid)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'vt_forget_user'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION forget_user(uuid) IS
'erases a signed-in user: sessions (and their Redis entries, at commit), events, page views, the anonymous sessions converted to the user with their page views, hot state and community presence; returns counts removed';

CREATE FUNCTION forget_fingerprint(fingerprint text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'vt_forget_fingerprint'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION forget_fingerprint(text) IS
'erases an anonymous visitor: anonymous sessions and page views of the fingerprint, its hot session and community presence; returns counts removed';
--
-- Upkeep: daily partitions, purge of expired local hot state, privileges.
--

-- Creates the daily partitions of anonymous_session and anonymous_page_view
-- for first_day .. last_day (UTC days) that do not exist yet, moving any
-- rows that had landed in the DEFAULT partition for those days.  Returns the
-- number of partitions created.
--
-- By default it works ahead, from tomorrow: attaching a partition for a day
-- that is receiving inserts races with them (an insert routed to the
-- default partition just before the attach fails its partition check just
-- after).  Days before tomorrow, e.g. the day of installation, stay in the
-- default partition unless asked for explicitly, at a quiet time.
CREATE FUNCTION ensure_partitions(first_day date DEFAULT (now() AT TIME ZONE 'UTC')::date + 1,
                                  last_day date DEFAULT (now() AT TIME ZONE 'UTC')::date + 7)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, visittrack
AS $$
DECLARE
    t record;
    d date;
    part text;
    lo timestamptz;
    hi timestamptz;
    created integer := 0;
BEGIN
    IF first_day IS NULL OR last_day IS NULL THEN
        RAISE EXCEPTION 'first_day and last_day must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF last_day - first_day > 3660 THEN
        RAISE EXCEPTION 'too many partitions requested: % days', last_day - first_day + 1
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = 'Ask for at most ten years at a time.';
    END IF;
    -- Nothing missing (the usual hourly case): done, without taking a lock.
    IF NOT EXISTS (
        SELECT 1 FROM generate_series(first_day, last_day, interval '1 day') g,
                      unnest(ARRAY['anonymous_session', 'anonymous_page_view']) tbl
         WHERE to_regclass(format('visittrack.%I', tbl || '_p' || to_char(g, 'YYYYMMDD'))) IS NULL)
    THEN
        RETURN 0;
    END IF;
    -- ATTACH takes an exclusive lock on the default partition.  Take both
    -- now, in the order page views lock them (page views' first, at
    -- executor start; sessions' when a row is routed), so that a page view
    -- holding one never waits for us holding the other.
    LOCK TABLE anonymous_page_view_default, anonymous_session_default IN ACCESS EXCLUSIVE MODE;
    FOR t IN SELECT * FROM (VALUES ('anonymous_session', 'session_start'),
                                   ('anonymous_page_view', 'viewed_at')) AS v(tbl, col)
    LOOP
        FOR d IN SELECT g::date FROM generate_series(first_day, last_day, interval '1 day') g
        LOOP
            part := format('%s_p%s', t.tbl, to_char(d, 'YYYYMMDD'));
            CONTINUE WHEN to_regclass(format('visittrack.%I', part)) IS NOT NULL;
            lo := d::timestamp AT TIME ZONE 'UTC';
            hi := (d + 1)::timestamp AT TIME ZONE 'UTC';
            -- Room on each page for the updates a row gets soon after its
            -- insert (a view's time on page, a live session's count), so
            -- that they stay HOT updates: no new index entries
            -- (doc/performance.md).
            EXECUTE format('CREATE TABLE visittrack.%I (LIKE visittrack.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)'
                           ' WITH (fillfactor = 80)', part, t.tbl);
            EXECUTE format('WITH moved AS (DELETE FROM visittrack.%I WHERE %I >= $1 AND %I < $2 RETURNING *)
                            INSERT INTO visittrack.%I SELECT * FROM moved',
                           t.tbl || '_default', t.col, t.col, part)
                USING lo, hi;
            EXECUTE format('ALTER TABLE visittrack.%I ATTACH PARTITION visittrack.%I FOR VALUES FROM (%L) TO (%L)',
                           t.tbl, part, lo, hi);
            created := created + 1;
        END LOOP;
    END LOOP;
    RETURN created;
END
$$;
COMMENT ON FUNCTION ensure_partitions(date, date) IS
'creates missing daily partitions of the anonymous tables (the worker and pg_cron call it)';

-- Deletes local hot state that has outlived its window (Redis expires its
-- keys by itself).  Returns rows removed.
CREATE FUNCTION purge_hot_state()
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, visittrack
AS $$
DECLARE
    w record := visittrack.windows();
    removed bigint;
    n bigint;
BEGIN
    DELETE FROM hot_anon_session
     WHERE last_activity <= now() - make_interval(secs => w.anon_session_ttl);
    GET DIAGNOSTICS removed = ROW_COUNT;
    DELETE FROM hot_community_visitor
     WHERE last_seen <= now() - make_interval(secs => w.community_window);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN removed + n;
END
$$;
COMMENT ON FUNCTION purge_hot_state() IS
'deletes expired rows of the PostgreSQL-local hot store (the worker runs it every round)';

-- Lets an application role call the tracking API, and nothing else.
CREATE FUNCTION grant_application_role(role_name name)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, visittrack
AS $$
DECLARE
    f regprocedure;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA visittrack TO %I', role_name);
    FOR f IN
        SELECT p.oid::regprocedure
          FROM pg_proc p
         WHERE p.pronamespace = 'visittrack'::regnamespace
           AND p.proname = ANY (visittrack.application_functions())
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f, role_name);
    END LOOP;
END
$$;
COMMENT ON FUNCTION grant_application_role(name) IS
'grants a role USAGE on the schema and EXECUTE on the request-path API (no table privileges)';

CREATE FUNCTION reconcile_hot_state()
RETURNS bigint
AS 'MODULE_PATHNAME', 'vt_reconcile_hot_state'
LANGUAGE C VOLATILE SECURITY DEFINER;
COMMENT ON FUNCTION reconcile_hot_state() IS
'copies hot state kept in PostgreSQL during a Redis outage back to Redis (the worker runs it); returns entries copied';

-- With visittrack.write_behind on, page-view rows, community presence and
-- cached page counts reach the tables and Redis a moment after the call
-- (doc/settings.md).  This waits until everything queued by transactions
-- committed before the call is written: for scripts and tests that read
-- those tables right after writing, and before exports.
CREATE FUNCTION flush_writes(timeout_ms integer DEFAULT 10000)
RETURNS boolean
AS 'MODULE_PATHNAME', 'vt_flush_writes'
LANGUAGE C VOLATILE STRICT SECURITY DEFINER;
COMMENT ON FUNCTION flush_writes(integer) IS
'waits until writes queued for the visittrack writer are written; false on timeout';
--
-- Privileges: nothing is open to PUBLIC.  The application role gets EXECUTE
-- on the request-path functions (grant_application_role); maintenance,
-- analytics and erasure functions stay with the owner and whoever the DBA
-- grants them to.
--
REVOKE ALL ON ALL TABLES IN SCHEMA visittrack FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA visittrack FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA visittrack FROM PUBLIC;
