/*
 * outage.h: the books of a Redis outage.
 *
 * While Redis is configured but out of reach, hot-state writes go to the
 * PostgreSQL store and must reach Redis later.  This module counts those
 * fallbacks (status() counter fallback_calls, and the shared backlog
 * counter of shared_state.h), lists the Redis keys a write could not
 * update or delete (table hot_redis_backlog), tells whether outage state
 * may still wait in PostgreSQL, and keeps the books of reconciliation
 * (reconcile.c).  Without Redis configured there is no outage: nothing is
 * counted and nothing is pending.
 */
#ifndef VT_OUTAGE_H
#define VT_OUTAGE_H

#include "lib/stringinfo.h"

#include "hotstore_types.h"

/* a read served by PostgreSQL although Redis is configured */
extern void hot_outage_count_fallback(void);

/* a write that went to PostgreSQL and must reach Redis later */
extern void hot_outage_count_fallback_write(void);

/*
 * A Redis key this write could not reach (kind as in HotStaleKey):
 * reconciliation repairs it.  Counted as a fallback write.
 */
extern void hot_outage_note_stale(const char *kind, const char *id);

/* Is the key listed as stale? */
extern bool hot_outage_is_stale(const char *kind, const char *id);

/* May PostgreSQL hold hot state from an outage that has not reached Redis yet? */
extern bool hot_outage_pending(void);

/* Reconciliation: take (delete and return) the stale keys, a List of HotStaleKey. */
extern List *hot_outage_stale_keys_take(void);

/*
 * Reconciliation rounds: the backlog counter before a round takes the
 * local state, then whether the round found nothing; the outage state
 * counts as gone after two empty rounds with no write in between.
 */
extern uint64 hot_outage_round_begin(void);
extern void hot_outage_round_end(uint64 writes_seen, bool found_nothing);

/* A reconciliation round ran and copied this many entries to Redis. */
extern void hot_outage_reconciled(int64 copied);

/* status(): the "reconciliation" member */
extern void hot_outage_describe(StringInfo b);

#endif
