/*
 * bots.c: the crawler pattern list and the bot heuristics.
 *
 * Two formats of pattern list are read, told apart by their field names:
 * Device Detector's bots.yml ("regex": matched case-insensitively where a
 * token may start, at the start of the user agent or after a character that
 * cannot be part of a product token) and the crawler-user-agents JSON list
 * ("pattern": a case-sensitive search anywhere, as that project specifies;
 * JSON is read as YAML).  All patterns of one kind are joined into one
 * alternation and compiled once, so a lookup is at most two matches however
 * long the list is.  A pattern that does not compile is reported with its
 * line, before the joined pattern is built.
 *
 * The heuristics are ours: markers of tools that fetch pages without a
 * person behind them (short literal tokens matched case-insensitively), and
 * generic signals (a table of small patterns: what automated clients call
 * themselves, and clients that name no browser).
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "bots.h"
#include "rulefile.h"
#include "vtregex.h"

struct BotRules
{
	pcre2_code *token_patterns;	/* Device Detector ("regex"), NULL if none */
	pcre2_code *plain_patterns;	/* crawler-user-agents ("pattern"), NULL if none */
	int			npatterns;
};

/* where a Device Detector pattern may start: not inside a product token */
#define TOKEN_START "(?:^|[^a-z0-9_-]|[^a-z0-9-]_)"

/* Append a pattern to the alternation being built in all. */
static void
add_pattern(StringInfo all, const char *pattern)
{
	appendStringInfo(all, "%s(?:%s)", all->len > 0 ? "|" : "", pattern);
}

/*
 * Compile the alternation in all behind prefix (NULL when empty); a
 * pattern list that does not compile is a config_file_error naming path.
 */
static pcre2_code *
compile_all(StringInfo all, const char *prefix, bool caseless, const char *path)
{
	char		err[256];
	char	   *joined;
	pcre2_code *code;

	if (all->len == 0)
		return NULL;
	joined = psprintf("%s(?:%s)", prefix, all->data);
	code = vt_regex_compile(joined, caseless, err, sizeof(err));
	if (code == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("could not compile the patterns of \"%s\" together: %s", path, err)));
	return code;
}

BotRules *
vt_bots_load(const char *path, const VtRuleSource *src)
{
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext, "visittrack bot patterns",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(tmp);
	VtRuleFile *file = vt_rulefile_read(path, src);
	const VtRuleList *list = vt_rulefile_list(file, NULL);
	StringInfoData token_all;
	StringInfoData plain_all;
	BotRules   *volatile rules;
	int			count = 0;
	int			i;

	initStringInfo(&token_all);
	initStringInfo(&plain_all);
	for (i = 0; i < list->nrecords; i++)
	{
		const char *regex = vt_rule_field(&list->records[i], "regex");
		const char *pattern = vt_rule_field(&list->records[i], "pattern");
		const char *one = regex ? regex : pattern;
		pcre2_code *code;
		char		err[256];

		/* a long list takes a while: let a cancel or a timeout through */
		CHECK_FOR_INTERRUPTS();
		if (one == NULL)
			continue;
		code = vt_regex_compile(one, regex != NULL, err, sizeof(err));
		if (code == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("could not compile the pattern at line %d of \"%s\": %s",
							list->records[i].line, path, err),
					 errhint("Reinstall the package %s, or point %s at a file of that package.",
							 src->package, src->setting)));
		vt_regex_free(code);
		add_pattern(regex ? &token_all : &plain_all, one);
		count++;
	}
	if (count == 0)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("%s \"%s\" has no patterns", src->what, path),
				 errdetail("Entries need a \"regex\" (Device Detector) or \"pattern\" (crawler-user-agents) field."),
				 errhint("Point %s at a file of the package %s.", src->setting, src->package)));

	/* made first, so that everything compiled is reachable from it on error */
	rules = MemoryContextAllocZero(TopMemoryContext, sizeof(BotRules));
	PG_TRY();
	{
		rules->token_patterns = compile_all(&token_all, TOKEN_START, true, path);
		rules->plain_patterns = compile_all(&plain_all, "", false, path);
	}
	PG_CATCH();
	{
		vt_bots_free(rules);
		PG_RE_THROW();
	}
	PG_END_TRY();
	rules->npatterns = count;
	MemoryContextSwitchTo(old);
	MemoryContextDelete(tmp);
	return rules;
}

void
vt_bots_free(BotRules *rules)
{
	if (rules == NULL)
		return;
	vt_regex_free(rules->token_patterns);
	vt_regex_free(rules->plain_patterns);
	pfree(rules);
}

int
vt_bots_pattern_count(const BotRules *rules)
{
	return rules->npatterns;
}

VtRegexResult
vt_bots_match(const BotRules *rules, const char *ua, size_t len)
{
	const pcre2_code *lists[2] = {rules->token_patterns, rules->plain_patterns};
	bool		limited = false;
	int			i;

	for (i = 0; i < lengthof(lists); i++)
	{
		VtMatch		m;
		VtRegexResult r;

		if (lists[i] == NULL)
			continue;
		r = vt_regex_match(lists[i], ua, len, &m);
		if (r == VT_REGEX_MATCH)
			return r;			/* a definite match beats an undecided list */
		limited |= (r == VT_REGEX_LIMIT);
	}
	return limited ? VT_REGEX_LIMIT : VT_REGEX_NO_MATCH;
}

typedef struct Marker
{
	const char *token;
	const char *kind;
	bool		digit_after;	/* the token must be followed by a digit */
} Marker;

/*
 * Tokens that no person's browser sends.  "Java/" followed by a version is
 * the JDK's own HTTP client (Java/1.8.0_151); feature phones send
 * "Java/HWJa" or "Java/ASVM" beside MIDP and are not matched.
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
	{"Java/", "http-client", true},
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

/* case-insensitive search of a marker's ASCII token in s[0..len) */
static bool
contains_marker(const char *s, size_t len, const Marker *marker)
{
	size_t		tlen = strlen(marker->token);
	size_t		i;

	if (tlen > len)
		return false;
	for (i = 0; i + tlen <= len; i++)
	{
		if (pg_strncasecmp(s + i, marker->token, tlen) != 0)
			continue;
		if (!marker->digit_after ||
			(i + tlen < len && isdigit((unsigned char) s[i + tlen])))
			return true;
	}
	return false;
}

/*
 * Does the user agent give a way to reach its operator, the way crawlers
 * do so that site owners can complain: "+http://www.example.com/bot.html"
 * or an e-mail address?  A bare URL is not enough: old browser toolbars
 * put theirs in the user agent (measured: 1.1 % of real browsers' user
 * agents in uap-core's corpus would count as bots, against 0.1 % this way).
 */
static bool
advertises_contact(const char *s, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
	{
		const char *p = s + i;
		size_t		left = len - i;

		if ((left >= 8 && pg_strncasecmp(p, "+http://", 8) == 0) ||
			(left >= 9 && pg_strncasecmp(p, "+https://", 9) == 0))
			return true;
		/* name@host.tld */
		if (*p == '@' && i > 0 && isalnum((unsigned char) p[-1]))
		{
			size_t		j = i + 1;
			bool		dot = false;

			while (j < len && (isalnum((unsigned char) s[j]) || s[j] == '-' || s[j] == '.'))
			{
				if (s[j] == '.' && j + 1 < len && isalpha((unsigned char) s[j + 1]))
					dot = true;
				j++;
			}
			if (dot)
				return true;
		}
	}
	return false;
}

/*
 * Generic signals: what automated clients call themselves, whoever wrote
 * them.  Unlike the pattern lists they name no product, so they also catch
 * crawlers, monitors and tools that no list has heard of.  Each is a PCRE2
 * pattern matched case-insensitively unless it says (?-i).  Measured on
 * every corpus of doc/enrichment.md ("Measured by source"): each one costs
 * at most a few real browsers' user agents, named in its comment.
 */
typedef struct Signal
{
	const char *kind;			/* the bot_reason it gives */
	const char *regex;
} Signal;

static const Signal signals[] = {
	/*
	 * "Googlebot", "AdsBot-Google", "Some BOT": "bot" ending a word, in
	 * lower or title case (not "Cubot", a phone brand, nor "BOTW", a
	 * toolbar); "crawler", "Bytespider", "factset_spyderbot", "Slurp",
	 * "scraper", "Feed Fetcher".
	 */
	{"bot-name", "(?<!cu)(?-i:bot|Bot)(?![a-z])|(?-i:\\bBOT\\b)"},
	{"bot-name", "crawl|sp[iy]der|slurp|scrap(?:er|ing|e\\b)|fetch"},

	/*
	 * Uptime, performance and security checks: "UrlMonitor", "Uptime",
	 * "DatadogSynthetics", "Chrome-Lighthouse", "W3C_Validator", "Nessus
	 * scanner", "Link Checker", "check_http" ("checker" only as a word:
	 * not "medchecker.com").
	 */
	{"monitoring", "monitor|uptime|synthetic|lighthouse|pagespeed|validator"
	 "|scan(?:ner)?\\b|check(?:er)?(?=[\\s/_;)-]|$)"},

	/* link previews of chat and social apps: "SkypeUriPreview", "Google Web Preview" */
	{"preview", "(?:web|link|uri|url)\\s?preview|preview/"},

	/*
	 * HTTP libraries and agents beyond the literal markers: "HTTPClient",
	 * "XMLHTTP/1.0", "Indy Library", "Mechanize", "Jersey/", "AHC/", "Feed
	 * Parser", "ips-agent", "Datadog Agent/7" (not "User-Agent").
	 */
	{"http-client", "http[-_ ]?client|xmlhttp|urllib|libwww|indy library|mechanize"
	 "|jersey/|jetty/|ahc/|pars(?:er|ing)\\b|(?<!user)[ -]agent(?:/|\\b)(?!\\.)"},
};

/*
 * Names of browsers and engines.  A user agent with none of them, of which
 * ua-parser knows neither the browser nor the device, is a program's (see
 * vt_bot_unknown_client).
 */
#define BROWSER_TOKENS \
	"mozilla|opera|msie|gecko|webkit|khtml|firefox|netscape|safari|chrome" \
	"|konqueror|lynx|links|w3m|dillo|ucweb|uc ?browser|qqbrowser|dolphin" \
	"|galeon|midori|presto|trident|midp|obigo|netfront|up\\.browser|browser"

/*
 * "(compatible; Name" with a Name that is no browser or system: how crawlers
 * have presented themselves since the 1990s ("Mozilla/5.0 (compatible;
 * Nmap Scripting Engine; …)").
 */
#define COMPATIBLE_NOT_BROWSER \
	"\\(compatible;\\s*+(?!(?:msie|konqueror|iemobile|mozilla|opera|galeon|netscape" \
	"|windows|linux|x11|macintosh|risc|;|\\)))"

static pcre2_code *signal_codes[lengthof(signals)];
static pcre2_code *browser_token_code;
static pcre2_code *compatible_code;

static pcre2_code *
compile_own(const char *regex)
{
	char		err[256];
	pcre2_code *code = vt_regex_compile(regex, true, err, sizeof(err));

	if (code == NULL)
		elog(ERROR, "could not compile the bot signal \"%s\": %s", regex, err);
	return code;
}

/* compiled once per backend, on first use; PCRE2's memory, never freed */
static void
ensure_signals(void)
{
	int			i;

	if (compatible_code != NULL)
		return;
	for (i = 0; i < lengthof(signals); i++)
		if (signal_codes[i] == NULL)
			signal_codes[i] = compile_own(signals[i].regex);
	if (browser_token_code == NULL)
		browser_token_code = compile_own(BROWSER_TOKENS);
	compatible_code = compile_own(COMPATIBLE_NOT_BROWSER);
}

/*
 * Our own patterns are short and linear; one that still gives up on the
 * match limit makes the user agent suspect, as everywhere else.
 */
static bool
own_match(const pcre2_code *code, const char *ua, size_t len)
{
	VtMatch		m;

	return vt_regex_match(code, ua, len, &m) != VT_REGEX_NO_MATCH;
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
		if (contains_marker(ua, len, &markers[i]))
			return markers[i].kind;
	if (advertises_contact(ua, len))
		return "contact";
	ensure_signals();
	for (i = 0; i < lengthof(signals); i++)
		if (own_match(signal_codes[i], ua, len))
			return signals[i].kind;
	return NULL;
}

bool
vt_bot_unknown_client(const char *ua, size_t len,
					  const char *browser_family, const char *device_family)
{
	if (strcmp(browser_family, "Other") != 0 || strcmp(device_family, "Other") != 0)
		return false;
	ensure_signals();
	return !own_match(browser_token_code, ua, len) || own_match(compatible_code, ua, len);
}
