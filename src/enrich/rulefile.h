/*
 * rulefile.h: locating and reading the YAML rule files that enrichment
 * uses (ua-parser's regexes.yaml, Device Detector's bots.yml).
 *
 * A rule file is read into lists of flat records: each entry of a YAML
 * sequence that is a mapping becomes one record of its scalar fields
 * (nested values are skipped).  Everything is palloc'd in the current
 * memory context.
 */
#ifndef VT_RULEFILE_H
#define VT_RULEFILE_H

typedef struct VtRuleRecord
{
	int			line;			/* 1-based line in the file, for messages */
	int			nfields;
	const char **keys;
	const char **values;
} VtRuleRecord;

typedef struct VtRuleList
{
	int			nrecords;
	VtRuleRecord *records;
} VtRuleList;

/* Who provides a rule file: for messages and hints. */
typedef struct VtRuleSource
{
	const char *what;			/* "ua-parser rule file" */
	const char *setting;		/* "visittrack.uap_regexes_path" */
	const char *package;		/* "uap-core" */
} VtRuleSource;

/*
 * The file a path setting names.  The setting may be a glob pattern; then
 * the match that sorts last by version (device_detector-1.0.10 after
 * -1.0.9) is used.  ERROR (undefined_file) when nothing matches.
 */
extern char *vt_rulefile_resolve(const char *setting_value, const VtRuleSource *src);

/*
 * Reads a YAML file.  With section NULL the document must be a sequence;
 * otherwise a mapping whose key "section" holds the sequence.  ERROR
 * (undefined_file, or insufficient_privilege for other access failures)
 * when the file cannot be opened, config_file_error when it is not YAML of
 * that shape.
 */
typedef struct VtRuleFile VtRuleFile;

extern VtRuleFile *vt_rulefile_read(const char *path, const VtRuleSource *src);
extern const VtRuleList *vt_rulefile_list(VtRuleFile *file, const char *section);

/* Value of a field of a record, NULL when absent. */
extern const char *vt_rule_field(const VtRuleRecord *rec, const char *key);

#endif
