/*
 * hotstore_redis.c: the hot state in Redis, in the design document's layout.
 *
 *   session:{session_id}                    hash, TTL = session lifetime
 *   anon_session:{fingerprint}              hash, sliding TTL anon_session_ttl
 *   community:{id}:visitors                 hash visitor -> JSON
 *   community:{id}:visitors:authenticated   set of visitors
 *   community:{id}:visitors:anonymous       set of visitors
 *   community:{id}:visitors:seen            sorted set visitor -> last seen (ms)
 *
 * All four community keys expire community_window after the last visit; the
 * ":seen" index lets each visitor leave the window on its own while a busy
 * community keeps the keys alive.  Every multi-step change is one Lua script,
 * so counts stay exact with any number of concurrent backends, and each call
 * costs one round trip.  Every key starts with the prefix of keyspace.h.
 * Whatever is read back is checked (hotstore_redis_replies.h): a value that
 * is not what visittrack writes counts as absent, never as an ERROR.
 *
 * The backend of hotstore_types.h for Redis, and what only Redis does
 * (hotstore_redis.h): the signed-in session cache, pipelined batches, the
 * merges of reconciliation and its part of status().
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "hotstore_redis.h"
#include "hotstore_redis_replies.h"
#include "isotime.h"
#include "jsonbuf.h"
#include "keyspace.h"
#include "redis_client.h"
#include "redis_values.h"
#include "shared_state.h"

/* Drops visitors whose last visit is at or before ARGV[1] - ARGV[2] ms. */
#define LUA_PRUNE_VISITORS \
	"local cutoff = tonumber(ARGV[1]) - tonumber(ARGV[2])\n" \
	"local gone = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', cutoff)\n" \
	"for _, m in ipairs(gone) do\n" \
	"  redis.call('HDEL', KEYS[1], m)\n" \
	"  redis.call('SREM', KEYS[2], m)\n" \
	"  redis.call('SREM', KEYS[3], m)\n" \
	"end\n" \
	"if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', cutoff) end\n"

static VtRedisScript session_store_script = {
	"redis.call('DEL', KEYS[1])\n"
	"redis.call('HSET', KEYS[1], unpack(ARGV, 2))\n"
	"redis.call('PEXPIRE', KEYS[1], ARGV[1])\n"
	"return 1\n"
};

/* pages only move forward: concurrent commits may arrive out of order */
static VtRedisScript session_pages_script = {
	"if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
	"local cur = tonumber(redis.call('HGET', KEYS[1], 'pages_visited')) or 0\n"
	"if tonumber(ARGV[1]) > cur then\n"
	"  redis.call('HSET', KEYS[1], 'pages_visited', ARGV[1], 'last_activity', ARGV[2])\n"
	"end\n"
	"return 1\n"
};

/*
 * ISO timestamps compare as strings once given the same shape
 * (vt_iso_format leaves out zero microseconds).
 */
#define LUA_TS \
	"local function ts(t)\n" \
	"  if not t then return '' end\n" \
	"  if string.find(t, '.', 1, true) then return t end\n" \
	"  return string.sub(t, 1, -2) .. '.000000Z'\n" \
	"end\n"

/*
 * One page view of an anonymous visitor.  KEYS[1]: anon_session:{fp}.
 * ARGV: 1 session id for a new session, 2 now (ISO, the view's viewed_at),
 * 3 url, 4 referrer ('' = none), 5 ttl ms, 6 fingerprint.  Returns {pages,
 * new?, session id, started_at, landing page, referrer, previous view's
 * viewed_at}.  A hash that is not one of ours (no session id, or a session
 * id, start or count of the wrong shape: HINCRBY would fail on a count that
 * is not an integer) starts over.  last_activity never moves backwards: of
 * two views of one visitor that arrive out of order, the earlier gets no
 * previous view to close.
 */
#define LUA_ANON_TOUCH \
	LUA_TS \
	"local k = KEYS[1]\n" \
	"local new = 0\n" \
	"local h = redis.call('HMGET', k, 'session_id', 'started_at', 'pages_visited')\n" \
	"local ours = h[1] and #h[1] == 36 and string.match(h[1], '^[%x-]+$')\n" \
	"  and h[2] and (#h[2] == 20 or #h[2] == 27) and string.match(h[2], '^%d%d%d%d%-%d%d%-%d%dT')\n" \
	"  and ((not h[3]) or (#h[3] <= 9 and string.match(h[3], '^%d+$')))\n" \
	"if not ours then\n" \
	"  redis.call('DEL', k)\n" \
	"  redis.call('HSET', k, 'session_id', ARGV[1], 'device_fingerprint', ARGV[6],\n" \
	"             'started_at', ARGV[2], 'landing_page', ARGV[3], 'referrer', ARGV[4],\n" \
	"             'is_active', 'true')\n" \
	"  new = 1\n" \
	"end\n" \
	"local n = redis.call('HINCRBY', k, 'pages_visited', 1)\n" \
	"local s = redis.call('HMGET', k, 'session_id', 'started_at', 'landing_page', 'referrer', 'last_activity')\n" \
	"local previous = s[5]\n" \
	"if ts(ARGV[2]) > ts(s[5]) then\n" \
	"  redis.call('HSET', k, 'last_activity', ARGV[2], 'current_page', ARGV[3])\n" \
	"else\n" \
	"  previous = false\n" \
	"end\n" \
	"redis.call('PEXPIRE', k, ARGV[5])\n" \
	"return {n, new, s[1], s[2], s[3], s[4], previous}\n"

/*
 * Merge a session from the local store into KEYS[1].  Same session in
 * Redis: the larger count and the later view win.  Another session in
 * Redis: the one with the later view wins.  Sets merged (0 nothing, 1 same
 * session, 2 replaced) and newer (the local side had the later view).
 * ARGV from M: M session id, M+1 started_at, M+2 last_activity (ISO), M+3
 * pages, M+4 current page, M+5 landing page, M+6 referrer, M+7 fingerprint.
 */
#define LUA_ANON_MERGE(M) \
	LUA_TS \
	"local m = " #M "\n" \
	"local cur = redis.call('HMGET', KEYS[1], 'session_id', 'pages_visited', 'last_activity')\n" \
	"local last = ts(cur[3])\n" \
	"local merged = 0\n" \
	"local newer = ts(ARGV[m+2]) > last\n" \
	"if cur[1] == ARGV[m] then\n" \
	"  if tonumber(ARGV[m+3]) > (tonumber(cur[2]) or 0) then\n" \
	"    redis.call('HSET', KEYS[1], 'pages_visited', ARGV[m+3]) end\n" \
	"  if newer then\n" \
	"    redis.call('HSET', KEYS[1], 'last_activity', ARGV[m+2], 'current_page', ARGV[m+4]) end\n" \
	"  merged = 1\n" \
	"elseif (not cur[1]) or newer then\n" \
	"  redis.call('DEL', KEYS[1])\n" \
	"  redis.call('HSET', KEYS[1], 'session_id', ARGV[m], 'device_fingerprint', ARGV[m+7],\n" \
	"    'started_at', ARGV[m+1], 'last_activity', ARGV[m+2], 'pages_visited', ARGV[m+3],\n" \
	"    'current_page', ARGV[m+4], 'landing_page', ARGV[m+5], 'referrer', ARGV[m+6],\n" \
	"    'is_active', 'true')\n" \
	"  merged = 2\n" \
	"end\n"

static VtRedisScript anon_touch_script = {LUA_ANON_TOUCH};

/*
 * A page view while hot state written to PostgreSQL during an outage may
 * not have reached Redis yet: merge the visitor's local session first, in
 * the same script, so that the view continues it.  ARGV 1-6 as for the
 * touch, 7-14 the local session (see LUA_ANON_MERGE).
 */
static VtRedisScript anon_touch_merged_script = {
	LUA_ANON_MERGE(7)
	LUA_ANON_TOUCH
};

/*
 * A session that Redis just started (this view's) turns out to continue one
 * that the page views show, after Redis lost its data: replace it, merge the
 * known session in, and count the view again.  Arguments as for
 * anon_touch_merged_script.
 */
static VtRedisScript anon_touch_restart_script = {
	"redis.call('DEL', KEYS[1])\n"
	LUA_ANON_MERGE(7)
	LUA_ANON_TOUCH
};

/*
 * Reconciliation: ARGV 1-8 the local session, 9 its remaining ttl (ms),
 * which only applies when the local side had the later view.
 */
static VtRedisScript anon_merge_script = {
	LUA_ANON_MERGE(1)
	"if newer then redis.call('PEXPIRE', KEYS[1], ARGV[9]) end\n"
	"return merged\n"
};

/*
 * KEYS: hash, authenticated set, anonymous set, seen index.
 * ARGV: 1 now ms, 2 window ms, 3 visitor, 4 '1' if authenticated,
 * 5 JSON members after pages_viewed and first_seen, 6 now (ISO)
 */
static VtRedisScript visit_script = {
	LUA_PRUNE_VISITORS
	"local pv = 1\n"
	"local first = ARGV[6]\n"
	"local old = redis.call('HGET', KEYS[1], ARGV[3])\n"
	"if old then\n"
	"  pv = (tonumber(string.match(old, '\"pages_viewed\":(%d+)')) or 0) + 1\n"
	"  first = string.match(old, '\"first_seen\":\"([^\"]*)\"') or first\n"
	"end\n"
	"redis.call('HSET', KEYS[1], ARGV[3],\n"
	"  '{\"pages_viewed\":' .. pv .. ',\"first_seen\":\"' .. first .. '\",' .. ARGV[5] .. '}')\n"
	"if ARGV[4] == '1' then redis.call('SADD', KEYS[2], ARGV[3])\n"
	"else redis.call('SADD', KEYS[3], ARGV[3]) end\n"
	"redis.call('ZADD', KEYS[4], ARGV[1], ARGV[3])\n"
	"for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end\n"
	"return pv\n"
};

/*
 * Many visits of one community at once (the writer's batches): the same
 * steps as visit_script per visit, pruning and expiry once.
 * KEYS: as visit_script.  ARGV: 1 latest now ms, 2 window ms, then five
 * per visit: visitor, '1' if authenticated, JSON members, now (ISO), now ms.
 */
static VtRedisScript visit_batch_script = {
	LUA_PRUNE_VISITORS
	"for i = 3, #ARGV, 5 do\n"
	"  local who = ARGV[i]\n"
	"  local pv = 1\n"
	"  local first = ARGV[i + 3]\n"
	"  local old = redis.call('HGET', KEYS[1], who)\n"
	"  if old then\n"
	"    pv = (tonumber(string.match(old, '\"pages_viewed\":(%d+)')) or 0) + 1\n"
	"    first = string.match(old, '\"first_seen\":\"([^\"]*)\"') or first\n"
	"  end\n"
	"  redis.call('HSET', KEYS[1], who,\n"
	"    '{\"pages_viewed\":' .. pv .. ',\"first_seen\":\"' .. first .. '\",' .. ARGV[i + 2] .. '}')\n"
	"  if ARGV[i + 1] == '1' then redis.call('SADD', KEYS[2], who)\n"
	"  else redis.call('SADD', KEYS[3], who) end\n"
	"  redis.call('ZADD', KEYS[4], ARGV[i + 4], who)\n"
	"end\n"
	"for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end\n"
	"return 1\n"
};

static VtRedisScript visit_counts_script = {
	LUA_PRUNE_VISITORS
	"return {redis.call('SCARD', KEYS[2]), redis.call('SCARD', KEYS[3])}\n"
};

static VtRedisScript visitors_script = {
	LUA_PRUNE_VISITORS
	"return redis.call('HVALS', KEYS[1])\n"
};

/* KEYS: the four community keys; ARGV[1]: visitor */
static VtRedisScript visitor_forget_script = {
	"local n = redis.call('HDEL', KEYS[1], ARGV[1])\n"
	"redis.call('SREM', KEYS[2], ARGV[1])\n"
	"redis.call('SREM', KEYS[3], ARGV[1])\n"
	"redis.call('ZREM', KEYS[4], ARGV[1])\n"
	"return n\n"
};

/*
 * Copy a visitor from the local store: visits add up, the earliest
 * first_seen and the latest visit win.  KEYS: the four community keys.
 * ARGV: 1 now ms, 2 window ms, 3 visitor, 4 '1' if authenticated, 5 JSON
 * members, 6 first_seen (ISO), 7 last seen ms, 8 visits
 */
static VtRedisScript visit_merge_script = {
	LUA_PRUNE_VISITORS
	"if tonumber(ARGV[7]) <= cutoff then return 0 end\n"
	"local pv = tonumber(ARGV[8])\n"
	"local first = ARGV[6]\n"
	"local body = ARGV[5]\n"
	"local score = tonumber(ARGV[7])\n"
	"local old = redis.call('HGET', KEYS[1], ARGV[3])\n"
	"if old then\n"
	"  pv = pv + (tonumber(string.match(old, '\"pages_viewed\":(%d+)')) or 0)\n"
	"  local f = string.match(old, '\"first_seen\":\"([^\"]*)\"')\n"
	"  if f and f < first then first = f end\n"
	"  local s = tonumber(redis.call('ZSCORE', KEYS[4], ARGV[3])) or 0\n"
	"  if s > score then\n"
	"    score = s\n"
	"    body = string.match(old, '^{\"pages_viewed\":%d+,\"first_seen\":\"[^\"]*\",(.*)}$') or body\n"
	"  end\n"
	"end\n"
	"redis.call('HSET', KEYS[1], ARGV[3],\n"
	"  '{\"pages_viewed\":' .. pv .. ',\"first_seen\":\"' .. first .. '\",' .. body .. '}')\n"
	"if ARGV[4] == '1' then redis.call('SADD', KEYS[2], ARGV[3])\n"
	"else redis.call('SADD', KEYS[3], ARGV[3]) end\n"
	"redis.call('ZADD', KEYS[4], score, ARGV[3])\n"
	"for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end\n"
	"return 1\n"
};

static char *
make_key(const char *kind, const char *id, const char *suffix)
{
	StringInfoData k;

	initStringInfo(&k);
	appendStringInfo(&k, "%s%s:%s%s", vt_key_prefix(), kind, id, suffix ? suffix : "");
	return k.data;
}

/* the four community keys, in script order */
static void
community_keys(const char *community_id, const char **keys, size_t *lens)
{
	static const char *const suffixes[4] = {
		":visitors", ":visitors:authenticated", ":visitors:anonymous", ":visitors:seen"
	};
	int			i;

	for (i = 0; i < 4; i++)
	{
		keys[i] = make_key("community", community_id, suffixes[i]);
		lens[i] = strlen(keys[i]);
	}
}

/* Argument list builder for scripts and commands. */
typedef struct Args
{
	int			n;
	const char *v[40];
	size_t		len[40];
} Args;

static void
arg(Args *a, const char *s)
{
	Assert(a->n < lengthof(a->v));
	a->v[a->n] = s ? s : "";
	a->len[a->n] = s ? strlen(s) : 0;
	a->n++;
}

static void
arg_field(Args *a, const char *name, const char *value)
{
	if (value == NULL)
		return;
	arg(a, name);
	arg(a, value);
}

static const char *
int_text(int64 v)
{
	char		buf[24];

	snprintf(buf, sizeof(buf), INT64_FORMAT, v);
	return pstrdup(buf);
}

static const char *
iso_text(TimestampTz ts)
{
	char	   *buf = palloc(VT_ISO_BUFLEN);

	vt_iso_format(ts, buf);
	return buf;
}

/* Run n calls of a script in one round trip; done[i]: call i succeeded. */
static bool
eval_batch(VtRedisScript *script, int n, VtRedisScriptCall *calls, bool *done,
		   const char *what)
{
	redisReply **replies = palloc(sizeof(redisReply *) * n);
	int			i;

	memset(done, 0, sizeof(bool) * n);
	if (!vt_redis_eval_many(script, n, calls, replies))
		return false;
	for (i = 0; i < n; i++)
	{
		done[i] = !vt_redis_reply_is_error(replies[i], what);
		vt_redis_free(replies[i]);
	}
	return true;
}

static void
set_call(VtRedisScriptCall *call, int nkeys, const char **keys, const size_t *keylens,
		 int nargs, const char **args, const size_t *arglens)
{
	call->nkeys = nkeys;
	call->keys = keys;
	call->keylens = keylens;
	call->nargs = nargs;
	call->args = args;
	call->arglens = arglens;
}

/* A script call on one key with the arguments collected in a. */
static void
one_key_call(const char *key, Args *a, VtRedisScriptCall *call)
{
	const char **keys = palloc(sizeof(char *));
	size_t	   *keylens = palloc(sizeof(size_t));

	keys[0] = key;
	keylens[0] = strlen(key);
	set_call(call, 1, keys, keylens, a->n, a->v, a->len);
}

/* Run one script call: false if Redis could not be reached or refused it. */
static bool
eval_ok(VtRedisScript *script, const VtRedisScriptCall *c, const char *what)
{
	redisReply *r = vt_redis_eval(script, c->nkeys, c->keys, c->keylens,
								  c->nargs, c->args, c->arglens);
	bool		ok = r != NULL && !vt_redis_reply_is_error(r, what);

	vt_redis_free(r);
	return ok;
}

/*
 * A script on a community's four keys with ARGV now (ms) and the window
 * (ms): its array reply, or NULL (Redis out of reach, or an answer of
 * another kind, logged).
 */
static redisReply *
eval_community(VtRedisScript *script, const char *community_id, TimestampTz now,
			   int window_seconds, const char *what)
{
	const char *keys[4];
	size_t		keylens[4];
	Args		a = {0};
	redisReply *r;

	community_keys(community_id, keys, keylens);
	arg(&a, int_text(vt_epoch_ms(now)));
	arg(&a, int_text((int64) window_seconds * 1000));
	r = vt_redis_eval(script, 4, keys, keylens, a.n, a.v, a.len);
	if (r != NULL && r->type != REDIS_REPLY_ARRAY)
	{
		vt_redis_reply_is_error(r, what);
		vt_redis_free(r);
		r = NULL;
	}
	return r;
}

/*
 * HGETALL of a key: the array reply, or NULL (Redis out of reach, or an
 * answer of another kind, logged).  The caller frees it.
 */
static redisReply *
read_hash(const char *key, const char *what)
{
	const char *argv[2] = {"HGETALL", key};
	size_t		lens[2] = {7, strlen(key)};
	VtRedisCommand cmd = {2, argv, lens};
	redisReply *r = vt_redis_command(&cmd);

	if (r != NULL && r->type != REDIS_REPLY_ARRAY)
	{
		vt_redis_reply_is_error(r, what);
		vt_redis_free(r);
		r = NULL;
	}
	return r;
}

bool
hot_redis_session_store(const HotSession *s, int ttl_seconds)
{
	Args		a = {0};
	VtRedisScriptCall c;

	arg(&a, int_text((int64) ttl_seconds * 1000));
	arg_field(&a, "session_id", s->session_id);
	arg_field(&a, "user_id", s->user_id);
	arg_field(&a, "user_username", s->username);
	arg_field(&a, "ip_address", s->ip_address);
	arg_field(&a, "device_fingerprint", s->device_fingerprint);
	arg_field(&a, "fast_fingerprint", s->fast_fingerprint);
	arg_field(&a, "persistent", s->persistent ? "true" : "false");
	arg_field(&a, "is_active", s->is_active ? "true" : "false");
	arg_field(&a, "started_at", iso_text(s->started_at));
	arg_field(&a, "expires_at", iso_text(s->expires_at));
	arg_field(&a, "last_activity", iso_text(s->last_activity));
	arg_field(&a, "pages_visited", int_text(s->pages_visited));
	one_key_call(make_key("session", s->session_id, NULL), &a, &c);
	return eval_ok(&session_store_script, &c, "a session write");
}

bool
hot_redis_session_fetch(const char *session_id, HotSession *out, bool *found)
{
	redisReply *r = read_hash(make_key("session", session_id, NULL), "a session read");
	bool		valid;

	if (r == NULL)
		return false;
	*found = r->elements > 0;
	valid = vt_reply_session(r, session_id, out);
	vt_redis_free(r);
	/* a damaged entry is no entry: the database answers and refills it */
	if (*found && !valid)
	{
		vt_rv_rejected("a session:{session_id} hash");
		*found = false;
	}
	/* an entry missing its identity is no entry either */
	if (*found && (out->session_id == NULL || out->user_id == NULL))
		*found = false;
	return true;
}

static void
session_pages_call(const char *session_id, int32 pages, TimestampTz at,
				   VtRedisScriptCall *call)
{
	Args	   *a = palloc0(sizeof(Args));

	arg(a, int_text(pages));
	arg(a, iso_text(at));
	one_key_call(make_key("session", session_id, NULL), a, call);
}

bool
hot_redis_session_set_pages(const char *session_id, int32 pages, TimestampTz at)
{
	VtRedisScriptCall c;

	session_pages_call(session_id, pages, at, &c);
	return eval_ok(&session_pages_script, &c, "a session page count");
}

bool
hot_redis_session_set_pages_batch(int n, const HotSession *sessions, bool *done)
{
	VtRedisScriptCall *calls = palloc(sizeof(VtRedisScriptCall) * n);
	int			i;

	for (i = 0; i < n; i++)
		session_pages_call(sessions[i].session_id, sessions[i].pages_visited,
						   sessions[i].last_activity, &calls[i]);
	return eval_batch(&session_pages_script, n, calls, done, "a session page count");
}

static bool
redis_delete_key(const char *key)
{
	const char *argv[2] = {"DEL", key};
	size_t		lens[2] = {3, strlen(key)};
	VtRedisCommand cmd = {2, argv, lens};
	redisReply *r = vt_redis_command(&cmd);
	bool		ok = r != NULL && !vt_redis_reply_is_error(r, "a delete");

	vt_redis_free(r);
	return ok;
}

bool
hot_redis_session_remove(const char *session_id)
{
	return redis_delete_key(make_key("session", session_id, NULL));
}

/* the local session's fields, as LUA_ANON_MERGE takes them */
static void
args_local_session(Args *a, const HotAnon *local)
{
	arg(a, local->session_id);
	arg(a, iso_text(local->started_at));
	arg(a, iso_text(local->last_activity));
	arg(a, int_text(local->pages_visited));
	arg(a, local->current_page);
	arg(a, local->landing_page);
	arg(a, local->referrer);
	arg(a, local->fingerprint);
}

static bool
anon_touch(HotAnonTouch *t, const HotAnon *local, VtRedisScript *script)
{
	const char *key = make_key("anon_session", t->fingerprint, NULL);
	size_t		keylen = strlen(key);
	Args		a = {0};
	redisReply *r;
	bool		valid;

	arg(&a, local ? local->session_id : t->new_session_id);
	arg(&a, iso_text(t->now));
	arg(&a, t->url);
	arg(&a, t->referrer);
	arg(&a, int_text((int64) t->ttl_seconds * 1000));
	arg(&a, t->fingerprint);
	if (local)
		args_local_session(&a, local);

	r = vt_redis_eval(script, 1, &key, &keylen, a.n, a.v, a.len);
	if (r == NULL)
		return false;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 7)
	{
		vt_redis_reply_is_error(r, "an anonymous page view");
		vt_redis_free(r);
		return false;
	}
	valid = vt_reply_anon_touch(r, t);
	vt_redis_free(r);
	/* not ours: the view is counted in PostgreSQL, whose merge repairs the key */
	if (!valid)
		vt_rv_rejected("an anon_session:{fingerprint} hash");
	return valid;
}

static bool
redis_anon_touch(HotAnonTouch *t)
{
	return anon_touch(t, NULL, &anon_touch_script);
}

bool
hot_redis_anon_touch_merged(HotAnonTouch *t, const HotAnon *local)
{
	return anon_touch(t, local, &anon_touch_merged_script);
}

bool
hot_redis_anon_touch_restart(HotAnonTouch *t, const HotAnon *local)
{
	return anon_touch(t, local, &anon_touch_restart_script);
}

static bool
redis_anon_fetch(const char *fingerprint, int ttl_seconds, HotAnon *out, bool *found)
{
	redisReply *r = read_hash(make_key("anon_session", fingerprint, NULL),
							  "an anonymous session read");
	bool		valid;

	if (r == NULL)
		return false;
	valid = vt_reply_anon(r, out);
	vt_redis_free(r);
	out->fingerprint = pstrdup(fingerprint);
	if (!valid)
		vt_rv_rejected("an anon_session:{fingerprint} hash");
	*found = valid && out->session_id != NULL && out->pages_visited > 0;
	return true;
}

static bool
redis_anon_remove(const char *fingerprint)
{
	return redis_delete_key(make_key("anon_session", fingerprint, NULL));
}

/* the visit script's keys and arguments for one visit */
static void
visit_call(const HotVisit *v, VtRedisScriptCall *call)
{
	const char **keys = palloc(sizeof(char *) * 4);
	size_t	   *keylens = palloc(sizeof(size_t) * 4);
	Args	   *a = palloc0(sizeof(Args));

	community_keys(v->community_id, keys, keylens);
	arg(a, int_text(vt_epoch_ms(v->now)));
	arg(a, int_text((int64) v->window_seconds * 1000));
	arg(a, v->visitor_key);
	arg(a, v->is_authenticated ? "1" : "0");
	arg(a, v->json_fields);
	arg(a, iso_text(v->now));
	set_call(call, 4, keys, keylens, a->n, a->v, a->len);
}

static bool
redis_visit_record(const HotVisit *v)
{
	VtRedisScriptCall c;

	visit_call(v, &c);
	return eval_ok(&visit_script, &c, "a community visit");
}

#define VISITS_PER_CALL 500

/* visits by community, then in their order in the batch */
static int
compare_visit_index(const void *a, const void *b, void *arg)
{
	const HotVisit *visits = arg;
	int			x = *(const int *) a;
	int			y = *(const int *) b;
	int			c = strcmp(visits[x].community_id, visits[y].community_id);

	return c != 0 ? c : x - y;
}

/*
 * One script call per community (and per VISITS_PER_CALL visits), all in
 * one round trip: a batch touches each community's keys once, not once per
 * visit.
 */
bool
hot_redis_visit_record_batch(int n, const HotVisit *visits, bool *done)
{
	VtRedisScriptCall *calls = palloc(sizeof(VtRedisScriptCall) * n);
	int		   *order = palloc(sizeof(int) * n);
	int		   *call_of = palloc(sizeof(int) * n);	/* visit -> its call */
	bool	   *call_done = palloc(sizeof(bool) * n);
	int			ncalls = 0;
	int			i,
				j;

	for (i = 0; i < n; i++)
		order[i] = i;
	qsort_arg(order, n, sizeof(int), compare_visit_index, (void *) visits);

	for (i = 0; i < n; i = j)
	{
		const char *community = visits[order[i]].community_id;
		const char **keys = palloc(sizeof(char *) * 4);
		size_t	   *keylens = palloc(sizeof(size_t) * 4);
		const char **args;
		size_t	   *arglens;
		int			members;
		int			nargs = 2;
		TimestampTz latest = 0;
		int			k;

		/* this community's visits, up to VISITS_PER_CALL of them */
		for (j = i; j < n && j - i < VISITS_PER_CALL &&
			 strcmp(visits[order[j]].community_id, community) == 0; j++)
			;
		members = j - i;
		args = palloc(sizeof(char *) * (2 + 5 * members));
		arglens = palloc(sizeof(size_t) * (2 + 5 * members));
		community_keys(community, keys, keylens);
		for (k = i; k < j; k++)
		{
			const HotVisit *v = &visits[order[k]];

			args[nargs++] = v->visitor_key;
			args[nargs++] = v->is_authenticated ? "1" : "0";
			args[nargs++] = v->json_fields;
			args[nargs++] = iso_text(v->now);
			args[nargs++] = int_text(vt_epoch_ms(v->now));
			latest = Max(latest, v->now);
			call_of[order[k]] = ncalls;
		}
		args[0] = int_text(vt_epoch_ms(latest));
		args[1] = int_text((int64) visits[order[i]].window_seconds * 1000);
		for (k = 0; k < nargs; k++)
			arglens[k] = strlen(args[k]);
		set_call(&calls[ncalls++], 4, keys, keylens, nargs, args, arglens);
	}
	if (!eval_batch(&visit_batch_script, ncalls, calls, call_done, "community visits"))
	{
		memset(done, 0, sizeof(bool) * n);
		return false;
	}
	for (i = 0; i < n; i++)
		done[i] = call_done[call_of[i]];
	return true;
}

static bool
redis_visit_counts(const char *community_id, TimestampTz now, int window_seconds,
				   int *authenticated, int *anonymous)
{
	redisReply *r = eval_community(&visit_counts_script, community_id, now, window_seconds,
								   "visitor counts");
	int64		n_auth;
	int64		n_anon;
	bool		ok;

	if (r == NULL)
		return false;
	if (r->elements != 2)
	{
		vt_redis_reply_is_error(r, "visitor counts");
		vt_redis_free(r);
		return false;
	}
	ok = vt_reply_int(r->element[0], 0, PG_INT32_MAX, &n_auth) &&
		vt_reply_int(r->element[1], 0, PG_INT32_MAX, &n_anon);
	vt_redis_free(r);
	if (!ok)
	{
		vt_rv_rejected("the visitor counts of a community");
		return false;
	}
	*authenticated = (int) n_auth;
	*anonymous = (int) n_anon;
	return true;
}

static bool
redis_visitors(const char *community_id, TimestampTz now, int window_seconds, List **out)
{
	redisReply *r = eval_community(&visitors_script, community_id, now, window_seconds,
								   "the visitor list");
	size_t		i;

	if (r == NULL)
		return false;
	/* each entry becomes a jsonb: one that jsonb_in would refuse is left out */
	*out = NIL;
	for (i = 0; i < r->elements; i++)
	{
		redisReply *e = r->element[i];

		if (vt_reply_is_string(e) && vt_rv_is_flat_json_object(e->str, e->len))
			*out = lappend(*out, pnstrdup(e->str, e->len));
		else
			vt_rv_rejected("an entry of a community:{id}:visitors hash");
	}
	vt_redis_free(r);
	return true;
}

/*
 * Remove one visitor from every community.  Erasure is rare, so SCAN over
 * the ":seen" indexes is acceptable; each hit is cleaned by one script.
 * The prefix is escaped in the pattern: a prefix such as "x[1]:" is a
 * name, not a glob.
 */
static bool
redis_visitor_forget(const char *visitor_key, int64 *removed)
{
	const char *head = make_key("community", "", NULL);
	const char *tail = ":visitors:seen";
	char	   *pattern = psprintf("%s*%s", vt_key_glob_escape(head), tail);
	char		cursor[32] = "0";

	*removed = 0;
	do
	{
		const char *argv[6] = {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"};
		size_t		lens[6] = {4, strlen(cursor), 5, strlen(pattern), 5, 4};
		VtRedisCommand cmd = {6, argv, lens};
		redisReply *r = vt_redis_command(&cmd);
		List	   *ids = NIL;
		ListCell   *lc;
		int64		next;
		size_t		i;

		if (r == NULL)
			return false;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
			!vt_reply_is_string(r->element[0]) || r->element[1]->type != REDIS_REPLY_ARRAY ||
			r->element[0]->len >= sizeof(cursor) ||
			!vt_rv_int(r->element[0]->str, r->element[0]->len, 0, PG_INT64_MAX, &next))
		{
			vt_redis_reply_is_error(r, "a key scan");
			vt_redis_free(r);
			return false;
		}
		memcpy(cursor, r->element[0]->str, r->element[0]->len);
		cursor[r->element[0]->len] = '\0';
		for (i = 0; i < r->element[1]->elements; i++)
		{
			char	   *id = vt_reply_community_of_seen_key(r->element[1]->element[i], head, tail);

			if (id)
				ids = lappend(ids, id);
		}
		vt_redis_free(r);

		foreach(lc, ids)
		{
			const char *keys[4];
			size_t		keylens[4];
			size_t		arglen = strlen(visitor_key);
			redisReply *fr;
			int64		n;

			community_keys(lfirst(lc), keys, keylens);
			fr = vt_redis_eval(&visitor_forget_script, 4, keys, keylens, 1, &visitor_key, &arglen);
			if (fr == NULL)
				return false;
			if (!vt_reply_int(fr, 0, 1, &n))
			{
				vt_redis_reply_is_error(fr, "removing a visitor");
				vt_redis_free(fr);
				return false;
			}
			*removed += n;
			vt_redis_free(fr);
		}
	} while (strcmp(cursor, "0") != 0);
	return true;
}

/* the merge script's key and arguments; false if the session expired meanwhile */
static bool
anon_merge_call(const HotAnon *local, int ttl_seconds, VtRedisScriptCall *call)
{
	Args	   *a;
	int64		left_ms = (local->last_activity - GetCurrentTimestamp()) / 1000 +
		(int64) ttl_seconds * 1000;

	if (left_ms <= 0)
		return false;
	a = palloc0(sizeof(Args));
	args_local_session(a, local);
	arg(a, int_text(left_ms));
	one_key_call(make_key("anon_session", local->fingerprint, NULL), a, call);
	return true;
}

bool
hot_redis_anon_merge(const HotAnon *local, int ttl_seconds)
{
	VtRedisScriptCall c;

	if (!anon_merge_call(local, ttl_seconds, &c))
		return true;			/* expired meanwhile */
	return eval_ok(&anon_merge_script, &c, "merging a session");
}

bool
hot_redis_anon_merge_batch(int n, const HotAnon *sessions, const int *ttl_seconds, bool *done)
{
	VtRedisScriptCall *calls = palloc(sizeof(VtRedisScriptCall) * n);
	int		   *call_of = palloc(sizeof(int) * n);
	bool	   *call_done = palloc(sizeof(bool) * n);
	int			ncalls = 0;
	int			i;

	for (i = 0; i < n; i++)
		call_of[i] = anon_merge_call(&sessions[i], ttl_seconds[i], &calls[ncalls]) ?
			ncalls++ : -1;
	if (ncalls > 0 &&
		!eval_batch(&anon_merge_script, ncalls, calls, call_done, "merging sessions"))
	{
		memset(done, 0, sizeof(bool) * n);
		return false;
	}
	for (i = 0; i < n; i++)
		done[i] = call_of[i] < 0 || call_done[call_of[i]];
	return true;
}

bool
hot_redis_visit_merge(const HotVisitor *v)
{
	const char *keys[4];
	size_t		keylens[4];
	Args		a = {0};
	VtRedisScriptCall c;

	community_keys(v->visit.community_id, keys, keylens);
	arg(&a, int_text(vt_epoch_ms(GetCurrentTimestamp())));
	arg(&a, int_text((int64) v->visit.window_seconds * 1000));
	arg(&a, v->visit.visitor_key);
	arg(&a, v->visit.is_authenticated ? "1" : "0");
	arg(&a, v->visit.json_fields);
	arg(&a, iso_text(v->first_seen));
	arg(&a, int_text(vt_epoch_ms(v->visit.now)));
	arg(&a, int_text(v->pages_viewed));
	set_call(&c, 4, keys, keylens, a.n, a.v, a.len);
	return eval_ok(&visit_merge_script, &c, "merging a visitor");
}

static const char *
nonempty(const char *s)
{
	return s && s[0] ? s : NULL;
}

bool
hot_redis_describe(StringInfo b)
{
	VtRedisHealth h;

	vt_redis_health_snapshot(&h);
	vt_json_key(b, "redis");
	appendStringInfoChar(b, '{');
	vt_json_bool(b, "configured", vt_redis_configured());
	vt_json_text(b, "host", nonempty(vt_redis_host));
	vt_json_int(b, "port", vt_redis_port);
	vt_json_text(b, "key_prefix", vt_key_prefix());
	vt_json_bool(b, "up", vt_redis_configured() && h.up);
	vt_json_bool(b, "connected", vt_redis_connected());
	vt_json_time(b, "since", h.since);
	vt_json_text(b, "last_error", nonempty(h.last_error));
	vt_json_time(b, "last_error_at", h.last_error_at);
	vt_json_time(b, "retry_at", h.up ? 0 : h.retry_at);
	appendStringInfoChar(b, '}');
	return vt_redis_configured() && h.up;
}

const HotStoreOps vt_hotstore_redis = {
	.anon_touch = redis_anon_touch,
	.anon_fetch = redis_anon_fetch,
	.anon_remove = redis_anon_remove,
	.visit_record = redis_visit_record,
	.visit_counts = redis_visit_counts,
	.visitors = redis_visitors,
	.visitor_forget = redis_visitor_forget,
};
