/*
 * uap.c: compiles uap-core's regexes.yaml and evaluates it.
 *
 * A rule set lives in its own memory context under TopMemoryContext; its
 * compiled patterns are PCRE2 (malloc'd) and are released by vt_uap_free,
 * also when loading fails half-way.  Replacement strings come from the file
 * as UTF-8; in a database of another encoding their non-ASCII bytes become
 * '?'.  Everything taken from the user agent is cut back to valid text in
 * the database encoding, because byte-wise patterns may split a character.
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "rulefile.h"
#include "uap.h"
#include "vtregex.h"

#define UAP_NFIELDS 5

typedef enum UapKind
{
	UAP_UA,
	UAP_OS,
	UAP_DEVICE,
	UAP_NKINDS
} UapKind;

typedef struct UapRule
{
	pcre2_code *code;
	const char *repl[UAP_NFIELDS];	/* NULL: take the field's group */
} UapRule;

typedef struct UapList
{
	int			n;
	UapRule    *rules;
} UapList;

struct UapRules
{
	MemoryContext cxt;
	UapList		lists[UAP_NKINDS];
};

static const VtRuleSource uap_source = {
	"ua-parser rule file", "visittrack.uap_regexes_path", "uap-core"
};

static const char *const section_names[UAP_NKINDS] = {
	"user_agent_parsers", "os_parsers", "device_parsers"
};

static const char *const replacement_keys[UAP_NKINDS][UAP_NFIELDS] = {
	{"family_replacement", "v1_replacement", "v2_replacement", "v3_replacement", NULL},
	{"os_replacement", "os_v1_replacement", "os_v2_replacement", "os_v3_replacement",
	"os_v4_replacement"},
	{"device_replacement", "brand_replacement", "model_replacement", NULL, NULL}
};

/* Capture group each field takes when it has no replacement (0: none). */
static const int default_groups[UAP_NKINDS][UAP_NFIELDS] = {
	{1, 2, 3, 4, 0},
	{1, 2, 3, 4, 5},
	{1, 0, 1, 0, 0}
};

/* A replacement from the file, as text the database can hold. */
static char *
replacement_text(MemoryContext cxt, const char *value)
{
	char	   *s = MemoryContextStrdup(cxt, value);
	int			enc = GetDatabaseEncoding();
	char	   *p;

	if (enc == PG_UTF8 || enc == PG_SQL_ASCII)
		return s;
	for (p = s; *p; p++)
		if (IS_HIGHBIT_SET(*p))
			*p = '?';
	return s;
}

/*
 * Compile the rules of one ua-parser list (user agents, OS or devices)
 * into rules; a rule without a pattern, or whose pattern does not
 * compile, is a config_file_error.
 */
static void
compile_list(UapRules *rules, UapKind kind, const VtRuleList *src, const char *path)
{
	UapList    *list = &rules->lists[kind];
	int			i;

	list->rules = MemoryContextAllocZero(rules->cxt, sizeof(UapRule) * Max(src->nrecords, 1));
	for (i = 0; i < src->nrecords; i++)
	{
		const VtRuleRecord *rec = &src->records[i];
		const char *pattern = vt_rule_field(rec, "regex");
		const char *flag = vt_rule_field(rec, "regex_flag");
		UapRule    *rule = &list->rules[list->n];
		char		err[256];
		int			f;

		/* some thousand patterns to JIT-compile: let a cancel or a timeout through */
		CHECK_FOR_INTERRUPTS();
		if (pattern == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("rule at line %d of \"%s\" has no regex", rec->line, path),
					 errhint("Reinstall the Debian package uap-core.")));
		rule->code = vt_regex_compile(pattern, flag && strchr(flag, 'i'), err, sizeof(err));
		if (rule->code == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("could not compile the pattern at line %d of \"%s\": %s",
							rec->line, path, err),
					 errhint("Reinstall the Debian package uap-core, or point visittrack.uap_regexes_path at a file of that package.")));
		list->n++;				/* counted at once: vt_uap_free must see it */
		for (f = 0; f < UAP_NFIELDS; f++)
		{
			const char *key = replacement_keys[kind][f];
			const char *value = key ? vt_rule_field(rec, key) : NULL;

			/* an empty replacement means none, as in the reference parsers */
			rule->repl[f] = value && value[0] ? replacement_text(rules->cxt, value) : NULL;
		}
	}
}

UapRules *
vt_uap_load(const char *path)
{
	MemoryContext old = CurrentMemoryContext;
	MemoryContext cxt;
	UapRules   *volatile rules;

	cxt = AllocSetContextCreate(TopMemoryContext, "visittrack ua-parser rules",
								ALLOCSET_DEFAULT_SIZES);
	rules = MemoryContextAllocZero(cxt, sizeof(UapRules));
	rules->cxt = cxt;
	PG_TRY();
	{
		MemoryContext tmp = AllocSetContextCreate(old, "visittrack rule file",
												  ALLOCSET_DEFAULT_SIZES);
		VtRuleFile *file;
		int			k;

		MemoryContextSwitchTo(tmp);
		file = vt_rulefile_read(path, &uap_source);
		for (k = 0; k < UAP_NKINDS; k++)
			compile_list(rules, (UapKind) k, vt_rulefile_list(file, section_names[k]), path);
		MemoryContextSwitchTo(old);
		MemoryContextDelete(tmp);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		vt_uap_free(rules);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return rules;
}

void
vt_uap_free(UapRules *rules)
{
	int			k,
				i;

	if (rules == NULL)
		return;
	for (k = 0; k < UAP_NKINDS; k++)
		for (i = 0; i < rules->lists[k].n; i++)
			vt_regex_free(rules->lists[k].rules[i].code);
	MemoryContextDelete(rules->cxt);
}

int
vt_uap_rule_count(const UapRules *rules)
{
	return rules->lists[UAP_UA].n + rules->lists[UAP_OS].n + rules->lists[UAP_DEVICE].n;
}

/* The longest prefix of s that is valid in the database encoding. */
static char *
valid_text(char *s)
{
	int			len = strlen(s);
	int			ok = pg_encoding_verifymbstr(GetDatabaseEncoding(), s, len);

	if (ok < len)
		s[ok] = '\0';
	return s;
}

/* Trimmed copy; NULL when nothing is left. */
static char *
trimmed(const char *s, size_t len)
{
	while (len > 0 && isspace((unsigned char) *s))
		s++, len--;
	while (len > 0 && isspace((unsigned char) s[len - 1]))
		len--;
	if (len == 0)
		return NULL;
	return valid_text(pnstrdup(s, len));
}

/* A replacement with $1..$9 substituted. */
static char *
expand(const char *repl, const VtMatch *m)
{
	StringInfoData buf;
	const char *p;

	initStringInfo(&buf);
	for (p = repl; *p; p++)
	{
		if (p[0] == '$' && p[1] >= '1' && p[1] <= '9')
		{
			size_t		len;
			const char *g = vt_match_group(m, p[1] - '0', &len);

			if (g)
				appendBinaryStringInfo(&buf, g, len);
			p++;
		}
		else
			appendStringInfoChar(&buf, *p);
	}
	return trimmed(buf.data, buf.len);
}

/*
 * One field of a match: the rule's replacement with $1..$9 expanded, or
 * the field's default capture group.
 */
static char *
field_value(const UapRule *rule, UapKind kind, int field, const VtMatch *m)
{
	int			group = default_groups[kind][field];
	const char *g;
	size_t		len;

	if (rule->repl[field])
		return expand(rule->repl[field], m);
	if (group == 0)
		return NULL;
	g = vt_match_group(m, group, &len);
	if (g == NULL || len == 0)
		return NULL;
	return valid_text(pnstrdup(g, len));
}

/*
 * Evaluates one list: fields[] filled from the first matching rule.  A
 * rule that gives up on a limit ends the list with nothing found: a later
 * rule must not answer, since the first match is the one that counts.
 * Returns false in that case.
 */
static bool
eval_list(const UapRules *rules, UapKind kind, const char *ua, size_t len,
		  char **fields[UAP_NFIELDS])
{
	const UapList *list = &rules->lists[kind];
	int			i,
				f;

	for (f = 0; f < UAP_NFIELDS; f++)
		if (fields[f])
			*fields[f] = NULL;
	for (i = 0; i < list->n; i++)
	{
		VtMatch		m;

		/* each match is bounded by the limit; the list is long */
		CHECK_FOR_INTERRUPTS();
		switch (vt_regex_match(list->rules[i].code, ua, len, &m))
		{
			case VT_REGEX_NO_MATCH:
				continue;
			case VT_REGEX_LIMIT:
				return false;
			case VT_REGEX_MATCH:
				break;
		}
		for (f = 0; f < UAP_NFIELDS; f++)
			if (fields[f])
				*fields[f] = field_value(&list->rules[i], kind, f, &m);
		return true;
	}
	return true;
}

void
vt_uap_parse(const UapRules *rules, const char *ua, size_t len, UapResult *out)
{
	char	  **ua_fields[UAP_NFIELDS] = {
		&out->ua_family, &out->ua_major, &out->ua_minor, &out->ua_patch, NULL
	};
	char	  **os_fields[UAP_NFIELDS] = {
		&out->os_family, &out->os_major, &out->os_minor, &out->os_patch,
		&out->os_patch_minor
	};
	char	  **device_fields[UAP_NFIELDS] = {
		&out->device_family, &out->device_brand, &out->device_model, NULL, NULL
	};

	out->limited = false;
	if (!eval_list(rules, UAP_UA, ua, len, ua_fields))
		out->limited = true;
	if (!eval_list(rules, UAP_OS, ua, len, os_fields))
		out->limited = true;
	if (!eval_list(rules, UAP_DEVICE, ua, len, device_fields))
		out->limited = true;
	if (out->ua_family == NULL)
		out->ua_family = pstrdup("Other");
	if (out->os_family == NULL)
		out->os_family = pstrdup("Other");
	if (out->device_family == NULL)
		out->device_family = pstrdup("Other");
}
