/*
 * bgconnect.c: join a database without its owner's settings (bgconnect.h).
 *
 * A background worker runs as the bootstrap superuser.  InitPostgres
 * applies the database's and the role's settings to it like to any
 * session, so a database owner could otherwise choose the search_path
 * (and any other user-settable setting) of a superuser process.  The
 * values the worker inherited from the postmaster -- postgresql.conf and
 * the command line -- are noted before connecting and restored after, for
 * every setting whose value came from the database or a role.
 */
#include "postgres.h"

#include "postmaster/bgworker.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"

#include "bgconnect.h"

typedef struct SavedSetting
{
	const char *name;
	char	   *value;			/* NULL: no value to restore */
} SavedSetting;

/* Did the value come from ALTER DATABASE or ALTER ROLE settings? */
static bool
from_database_or_role(GucSource source)
{
	return source == PGC_S_DATABASE || source == PGC_S_USER ||
		source == PGC_S_DATABASE_USER || source == PGC_S_GLOBAL;
}

/* The value noted for a setting before connecting, or NULL. */
static const SavedSetting *
find_saved(const SavedSetting *saved, int n, const char *name)
{
	int			i;

	for (i = 0; i < n; i++)
		if (strcmp(saved[i].name, name) == 0)
			return &saved[i];
	return NULL;
}

void
vt_bgworker_connect(const char *dbname)
{
	struct config_generic **vars = get_guc_variables();
	int			n = GetNumConfigOptions();
	SavedSetting *saved = palloc(sizeof(SavedSetting) * n);
	int			i;

	for (i = 0; i < n; i++)
	{
		const char *value = GetConfigOption(vars[i]->name, true, false);

		saved[i].name = pstrdup(vars[i]->name);
		saved[i].value = value ? pstrdup(value) : NULL;
	}

	BackgroundWorkerInitializeConnection(dbname, NULL, 0);

	/* the array may have grown (placeholders): read it again */
	vars = get_guc_variables();
	for (i = 0; i < GetNumConfigOptions(); i++)
	{
		struct config_generic *var = vars[i];
		const SavedSetting *before;

		if (!from_database_or_role(var->source) ||
			strncmp(var->name, "visittrack.", strlen("visittrack.")) == 0)
			continue;
		before = find_saved(saved, n, var->name);
		if (before == NULL || before->value == NULL)
			continue;			/* a placeholder nothing reads */
		(void) set_config_option(var->name, before->value, PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_SET, true, WARNING, false);
		ereport(DEBUG1,
				(errmsg("%s ignores the database's or role's value of \"%s\"",
						MyBgworkerEntry ? MyBgworkerEntry->bgw_name : "visittrack",
						var->name)));
	}
}
