--
-- visittrack behind PL/Proxy: the proxy database's SQL.
--
-- Run in an empty database that has CREATE EXTENSION plproxy (PL/Proxy 2.x,
-- Debian package postgresql-15-plproxy), then call
-- visittrack_shard.configure_cluster(...) with the shards' connection
-- strings (scripts/shard-setup does both).  Each shard is an ordinary
-- visittrack database; this one holds no data.
--
-- Schema visittrack here has the names and signatures of visittrack's SQL
-- API, so that an application changes only its connection string.  Each
-- call runs on the shard that owns its key (doc/scaling.md, "Sharding"):
--
--   anonymous visitor     hash of the fingerprint (lower case)
--   signed-in user        hash of the user id; a session id handed out here
--                         carries that hash ("<id>.<8 hex digits>")
--   community presence    hash of the community id
--
-- Reports, erasure and upkeep run on every shard and are merged here.
-- Schema visittrack_shard holds the routing helpers, the per-shard calls
-- and the cluster configuration.
--
-- Every function here is SECURITY DEFINER and owned by whoever ran this
-- file: callers get EXECUTE through grant_application_role and
-- grant_reporting_role below, and PL/Proxy connects to the shards through
-- the owner's user mapping (configure_cluster), so the shard role it names
-- must be allowed what the owner may do here: the shard's extension owner
-- or a superuser.  Every function pins its search_path.
--

CREATE SCHEMA visittrack_shard;
CREATE SCHEMA visittrack;
REVOKE ALL ON SCHEMA visittrack_shard, visittrack FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Cluster configuration (SQL/MED): server "visittrack".
-- ---------------------------------------------------------------------------

-- (Re)creates the cluster: `partitions` hash partitions (a power of two,
-- at least as many as shards) dealt round-robin onto the shards, so
-- partition p lives on shards[p % n + 1].  More partitions than shards lets
-- a shard be added later by moving whole partitions (move_partition).
-- PL/Proxy opens one connection per distinct connection string, and RUN ON
-- ALL runs once per connection, so several partitions on one shard cost
-- nothing and are never counted twice.
CREATE FUNCTION visittrack_shard.configure_cluster(shards text[], partitions integer DEFAULT 16,
                                                   shard_user text DEFAULT current_user,
                                                   shard_password text DEFAULT NULL)
RETURNS TABLE (partition integer, connstr text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer := coalesce(array_length(shards, 1), 0);
    opts text := 'connection_lifetime ''1800''';
    p integer;
BEGIN
    IF n = 0 THEN
        RAISE EXCEPTION 'shards must name at least one connection string'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF partitions IS NULL OR partitions < n OR partitions > 65536
       OR (partitions & (partitions - 1)) <> 0 THEN
        RAISE EXCEPTION 'partitions must be a power of two between % and 65536, got %', n, partitions
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'PL/Proxy maps hash & (partitions - 1) to a partition.';
    END IF;
    FOR p IN 0 .. partitions - 1 LOOP
        opts := opts || format(', p%s %L', p, shards[p % n + 1]);
    END LOOP;
    EXECUTE 'DROP SERVER IF EXISTS visittrack CASCADE';
    EXECUTE format('CREATE SERVER visittrack FOREIGN DATA WRAPPER plproxy OPTIONS (%s)', opts);
    EXECUTE format('CREATE USER MAPPING FOR %I SERVER visittrack OPTIONS (%s)', current_user,
                   concat_ws(', ', format('user %L', shard_user),
                             CASE WHEN shard_password IS NOT NULL
                                  THEN format('password %L', shard_password) END));
    RETURN QUERY SELECT * FROM visittrack_shard.partitions();
END
$$;

-- The partitions and where each one lives.
CREATE FUNCTION visittrack_shard.partitions()
RETURNS TABLE (partition integer, connstr text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT substr(split_part(o, '=', 1), 2)::integer, substr(o, strpos(o, '=') + 1)
      FROM pg_foreign_server s, unnest(s.srvoptions) o
     WHERE s.srvname = 'visittrack' AND o ~ '^p[0-9]+='
     ORDER BY 1
$$;

-- Points one partition at another shard (after its rows were copied there:
-- doc/scaling.md, "From one node to shards").  PL/Proxy reloads the cluster
-- on its next call in every session.
CREATE FUNCTION visittrack_shard.move_partition(partition integer, connstr text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM visittrack_shard.partitions() p WHERE p.partition = move_partition.partition) THEN
        RAISE EXCEPTION 'no partition % in cluster visittrack', partition
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    EXECUTE format('ALTER SERVER visittrack OPTIONS (SET p%s %L)', partition, connstr);
END
$$;

-- ---------------------------------------------------------------------------
-- Routing: the hash of the key that owns a call's data.
-- ---------------------------------------------------------------------------

CREATE FUNCTION visittrack_shard.key_hash(key text)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT hashtext(coalesce(key, '')) $$;

-- Fingerprints are accepted in upper case and stored in lower case.
CREATE FUNCTION visittrack_shard.fingerprint_hash(fingerprint text)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT visittrack_shard.key_hash(lower(fingerprint)) $$;

CREATE FUNCTION visittrack_shard.uuid_hash(id uuid)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT visittrack_shard.key_hash(id::text) $$;

-- A session id handed out by the proxy: the shard's id, a dot, and the
-- user's hash in 8 hex digits.  The shard's ids are 32 hex digits, so the
-- dot is never theirs.
CREATE FUNCTION visittrack_shard.proxy_session_id(shard_session_id text, user_id uuid)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT shard_session_id || '.' || lpad(to_hex(visittrack_shard.uuid_hash(user_id)), 8, '0')
$$;

CREATE FUNCTION visittrack_shard.shard_session_id(session_id text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN session_id ~ '\.[0-9a-f]{8}$' THEN left(session_id, -9) ELSE session_id END
$$;

-- The shard of a session: the user's hash it carries.  An id without one
-- (not handed out here) goes to the shard of its own hash, which answers
-- as for any unknown id, or rejects a malformed one.
CREATE FUNCTION visittrack_shard.session_hash(session_id text)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN session_id ~ '\.[0-9a-f]{8}$'
                THEN ('x' || right(session_id, 8))::bit(32)::integer
                ELSE visittrack_shard.key_hash(session_id) END
$$;

-- ---------------------------------------------------------------------------
-- Calls on one shard (RUN ON hash) and on all (RUN ON ALL).
-- Argument names start with i_ so that PL/Proxy's substitution never
-- touches a function name in the remote statement.
-- ---------------------------------------------------------------------------

CREATE FUNCTION visittrack_shard.session_start(h integer, i_user_id uuid, i_session_key text,
                                               i_ip inet, i_user_agent text, i_remember_me boolean,
                                               i_username text, i_device_fingerprint text)
RETURNS text LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON h;
    SELECT visittrack.session_start(i_user_id, i_session_key, i_ip, i_user_agent, i_remember_me,
                                    i_username, i_device_fingerprint);
$$;

CREATE FUNCTION visittrack_shard.session_touch(h integer, i_session_id text, i_url text)
RETURNS integer LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON h;
    SELECT visittrack.session_touch(i_session_id, i_url);
$$;

CREATE FUNCTION visittrack_shard.session_end(h integer, i_session_id text)
RETURNS boolean LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON h;
    SELECT visittrack.session_end(i_session_id);
$$;

CREATE FUNCTION visittrack_shard.session_get(h integer, i_session_id text)
RETURNS jsonb LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON h;
    SELECT visittrack.session_get(i_session_id);
$$;

CREATE FUNCTION visittrack_shard.track_page_view(h integer, i_fingerprint text, i_url text,
                                                 i_referrer text, i_user_agent text, i_ip inet,
                                                 i_user_id uuid, i_session_id text,
                                                 i_url_name text, i_page_type text)
RETURNS integer LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON h;
    SELECT visittrack.track_page_view(i_fingerprint, i_url, i_referrer, i_user_agent, i_ip,
                                      i_user_id, i_session_id, i_url_name, i_page_type);
$$;

CREATE FUNCTION visittrack_shard.each_jsonb(i_call text, i_arg text)
RETURNS SETOF jsonb LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON ALL;
    SELECT CASE i_call
             WHEN 'forget_user' THEN visittrack.forget_user(i_arg::uuid)
             WHEN 'forget_fingerprint' THEN visittrack.forget_fingerprint(i_arg)
             WHEN 'status' THEN pg_catalog.jsonb_build_object(
                 'database', pg_catalog.current_database(),
                 'port', pg_catalog.current_setting('port')::integer,
                 'status', visittrack.status())
             WHEN 'enrichment_status' THEN pg_catalog.jsonb_build_object(
                 'database', pg_catalog.current_database(),
                 'port', pg_catalog.current_setting('port')::integer,
                 'status', visittrack.enrichment_status())
           END;
$$;

-- Upkeep on every shard; one count per shard.  i_a, i_b: the arguments
-- as text, in the order of the function's signature.
CREATE FUNCTION visittrack_shard.each_count(i_call text, i_a text, i_b text)
RETURNS SETOF bigint LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON ALL;
    SELECT CASE i_call
             WHEN 'end_expired_sessions' THEN visittrack.end_expired_sessions()
             WHEN 'finalize_anonymous_sessions' THEN visittrack.finalize_anonymous_sessions()
             WHEN 'purge_hot_state' THEN visittrack.purge_hot_state()
             WHEN 'reconcile_hot_state' THEN visittrack.reconcile_hot_state()
             WHEN 'enrich_pending' THEN visittrack.enrich_pending(i_a::integer)
             WHEN 'ensure_partitions' THEN visittrack.ensure_partitions(i_a::date, i_b::date)
             WHEN 'cleanup_anonymous_data' THEN visittrack.cleanup_anonymous_data(i_a::interval, i_b::boolean)
             WHEN 'aggregate_page_analytics' THEN visittrack.aggregate_page_analytics(i_a::date)
             WHEN 'flush_writes' THEN visittrack.flush_writes(i_a::integer)::integer
           END::bigint;
$$;

-- Report inputs: per-shard partial aggregates, merged by the report
-- functions below (sums, and averages recomputed from sums and counts).
CREATE FUNCTION visittrack_shard.page_analytics_since(i_since date)
RETURNS TABLE (url_path text, page_type text, total_views bigint, anonymous_views bigint,
               authenticated_views bigint, unique_visitors bigint)
LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON ALL;
    SELECT p.url_path, p.page_type, sum(p.total_views)::bigint AS total_views,
           sum(p.anonymous_views)::bigint AS anonymous_views,
           sum(p.authenticated_views)::bigint AS authenticated_views,
           sum(p.unique_visitors)::bigint AS unique_visitors
      FROM visittrack.page_analytics p
     WHERE p.date >= i_since
     GROUP BY p.url_path, p.page_type;
$$;

CREATE FUNCTION visittrack_shard.page_paths(i_day date)
RETURNS SETOF text
LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON ALL;
    SELECT p.url_path FROM visittrack.page_analytics p WHERE p.date = i_day;
$$;

CREATE FUNCTION visittrack_shard.conversion_groups(i_days integer)
RETURNS TABLE (landing_page text, referrer text, sessions bigint, conversions bigint,
               pages_sum bigint, pages_n bigint, duration_sum numeric, duration_n bigint)
LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON ALL;
    SELECT s.landing_page, s.referrer, count(*) AS sessions,
           count(*) FILTER (WHERE s.converted) AS conversions,
           sum(s.pages_visited) FILTER (WHERE s.converted)::bigint AS pages_sum,
           count(s.pages_visited) FILTER (WHERE s.converted) AS pages_n,
           sum(s.duration_seconds) FILTER (WHERE s.converted) AS duration_sum,
           count(s.duration_seconds) FILTER (WHERE s.converted) AS duration_n
      FROM visittrack.conversion_sessions(i_days) s
     GROUP BY s.landing_page, s.referrer;
$$;

CREATE FUNCTION visittrack_shard.duration_parts(i_since timestamptz)
RETURNS TABLE (visitor_kind text, sessions bigint, duration_sum numeric, duration_n bigint,
               pages_sum bigint, pages_n bigint)
LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON ALL;
    SELECT 'authenticated'::text AS visitor_kind, count(*) AS sessions,
           sum(extract(epoch FROM u.ended_at - u.started_at)) AS duration_sum,
           count(extract(epoch FROM u.ended_at - u.started_at)) AS duration_n,
           sum(u.pages_visited)::bigint AS pages_sum, count(u.pages_visited) AS pages_n
      FROM visittrack.user_session u
     WHERE NOT u.is_active AND u.ended_at >= i_since AND NOT u.is_bot
    UNION ALL
    SELECT 'anonymous'::text, count(*), sum(a.duration_seconds), count(a.duration_seconds),
           sum(a.pages_visited)::bigint, count(a.pages_visited)
      FROM visittrack.anonymous_session a
     WHERE NOT a.is_active AND a.session_end >= i_since AND NOT a.is_bot;
$$;

-- ---------------------------------------------------------------------------
-- The API: one shard per call.
-- ---------------------------------------------------------------------------

-- Stateless: any shard (all shards share one fingerprint secret; the
-- setup command checks it).
CREATE FUNCTION visittrack.fingerprint(ip inet, user_agent text,
                                       accept_language text DEFAULT NULL, extra text DEFAULT NULL)
RETURNS text LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON ANY;
$$;

CREATE FUNCTION visittrack.parse_user_agent(user_agent text)
RETURNS TABLE (device_type text, browser text, browser_version text, os text, is_bot boolean)
LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON ANY;
$$;

CREATE FUNCTION visittrack.is_bot(user_agent text)
RETURNS boolean LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON ANY;
$$;

CREATE FUNCTION visittrack.ua_details(user_agent text)
RETURNS jsonb LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON ANY;
$$;

CREATE FUNCTION visittrack.geolocate(ip inet)
RETURNS jsonb LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON ANY;
$$;

CREATE FUNCTION visittrack.windows(OUT session_ttl integer, OUT remember_me_ttl integer,
                                   OUT anon_session_ttl integer, OUT community_window integer,
                                   OUT anon_persist_every integer, OUT anon_retention integer)
LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON ANY;
$$;

-- Signed-in users: the shard of the user.
CREATE FUNCTION visittrack.session_start(user_id uuid, session_key text, ip inet DEFAULT NULL,
                                         user_agent text DEFAULT NULL, remember_me boolean DEFAULT false,
                                         username text DEFAULT NULL, device_fingerprint text DEFAULT NULL)
RETURNS text
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT visittrack_shard.proxy_session_id(
               visittrack_shard.session_start(visittrack_shard.uuid_hash(user_id), user_id, session_key,
                                              ip, user_agent, remember_me, username, device_fingerprint),
               user_id)
$$;

CREATE FUNCTION visittrack.session_touch(session_id text, url text DEFAULT NULL)
RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT visittrack_shard.session_touch(visittrack_shard.session_hash(session_id),
                                          visittrack_shard.shard_session_id(session_id), url)
$$;

CREATE FUNCTION visittrack.session_end(session_id text)
RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT visittrack_shard.session_end(visittrack_shard.session_hash(session_id),
                                        visittrack_shard.shard_session_id(session_id))
$$;

-- The shard's JSON, with the session id the application holds.
CREATE FUNCTION visittrack.session_get(session_id text)
RETURNS jsonb
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN s IS NULL OR s->>'user_id' IS NULL THEN s
                ELSE jsonb_set(s, '{session_id}',
                               to_jsonb(visittrack_shard.proxy_session_id(s->>'session_id',
                                                                          (s->>'user_id')::uuid)))
           END
      FROM visittrack_shard.session_get(visittrack_shard.session_hash(session_id),
                                        visittrack_shard.shard_session_id(session_id)) s
$$;

CREATE FUNCTION visittrack.log_event(user_id uuid, event_type text, description text DEFAULT NULL,
                                     metadata jsonb DEFAULT '{}', ip inet DEFAULT NULL,
                                     user_agent text DEFAULT NULL)
RETURNS bigint LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON visittrack_shard.uuid_hash(user_id);
$$;

-- Anonymous views on the device's shard; signed-in views on the user's.
-- A session id without a user id goes to the session's shard first, with
-- no fingerprint (a well-formed one is not needed there); when that
-- session is unknown or ended, the single-node function counts the view
-- as an anonymous view of the fingerprint, so the proxy records it on the
-- fingerprint's shard.
CREATE FUNCTION visittrack.track_page_view(fingerprint text, url text, referrer text DEFAULT NULL,
                                           user_agent text DEFAULT NULL, ip inet DEFAULT NULL,
                                           user_id uuid DEFAULT NULL, session_id text DEFAULT NULL,
                                           url_name text DEFAULT NULL, page_type text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    pages integer;
BEGIN
    IF user_id IS NOT NULL THEN
        RETURN visittrack_shard.track_page_view(visittrack_shard.uuid_hash(user_id), fingerprint, url,
                   referrer, user_agent, ip, user_id,
                   visittrack_shard.shard_session_id(session_id), url_name, page_type);
    END IF;
    IF session_id IS NOT NULL THEN
        -- a malformed fingerprint is passed on, for the shard's error
        pages := visittrack_shard.track_page_view(visittrack_shard.session_hash(session_id),
                     CASE WHEN fingerprint ~ '^[0-9A-Fa-f]{16,128}$' THEN NULL ELSE fingerprint END,
                     url, referrer, user_agent, ip, NULL,
                     visittrack_shard.shard_session_id(session_id), url_name, page_type);
        IF pages IS NOT NULL OR fingerprint IS NULL THEN
            RETURN pages;
        END IF;
    END IF;
    RETURN visittrack_shard.track_page_view(visittrack_shard.fingerprint_hash(fingerprint), fingerprint,
               url, referrer, user_agent, ip, NULL, NULL, url_name, page_type);
END
$$;

-- The anonymous session and its account_created event stay on the
-- fingerprint's shard: what reads them (the conversion reports,
-- forget_user) runs on every shard.
CREATE FUNCTION visittrack.link_conversion(user_id uuid, fingerprint text)
RETURNS uuid LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON visittrack_shard.fingerprint_hash(fingerprint);
$$;

-- Presence: the shard of the community (with the community_visit event of
-- a signed-in visitor).
CREATE FUNCTION visittrack.community_visit(community_id uuid, user_id uuid DEFAULT NULL,
                                           device_fingerprint text DEFAULT NULL,
                                           visitor_division_id uuid DEFAULT NULL,
                                           community_division_id uuid DEFAULT NULL,
                                           community_slug text DEFAULT NULL, url text DEFAULT NULL,
                                           referrer text DEFAULT NULL, ip inet DEFAULT NULL,
                                           user_agent text DEFAULT NULL)
RETURNS void LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON visittrack_shard.uuid_hash(community_id);
$$;

CREATE FUNCTION visittrack.visitor_stats(community_id uuid)
RETURNS TABLE (total_visitors integer, authenticated_visitors integer, anonymous_visitors integer,
               authenticated_percentage numeric, anonymous_percentage numeric)
LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON visittrack_shard.uuid_hash(community_id);
$$;

CREATE FUNCTION visittrack.current_visitors(community_id uuid)
RETURNS SETOF jsonb LANGUAGE plproxy SECURITY DEFINER AS $$
    CLUSTER 'visittrack'; RUN ON visittrack_shard.uuid_hash(community_id);
$$;

-- ---------------------------------------------------------------------------
-- Every shard: erasure, status, upkeep.
-- ---------------------------------------------------------------------------

-- A person's rows may be on any shard (the user's, the shards of the
-- devices it converted from, the shards of the communities it visited):
-- erasure runs everywhere and adds up the counts.
CREATE FUNCTION visittrack_shard.sum_counts(parts jsonb[])
RETURNS jsonb
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(jsonb_object_agg(key, total), '{}')
      FROM (SELECT e.key, sum(e.value::bigint) AS total
              FROM unnest(parts) p, jsonb_each_text(p) e
             GROUP BY e.key) t
$$;

CREATE FUNCTION visittrack.forget_user(user_id uuid)
RETURNS jsonb
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT visittrack_shard.sum_counts(
               ARRAY(SELECT visittrack_shard.each_jsonb('forget_user', user_id::text)))
$$;

CREATE FUNCTION visittrack.forget_fingerprint(fingerprint text)
RETURNS jsonb
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT visittrack_shard.sum_counts(
               ARRAY(SELECT visittrack_shard.each_jsonb('forget_fingerprint', fingerprint)))
$$;

CREATE FUNCTION visittrack.status()
RETURNS jsonb
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object('proxy', jsonb_build_object('database', current_database(),
                                                          'partitions', (SELECT count(*) FROM visittrack_shard.partitions())),
                              'shards', jsonb_agg(s ORDER BY s->>'port', s->>'database'))
      FROM visittrack_shard.each_jsonb('status', NULL) s
$$;

CREATE FUNCTION visittrack.enrichment_status()
RETURNS jsonb
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object('shards', jsonb_agg(s ORDER BY s->>'port', s->>'database'))
      FROM visittrack_shard.each_jsonb('enrichment_status', NULL) s
$$;

CREATE FUNCTION visittrack_shard.sum_each(call text, a text DEFAULT NULL, b text DEFAULT NULL)
RETURNS bigint
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT sum(n)::bigint FROM visittrack_shard.each_count(call, a, b) n $$;

CREATE FUNCTION visittrack.end_expired_sessions() RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT visittrack_shard.sum_each('end_expired_sessions') $$;

CREATE FUNCTION visittrack.finalize_anonymous_sessions() RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT visittrack_shard.sum_each('finalize_anonymous_sessions')::integer $$;

CREATE FUNCTION visittrack.purge_hot_state() RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT visittrack_shard.sum_each('purge_hot_state') $$;

CREATE FUNCTION visittrack.reconcile_hot_state() RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT visittrack_shard.sum_each('reconcile_hot_state') $$;

CREATE FUNCTION visittrack.enrich_pending(max_rows integer DEFAULT 1000) RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT visittrack_shard.sum_each('enrich_pending', max_rows::text)::integer $$;

CREATE FUNCTION visittrack.ensure_partitions(
        first_day date DEFAULT (pg_catalog.now() AT TIME ZONE 'UTC')::pg_catalog.date OPERATOR(pg_catalog.+) 1,
        last_day date DEFAULT (pg_catalog.now() AT TIME ZONE 'UTC')::pg_catalog.date OPERATOR(pg_catalog.+) 7)
RETURNS integer
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT visittrack_shard.sum_each('ensure_partitions', first_day::text, last_day::text)::integer $$;

CREATE FUNCTION visittrack.cleanup_anonymous_data(retention interval DEFAULT NULL,
                                                  exact boolean DEFAULT true)
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT visittrack_shard.sum_each('cleanup_anonymous_data', retention::text, exact::text) $$;

-- True when every shard's writers caught up within timeout_ms (the shards
-- wait side by side).
CREATE FUNCTION visittrack.flush_writes(timeout_ms integer DEFAULT 10000) RETURNS boolean
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT bool_and(n = 1) FROM visittrack_shard.each_count('flush_writes', timeout_ms::text, NULL) n
$$;

-- ---------------------------------------------------------------------------
-- Reports: every shard, merged.
-- ---------------------------------------------------------------------------

CREATE FUNCTION visittrack.utc_yesterday()
RETURNS date
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT (now() AT TIME ZONE 'UTC')::date - 1 $$;

-- The shards' argument check, for errors before any shard is asked.
CREATE FUNCTION visittrack.check_range(value integer, name text, lowest integer, highest integer)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
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

-- Each shard aggregates its own views; returns the paths of that day over
-- all shards (what one node returns: one row per path).
CREATE FUNCTION visittrack.aggregate_page_analytics(day date DEFAULT visittrack.utc_yesterday())
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM visittrack_shard.sum_each('aggregate_page_analytics', day::text);
    RETURN (SELECT count(DISTINCT p) FROM visittrack_shard.page_paths(day) p);
END
$$;

-- Sums per path over the shards' (path, page type) sums: exact.
-- unique_visitors adds daily figures, as on one node; a visitor's views of
-- a day are on one shard (its fingerprint's, or its user's), so the
-- shards' figures add up to one node's.
CREATE FUNCTION visittrack.top_pages(days integer DEFAULT 7, max_rows integer DEFAULT 10)
RETURNS TABLE (url_path text, page_type text, total_views bigint, anonymous_views bigint,
               authenticated_views bigint, unique_visitors bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM visittrack.check_range(days, 'days', 1, 3660);
    PERFORM visittrack.check_range(max_rows, 'max_rows', 1, 10000);
    RETURN QUERY
    WITH parts AS (
        SELECT * FROM visittrack_shard.page_analytics_since(visittrack.utc_yesterday() + 1 - days)
    ), per_path AS (
        SELECT p.url_path, sum(p.total_views)::bigint AS total_views,
               sum(p.anonymous_views)::bigint AS anonymous_views,
               sum(p.authenticated_views)::bigint AS authenticated_views,
               sum(p.unique_visitors)::bigint AS unique_visitors
          FROM parts p
         GROUP BY p.url_path
    ), per_type AS (
        SELECT DISTINCT ON (p.url_path) p.url_path, p.page_type
          FROM parts p
         WHERE p.page_type IS NOT NULL
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

-- Sessions and conversions per landing page and referrer from every shard:
-- counts add up, averages are recomputed from sums and counts.
CREATE FUNCTION visittrack.conversion_landing_pages(days integer DEFAULT 30, max_rows integer DEFAULT 10)
RETURNS TABLE (landing_page text, sessions bigint, conversions bigint, conversion_rate numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM visittrack.check_range(days, 'days', 1, 3660);
    PERFORM visittrack.check_range(max_rows, 'max_rows', 1, 10000);
    RETURN QUERY
    SELECT g.landing_page, sum(g.sessions)::bigint, sum(g.conversions)::bigint,
           round(100.0 * sum(g.conversions) / sum(g.sessions), 2)
      FROM visittrack_shard.conversion_groups(days) g
     GROUP BY g.landing_page
     ORDER BY 3 DESC, 4 DESC, 2 DESC, 1
     LIMIT max_rows;
END
$$;

CREATE FUNCTION visittrack.conversion_referrers(days integer DEFAULT 30, max_rows integer DEFAULT 10)
RETURNS TABLE (referrer text, sessions bigint, conversions bigint, conversion_rate numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM visittrack.check_range(days, 'days', 1, 3660);
    PERFORM visittrack.check_range(max_rows, 'max_rows', 1, 10000);
    RETURN QUERY
    SELECT g.referrer, sum(g.sessions)::bigint, sum(g.conversions)::bigint,
           round(100.0 * sum(g.conversions) / sum(g.sessions), 2)
      FROM visittrack_shard.conversion_groups(days) g
     GROUP BY g.referrer
     ORDER BY 3 DESC, 4 DESC, 2 DESC, 1
     LIMIT max_rows;
END
$$;

CREATE FUNCTION visittrack.conversion_funnel(days integer DEFAULT 30)
RETURNS TABLE (sessions bigint, conversions bigint, conversion_rate numeric,
               avg_pages_before_signup numeric, avg_duration_seconds numeric,
               top_landing_page text, top_referrer text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM visittrack.check_range(days, 'days', 1, 3660);
    RETURN QUERY
    WITH g AS MATERIALIZED (
        SELECT * FROM visittrack_shard.conversion_groups(days)
    ), t AS (
        SELECT coalesce(sum(g.sessions), 0)::bigint AS sessions,
               coalesce(sum(g.conversions), 0)::bigint AS conversions,
               sum(g.pages_sum) AS pages_sum, sum(g.pages_n) AS pages_n,
               sum(g.duration_sum) AS duration_sum, sum(g.duration_n) AS duration_n
          FROM g
    )
    SELECT t.sessions, t.conversions,
           round(100.0 * t.conversions / NULLIF(t.sessions, 0), 2),
           round(t.pages_sum::numeric / NULLIF(t.pages_n, 0), 2),
           round(t.duration_sum / NULLIF(t.duration_n, 0), 2),
           (SELECT l.landing_page FROM
              (SELECT g.landing_page, sum(g.sessions) AS s, sum(g.conversions) AS c
                 FROM g GROUP BY g.landing_page) l
             WHERE l.c > 0
             ORDER BY l.c DESC, round(100.0 * l.c / l.s, 2) DESC, l.s DESC, l.landing_page LIMIT 1),
           (SELECT r.referrer FROM
              (SELECT g.referrer, sum(g.sessions) AS s, sum(g.conversions) AS c
                 FROM g GROUP BY g.referrer) r
             WHERE r.c > 0
             ORDER BY r.c DESC, round(100.0 * r.c / r.s, 2) DESC, r.s DESC, r.referrer LIMIT 1)
      FROM t;
END
$$;

CREATE FUNCTION visittrack.session_duration_comparison(days integer DEFAULT 7)
RETURNS TABLE (visitor_kind text, sessions bigint, avg_duration_seconds numeric, avg_pages numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM visittrack.check_range(days, 'days', 1, 3660);
    RETURN QUERY
    SELECT k.kind, coalesce(sum(d.sessions), 0)::bigint,
           round(sum(d.duration_sum) / NULLIF(sum(d.duration_n), 0), 2),
           round(sum(d.pages_sum)::numeric / NULLIF(sum(d.pages_n), 0), 2)
      FROM (VALUES (1, 'authenticated'), (2, 'anonymous')) k(ord, kind)
      LEFT JOIN visittrack_shard.duration_parts(now() - make_interval(days => days)) d
             ON d.visitor_kind = k.kind
     GROUP BY k.ord, k.kind
     ORDER BY k.ord;
END
$$;

-- ---------------------------------------------------------------------------
-- Roles, as on one node: EXECUTE on the proxy's functions.
-- ---------------------------------------------------------------------------

CREATE FUNCTION visittrack.application_functions()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY['fingerprint', 'session_start', 'session_touch', 'session_end',
                 'session_get', 'log_event', 'community_visit', 'visitor_stats',
                 'current_visitors', 'track_page_view', 'link_conversion',
                 'parse_user_agent', 'is_bot', 'windows']
$$;

CREATE FUNCTION visittrack.reporting_functions()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY['top_pages', 'conversion_funnel', 'conversion_landing_pages',
                 'conversion_referrers', 'session_duration_comparison',
                 'visitor_stats', 'status', 'enrichment_status', 'windows']
$$;

CREATE FUNCTION visittrack_shard.grant_functions(role_name name, names text[])
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f regprocedure;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA visittrack TO %I', role_name);
    FOR f IN
        SELECT p.oid::regprocedure FROM pg_proc p
         WHERE p.pronamespace = 'visittrack'::regnamespace AND p.proname = ANY (names)
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f, role_name);
    END LOOP;
END
$$;

CREATE FUNCTION visittrack.grant_application_role(role_name name)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT visittrack_shard.grant_functions(role_name, visittrack.application_functions()) $$;

-- page_analytics stays on the shards (each holds its own views' rows):
-- read it through top_pages here.
CREATE FUNCTION visittrack.grant_reporting_role(role_name name)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT visittrack_shard.grant_functions(role_name, visittrack.reporting_functions()) $$;

-- Nothing is granted to PUBLIC, as on one node; the PL/Proxy functions
-- get the pinned search_path too (the statements PL/Proxy runs here to
-- compute a hash name types).
DO $$
DECLARE
    f record;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS fn, p.proconfig FROM pg_proc p
              WHERE p.pronamespace IN ('visittrack'::regnamespace, 'visittrack_shard'::regnamespace)
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f.fn);
        IF f.proconfig IS NULL THEN
            EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp', f.fn);
        END IF;
    END LOOP;
END
$$;
