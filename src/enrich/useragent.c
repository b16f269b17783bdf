/*
 * useragent.c: user-agent parsing and bot detection, with the rule sets
 * loaded per backend and results cached per distinct user agent.
 *
 * SQL: parse_user_agent(text), is_bot(text), ua_details(text),
 * device_type_of(...) and enrichment_status().  C: useragent.h.
 *
 * Rule state is backend-local.  It is (re)loaded when the path settings it
 * was loaded from no longer match the current ones; the new rules are
 * compiled before the old ones are released, so a failed load leaves
 * nothing half-built and is simply retried on the next call.  Loading new
 * rules, or a new visittrack.regex_match_limit, empties the cache.
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "bots.h"
#include "devicetype.h"
#include "enrich_guc.h"
#include "geoip.h"
#include "guc.h"
#include "input.h"
#include "jsonbuf.h"
#include "rulefile.h"
#include "shared_state.h"
#include "uacache.h"
#include "uap.h"
#include "useragent.h"
#include "vtregex.h"

PG_FUNCTION_INFO_V1(vt_parse_user_agent);
PG_FUNCTION_INFO_V1(vt_is_bot);
PG_FUNCTION_INFO_V1(vt_ua_details);
PG_FUNCTION_INFO_V1(vt_device_type_of);
PG_FUNCTION_INFO_V1(vt_enrichment_status);

static UapRules *uap_rules = NULL;
static char *uap_setting = NULL;	/* setting value the rules came from */

/* A crawler pattern list and the setting that names it. */
typedef struct PatternList
{
	char	  **setting;		/* the GUC variable */
	VtRuleSource source;
	BotRules   *rules;			/* NULL when disabled */
	char	   *loaded_setting; /* value the rules came from; NULL: never loaded */
	char	   *file;			/* what the setting resolved to */
} PatternList;

static PatternList pattern_lists[] = {
	{&vt_bot_patterns_path,
	{"crawler pattern file", "visittrack.bot_patterns_path", "ruby-device-detector (Debian)"}},
	{&vt_crawler_patterns_path,
	{"crawler pattern file", "visittrack.crawler_patterns_path", "crawler-user-agents (npm)"}},
};

/* Has a path setting changed since the rules were loaded from it? */
static bool
setting_changed(const char *loaded, const char *current)
{
	return loaded == NULL || strcmp(loaded, current ? current : "") != 0;
}

/* Load the ua-parser rules if not loaded, or loaded from another path. */
static void
ensure_uap_rules(void)
{
	UapRules   *fresh;

	if (uap_rules != NULL && !setting_changed(uap_setting, vt_uap_regexes_path))
		return;
	if (vt_uap_regexes_path == NULL || vt_uap_regexes_path[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("visittrack.uap_regexes_path is empty"),
				 errhint("Set it to the regexes.yaml of the Debian package uap-core (%s).",
						 VT_DEFAULT_UAP_REGEXES)));
	fresh = vt_uap_load(vt_uap_regexes_path);
	vt_uap_free(uap_rules);
	uap_rules = fresh;
	if (uap_setting)
		pfree(uap_setting);
	uap_setting = MemoryContextStrdup(TopMemoryContext, vt_uap_regexes_path);
	vt_ua_cache_reset();
}

/*
 * Load a crawler pattern list if its setting changed; an empty setting
 * unloads it.
 */
static void
ensure_pattern_list(PatternList *list)
{
	const char *setting = *list->setting ? *list->setting : "";
	BotRules   *fresh = NULL;
	char	   *file = NULL;

	if (!setting_changed(list->loaded_setting, setting))
		return;
	if (setting[0] != '\0')
	{
		file = vt_rulefile_resolve(setting, &list->source);
		fresh = vt_bots_load(file, &list->source);
	}
	vt_bots_free(list->rules);
	list->rules = fresh;
	if (list->loaded_setting)
		pfree(list->loaded_setting);
	list->loaded_setting = MemoryContextStrdup(TopMemoryContext, setting);
	if (list->file)
		pfree(list->file);
	list->file = file ? MemoryContextStrdup(TopMemoryContext, file) : NULL;
	vt_ua_cache_reset();
}

/* the match limit the cached answers were found with */
static int	cached_match_limit = 0;

/* Every rule file current, and the regex match limit applied. */
static void
ensure_rules(void)
{
	int			i;

	ensure_uap_rules();
	for (i = 0; i < lengthof(pattern_lists); i++)
		ensure_pattern_list(&pattern_lists[i]);
	if (cached_match_limit != vt_regex_match_limit)
	{
		vt_ua_cache_reset();
		cached_match_limit = vt_regex_match_limit;
	}
}

/* Are the loaded rules those the settings name (nothing to load)? */
static bool
rules_current(void)
{
	int			i;

	if (uap_rules == NULL || setting_changed(uap_setting, vt_uap_regexes_path))
		return false;
	for (i = 0; i < lengthof(pattern_lists); i++)
		if (setting_changed(pattern_lists[i].loaded_setting,
							*pattern_lists[i].setting ? *pattern_lists[i].setting : ""))
			return false;
	return true;
}

/* "a.b.c" of the parts up to the first missing one, or NULL */
static char *
join_version(const char *const *parts, int n)
{
	StringInfoData buf;
	int			i;

	if (parts[0] == NULL)
		return NULL;
	initStringInfo(&buf);
	for (i = 0; i < n && parts[i] != NULL; i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? "." : "", parts[i]);
	return buf.data;
}

/* The result for no user agent: a bot, for reason "empty". */
static void
no_user_agent(VtUserAgent *out)
{
	memset(out, 0, sizeof(*out));
	out->device_type = "bot";
	out->is_bot = true;
	out->bot_reason = "empty";
}

/*
 * Parse a normalised user agent: heuristics, ua-parser, the crawler
 * patterns and the device type.
 */
static void
parse_uncached(const char *ua, size_t len, VtUserAgent *out)
{
	UapResult	u;
	const char *reason = vt_bot_heuristic(ua, len);

	if (reason != NULL && strcmp(reason, "empty") == 0)
	{
		no_user_agent(out);
		return;
	}
	vt_uap_parse(uap_rules, ua, len, &u);
	memset(out, 0, sizeof(*out));
	out->browser = u.ua_family;
	{
		const char *v[] = {u.ua_major, u.ua_minor, u.ua_patch};

		out->browser_version = join_version(v, 3);
	}
	out->os = u.os_family;
	{
		const char *v[] = {u.os_major, u.os_minor, u.os_patch, u.os_patch_minor};

		out->os_version = join_version(v, 4);
	}
	out->device_family = u.device_family;
	out->device_brand = u.device_brand;
	out->device_model = u.device_model;

	if (strcmp(u.device_family, "Spider") == 0)
		out->bot_reason = "ua-parser";
	else
	{
		bool		limited = u.limited;
		bool		matched = false;
		int			i;

		out->bot_reason = reason;
		for (i = 0; i < lengthof(pattern_lists) && !matched; i++)
		{
			if (pattern_lists[i].rules == NULL)
				continue;
			switch (vt_bots_match(pattern_lists[i].rules, ua, len))
			{
				case VT_REGEX_MATCH:
					out->bot_reason = "patterns";
					matched = true;
					break;
				case VT_REGEX_LIMIT:
					limited = true;
					break;
				case VT_REGEX_NO_MATCH:
					break;
			}
		}

		if (out->bot_reason == NULL && !limited &&
			vt_bot_unknown_client(ua, len, u.ua_family, u.device_family))
			out->bot_reason = "unknown-client";

		/*
		 * A rule that gave up on its match limit could not say whether this
		 * is a crawler.  No browser sends a user agent that makes the
		 * maintained rule sets backtrack that far; crafted input does, and
		 * "not a bot" would be exactly what its author wants.  So it is
		 * suspect, and counted as a bot.
		 */
		if (limited && out->bot_reason == NULL)
			out->bot_reason = "regex-limit";
		if (limited)
			vt_count(VT_UA_REGEX_LIMITS, 1);
	}
	out->is_bot = out->bot_reason != NULL;
	out->device_type = out->is_bot ? "bot" :
		vt_device_type(ua, u.device_family, u.device_brand, u.device_model, u.os_family);
}

/* The user agent as stored; NULL when there is none. */
static char *
normalised(const char *user_agent)
{
	if (user_agent == NULL)
		return NULL;
	return vt_normalise_text(user_agent, vt_max_user_agent_length);
}

static char *
copy_or_null(const char *s)
{
	return s ? pstrdup(s) : NULL;
}

/*
 * Parses a user agent (NULL allowed) into *out; strings are palloc'd in the
 * current memory context.  ERROR when the rule files cannot be loaded.
 */
static void
ua_parse(const char *user_agent, VtUserAgent *out)
{
	char	   *ua;
	size_t		len;
	const VtUserAgent *cached;

	ensure_rules();
	ua = normalised(user_agent);
	if (ua == NULL)
	{
		no_user_agent(out);
		return;
	}
	len = strlen(ua);
	cached = vt_ua_cache_get(ua, len);
	if (cached == NULL)
	{
		parse_uncached(ua, len, out);
		vt_ua_cache_put(ua, len, out);
		return;
	}
	*out = *cached;
	out->browser = copy_or_null(cached->browser);
	out->browser_version = copy_or_null(cached->browser_version);
	out->os = copy_or_null(cached->os);
	out->os_version = copy_or_null(cached->os_version);
	out->device_family = copy_or_null(cached->device_family);
	out->device_brand = copy_or_null(cached->device_brand);
	out->device_model = copy_or_null(cached->device_model);
}

/*
 * True when the user agent (NULL allowed) is a bot; cached.  ERROR when the
 * rule files cannot be loaded.
 */
static bool
ua_is_bot(const char *user_agent)
{
	char	   *ua;
	size_t		len;
	const VtUserAgent *cached;
	VtUserAgent parsed;

	ensure_rules();
	ua = normalised(user_agent);
	if (ua == NULL)
		return true;
	len = strlen(ua);
	cached = vt_ua_cache_get(ua, len);
	if (cached != NULL)
	{
		pfree(ua);
		return cached->is_bot;
	}
	parse_uncached(ua, len, &parsed);
	vt_ua_cache_put(ua, len, &parsed);
	return parsed.is_bot;
}

/*
 * The last failure to load the rules in this backend: when, and for which
 * settings.  Loading is not tried again for the same settings within
 * RULES_RETRY_MS (each try reads and compiles files and logs a WARNING);
 * changed settings are tried at once.
 */
static TimestampTz rules_failed_at = 0;
static char *rules_failed_for = NULL;

#define RULES_RETRY_MS 60000

/* the rule-file settings, as one string */
static char *
rule_settings(void)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfoString(&buf, vt_uap_regexes_path ? vt_uap_regexes_path : "");
	for (i = 0; i < lengthof(pattern_lists); i++)
	{
		appendStringInfoChar(&buf, '\n');
		appendStringInfoString(&buf, *pattern_lists[i].setting ? *pattern_lists[i].setting : "");
	}
	return buf.data;
}

/*
 * Did loading the rules fail less than a minute ago with the same path
 * settings?
 */
static bool
failed_recently(void)
{
	char	   *now_settings;
	bool		same;

	if (rules_failed_for == NULL ||
		TimestampDifferenceExceeds(rules_failed_at, GetCurrentTimestamp(), RULES_RETRY_MS))
		return false;
	now_settings = rule_settings();
	same = strcmp(now_settings, rules_failed_for) == 0;
	pfree(now_settings);
	return same;
}

/* Note that loading the rules failed now, with the current path settings. */
static void
remember_failure(void)
{
	char	   *settings = rule_settings();

	if (rules_failed_for)
		pfree(rules_failed_for);
	rules_failed_for = MemoryContextStrdup(TopMemoryContext, settings);
	rules_failed_at = GetCurrentTimestamp();
	pfree(settings);
}

/*
 * The errors that mean "the rule files cannot be used": missing, not
 * readable, not in the expected format, or an empty path setting.  Loading
 * raises nothing else on its own; anything else (a cancel, a timeout, a
 * termination, out of memory) is not ours to swallow.
 */
static bool
is_rule_file_error(int sqlerrcode)
{
	return sqlerrcode == ERRCODE_UNDEFINED_FILE ||
		sqlerrcode == ERRCODE_CONFIG_FILE_ERROR ||
		sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE ||
		sqlerrcode == ERRCODE_WRONG_OBJECT_TYPE ||
		sqlerrcode == ERRCODE_NAME_TOO_LONG ||
		sqlerrcode == ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
}

/*
 * Loads the rules in a subtransaction, so that a failure releases what the
 * attempt held (the open file, memory) the way any aborted statement does.
 * True when the rules are loaded.  A rule-file error becomes a WARNING and
 * false; every other error, a cancel included, is raised again after the
 * subtransaction is rolled back, and nothing is remembered about it.
 */
static bool
load_rules_or_warn(void)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool loaded = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		ensure_rules();
		ReleaseCurrentSubTransaction();
		loaded = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (!is_rule_file_error(edata->sqlerrcode))
			ReThrowError(edata);
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("visittrack: user-agent rules unavailable, using heuristics only: %s",
						edata->message),
				 edata->hint ? errhint("%s", edata->hint) : 0));
		FreeErrorData(edata);
		remember_failure();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return loaded;
}

/* The heuristics alone, for when the rule files cannot be loaded. */
static bool
heuristic_is_bot(const char *user_agent)
{
	char	   *ua = normalised(user_agent);

	return ua == NULL || vt_bot_heuristic(ua, strlen(ua)) != NULL;
}

/*
 * Only loading can fail in a way we answer for (a missing or broken rule
 * file); matching raises nothing but what must reach the caller (a cancel,
 * out of memory), so it runs without a catch.
 */
bool
vt_ua_is_bot_on_request(const char *user_agent)
{
	if (!rules_current())
	{
		if (failed_recently() || !load_rules_or_warn())
			return heuristic_is_bot(user_agent);
		if (rules_failed_for)
			pfree(rules_failed_for);
		rules_failed_for = NULL;
	}
	return ua_is_bot(user_agent);
}

/*
 * In the postmaster there is no transaction, so no subtransaction to catch
 * in; nothing needs one either: loading closes its file before raising and
 * frees what it compiled (rulefile.c, uap.c, bots.c), and the postmaster
 * gets no cancels.  Only rule-file errors are turned into a WARNING.
 */
void
vt_ua_preload(void)
{
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		ensure_rules();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (!is_rule_file_error(edata->sqlerrcode))
			PG_RE_THROW();
		FlushErrorState();
		ereport(WARNING,
				(errmsg("visittrack: could not preload user-agent rules: %s", edata->message),
				 errdetail("Each backend will try again on first use.")));
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

static Datum
text_or_null(const char *s, bool *isnull)
{
	*isnull = (s == NULL);
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

/*
 * parse_user_agent(user_agent text) RETURNS TABLE(device_type text,
 *     browser text, browser_version text, os text, is_bot boolean)
 */
Datum
vt_parse_user_agent(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	VtUserAgent ua;
	Datum		values[5];
	bool		nulls[5];

	ua_parse(vt_text_arg(fcinfo, 0), &ua);
	InitMaterializedSRF(fcinfo, 0);
	values[0] = text_or_null(ua.device_type, &nulls[0]);
	values[1] = text_or_null(ua.browser, &nulls[1]);
	values[2] = text_or_null(ua.browser_version, &nulls[2]);
	values[3] = text_or_null(ua.os, &nulls[3]);
	values[4] = BoolGetDatum(ua.is_bot);
	nulls[4] = false;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

/* is_bot(user_agent text) RETURNS boolean */
Datum
vt_is_bot(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(ua_is_bot(vt_text_arg(fcinfo, 0)));
}

/* ua_details(user_agent text) RETURNS jsonb: everything that was found */
Datum
vt_ua_details(PG_FUNCTION_ARGS)
{
	VtUserAgent ua;
	StringInfoData buf;

	ua_parse(vt_text_arg(fcinfo, 0), &ua);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	vt_json_text(&buf, "device_type", ua.device_type);
	vt_json_text(&buf, "browser", ua.browser);
	vt_json_text(&buf, "browser_version", ua.browser_version);
	vt_json_text(&buf, "os", ua.os);
	vt_json_text(&buf, "os_version", ua.os_version);
	vt_json_text(&buf, "device_family", ua.device_family);
	vt_json_text(&buf, "device_brand", ua.device_brand);
	vt_json_text(&buf, "device_model", ua.device_model);
	vt_json_bool(&buf, "is_bot", ua.is_bot);
	vt_json_text(&buf, "bot_reason", ua.bot_reason);
	appendStringInfoChar(&buf, '}');
	PG_RETURN_JSONB_P(vt_json_to_jsonb(&buf));
}

/*
 * device_type_of(user_agent text, device_family text, device_brand text,
 *                device_model text, os_family text) RETURNS text
 */
Datum
vt_device_type_of(PG_FUNCTION_ARGS)
{
	char	   *ua = vt_text_arg(fcinfo, 0);

	PG_RETURN_TEXT_P(cstring_to_text(vt_device_type(ua ? ua : "",
													vt_text_arg(fcinfo, 1),
													vt_text_arg(fcinfo, 2),
													vt_text_arg(fcinfo, 3),
													vt_text_arg(fcinfo, 4))));
}

/* enrichment_status() RETURNS jsonb: rule files, cache figures, GeoIP */
Datum
vt_enrichment_status(PG_FUNCTION_ARGS)
{
	StringInfoData buf;
	int64		entries,
				hits,
				misses;
	int			i;

	ensure_rules();
	vt_ua_cache_stats(&entries, &hits, &misses);
	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	vt_json_text(&buf, "uap_regexes", uap_setting);
	appendStringInfo(&buf, ", \"uap_rules\": %d", vt_uap_rule_count(uap_rules));
	appendStringInfoString(&buf, ", \"pattern_lists\": [");
	for (i = 0; i < lengthof(pattern_lists); i++)
	{
		PatternList *list = &pattern_lists[i];

		appendStringInfo(&buf, "%s{\"setting\": ", i > 0 ? ", " : "");
		escape_json(&buf, list->source.setting);
		appendStringInfoString(&buf, ", \"file\": ");
		if (list->file)
			escape_json(&buf, list->file);
		else
			appendStringInfoString(&buf, "null");
		appendStringInfo(&buf, ", \"patterns\": %d}",
						 list->rules ? vt_bots_pattern_count(list->rules) : 0);
	}
	appendStringInfoChar(&buf, ']');
	appendStringInfo(&buf, ", \"cache\": {\"size\": %d, \"entries\": " INT64_FORMAT
					 ", \"hits\": " INT64_FORMAT ", \"misses\": " INT64_FORMAT "}",
					 vt_ua_cache_size, entries, hits, misses);
	appendStringInfoString(&buf, ", \"geoip\": ");
	vt_geoip_describe(&buf);
	appendStringInfoChar(&buf, '}');
	PG_RETURN_JSONB_P(vt_json_to_jsonb(&buf));
}
