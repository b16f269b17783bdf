/*
 * hotstore_local.h: the hot state kept in PostgreSQL (hotstore_local.c).
 *
 * The backend of hotstore_types.h that serves when no Redis is configured
 * and stands in for Redis while it is unreachable, and what only it can
 * do: hand the outage's state back for reconciliation, and find a session
 * in the page views.
 */
#ifndef VT_HOTSTORE_LOCAL_H
#define VT_HOTSTORE_LOCAL_H

#include "hotstore_types.h"

extern const HotStoreOps vt_hotstore_local;

/*
 * Reconciliation: take (delete and return) the live anonymous sessions (a
 * List of HotAnon) and community visitors (of HotVisitor) that wait here.
 */
extern List *hot_local_anon_take(int ttl_seconds);
extern List *hot_local_visitors_take(int window_seconds);

/*
 * The visitor's session that its page views show, if its last view is
 * inside the window (after Redis lost its data).
 */
extern bool hot_local_anon_from_views(const char *fingerprint, int ttl_seconds, HotAnon *out);

#endif
