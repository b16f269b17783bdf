/*
 * hotstore_redis_replies.h: Redis replies into hot-store records, checked
 * (doc/redis.md, "What visittrack accepts back").  None of these raise an
 * ERROR; false or NULL means the reply is not what visittrack writes.
 */
#ifndef VT_HOTSTORE_REDIS_REPLIES_H
#define VT_HOTSTORE_REDIS_REPLIES_H

#include <hiredis/hiredis.h>

#include "hotstore_types.h"

extern bool vt_reply_is_string(const redisReply *r);

/* An integer reply, or a decimal string, within [min, max]. */
extern bool vt_reply_int(const redisReply *r, int64 min, int64 max, int64 *out);

/* HGETALL of session:{session_id} into out; false if any field is damaged. */
extern bool vt_reply_session(const redisReply *r, const char *session_id, HotSession *out);

/*
 * HGETALL of anon_session:{fingerprint} into out; false if the identity,
 * times or count are damaged (a bad page or referrer is only dropped).
 */
extern bool vt_reply_anon(const redisReply *r, HotAnon *out);

/* The anonymous touch script's 7-element answer into t. */
extern bool vt_reply_anon_touch(const redisReply *r, HotAnonTouch *t);

/* The community id of a <head><uuid><tail> key from SCAN, or NULL. */
extern char *vt_reply_community_of_seen_key(const redisReply *k, const char *head,
											const char *tail);

#endif
