/*
 * redis_client.h: a small synchronous Redis client for PostgreSQL backends.
 *
 * It knows Redis commands and nothing about visittrack's data.  Every call
 * either returns a reply (possibly a Redis error reply, which the caller
 * inspects) or NULL when Redis could not be reached in time; it never raises
 * an ERROR for a Redis problem.  Replies are hiredis objects allocated with
 * malloc: the caller frees them with vt_redis_free().  A reply still held
 * when an ERROR aborts the (sub)transaction it was obtained in is freed by
 * the abort, so a caller may ereport while holding one, but must not use it
 * after catching that ERROR.  A reply left at commit is freed with a WARNING.
 */
#ifndef VT_REDIS_CLIENT_H
#define VT_REDIS_CLIENT_H

#include <hiredis/hiredis.h>

/* One command as an argument vector (binary safe). */
typedef struct VtRedisCommand
{
	int			argc;
	const char **argv;
	const size_t *argvlen;
} VtRedisCommand;

/* A Lua script sent with EVALSHA, falling back to EVAL once per connection. */
typedef struct VtRedisScript
{
	const char *body;
	char		sha1[41];		/* filled on first use */
} VtRedisScript;

/* Is a Redis server configured (visittrack.redis_host not empty)? */
extern bool vt_redis_configured(void);

/* The key namespace in use: server (host, port, db) and key prefix, hashed. */
extern uint32 vt_redis_namespace(void);

/*
 * Should this call try Redis now?  False when unconfigured, or while Redis
 * is known to be down and the retry interval has not passed.
 */
extern bool vt_redis_usable(void);

/* Run one command. */
extern redisReply *vt_redis_command(const VtRedisCommand *cmd);

/*
 * Run several commands in one round trip.  Fills replies[0..n-1] and returns
 * true, or returns false (and no replies) when Redis could not be reached.
 */
extern bool vt_redis_pipeline(int n, const VtRedisCommand *cmds, redisReply **replies);

/* Run a Lua script with keys and arguments (binary safe). */
extern redisReply *vt_redis_eval(VtRedisScript *script,
								 int nkeys, const char **keys, const size_t *keylens,
								 int nargs, const char **args, const size_t *arglens);

/* One call of a script, for vt_redis_eval_many. */
typedef struct VtRedisScriptCall
{
	int			nkeys;
	const char **keys;
	const size_t *keylens;
	int			nargs;
	const char **args;
	const size_t *arglens;
} VtRedisScriptCall;

/*
 * Run a script n times in one round trip (pipelined EVALSHA).  Fills
 * replies[0..n-1] and returns true, or returns false (and no replies) when
 * Redis could not be reached.
 */
extern bool vt_redis_eval_many(VtRedisScript *script, int n,
							   const VtRedisScriptCall *calls, redisReply **replies);

extern void vt_redis_free(redisReply *reply);

/* Is the reply an error reply?  Logs it at LOG level when it is. */
extern bool vt_redis_reply_is_error(redisReply *reply, const char *what);

/* Is this backend holding an open connection right now? */
extern bool vt_redis_connected(void);

#endif
