/*
 * vtregex.c: compiling and matching PCRE2 patterns.
 *
 * One match-data block, match context and JIT stack per backend, made on
 * first use and kept for the life of the backend; matching is single
 * threaded, so sharing them is safe.
 */
#include "postgres.h"

#include "vtregex.h"

#define DEPTH_LIMIT		10000	/* the interpreter's nesting; JIT ignores it */
#define JIT_STACK_MAX	(512 * 1024)

static pcre2_match_data *match_data = NULL;
static pcre2_match_context *match_context = NULL;
static pcre2_jit_stack *jit_stack = NULL;

int			vt_regex_match_limit = 200000;	/* visittrack.regex_match_limit */

/*
 * The match data, match context (depth limit) and JIT stack, made once
 * per backend.
 */
static void
ensure_match_state(void)
{
	if (match_data != NULL)
		return;
	match_context = pcre2_match_context_create(NULL);
	if (match_context == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	pcre2_set_depth_limit(match_context, DEPTH_LIMIT);
	jit_stack = pcre2_jit_stack_create(32 * 1024, JIT_STACK_MAX, NULL);
	if (jit_stack != NULL)
		pcre2_jit_stack_assign(match_context, NULL, jit_stack);
	match_data = pcre2_match_data_create(VT_REGEX_MAX_GROUPS, NULL);
	if (match_data == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
}

pcre2_code *
vt_regex_compile(const char *pattern, bool caseless, char *errbuf, size_t errlen)
{
	int			errcode;
	PCRE2_SIZE	erroffset;
	pcre2_code *code;

	code = pcre2_compile((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED,
						 caseless ? PCRE2_CASELESS : 0,
						 &errcode, &erroffset, NULL);
	if (code == NULL)
	{
		PCRE2_UCHAR msg[200];

		pcre2_get_error_message(errcode, msg, sizeof(msg));
		snprintf(errbuf, errlen, "%s at offset %zu", (char *) msg, (size_t) erroffset);
		return NULL;
	}
	/* without JIT support the interpreter runs the pattern: slower, same answers */
	(void) pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	return code;
}

void
vt_regex_free(pcre2_code *code)
{
	if (code)
		pcre2_code_free(code);
}

VtRegexResult
vt_regex_match(const pcre2_code *code, const char *subject, size_t len, VtMatch *m)
{
	int			rc;

	ensure_match_state();
	pcre2_set_match_limit(match_context, (uint32) vt_regex_match_limit);
	rc = pcre2_match(code, (PCRE2_SPTR) subject, len, 0, 0, match_data, match_context);
	if (rc >= 0)
	{
		m->subject = subject;
		m->ngroups = rc == 0 ? VT_REGEX_MAX_GROUPS : rc;
		m->ovector = pcre2_get_ovector_pointer(match_data);
		return VT_REGEX_MATCH;
	}
	switch (rc)
	{
		case PCRE2_ERROR_NOMATCH:
			return VT_REGEX_NO_MATCH;
		case PCRE2_ERROR_MATCHLIMIT:
		case PCRE2_ERROR_DEPTHLIMIT:
		case PCRE2_ERROR_HEAPLIMIT:
		case PCRE2_ERROR_JIT_STACKLIMIT:
			return VT_REGEX_LIMIT;
		case PCRE2_ERROR_NOMEMORY:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory while matching a user agent")));
			break;
		default:
			{
				PCRE2_UCHAR msg[200];

				pcre2_get_error_message(rc, msg, sizeof(msg));
				elog(ERROR, "PCRE2 match failed: %s", (char *) msg);
			}
	}
	return VT_REGEX_NO_MATCH;	/* not reached */
}

const char *
vt_match_group(const VtMatch *m, int n, size_t *len)
{
	if (n < 0 || n >= m->ngroups || m->ovector[2 * n] == PCRE2_UNSET)
	{
		*len = 0;
		return NULL;
	}
	*len = m->ovector[2 * n + 1] - m->ovector[2 * n];
	return m->subject + m->ovector[2 * n];
}
