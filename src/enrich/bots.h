/*
 * bots.h: crawler detection beyond ua-parser's "Spider" device family:
 * maintained pattern lists (Matomo Device Detector's bots.yml from the
 * Debian package ruby-device-detector; optionally the crawler-user-agents
 * list from npm) and a few cheap heuristics of our own (missing user agent,
 * headless browsers, HTTP client libraries).
 */
#ifndef VT_BOTS_H
#define VT_BOTS_H

typedef struct BotRules BotRules;

#include "rulefile.h"
#include "vtregex.h"

/*
 * Loads and compiles a pattern list: a bots.yml (entries with "regex") or
 * a crawler-user-agents.json (entries with "pattern"); ERROR when it cannot.
 */
extern BotRules *vt_bots_load(const char *path, const VtRuleSource *src);
extern void vt_bots_free(BotRules *rules);
extern int	vt_bots_pattern_count(const BotRules *rules);

/*
 * Does one of the list's patterns match ua[0..len)?  VT_REGEX_LIMIT when
 * none matched but a pattern gave up on a limit, so the answer is unknown.
 */
extern VtRegexResult vt_bots_match(const BotRules *rules, const char *ua, size_t len);

/*
 * The heuristic that calls ua[0..len) a bot ("empty", "headless",
 * "http-client", "contact": a "+http://" URL or an e-mail address;
 * "bot-name", "monitoring", "preview": generic words of automated clients),
 * or NULL.
 */
extern const char *vt_bot_heuristic(const char *ua, size_t len);

/*
 * Is ua[0..len) a program rather than a browser: ua-parser knows neither
 * its browser nor its device (both families "Other"), and it names no
 * browser or engine, or says "(compatible; Name" with a Name that is none?
 */
extern bool vt_bot_unknown_client(const char *ua, size_t len,
								  const char *browser_family, const char *device_family);

#endif
