-- Signed-in sessions: the user_session row and the session:{session_id}
-- hash in Redis move together through login, pages and logout.
SELECT visittrack.session_start(vt_test.uid(1), 'django-session-key-1', '203.0.113.45',
       'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0', false, 'john_doe') AS sid \gset
SELECT length(:'sid') AS sid_length, :'sid' <> 'django-session-key-1' AS raw_key_not_stored;
SELECT count(*) AS raw_key_in_table FROM visittrack.user_session
 WHERE session_id = 'django-session-key-1';

-- the row
SELECT user_id, username, ip_address, pages_visited, persistent, is_active, ended_at,
       expires_at - started_at AS lifetime, fast_fingerprint ~ '^[0-9a-f]{32}$' AS has_fast_fp
  FROM visittrack.user_session WHERE session_id = :'sid';

-- login again with the same key: get, not create
SELECT visittrack.session_start(vt_test.uid(1), 'django-session-key-1') = :'sid' AS same_session;
SELECT count(*) AS rows_for_key FROM visittrack.user_session WHERE session_id = :'sid';
-- the same key for another user is refused
SELECT vt_test.error_of(format('SELECT visittrack.session_start(%L, %L)', vt_test.uid(2), 'django-session-key-1'));

-- pages: counted in the table (and in Redis: test/t/200_redis_state.pl)
SELECT visittrack.session_touch(:'sid') AS p1;
SELECT visittrack.session_touch(:'sid', '/communities/montreal/') AS p2;
SELECT visittrack.session_touch(:'sid', '/communities/montreal/events/') AS p3;
SELECT pages_visited FROM visittrack.user_session WHERE session_id = :'sid';
-- a url makes a page view; the previous one gets its time on page
SELECT url, time_on_page_seconds IS NOT NULL AS timed
  FROM visittrack.user_page_view WHERE session_id = :'sid' ORDER BY id;

-- session_get: from Redis
SELECT s->>'session_id' = :'sid' AS id_ok, s->>'user_username' AS username,
       s->'pages_visited' AS pages, s->'is_active' AS active, s->'persistent' AS persistent
  FROM visittrack.session_get(:'sid') s;
SELECT s->'pages_visited' AS pages, s->>'user_username' AS username
  FROM visittrack.session_get(:'sid') s;

-- remember me: 30 days
SELECT visittrack.session_start(vt_test.uid(3), 'django-session-key-3', remember_me => true) AS sid3 \gset
SELECT persistent, expires_at - started_at AS lifetime FROM visittrack.user_session WHERE session_id = :'sid3';

-- logout: row ended, key deleted; idempotent
SELECT visittrack.session_end(:'sid') AS ended;
SELECT is_active, ended_at IS NOT NULL AS has_ended_at FROM visittrack.user_session WHERE session_id = :'sid';
SELECT visittrack.session_end(:'sid') AS ended_again;
SELECT count(*) AS rows_for_key FROM visittrack.user_session WHERE session_id = :'sid';
-- an ended session counts no more pages, and is not put back in Redis
SELECT visittrack.session_touch(:'sid') AS touch_after_end;
SELECT s->'is_active' AS active, s->>'ended_at' IS NOT NULL AS has_ended_at
  FROM visittrack.session_get(:'sid') s;
-- unknown sessions
SELECT visittrack.session_touch('0123456789abcdef0123456789abcdef') AS unknown_touch,
       visittrack.session_end('0123456789abcdef0123456789abcdef') AS unknown_end,
       visittrack.session_get('0123456789abcdef0123456789abcdef') AS unknown_get;
-- a new login with a logged-out key starts a new session and keeps the old row
SELECT visittrack.session_start(vt_test.uid(1), 'django-session-key-1') = :'sid' AS same_id;
SELECT is_active, pages_visited FROM visittrack.user_session WHERE session_id = :'sid' ORDER BY id;
SELECT visittrack.session_end(:'sid');

-- expiry: shorten the lifetime instead of waiting four hours
SET visittrack.session_ttl = '1s';
SELECT visittrack.session_start(vt_test.uid(4), 'django-session-key-4') AS sid4 \gset
SELECT pg_sleep(1.2);
SELECT visittrack.session_touch(:'sid4') AS touch_expired;
SELECT is_active, ended_at = expires_at AS ended_at_expiry FROM visittrack.user_session WHERE session_id = :'sid4';
RESET visittrack.session_ttl;

-- bad input
SELECT vt_test.error_of($$SELECT visittrack.session_start(NULL, 'k')$$);
SELECT vt_test.error_of($$SELECT visittrack.session_start('00000000-0000-0000-0000-000000000009', NULL)$$);
SELECT vt_test.error_of($$SELECT visittrack.session_start('00000000-0000-0000-0000-000000000009', '')$$);
SELECT vt_test.error_of($$SELECT visittrack.session_start('00000000-0000-0000-0000-000000000009', 'k', device_fingerprint => 'not hex!')$$);
SELECT vt_test.error_of($$SELECT visittrack.session_touch(NULL)$$);
SELECT vt_test.error_of($$SELECT visittrack.session_touch(E'abc\r\nDEL x')$$);
SELECT vt_test.error_of($$SELECT visittrack.session_get(repeat('a', 200))$$);
SELECT vt_test.error_of($$SELECT visittrack.session_end('')$$);
