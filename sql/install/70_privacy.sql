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
