-- Redis writes that describe rows happen at commit: a rolled-back session
-- leaves no trace in Redis, and neither does a rolled-back savepoint.
BEGIN;
SELECT visittrack.session_start(vt_test.uid(10), 'rolled-back-key') AS sid \gset
-- not in Redis before commit
SELECT count(*) AS keys_before_commit FROM vt_test.keys('session:' || :'sid');
ROLLBACK;
SELECT count(*) AS rows_after_rollback FROM visittrack.user_session WHERE session_id = :'sid';
SELECT count(*) AS keys_after_rollback FROM vt_test.keys('session:' || :'sid');

-- committed: present
BEGIN;
SELECT visittrack.session_start(vt_test.uid(11), 'committed-key') AS sid11 \gset
COMMIT;
SELECT count(*) AS keys_after_commit FROM vt_test.keys('session:' || :'sid11');

-- a logout inside a rolled-back savepoint keeps the key
BEGIN;
SAVEPOINT s1;
SELECT visittrack.session_end(:'sid11');
ROLLBACK TO SAVEPOINT s1;
SELECT visittrack.session_touch(:'sid11') AS pages;
COMMIT;
SELECT is_active FROM visittrack.user_session WHERE session_id = :'sid11';
SELECT count(*) AS key_kept FROM vt_test.keys('session:' || :'sid11');
SELECT vt_test.hget('session:' || :'sid11', 'pages_visited') AS redis_pages;

-- a released savepoint's writes happen at the outer commit
BEGIN;
SAVEPOINT s2;
SELECT visittrack.session_end(:'sid11');
RELEASE SAVEPOINT s2;
SELECT count(*) AS key_still_there_before_commit FROM vt_test.keys('session:' || :'sid11');
COMMIT;
SELECT count(*) AS key_gone_after_commit FROM vt_test.keys('session:' || :'sid11');

-- session_get inside a transaction that rolls back does not cache the row
BEGIN;
SELECT visittrack.session_start(vt_test.uid(12), 'read-in-rollback') AS sid12 \gset
SELECT (visittrack.session_get(:'sid12'))->>'session_id' = :'sid12' AS visible_inside;
ROLLBACK;
SELECT count(*) AS keys_after_rollback FROM vt_test.keys('session:' || :'sid12');

-- an error after the call rolls it back too
SELECT vt_test.error_of(format($$
    DO $do$ BEGIN
        PERFORM visittrack.session_start(%L, 'failing-transaction');
        RAISE EXCEPTION 'application failed';
    END $do$ $$, vt_test.uid(13)));
SELECT count(*) AS rows_after_error FROM visittrack.user_session WHERE user_id = vt_test.uid(13);
SELECT count(*) AS all_session_keys FROM vt_test.keys('session:*');
