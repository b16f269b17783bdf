/*
 * vtregex.h: PCRE2 patterns for the enrichment rule sets.
 *
 * Patterns are compiled byte-wise (no UTF mode: user agents are matched as
 * bytes, which is what the rule sets are written for) and JIT-compiled when
 * the library supports it.  Compiled code is malloc'd by PCRE2 and must be
 * released with vt_regex_free.  Matching shares one match-data block and a
 * match context whose limits keep a pathological pattern or input from
 * running away (visittrack.regex_match_limit backtracking steps per match).
 * A match that hits a limit is neither a match nor a miss: the caller is
 * told, and decides what an undecidable answer means for it.
 */
#ifndef VT_VTREGEX_H
#define VT_VTREGEX_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* Most capture groups a match reports (further groups read as unset). */
#define VT_REGEX_MAX_GROUPS 20

typedef struct VtMatch
{
	const char *subject;
	int			ngroups;		/* groups reported, group 0 included */
	PCRE2_SIZE *ovector;
} VtMatch;

typedef enum VtRegexResult
{
	VT_REGEX_NO_MATCH,
	VT_REGEX_MATCH,
	VT_REGEX_LIMIT				/* gave up: match, depth, heap or JIT stack limit */
} VtRegexResult;

/* visittrack.regex_match_limit (defined in enrich_guc.c) */
extern int	vt_regex_match_limit;

/*
 * Compiles a pattern; NULL with a message in errbuf when it does not
 * compile.
 */
extern pcre2_code *vt_regex_compile(const char *pattern, bool caseless,
									char *errbuf, size_t errlen);
extern void vt_regex_free(pcre2_code *code);

/*
 * Match against subject[0..len); fills *m on VT_REGEX_MATCH.  Errors other
 * than a limit (PCRE2 out of memory, an internal error) raise an ERROR.
 */
extern VtRegexResult vt_regex_match(const pcre2_code *code, const char *subject,
									size_t len, VtMatch *m);

/* Group n of a match (n >= 1) or NULL when unset or absent; *len set. */
extern const char *vt_match_group(const VtMatch *m, int n, size_t *len);

#endif
