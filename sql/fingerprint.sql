-- fingerprint(): a keyed hash, 32 lowercase hex digits, stable for the same
-- inputs and secret, different with another secret; IPv6 counts by /64.
SELECT current_setting('visittrack.fingerprint_secret') = '' AS no_session_secret,
       current_setting('visittrack.fingerprint_secret_file') <> '' AS secret_from_file;
SELECT visittrack.fingerprint('203.0.113.45', 'Mozilla/5.0') AS fp \gset
-- the file holds 'regression-secret': the same secret set for the session gives the same value
BEGIN;
SET LOCAL visittrack.fingerprint_secret = 'regression-secret';
SELECT visittrack.fingerprint('203.0.113.45', 'Mozilla/5.0') = :'fp' AS file_equals_direct;
ROLLBACK;
SELECT length(:'fp') AS length, :'fp' ~ '^[0-9a-f]{32}$' AS lowercase_hex;
SELECT visittrack.fingerprint('203.0.113.45', 'Mozilla/5.0') = :'fp' AS deterministic;
SELECT visittrack.fingerprint('203.0.113.46', 'Mozilla/5.0') <> :'fp' AS other_ip_differs,
       visittrack.fingerprint('203.0.113.45', 'Mozilla/5.1') <> :'fp' AS other_agent_differs,
       visittrack.fingerprint('203.0.113.45', 'Mozilla/5.0', 'fr-CA') <> :'fp' AS language_counts,
       visittrack.fingerprint('203.0.113.45', 'Mozilla/5.0', NULL, 'x') <> :'fp' AS extra_counts,
       visittrack.fingerprint('203.0.113.45', 'Mozilla/5.0', '') <>
       visittrack.fingerprint('203.0.113.45', 'Mozilla/5.0', NULL) AS empty_is_not_null;

-- the secret matters
BEGIN;
SET LOCAL visittrack.fingerprint_secret = 'another secret';
SELECT visittrack.fingerprint('203.0.113.45', 'Mozilla/5.0') <> :'fp' AS secret_changes_it;
ROLLBACK;
SELECT visittrack.fingerprint('203.0.113.45', 'Mozilla/5.0') = :'fp' AS same_secret_same_value;

-- IPv6: the /64 prefix identifies the device, the interface id does not
SELECT visittrack.fingerprint('2001:db8:1:2:aaaa::1', 'UA') =
       visittrack.fingerprint('2001:db8:1:2:bbbb:cccc:dddd:eeee', 'UA') AS same_64_same_fp,
       visittrack.fingerprint('2001:db8:1:2::1', 'UA') <>
       visittrack.fingerprint('2001:db8:1:3::1', 'UA') AS other_64_differs,
       visittrack.fingerprint('::ffff:203.0.113.45', 'UA') =
       visittrack.fingerprint('203.0.113.45', 'UA') AS v4_mapped_is_v4,
       visittrack.fingerprint('203.0.113.45/24', 'UA') =
       visittrack.fingerprint('203.0.113.45', 'UA') AS mask_ignored;

-- a fingerprint of nothing would be everybody's
SELECT vt_test.error_of($$SELECT visittrack.fingerprint(NULL, NULL)$$);
SELECT length(visittrack.fingerprint(NULL, 'UA')) AS ua_only, length(visittrack.fingerprint('10.0.0.1', NULL)) AS ip_only;
-- a megabyte of user agent is just input
SELECT length(visittrack.fingerprint('10.0.0.1', repeat('x', 1000000))) AS huge_agent;
