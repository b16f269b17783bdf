/*
 * setting_tables.h: visittrack.* settings described by tables.
 *
 * guc.c, secrets.c and enrich_guc.c each describe their settings in a
 * table and define them with these functions, so that the shape of a
 * definition is written once.
 */
#ifndef VT_SETTING_TABLES_H
#define VT_SETTING_TABLES_H

#include "utils/guc.h"

/*
 * Settings described by tables, defined in order by the vt_define_*
 * functions (DefineCustom*Variable with no show hook).  long_desc may be
 * NULL; descriptions are gettext_noop strings.
 */
typedef struct VtIntSetting
{
	const char *name;
	const char *short_desc;
	const char *long_desc;
	int		   *var;
	int			boot;
	int			min;
	int			max;
	GucContext	context;
	int			flags;			/* GUC_UNIT_*, ... */
} VtIntSetting;

typedef struct VtStringSetting
{
	const char *name;
	const char *short_desc;
	const char *long_desc;
	char	  **var;
	const char *boot;
	GucContext	context;
	int			flags;
	GucStringCheckHook check_hook;
	GucStringAssignHook assign_hook;
} VtStringSetting;

extern void vt_define_int_settings(const VtIntSetting *settings, int n);
extern void vt_define_string_settings(const VtStringSetting *settings, int n);

#endif
