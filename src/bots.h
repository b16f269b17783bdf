/*
 * bots.h: crawler detection beyond ua-parser's "Spider" device family: a
 * maintained pattern list (Matomo Device Detector's bots.yml, from the
 * Debian package ruby-device-detector) and a few cheap heuristics of our
 * own (missing user agent, headless browsers, HTTP client libraries).
 */
#ifndef VT_BOTS_H
#define VT_BOTS_H

typedef struct BotRules BotRules;

/* Loads and compiles a bots.yml; ERROR when it cannot. */
extern BotRules *vt_bots_load(const char *path);
extern void vt_bots_free(BotRules *rules);
extern int	vt_bots_pattern_count(const BotRules *rules);

/* True when one of the list's patterns matches ua[0..len). */
extern bool vt_bots_match(const BotRules *rules, const char *ua, size_t len);

/*
 * The heuristic that calls ua[0..len) a bot ("empty", "headless",
 * "http-client"), or NULL.
 */
extern const char *vt_bot_heuristic(const char *ua, size_t len);

#endif
