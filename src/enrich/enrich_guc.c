/*
 * enrich_guc.c: the visittrack.* settings of enrichment.
 *
 * The rule files are read at run time from packages (uap-core for user
 * agents, ruby-device-detector and optionally the npm package
 * crawler-user-agents for crawler patterns) so that a package upgrade
 * updates the rules without rebuilding visittrack.  Paths are PGC_SUSET:
 * they name files the server reads, so only a superuser (or the
 * configuration file) may point them elsewhere.  A backend compiles the
 * rules on first use and again whenever the path setting it sees changes.
 */
#include "postgres.h"

#include "utils/guc.h"

#include "enrich_guc.h"
#include "guc.h"
#include "setting_tables.h"
#include "vtregex.h"

char	   *vt_uap_regexes_path = NULL;
char	   *vt_bot_patterns_path = NULL;
char	   *vt_crawler_patterns_path = NULL;
char	   *vt_geoip_database = NULL;
int			vt_ua_cache_size = 10000;

static const VtStringSetting enrichment_string_settings[] = {
	{"visittrack.uap_regexes_path",
		gettext_noop("ua-parser rule file (regexes.yaml) used to parse user agents."),
		gettext_noop("Debian package uap-core installs it."),
	&vt_uap_regexes_path, VT_DEFAULT_UAP_REGEXES, PGC_SUSET, 0, NULL, NULL},
	{"visittrack.bot_patterns_path",
		gettext_noop("Crawler pattern file (Matomo Device Detector bots.yml); empty disables it."),
		gettext_noop("May be a glob pattern: the highest version among the matching files is used. Debian package ruby-device-detector installs it."),
	&vt_bot_patterns_path, VT_DEFAULT_BOT_PATTERNS, PGC_SUSET, 0, NULL, NULL},
	{"visittrack.crawler_patterns_path",
		gettext_noop("Second crawler pattern list: crawler-user-agents.json of the npm package crawler-user-agents; empty (the default) disables it."),
		gettext_noop("May be a glob pattern, like visittrack.bot_patterns_path."),
	&vt_crawler_patterns_path, "", PGC_SUSET, 0, NULL, NULL},
	{"visittrack.geoip_database",
		gettext_noop("MaxMind-format database (.mmdb) used by geolocate(); empty disables geolocation."),
	NULL, &vt_geoip_database, "", PGC_SUSET, 0, NULL, NULL},
};

static const VtIntSetting enrichment_int_settings[] = {
	{"visittrack.ua_cache_size", gettext_noop("Parsed user agents each backend keeps in memory."),
	NULL, &vt_ua_cache_size, 10000, 0, 1000000, PGC_SUSET, 0},
	{"visittrack.regex_match_limit",
		gettext_noop("Backtracking steps one rule may take on one user agent."),
		gettext_noop("A user agent that makes a rule reach it counts as a bot (\"regex-limit\")."),
	&vt_regex_match_limit, 200000, 1000, 100000000, PGC_SUSET, 0},
};

/* Define the enrichment settings (from vt_define_settings). */
void
vt_define_enrichment_settings(void)
{
	vt_define_string_settings(enrichment_string_settings, lengthof(enrichment_string_settings));
	vt_define_int_settings(enrichment_int_settings, lengthof(enrichment_int_settings));
}
