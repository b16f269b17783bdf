/*
 * anon_mirror.c: the codec of the anonymous-cache mirror record
 * (anon_mirror.h), and its push into the write queue.
 */
#include "postgres.h"

#include "anon_mirror.h"
#include "queued_record.h"
#include "write_queue.h"

static void
encode(StringInfo buf, const HotAnonTouch *t)
{
	vt_rec_put_text(buf, t->fingerprint);
	vt_rec_put_text(buf, t->session_id);
	vt_rec_put_int64(buf, t->started_at);
	vt_rec_put_int64(buf, t->now);
	vt_rec_put_int64(buf, t->pages_visited);
	vt_rec_put_text(buf, t->url);
	vt_rec_put_text(buf, t->landing_page);
	vt_rec_put_text(buf, t->first_referrer);
	vt_rec_put_int64(buf, t->ttl_seconds);
}

void
vt_anon_mirror_decode(StringInfo buf, HotAnon *s, int *ttl_seconds)
{
	memset(s, 0, sizeof(*s));
	buf->cursor = 0;
	s->fingerprint = vt_rec_get_text(buf);
	s->session_id = vt_rec_get_text(buf);
	s->started_at = vt_rec_get_int64(buf);
	s->last_activity = vt_rec_get_int64(buf);
	s->last_view_at = s->last_activity;
	s->pages_visited = (int32) vt_rec_get_int64(buf);
	s->current_page = vt_rec_get_text(buf);
	s->landing_page = vt_rec_get_text(buf);
	s->referrer = vt_rec_get_text(buf);
	*ttl_seconds = (int) vt_rec_get_int64(buf);
}

/* The same session the writer would decode from the record. */
void
vt_anon_mirror_session(const HotAnonTouch *t, HotAnon *s, int *ttl_seconds)
{
	StringInfoData buf;

	initStringInfo(&buf);
	encode(&buf, t);
	vt_anon_mirror_decode(&buf, s, ttl_seconds);
}

bool
vt_anon_mirror_try_queue(const HotAnonTouch *t)
{
	StringInfoData buf;
	bool		queued;

	initStringInfo(&buf);
	encode(&buf, t);
	queued = vt_wq_try_push(VT_WRITE_ANON_MIRROR, &buf);
	pfree(buf.data);
	return queued;
}
