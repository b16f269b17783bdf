/*
 * secret_file.h: reading a secret from a file that only the server's user
 * may read.
 */
#ifndef VT_SECRET_FILE_H
#define VT_SECRET_FILE_H

/* malloc'd, so that it can be a setting's "extra" (freed by guc.c) */
typedef struct VtSecretFile
{
	size_t		len;
	char		value[FLEXIBLE_ARRAY_MEMBER];	/* NUL-terminated */
} VtSecretFile;

/*
 * Reads path: a regular file owned by the server's user, without group or
 * world access, 1 to max_bytes bytes once one trailing newline is removed,
 * without NUL bytes.  On failure returns NULL and writes into problem a
 * message naming the file (never its content) and into *hint what to do.
 * Never throws: it runs in check hooks, also in the postmaster.
 */
extern VtSecretFile *vt_secret_file_read(const char *setting, const char *path,
										 size_t max_bytes,
										 char *problem, size_t problem_len,
										 const char **hint);

#endif
