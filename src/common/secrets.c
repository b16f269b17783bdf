/*
 * secrets.c: the settings behind visittrack's two secrets, the key of the
 * keyed hashes (fingerprints, session ids) and the Redis password.
 *
 * The way to configure them is a file that only the server's user may read,
 * named by visittrack.fingerprint_secret_file or
 * visittrack.redis_password_file (PGC_SIGHUP: postgresql.conf or ALTER
 * SYSTEM).  The check hook reads it (secret_file.c) whenever the
 * configuration is loaded, at start and at every reload, in the postmaster
 * and in every backend; a file that cannot be used is refused like any
 * invalid setting: at a reload the previous secret stays and the postmaster
 * logs why (a message naming the file, never its content).
 *
 * The secret settings themselves (visittrack.fingerprint_secret,
 * visittrack.redis_password) remain for a superuser's session (SET, or a
 * connection option), e.g. in tests, and then take precedence over the
 * file.  Everywhere else PostgreSQL would expose the value:
 *  - ALTER DATABASE / ALTER ROLE ... SET and a function's SET clause store
 *    it in catalogs every role can read (pg_db_role_setting, pg_proc);
 *    PostgreSQL validates those with source PGC_S_TEST, and they are
 *    refused there;
 *  - values stored before this check existed are applied at connection with
 *    PGC_S_GLOBAL, PGC_S_DATABASE, PGC_S_USER or PGC_S_DATABASE_USER, and
 *    refused (PostgreSQL reports a WARNING);
 *  - a value in postgresql.conf (PGC_S_FILE) or on the command line
 *    (PGC_S_ARGV) is refused too: a reload logs every changed parameter
 *    with its new value, and the command line is visible to every local
 *    account.  The refusal names the setting, not the value.
 * A refused value that left the secret empty makes fingerprints fail
 * (vt_secret_require_usable) instead of silently using another key.  The
 * error of a refused statement is logged without the statement (an
 * emit_log_hook), since the statement holds the value.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/guc.h"

#include "guc.h"
#include "setting_tables.h"
#include "secret_file.h"
#include "secrets.h"

/* the effective values, read by fingerprint.c and redis_client.c */
char	   *vt_fingerprint_secret = "";
char	   *vt_redis_password = "";

typedef struct SecretState
{
	const char *setting;		/* the value's setting */
	const char *file_setting;	/* the file's setting */
	char	   *session_value;	/* the value's setting (GUC variable) */
	char	   *file_path;		/* the file's setting (GUC variable) */
	const char *file_value;		/* the file's content (in the GUC extra) */
	char	  **effective;
	char		refused[256];	/* why a configured secret is missing; "" */
} SecretState;

static SecretState secrets[VT_SECRET_COUNT] = {
	{"visittrack.fingerprint_secret", "visittrack.fingerprint_secret_file",
	NULL, NULL, NULL, &vt_fingerprint_secret, ""},
	{"visittrack.redis_password", "visittrack.redis_password_file",
	NULL, NULL, NULL, &vt_redis_password, ""},
};

/* true while _PG_init defines the settings: values are applied for the first time */
static bool defining = false;

static emit_log_hook_type prev_emit_log_hook = NULL;

/*
 * An error about a secret setting (a refused ALTER DATABASE, ALTER ROLE or
 * ALTER SYSTEM ... SET, a SET without the privilege) would be logged with
 * its statement, which holds the value: leave the statement out.
 */
static void
hide_statements_naming_secrets(ErrorData *edata)
{
	int			i;

	for (i = 0; edata->message && i < VT_SECRET_COUNT; i++)
		if (strstr(edata->message, secrets[i].setting) != NULL)
			edata->hide_stmt = true;
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/* The value in use: the session value if set, else the file's, else none. */
static void
update_effective(SecretState *s, const char *session_value, const char *file_value)
{
	if (session_value && session_value[0])
		*s->effective = (char *) session_value;
	else if (file_value)
		*s->effective = (char *) file_value;
	else
		*s->effective = "";
}

/*
 * A value is refused when it is first applied (server start, LOAD, a new
 * connection): remember why, so that the secret's users fail rather than
 * fall back to another key.  At a reload the previous secret stays in use.
 */
static void
note_refusal(SecretState *s, GucSource source, const char *why)
{
	if (defining || source == PGC_S_GLOBAL || source == PGC_S_DATABASE ||
		source == PGC_S_USER || source == PGC_S_DATABASE_USER)
		strlcpy(s->refused, why, sizeof(s->refused));
}

/* --- the file settings ---------------------------------------------------- */

/*
 * Check hook of a secret's file setting: the file is read here, its
 * contents passed on as extra; a file that cannot be used is refused.
 */
static bool
check_file(SecretState *s, char **newval, void **extra, GucSource source)
{
	char		problem[256];
	const char *hint;
	VtSecretFile *file;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	file = vt_secret_file_read(s->file_setting, *newval, VT_SECRET_MAX_BYTES,
							   problem, sizeof(problem), &hint);
	if (file == NULL)
	{
		GUC_check_errcode(ERRCODE_CONFIG_FILE_ERROR);
		GUC_check_errmsg("%s", problem);
		if (hint)
			GUC_check_errhint("%s", hint);
		note_refusal(s, source, problem);
		return false;
	}
	*extra = file;
	return true;
}

/* Assign hook of a file setting: its contents become the file value. */
static void
assign_file(SecretState *s, void *extra)
{
	s->file_value = extra ? ((VtSecretFile *) extra)->value : NULL;
	if (s->file_value)
		s->refused[0] = '\0';
	update_effective(s, s->session_value, s->file_value);
}

/* --- the value settings --------------------------------------------------- */

/*
 * Check hook of a session-only value: accepted from SET and the client;
 * refused, saying where it came from, in the configuration file, on the
 * command line and per database, role or function (doc/settings.md,
 * "Secrets").
 */
static bool
check_value(SecretState *s, char **newval, void **extra, GucSource source)
{
	const char *where;
	char		why[256];

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;			/* nothing secret in an empty value */
	switch (source)
	{
		case PGC_S_DEFAULT:
		case PGC_S_DYNAMIC_DEFAULT:
		case PGC_S_CLIENT:
		case PGC_S_OVERRIDE:
		case PGC_S_SESSION:
			return true;
		case PGC_S_TEST:
			/* ALTER DATABASE/ROLE ... SET, a function's SET clause */
			where = "per database, per role or for a function";
			break;
		case PGC_S_FILE:
			where = "in the configuration file";
			break;
		case PGC_S_ENV_VAR:
		case PGC_S_ARGV:
			where = "on the server's command line";
			break;
		default:
			where = "per database or role";
			break;
	}
	GUC_check_errcode(ERRCODE_CANT_CHANGE_RUNTIME_PARAM);
	/* a message of our own: PostgreSQL's default one would quote the value */
	GUC_check_errmsg("%s cannot be set %s", s->setting, where);
	if (source == PGC_S_TEST)
		GUC_check_errdetail("Values set this way are stored in catalogs that every role can read.");
	if (source == PGC_S_TEST || source == PGC_S_FILE ||
		source == PGC_S_ENV_VAR || source == PGC_S_ARGV)
		GUC_check_errhint("Put the secret in a file readable only by the server's user and name that file in %s in postgresql.conf.",
						  s->file_setting);
	else
		GUC_check_errhint("Remove it with ALTER DATABASE or ALTER ROLE ... RESET %s, and name a file in %s instead.",
						  s->setting, s->file_setting);
	snprintf(why, sizeof(why), "%s was set %s, which is refused", s->setting, where);
	note_refusal(s, source, why);
	return false;
}

/* Assign hook of a session-only value setting. */
static void
assign_value(SecretState *s, const char *newval)
{
	update_effective(s, newval, s->file_value);
}

/* --- hooks, one set per secret -------------------------------------------- */

#define SECRET_HOOKS(tag, index) \
static bool \
check_##tag##_file(char **newval, void **extra, GucSource source) \
{ \
	return check_file(&secrets[index], newval, extra, source); \
} \
static void \
assign_##tag##_file(const char *newval, void *extra) \
{ \
	assign_file(&secrets[index], extra); \
} \
static bool \
check_##tag(char **newval, void **extra, GucSource source) \
{ \
	return check_value(&secrets[index], newval, extra, source); \
} \
static void \
assign_##tag(const char *newval, void *extra) \
{ \
	assign_value(&secrets[index], newval); \
}

SECRET_HOOKS(fingerprint_secret, VT_SECRET_FINGERPRINT)
SECRET_HOOKS(redis_password, VT_SECRET_REDIS_PASSWORD)

/*
 * A secret's two settings: its file, read by the server, and a value for
 * one session only (doc/settings.md, "Secrets"), with the hooks above.
 */
#define SECRET_SETTINGS(tag, index, file_name, file_desc, file_long_desc, name, desc) \
	{file_name, file_desc, file_long_desc, &secrets[index].file_path, "", \
		PGC_SIGHUP, GUC_SUPERUSER_ONLY | GUC_NOT_IN_SAMPLE, \
	check_##tag##_file, assign_##tag##_file}, \
	{name, desc, gettext_noop("Refused in postgresql.conf and per database or role."), \
		&secrets[index].session_value, "", \
		PGC_SUSET, GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE, \
	check_##tag, assign_##tag}

static const VtStringSetting secret_settings[] = {
	SECRET_SETTINGS(redis_password, VT_SECRET_REDIS_PASSWORD,
					"visittrack.redis_password_file",
					gettext_noop("File holding the Redis password (AUTH), readable only by the server's user."),
					gettext_noop("Read at server start and at every reload; one trailing newline is ignored."),
					"visittrack.redis_password",
					gettext_noop("Redis password for this session only; use visittrack.redis_password_file.")),
	SECRET_SETTINGS(fingerprint_secret, VT_SECRET_FINGERPRINT,
					"visittrack.fingerprint_secret_file",
					gettext_noop("File holding the key of the keyed hashes behind fingerprints and session ids, readable only by the server's user."),
					gettext_noop("Read at server start and at every reload; one trailing newline is ignored. Unset: a random per-install key."),
					"visittrack.fingerprint_secret",
					gettext_noop("Key of the keyed hashes for this session only; use visittrack.fingerprint_secret_file.")),
};

void
vt_secrets_init(void)
{
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = hide_statements_naming_secrets;

	defining = true;
	vt_define_string_settings(secret_settings, lengthof(secret_settings));
	defining = false;
}

void
vt_secret_require_usable(VtSecret which)
{
	SecretState *s = &secrets[which];

	if ((*s->effective)[0] == '\0' && s->refused[0] != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s is configured but could not be used", s->setting),
				 errdetail("%s.", s->refused),
				 errhint("Name a file readable only by the server's user in %s (the server log says what was refused) and reload; "
						 "a value set per database or role must also be removed (ALTER DATABASE or ALTER ROLE ... RESET), then reconnect.",
						 s->file_setting)));
}
