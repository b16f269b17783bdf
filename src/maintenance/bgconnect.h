/*
 * bgconnect.h: how visittrack's background processes join their database.
 */
#ifndef VT_BGCONNECT_H
#define VT_BGCONNECT_H

/*
 * Connect to dbname as the bootstrap superuser, keeping the server's own
 * settings: whatever ALTER DATABASE ... SET or ALTER ROLE ... SET gave
 * (search_path, planner and session settings a database owner controls) is
 * put back to the value the process had from postgresql.conf.  The
 * extension's own visittrack.* settings are kept: they say which Redis
 * and which key prefix serve that database.
 */
extern void vt_bgworker_connect(const char *dbname);

#endif
