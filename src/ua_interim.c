/*
 * ua_interim.c: bot heuristics used until the rule-based parser lands:
 * an empty user agent, or one naming a crawler or an HTTP library.
 */
#include "postgres.h"

#include "useragent.h"

bool
vt_ua_is_bot(const char *user_agent)
{
	static const char *const markers[] = {
		"bot", "spider", "crawl", "slurp", "headless", "curl/", "wget/", "python-",
		"go-http-client", "okhttp", "java/", "libwww", "httpclient", "phantomjs"
	};
	int			i;

	if (user_agent == NULL || user_agent[0] == '\0')
		return true;
	for (i = 0; i < lengthof(markers); i++)
	{
		if (strcasestr(user_agent, markers[i]) != NULL)
			return true;
	}
	return false;
}
