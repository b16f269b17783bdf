/*
 * hotstore_redis_replies.c: Redis replies into hot-store records, checked.
 *
 * Everything visittrack reads back from Redis passes through here (or
 * redis_values.h directly): fields are matched binary-safe, values must be
 * of the shape visittrack writes.  Nothing here raises an ERROR: the
 * caller still holds the hiredis reply, and a damaged key must not fail
 * the request that reads it.
 */
#include "postgres.h"

#include "hotstore_redis_replies.h"
#include "input.h"
#include "redis_values.h"

bool
vt_reply_is_string(const redisReply *r)
{
	return r != NULL && r->type == REDIS_REPLY_STRING;
}

/* Is the reply the string name?  (Binary safe: a name may hold a NUL.) */
static bool
is_name(const redisReply *r, const char *name)
{
	return vt_reply_is_string(r) && r->len == strlen(name) && memcmp(r->str, name, r->len) == 0;
}

/* An integer reply, or a decimal string, within [min, max]. */
bool
vt_reply_int(const redisReply *r, int64 min, int64 max, int64 *out)
{
	if (r != NULL && r->type == REDIS_REPLY_INTEGER)
	{
		*out = r->integer;
		return r->integer >= min && r->integer <= max;
	}
	return vt_reply_is_string(r) && vt_rv_int(r->str, r->len, min, max, out);
}

/* A boolean field as visittrack writes it: "true" or "false". */
static bool
reply_bool(const redisReply *r, bool *out)
{
	*out = is_name(r, "true");
	return *out || is_name(r, "false");
}

/* A URL field; NULL, noted as rejected, unless valid. */
static char *
reply_url(const redisReply *r, const char *what)
{
	char	   *url = vt_reply_is_string(r) ? vt_rv_url(r->str, r->len) : NULL;

	if (url == NULL && r != NULL && r->type != REDIS_REPLY_NIL)
		vt_rv_rejected(what);
	return url;
}

/* An IP address in the text form inet_out writes. */
static bool
is_ip_text(const redisReply *r)
{
	return vt_reply_is_string(r) && r->len > 0 && r->len <= 64 &&
		strspn(r->str, "0123456789abcdefABCDEF.:/") == r->len;
}

/* One field of session:{id} into out: false if the value is not ours. */
static bool
session_field(const redisReply *f, const redisReply *v, const char *session_id,
			  HotSession *out)
{
	int64		n;

	if (!vt_reply_is_string(f) || !vt_reply_is_string(v))
		return false;
	if (is_name(f, "session_id"))
	{
		out->session_id = pstrdup(session_id);
		return is_name(v, session_id);
	}
	if (is_name(f, "user_id"))
		return vt_rv_is_uuid(v->str, v->len) && (out->user_id = pnstrdup(v->str, v->len));
	if (is_name(f, "user_username"))
		return (out->username = vt_rv_text(v->str, v->len, VT_MAX_NAME_LENGTH)) != NULL;
	if (is_name(f, "ip_address"))
		return is_ip_text(v) && (out->ip_address = pnstrdup(v->str, v->len));
	if (is_name(f, "device_fingerprint"))
		return vt_rv_is_hex(v->str, v->len, 16, VT_MAX_ID_LENGTH) &&
			(out->device_fingerprint = pnstrdup(v->str, v->len));
	if (is_name(f, "fast_fingerprint"))
		return vt_rv_is_hex(v->str, v->len, 16, VT_MAX_ID_LENGTH) &&
			(out->fast_fingerprint = pnstrdup(v->str, v->len));
	if (is_name(f, "persistent"))
		return reply_bool(v, &out->persistent);
	if (is_name(f, "is_active"))
		return reply_bool(v, &out->is_active);
	if (is_name(f, "started_at"))
		return vt_rv_past_time(v->str, v->len, &out->started_at);
	if (is_name(f, "expires_at"))
		return vt_rv_time(v->str, v->len, &out->expires_at);
	if (is_name(f, "last_activity"))
		return vt_rv_past_time(v->str, v->len, &out->last_activity);
	if (is_name(f, "pages_visited"))
	{
		if (!vt_reply_int(v, 0, PG_INT32_MAX, &n))
			return false;
		out->pages_visited = (int32) n;
	}
	return true;				/* a field we do not read */
}

/*
 * One field of anon_session:{fingerprint} into out: false if the session's
 * identity, times or count are not what visittrack writes.  A page or
 * referrer that is not valid text is dropped (NULL).
 */
static bool
anon_field(const redisReply *f, const redisReply *v, HotAnon *out)
{
	int64		n;

	if (!vt_reply_is_string(f) || !vt_reply_is_string(v))
		return false;
	if (is_name(f, "session_id"))
		return vt_rv_is_uuid(v->str, v->len) && (out->session_id = pnstrdup(v->str, v->len));
	if (is_name(f, "started_at"))
		return vt_rv_past_time(v->str, v->len, &out->started_at);
	if (is_name(f, "last_activity"))
	{
		out->last_view_at = 0;
		if (!vt_rv_past_time(v->str, v->len, &out->last_activity))
			return false;
		out->last_view_at = out->last_activity;
	}
	else if (is_name(f, "pages_visited"))
	{
		if (!vt_reply_int(v, 0, PG_INT32_MAX, &n))
			return false;
		out->pages_visited = (int32) n;
	}
	else if (is_name(f, "current_page"))
		out->current_page = reply_url(v, "the current_page of an anon_session:{fingerprint} hash");
	else if (is_name(f, "landing_page"))
		out->landing_page = reply_url(v, "the landing_page of an anon_session:{fingerprint} hash");
	else if (is_name(f, "referrer"))
	{
		out->referrer = reply_url(v, "the referrer of an anon_session:{fingerprint} hash");
		if (out->referrer && out->referrer[0] == '\0')
			out->referrer = NULL;
	}
	return true;
}

/* A session:{session_id} hash (HGETALL) into out: false if damaged. */
bool
vt_reply_session(const redisReply *r, const char *session_id, HotSession *out)
{
	size_t		i;

	memset(out, 0, sizeof(*out));
	if (r->elements % 2 != 0)
		return false;
	for (i = 0; i + 1 < r->elements; i += 2)
		if (!session_field(r->element[i], r->element[i + 1], session_id, out))
			return false;
	return true;
}

/* An anon_session:{fingerprint} hash (HGETALL) into out: false if damaged. */
bool
vt_reply_anon(const redisReply *r, HotAnon *out)
{
	size_t		i;

	memset(out, 0, sizeof(*out));
	if (r->elements % 2 != 0)
		return false;
	for (i = 0; i + 1 < r->elements; i += 2)
		if (!anon_field(r->element[i], r->element[i + 1], out))
			return false;
	return true;
}

/*
 * The touch script's answer {pages, new?, session id, started_at, landing
 * page, referrer, previous view} into t.  False when the session's identity
 * is not what visittrack writes; a bad landing page or referrer is dropped
 * (NULL), a bad previous view time ignored.
 */
bool
vt_reply_anon_touch(const redisReply *r, HotAnonTouch *t)
{
	redisReply *const *e = r->element;
	int64		pages;
	int64		is_new;

	if (!vt_reply_int(e[0], 1, PG_INT32_MAX, &pages) || !vt_reply_int(e[1], 0, 1, &is_new) ||
		!vt_reply_is_string(e[2]) || !vt_rv_is_uuid(e[2]->str, e[2]->len) ||
		!vt_reply_is_string(e[3]) || !vt_rv_past_time(e[3]->str, e[3]->len, &t->started_at))
		return false;
	t->pages_visited = (int32) pages;
	t->is_new = is_new == 1;
	t->session_id = pnstrdup(e[2]->str, e[2]->len);
	t->landing_page = reply_url(e[4], "the landing_page of an anon_session:{fingerprint} hash");
	t->first_referrer = reply_url(e[5], "the referrer of an anon_session:{fingerprint} hash");
	if (t->first_referrer && t->first_referrer[0] == '\0')
		t->first_referrer = NULL;
	t->prev_view_at = 0;
	if (e[6]->type != REDIS_REPLY_NIL &&
		!(vt_reply_is_string(e[6]) && vt_rv_past_time(e[6]->str, e[6]->len, &t->prev_view_at)))
	{
		t->prev_view_at = 0;
		vt_rv_rejected("the last_activity of an anon_session:{fingerprint} hash");
	}
	return true;
}

/*
 * The community id of a ":seen" index key that SCAN returned, or NULL when
 * the key is not one of ours (MATCH's '*' also matches ':').
 */
char *
vt_reply_community_of_seen_key(const redisReply *k, const char *head, const char *tail)
{
	size_t		hlen = strlen(head);
	size_t		tlen = strlen(tail);

	if (!vt_reply_is_string(k) || k->len != hlen + 36 + tlen ||
		memcmp(k->str, head, hlen) != 0 || memcmp(k->str + hlen + 36, tail, tlen) != 0 ||
		!vt_rv_is_uuid(k->str + hlen, 36))
		return NULL;
	return pnstrdup(k->str + hlen, 36);
}

