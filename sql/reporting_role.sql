-- The reporting role: aggregates and report functions, nothing about a person.
CREATE ROLE vt_report LOGIN;
SELECT visittrack.grant_reporting_role('vt_report');
SET ROLE vt_report;
-- reports and the daily aggregate answer
SELECT count(*) >= 0 AS top_pages_answers FROM visittrack.top_pages(7, 5);
SELECT count(*) >= 0 AS funnel_answers FROM visittrack.conversion_funnel(30);
SELECT count(*) >= 0 AS landing_pages_answer FROM visittrack.conversion_landing_pages(30, 5);
SELECT count(*) >= 0 AS referrers_answer FROM visittrack.conversion_referrers(30, 5);
SELECT count(*) >= 0 AS durations_answer FROM visittrack.session_duration_comparison(7);
SELECT total_visitors >= 0 AS visitor_stats_answers
  FROM visittrack.visitor_stats('00000000-0000-0000-0000-00000000c0de');
SELECT count(*) >= 0 AS page_analytics_readable FROM visittrack.page_analytics;
SELECT visittrack.status() ? 'redis' AS status_answers;
-- rows about people, the request path, erasure and maintenance are not for it
SELECT vt_test.error_of('SELECT * FROM visittrack.user_session');
SELECT vt_test.error_of('SELECT * FROM visittrack.anonymous_page_view');
SELECT vt_test.error_of('SELECT * FROM visittrack.user_event');
SELECT vt_test.error_of($$SELECT visittrack.current_visitors('00000000-0000-0000-0000-00000000c0de')$$);
SELECT vt_test.error_of($$SELECT visittrack.track_page_view(repeat('a', 32), '/x')$$);
SELECT vt_test.error_of($$SELECT visittrack.forget_user('00000000-0000-0000-0000-0000000000a1')$$);
SELECT vt_test.error_of('SELECT visittrack.aggregate_page_analytics()');
SELECT vt_test.error_of($$SELECT visittrack.grant_reporting_role('vt_report')$$);
RESET ROLE;
DROP OWNED BY vt_report;
DROP ROLE vt_report;
