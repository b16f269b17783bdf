/*
 * useragent.h: user-agent enrichment, for SQL (parse_user_agent, is_bot,
 * ua_details: useragent.c) and for C callers on the request path.
 *
 * Rules are loaded on first use in each backend from the files that
 * visittrack.uap_regexes_path and visittrack.bot_patterns_path name, and
 * loaded again when either setting changes.  Results are cached per
 * distinct user agent (visittrack.ua_cache_size entries per backend), so
 * asking again about a user agent costs a hash lookup.
 *
 * A user agent is looked at as stored: cut to visittrack.max_user_agent_length
 * bytes, control characters as spaces.  NULL, empty and blank user agents
 * are bots (device_type "bot"): browsers always send one.
 *
 * The SQL functions raise an ERROR when the rule files cannot be loaded
 * (undefined_file naming the Debian package to install).
 */
#ifndef VT_USERAGENT_H
#define VT_USERAGENT_H

typedef struct VtUserAgent
{
	const char *device_type;	/* "desktop", "mobile", "tablet", "bot", "other" */
	char	   *browser;		/* ua-parser family, "Other" when unknown; NULL for no UA */
	char	   *browser_version;	/* "major[.minor[.patch]]" or NULL */
	char	   *os;				/* ua-parser OS family, "Other" when unknown; NULL for no UA */
	char	   *os_version;
	char	   *device_family;	/* ua-parser device family */
	char	   *device_brand;
	char	   *device_model;
	bool		is_bot;
	const char *bot_reason;		/* NULL, "empty", "ua-parser", "patterns", "headless",
								 * "http-client", "contact", "regex-limit" */
} VtUserAgent;

/*
 * True when the user agent (NULL allowed) is a bot; cached.  When the rule
 * files cannot be loaded (missing, unreadable, malformed) it logs a WARNING
 * and answers from the heuristics alone; it tries again after a minute, or
 * at once when a path setting changes.  Every other error (a cancel, a
 * timeout) is raised.
 */
extern bool vt_ua_is_bot_on_request(const char *user_agent);

/*
 * Load the rules in the postmaster (called from _PG_init while preloading)
 * so that every backend starts with them compiled.  A failure is a WARNING.
 */
extern void vt_ua_preload(void);

#endif
