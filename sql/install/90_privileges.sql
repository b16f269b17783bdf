--
-- Privileges: nothing is open to PUBLIC.  The application role gets EXECUTE
-- on the request-path functions (grant_application_role); maintenance,
-- analytics and erasure functions stay with the owner and whoever the DBA
-- grants them to.
--
REVOKE ALL ON ALL TABLES IN SCHEMA visittrack FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA visittrack FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA visittrack FROM PUBLIC;
