-- Redis writes that describe rows happen at commit: a rolled-back session
-- leaves no trace, and neither does a rolled-back savepoint.  The rows here;
-- the keys in test/t/200_redis_state.pl.
BEGIN;
SELECT visittrack.session_start(vt_test.uid(10), 'rolled-back-key') AS sid \gset
ROLLBACK;
SELECT count(*) AS rows_after_rollback FROM visittrack.user_session WHERE session_id = :'sid';

-- committed: present
BEGIN;
SELECT visittrack.session_start(vt_test.uid(11), 'committed-key') AS sid11 \gset
COMMIT;

-- a logout inside a rolled-back savepoint keeps the key
BEGIN;
SAVEPOINT s1;
SELECT visittrack.session_end(:'sid11');
ROLLBACK TO SAVEPOINT s1;
SELECT visittrack.session_touch(:'sid11') AS pages;
COMMIT;
SELECT is_active FROM visittrack.user_session WHERE session_id = :'sid11';

-- a released savepoint's writes happen at the outer commit
BEGIN;
SAVEPOINT s2;
SELECT visittrack.session_end(:'sid11');
RELEASE SAVEPOINT s2;
COMMIT;
SELECT is_active FROM visittrack.user_session WHERE session_id = :'sid11';

-- session_get inside a transaction that rolls back does not cache the row
BEGIN;
SELECT visittrack.session_start(vt_test.uid(12), 'read-in-rollback') AS sid12 \gset
SELECT (visittrack.session_get(:'sid12'))->>'session_id' = :'sid12' AS visible_inside;
ROLLBACK;

-- an error after the call rolls it back too
SELECT vt_test.error_of(format($$
    DO $do$ BEGIN
        PERFORM visittrack.session_start(%L, 'failing-transaction');
        RAISE EXCEPTION 'application failed';
    END $do$ $$, vt_test.uid(13)));
SELECT count(*) AS rows_after_error FROM visittrack.user_session WHERE user_id = vt_test.uid(13);
