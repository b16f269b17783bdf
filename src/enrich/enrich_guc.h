/*
 * enrich_guc.h: settings of the enrichment modules (user agents, bots,
 * geolocation): where their rule files and databases are, and how many
 * parsed user agents a backend keeps.
 */
#ifndef VT_ENRICH_GUC_H
#define VT_ENRICH_GUC_H

#define VT_DEFAULT_UAP_REGEXES	"/usr/share/uap-core/regexes.yaml"
#define VT_DEFAULT_BOT_PATTERNS \
	"/usr/share/rubygems-integration/all/gems/device_detector-*/regexes/bots.yml"

extern char *vt_uap_regexes_path;
extern char *vt_bot_patterns_path;
extern char *vt_crawler_patterns_path;
extern char *vt_geoip_database;
extern int	vt_ua_cache_size;

extern void vt_define_enrichment_settings(void);

#endif
