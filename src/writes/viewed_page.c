/*
 * viewed_page.c: the page's columns of a batch of views (viewed_page.h).
 */
#include "postgres.h"

#include "viewed_page.h"

void
vt_viewed_page_columns(const VtRecordLayout *layout, const void *rows, const int *pick,
					   int n, size_t page_offset, Datum *values)
{
	static const size_t members[] = {
		offsetof(VtViewedPage, url),
		offsetof(VtViewedPage, url_name),
		offsetof(VtViewedPage, page_type),
		offsetof(VtViewedPage, referrer),
		offsetof(VtViewedPage, is_bot),
	};
	int			i;

	for (i = 0; i < lengthof(members); i++)
		values[i] = vt_rec_column(layout, rows, pick, n, page_offset + members[i]);
}
