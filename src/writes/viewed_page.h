/*
 * viewed_page.h: what a page view says about the page, the same for an
 * anonymous and a signed-in view (kind_anon_view.h, kind_user_view.h).
 */
#ifndef VT_VIEWED_PAGE_H
#define VT_VIEWED_PAGE_H

#include "queued_record.h"

typedef struct VtViewedPage
{
	char	   *url;			/* normalised (input.h) */
	char	   *url_name;
	char	   *page_type;
	char	   *referrer;
	bool		is_bot;			/* the request's user agent is a bot's */
} VtViewedPage;

/* its entries in a record kind's field table, for member (a VtViewedPage) of row_type */
#define VT_VIEWED_PAGE_FIELDS(row_type, member) \
	VT_FIELD(row_type, member.url, VT_FIELD_TEXT), \
	VT_FIELD(row_type, member.url_name, VT_FIELD_TEXT), \
	VT_FIELD(row_type, member.page_type, VT_FIELD_TEXT), \
	VT_FIELD(row_type, member.referrer, VT_FIELD_TEXT), \
	VT_FIELD(row_type, member.is_bot, VT_FIELD_BOOL)

/*
 * The five columns of the page (url, url_name, page_type, referrer, is_bot)
 * of the rows picked, into values[0..4]: page_offset is where the
 * VtViewedPage sits in a row of layout (queued_record.h: vt_rec_column).
 */
extern void vt_viewed_page_columns(const VtRecordLayout *layout, const void *rows,
								   const int *pick, int n, size_t page_offset, Datum *values);

#endif
