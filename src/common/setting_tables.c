/*
 * setting_tables.c: define visittrack.* settings from tables
 * (setting_tables.h).
 */
#include "postgres.h"

#include "setting_tables.h"

/* Define a table of integer settings, in order. */
void
vt_define_int_settings(const VtIntSetting *settings, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		DefineCustomIntVariable(settings[i].name, settings[i].short_desc, settings[i].long_desc,
								settings[i].var, settings[i].boot, settings[i].min, settings[i].max,
								settings[i].context, settings[i].flags, NULL, NULL, NULL);
}

/* Define a table of string settings, in order, with their hooks. */
void
vt_define_string_settings(const VtStringSetting *settings, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		DefineCustomStringVariable(settings[i].name, settings[i].short_desc, settings[i].long_desc,
								   settings[i].var, settings[i].boot,
								   settings[i].context, settings[i].flags,
								   settings[i].check_hook, settings[i].assign_hook, NULL);
}
