/*
 * pageviews.h: page views of anonymous visitors.
 */
#ifndef VT_PAGEVIEWS_H
#define VT_PAGEVIEWS_H

#include "datatype/timestamp.h"
#include "utils/inet.h"

#include "viewed_page.h"
#include "write_mode.h"

/* one anonymous page view, arguments already normalised */
typedef struct VtAnonView
{
	const char *fingerprint;
	VtViewedPage page;
	const char *user_agent;
	inet	   *ip;
	TimestampTz now;
} VtAnonView;

/*
 * Count and record the view, writing its rows now or at commit for the
 * writer (mode); returns the session's page count.
 */
extern int32 vt_anonymous_page_view(const VtAnonView *v, VtWriteMode mode);

#endif
