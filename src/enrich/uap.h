/*
 * uap.h: the ua-parser rule set (uap-core's regexes.yaml) and its
 * evaluation: user agent family and version, OS family and version, device
 * family, brand and model.
 *
 * Semantics follow uap-core's specification: the first matching rule of
 * each list wins; a replacement may refer to capture groups as $1..$9 (an
 * unset group reads as empty), is trimmed, and an empty result is NULL;
 * without a replacement a field takes its capture group in order.  Nothing
 * matching gives family "Other".  A rule that reaches the match limit
 * (vtregex.h) ends its list as if nothing matched, and sets "limited".
 */
#ifndef VT_UAP_H
#define VT_UAP_H

typedef struct UapRules UapRules;

typedef struct UapResult
{
	char	   *ua_family;		/* never NULL ("Other") */
	char	   *ua_major;
	char	   *ua_minor;
	char	   *ua_patch;
	char	   *os_family;		/* never NULL ("Other") */
	char	   *os_major;
	char	   *os_minor;
	char	   *os_patch;
	char	   *os_patch_minor;
	char	   *device_family;	/* never NULL ("Other") */
	char	   *device_brand;
	char	   *device_model;
	bool		limited;		/* a rule gave up on a limit (its list says "Other") */
} UapResult;

/* Loads and compiles a regexes.yaml; ERROR when it cannot. */
extern UapRules *vt_uap_load(const char *path);
extern void vt_uap_free(UapRules *rules);
extern int	vt_uap_rule_count(const UapRules *rules);

/* Parses ua[0..len); strings are palloc'd in the current context. */
extern void vt_uap_parse(const UapRules *rules, const char *ua, size_t len,
						 UapResult *out);

#endif
