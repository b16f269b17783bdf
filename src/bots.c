/*
 * bots.c: the crawler pattern list and the bot heuristics.
 *
 * Device Detector's patterns are matched case-insensitively where a token
 * may start: at the start of the user agent or after a character that
 * cannot be part of a product token.  All patterns of the file are joined
 * into one alternation and compiled once, so a lookup is one match however
 * long the list is.  A pattern that does not compile is reported with its
 * line, before the joined pattern is built.
 *
 * The heuristics are ours: markers of tools that fetch pages without a
 * person behind them.  They are short literal tokens matched
 * case-insensitively.
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"
#include "utils/memutils.h"

#include "bots.h"
#include "rulefile.h"
#include "vtregex.h"

struct BotRules
{
	pcre2_code *combined;		/* NULL when the list is empty */
	int			npatterns;
};

static const VtRuleSource bots_source = {
	"crawler pattern file", "visittrack.bot_patterns_path", "ruby-device-detector"
};

/* where a pattern may start: not inside a product token */
#define TOKEN_START "(?:^|[^a-z0-9_-]|[^a-z0-9-]_)"

BotRules *
vt_bots_load(const char *path)
{
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext, "visittrack bot patterns",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(tmp);
	VtRuleFile *file = vt_rulefile_read(path, &bots_source);
	const VtRuleList *list = vt_rulefile_list(file, NULL);
	StringInfoData all;
	BotRules   *rules;
	char		err[256];
	int			i;

	initStringInfo(&all);
	appendStringInfoString(&all, TOKEN_START "(?:");
	rules = MemoryContextAllocZero(TopMemoryContext, sizeof(BotRules));
	for (i = 0; i < list->nrecords; i++)
	{
		const char *pattern = vt_rule_field(&list->records[i], "regex");
		pcre2_code *one;

		if (pattern == NULL)
			continue;
		one = vt_regex_compile(pattern, true, err, sizeof(err));
		if (one == NULL)
		{
			pfree(rules);
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("could not compile the pattern at line %d of \"%s\": %s",
							list->records[i].line, path, err),
					 errhint("Reinstall the Debian package ruby-device-detector, or point visittrack.bot_patterns_path at a file of that package.")));
		}
		vt_regex_free(one);
		appendStringInfo(&all, "%s(?:%s)", rules->npatterns > 0 ? "|" : "", pattern);
		rules->npatterns++;
	}
	appendStringInfoChar(&all, ')');
	if (rules->npatterns > 0)
	{
		rules->combined = vt_regex_compile(all.data, true, err, sizeof(err));
		if (rules->combined == NULL)
		{
			pfree(rules);
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("could not compile the patterns of \"%s\" together: %s", path, err)));
		}
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(tmp);
	return rules;
}

void
vt_bots_free(BotRules *rules)
{
	if (rules == NULL)
		return;
	vt_regex_free(rules->combined);
	pfree(rules);
}

int
vt_bots_pattern_count(const BotRules *rules)
{
	return rules->npatterns;
}

bool
vt_bots_match(const BotRules *rules, const char *ua, size_t len)
{
	VtMatch		m;

	return rules->combined != NULL && vt_regex_match(rules->combined, ua, len, &m);
}

typedef struct Marker
{
	const char *token;
	const char *kind;
} Marker;

/*
 * Tokens that no person's browser sends.  "Java/" is the JDK's own HTTP
 * client (Java/1.8.0_151); phones with Java ME send "MIDP" and "CLDC"
 * instead.
 */
static const Marker markers[] = {
	{"HeadlessChrome", "headless"},
	{"PhantomJS", "headless"},
	{"SlimerJS", "headless"},
	{"Puppeteer", "headless"},
	{"Playwright", "headless"},
	{"Selenium", "headless"},
	{"curl/", "http-client"},
	{"libcurl", "http-client"},
	{"Wget/", "http-client"},
	{"python-requests", "http-client"},
	{"python-urllib", "http-client"},
	{"python-httpx", "http-client"},
	{"aiohttp/", "http-client"},
	{"Go-http-client", "http-client"},
	{"okhttp", "http-client"},
	{"Java/", "http-client"},
	{"Apache-HttpClient", "http-client"},
	{"libwww-perl", "http-client"},
	{"node-fetch", "http-client"},
	{"axios/", "http-client"},
	{"undici", "http-client"},
	{"HTTPie/", "http-client"},
	{"PostmanRuntime", "http-client"},
	{"Guzzle", "http-client"},
	{"Scrapy", "http-client"},
};

/* case-insensitive search of an ASCII token in s[0..len) */
static bool
contains_token(const char *s, size_t len, const char *token)
{
	size_t		tlen = strlen(token);
	size_t		i;

	if (tlen > len)
		return false;
	for (i = 0; i + tlen <= len; i++)
		if (pg_strncasecmp(s + i, token, tlen) == 0)
			return true;
	return false;
}

const char *
vt_bot_heuristic(const char *ua, size_t len)
{
	size_t		i;
	bool		blank = true;

	for (i = 0; i < len && blank; i++)
		blank = isspace((unsigned char) ua[i]);
	if (blank)
		return "empty";
	for (i = 0; i < lengthof(markers); i++)
		if (contains_token(ua, len, markers[i].token))
			return markers[i].kind;
	return NULL;
}
