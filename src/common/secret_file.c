/*
 * secret_file.c: reading a secret from a file that only the server's user
 * may read.
 *
 * The same rule as PostgreSQL's check of its SSL key: a file that another
 * account could read (group or world access, or owned by someone else) is
 * refused rather than used, so that a mistake in its mode is noticed
 * instead of leaking the secret.  The file is checked through the open
 * descriptor (fstat), so what is checked is what is read.
 *
 * Runs in check hooks, in the postmaster too: it reports problems through
 * its result, never by throwing, and keeps the secret out of every message.
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret_file.h"

/*
 * Fill in why a file is refused (problem, hint); returns NULL for the caller.
 */
static VtSecretFile *
refuse(char *problem, size_t problem_len, const char **hint, const char *hint_text,
	   const char *fmt, const char *setting, const char *path)
{
	snprintf(problem, problem_len, fmt, setting, path);
	*hint = hint_text;
	return NULL;
}

#define MODE_HINT "Make it owned by the operating-system user that runs PostgreSQL, with mode 0600 (chown, chmod 0600)."

/*
 * Open path and check, through the descriptor, that it is a regular file
 * only the server's user can read.  Returns the descriptor, or -1 with
 * problem (and *hint) set.
 */
static int
open_private_file(const char *setting, const char *path,
				  char *problem, size_t problem_len, const char **hint)
{
	int			fd;
	struct stat st;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
	{
		snprintf(problem, problem_len, "%s: could not open file \"%s\": %m", setting, path);
		*hint = "Relative paths are taken from the data directory.";
		return -1;
	}
	if (fstat(fd, &st) != 0)
	{
		snprintf(problem, problem_len, "%s: could not stat file \"%s\": %m", setting, path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode))
		refuse(problem, problem_len, hint, NULL,
			   "%s: \"%s\" is not a regular file", setting, path);
	else if (st.st_uid != geteuid())
		refuse(problem, problem_len, hint, MODE_HINT,
			   "%s: file \"%s\" is not owned by the server's user", setting, path);
	else if (st.st_mode & (S_IRWXG | S_IRWXO))
		refuse(problem, problem_len, hint, MODE_HINT,
			   "%s: file \"%s\" has group or world access", setting, path);
	else
		return fd;
	close(fd);
	return -1;
}

/* Up to cap bytes of fd into buf (*len of them); false, problem set, on error. */
static bool
read_up_to(int fd, char *buf, size_t cap, size_t *len, const char *setting,
		   const char *path, char *problem, size_t problem_len)
{
	*len = 0;
	while (*len < cap)
	{
		ssize_t		n = read(fd, buf + *len, cap - *len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			snprintf(problem, problem_len, "%s: could not read file \"%s\": %m", setting, path);
			return false;
		}
		if (n == 0)
			break;
		*len += n;
	}
	return true;
}

VtSecretFile *
vt_secret_file_read(const char *setting, const char *path, size_t max_bytes,
					char *problem, size_t problem_len, const char **hint)
{
	int			fd;
	char	   *buf;
	size_t		cap = max_bytes + 3;	/* room for "\r\n" and one byte too many */
	size_t		len = 0;
	VtSecretFile *result;

	*hint = NULL;
	fd = open_private_file(setting, path, problem, problem_len, hint);
	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	if (buf == NULL)
	{
		close(fd);
		return refuse(problem, problem_len, hint, NULL,
					  "%s: out of memory reading \"%s\"", setting, path);
	}
	if (!read_up_to(fd, buf, cap, &len, setting, path, problem, problem_len))
	{
		explicit_bzero(buf, cap);
		free(buf);
		close(fd);
		return NULL;
	}
	close(fd);

	/* one trailing newline, as editors and "echo" leave it */
	if (len > 0 && buf[len - 1] == '\n')
	{
		len--;
		if (len > 0 && buf[len - 1] == '\r')
			len--;
	}

	result = NULL;
	if (len == 0)
		refuse(problem, problem_len, hint, NULL, "%s: file \"%s\" is empty", setting, path);
	else if (len > max_bytes)
	{
		snprintf(problem, problem_len, "%s: file \"%s\" holds more than %zu bytes",
				 setting, path, max_bytes);
		*hint = NULL;
	}
	else if (memchr(buf, '\0', len) != NULL)
		refuse(problem, problem_len, hint, NULL,
			   "%s: file \"%s\" contains a NUL byte", setting, path);
	else if ((result = malloc(offsetof(VtSecretFile, value) + len + 1)) == NULL)
		refuse(problem, problem_len, hint, NULL,
			   "%s: out of memory reading \"%s\"", setting, path);
	else
	{
		result->len = len;
		memcpy(result->value, buf, len);
		result->value[len] = '\0';
	}
	explicit_bzero(buf, cap);
	free(buf);
	return result;
}
