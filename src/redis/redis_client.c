/*
 * redis_client.c: one lazily opened, reused Redis connection per backend.
 *
 * hiredis is driven in non-blocking mode and every wait goes through a
 * PostgreSQL WaitEventSet on the socket and the process latch, so that
 *  - no call waits longer than visittrack.redis_timeout_ms (connect and
 *    command each have a deadline);
 *  - a query cancel or backend termination interrupts a wait at once;
 *  - postmaster death ends the process.
 * Any connection-level failure (refused, reset, EOF, protocol error,
 * timeout, interrupt) frees the hiredis context, which hiredis leaves
 * unusable, and marks Redis down in the shared health record so that other
 * calls skip Redis until the retry interval has passed.  Nothing here raises
 * an ERROR for a Redis problem: callers get NULL and fall back.
 *
 * hiredis allocates with malloc; memory contexts never see it.  Replies are
 * freed by the caller (vt_redis_free) and contexts here, on every path.
 * The error paths are PostgreSQL's: every reply handed out is recorded until
 * it is freed, and a (sub)transaction abort frees those obtained since that
 * (sub)transaction began, so an ERROR -- a cancel while a later reply of a
 * pipeline is awaited, or a caller's ereport while it holds a reply -- leaks
 * none.  A call cut short by an ERROR leaves the connection mid-exchange
 * (a request sent, a reply half read): it is dropped at the abort, or at the
 * latest by the next call, which then reconnects.
 */
#include "postgres.h"

#include <errno.h>
#include <sys/socket.h>

#include "access/xact.h"
#include "common/cryptohash.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "guc.h"
#include "keyspace.h"
#include "redis_client.h"
#include "shared_state.h"

typedef struct Connection
{
	redisContext *ctx;
	WaitEventSet *wait_set;
	int			socket_event;	/* position of the socket in wait_set */
	uint32		socket_events;	/* what socket_event currently waits for */
	uint32		target;			/* server identity, see target_of_settings */
	uint32		credentials;	/* hash of the password it authenticated with */
} Connection;

static Connection conn;
static bool exit_callback_registered = false;

/*
 * Set while a call talks to Redis (connecting, or between sending a request
 * and reading its last reply).  Still set after the call means an ERROR cut
 * it short, and the connection is in an unknown state.
 */
static bool mid_exchange = false;

/* A reply handed out and not yet freed. */
typedef struct LiveReply
{
	redisReply *reply;			/* the key */
	SubTransactionId subid;		/* obtained in; InvalidSubTransactionId outside one */
} LiveReply;

static HTAB *live_replies = NULL;

/* a hash of what identifies the server: host, port and database */
static uint32
target_of_settings(void)
{
	uint32		h = hash_bytes((const unsigned char *) vt_redis_host, strlen(vt_redis_host));

	h = hash_combine(h, (uint32) vt_redis_port);
	return hash_combine(h, (uint32) vt_redis_db);
}

uint32
vt_redis_namespace(void)
{
	const char *prefix = vt_key_prefix();

	return hash_combine(target_of_settings(),
						hash_bytes((const unsigned char *) prefix, strlen(prefix)));
}

static uint32
credentials_of_settings(void)
{
	const char *pw = vt_redis_password ? vt_redis_password : "";

	return hash_bytes((const unsigned char *) pw, strlen(pw));
}

static void
close_connection(void)
{
	if (conn.wait_set)
		FreeWaitEventSet(conn.wait_set);
	if (conn.ctx)
		redisFree(conn.ctx);
	conn.wait_set = NULL;
	conn.ctx = NULL;
	mid_exchange = false;
}

static void
close_at_exit(int code, Datum arg)
{
	close_connection();
}

/*
 * dynahash allocates entries with malloc here, so that recording a reply
 * can fail without raising (HASH_ENTER_NULL), and the reply then be freed
 * before the out-of-memory ERROR is raised.
 */
static void *
live_alloc(Size size)
{
	return malloc(size);
}

static void
track_reply(redisReply *reply)
{
	redisReply *key = reply;
	LiveReply  *entry;
	bool		found;

	entry = hash_search(live_replies, &key, HASH_ENTER_NULL, &found);
	if (entry == NULL)
	{
		freeReplyObject(reply);
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	}
	entry->subid = IsTransactionState() ? GetCurrentSubTransactionId() : InvalidSubTransactionId;
}

/* Frees a reply obtained from exchange(), and forgets it. */
static void
release_reply(redisReply *reply)
{
	if (reply == NULL)
		return;
	(void) hash_search(live_replies, &reply, HASH_REMOVE, NULL);
	freeReplyObject(reply);
}

/*
 * Frees the replies obtained in subtransaction "from" or later (all that a
 * transaction obtained when "from" is its top level); returns how many.
 * Replies obtained outside any transaction belong to none and are left.
 */
static int
release_replies_since(SubTransactionId from)
{
	HASH_SEQ_STATUS seq;
	LiveReply  *entry;
	int			n = 0;

	if (live_replies == NULL)
		return 0;
	hash_seq_init(&seq, live_replies);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		redisReply *reply = entry->reply;

		if (entry->subid == InvalidSubTransactionId || entry->subid < from)
			continue;
		/* removing the entry just returned is allowed during a scan */
		(void) hash_search(live_replies, &reply, HASH_REMOVE, NULL);
		freeReplyObject(reply);
		n++;
	}
	return n;
}

/* An ERROR ended the (sub)transaction: release what the calls in it held. */
static void
release_after_error(SubTransactionId from)
{
	if (mid_exchange)
		close_connection();
	(void) release_replies_since(from);
}

static void
on_xact_event(XactEvent event, void *arg)
{
	int			leaked;

	switch (event)
	{
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			release_after_error(TopSubTransactionId);
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			/* a caller that forgot a reply: like a leaked buffer pin */
			leaked = release_replies_since(TopSubTransactionId);
			if (leaked > 0)
				elog(WARNING, "visittrack: %d Redis replies were not freed", leaked);
			break;
		default:
			break;
	}
}

static void
on_subxact_event(SubXactEvent event, SubTransactionId sub, SubTransactionId parent,
				 void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		release_after_error(sub);
}

/* Once per backend, before the first reply can be handed out. */
static void
ensure_cleanup_registered(void)
{
	HASHCTL		ctl;

	if (live_replies != NULL)
		return;
	if (!exit_callback_registered)
	{
		on_proc_exit(close_at_exit, (Datum) 0);
		exit_callback_registered = true;
	}
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(redisReply *);
	ctl.entrysize = sizeof(LiveReply);
	ctl.alloc = live_alloc;
	live_replies = hash_create("visittrack Redis replies", 64, &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_ALLOC);
	RegisterXactCallback(on_xact_event, NULL);
	RegisterSubXactCallback(on_subxact_event, NULL);
}

/*
 * Give up on the connection: free it, count the failure and mark Redis down.
 * Always returns false so that callers can "return connection_failed(...)".
 */
static bool
connection_failed(bool timed_out, const char *fmt,...) pg_attribute_printf(2, 3);

static bool
connection_failed(bool timed_out, const char *fmt,...)
{
	char		message[256];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);

	close_connection();
	vt_count(timed_out ? VT_REDIS_TIMEOUTS : VT_REDIS_FAILURES, 1);
	vt_redis_health_failed(target_of_settings(), message, vt_redis_retry_interval_ms);
	ereport(DEBUG1, (errmsg_internal("visittrack: Redis unavailable: %s", message)));
	return false;
}

/*
 * Wait until the socket is ready for writing (or reading) or the deadline
 * passes.  Interrupts are served here; one that raises an ERROR leaves
 * mid_exchange set, and the abort (or the next call) drops the connection,
 * since a half-read reply would poison it.
 */
static bool
wait_socket(bool for_write, TimestampTz deadline)
{
	uint32		wanted = for_write ? WL_SOCKET_WRITEABLE : WL_SOCKET_READABLE;

	if (conn.socket_events != wanted)
	{
		ModifyWaitEvent(conn.wait_set, conn.socket_event, wanted, NULL);
		conn.socket_events = wanted;
	}

	for (;;)
	{
		WaitEvent	event;
		long		remaining_ms;
		TimestampTz now = GetCurrentTimestamp();

		if (now >= deadline)
			return false;
		remaining_ms = (long) ((deadline - now + 999) / 1000);

		if (WaitEventSetWait(conn.wait_set, remaining_ms, &event, 1,
							 PG_WAIT_EXTENSION) == 0)
			continue;			/* timed out: the deadline check decides */

		if (event.events & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
			continue;
		}
		if (event.events & wanted)
			return true;
	}
}

static bool
connect_to_redis(TimestampTz deadline)
{
	redisContext *c;
	int			so_error = 0;
	socklen_t	so_len = sizeof(so_error);

	mid_exchange = true;
	if (vt_redis_host[0] == '/')
		c = redisConnectUnixNonBlock(vt_redis_host);
	else
		c = redisConnectNonBlock(vt_redis_host, vt_redis_port);
	if (c == NULL)
		return connection_failed(false, "could not allocate a Redis connection");
	if (c->err)
	{
		char		message[160];

		strlcpy(message, c->errstr, sizeof(message));
		redisFree(c);
		return connection_failed(false, "could not connect to %s:%d: %s",
								 vt_redis_host, vt_redis_port, message);
	}

	conn.ctx = c;
	conn.target = target_of_settings();
	conn.credentials = credentials_of_settings();
	conn.wait_set = CreateWaitEventSet(TopMemoryContext, 3);
	AddWaitEventToSet(conn.wait_set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(conn.wait_set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	conn.socket_event = AddWaitEventToSet(conn.wait_set, WL_SOCKET_WRITEABLE,
										  c->fd, NULL, NULL);
	conn.socket_events = WL_SOCKET_WRITEABLE;

	/* non-blocking connect: writable means done, SO_ERROR says how */
	if (!wait_socket(true, deadline))
		return connection_failed(true, "timed out connecting to %s:%d after %d ms",
								 vt_redis_host, vt_redis_port, vt_redis_timeout_ms);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &so_error, &so_len) != 0)
		so_error = errno;
	if (so_error != 0)
		return connection_failed(false, "could not connect to %s:%d: %s",
								 vt_redis_host, vt_redis_port, strerror(so_error));
	/* notice a peer that vanished without closing while we were idle */
	if (vt_redis_host[0] != '/')
		(void) redisEnableKeepAlive(c);
	mid_exchange = false;
	return true;
}

/* How an exchange ended; on failure the connection is closed. */
typedef enum ExchangeResult
{
	EXCHANGE_OK,
	EXCHANGE_BROKEN,			/* write or read failed: reset, EOF, protocol */
	EXCHANGE_TIMED_OUT
} ExchangeResult;

static char exchange_error[200];

static ExchangeResult
exchange_failed(ExchangeResult result, redisReply **replies, int received, const char *fmt,...)
	pg_attribute_printf(4, 5);

static ExchangeResult
exchange_failed(ExchangeResult result, redisReply **replies, int received, const char *fmt,...)
{
	va_list		ap;
	int			i;

	va_start(ap, fmt);
	vsnprintf(exchange_error, sizeof(exchange_error), fmt, ap);
	va_end(ap);
	for (i = 0; i < received; i++)
		release_reply(replies[i]);
	close_connection();
	return result;
}

/* Send n commands and read n replies before the deadline. */
static ExchangeResult
exchange(int n, const VtRedisCommand *cmds, redisReply **replies, TimestampTz deadline)
{
	int			i;
	int			received = 0;

	mid_exchange = true;
	for (i = 0; i < n; i++)
	{
		if (redisAppendCommandArgv(conn.ctx, cmds[i].argc, cmds[i].argv,
								   cmds[i].argvlen) != REDIS_OK)
			return exchange_failed(EXCHANGE_BROKEN, replies, 0,
								   "could not queue a Redis command");
	}

	for (;;)
	{
		int			done = 0;

		if (redisBufferWrite(conn.ctx, &done) == REDIS_ERR)
			return exchange_failed(EXCHANGE_BROKEN, replies, 0,
								   "write to Redis failed: %s", conn.ctx->errstr);
		if (done)
			break;
		if (!wait_socket(true, deadline))
			return exchange_failed(EXCHANGE_TIMED_OUT, replies, 0,
								   "timed out writing to Redis after %d ms", vt_redis_timeout_ms);
	}

	while (received < n)
	{
		void	   *reply = NULL;

		if (redisGetReplyFromReader(conn.ctx, &reply) == REDIS_ERR)
			return exchange_failed(EXCHANGE_BROKEN, replies, received,
								   "reading from Redis failed: %s", conn.ctx->errstr);
		if (reply != NULL)
		{
			track_reply(reply);
			replies[received++] = reply;
			continue;
		}
		if (!wait_socket(false, deadline))
			return exchange_failed(EXCHANGE_TIMED_OUT, replies, received,
								   "timed out waiting for Redis after %d ms", vt_redis_timeout_ms);
		if (redisBufferRead(conn.ctx) == REDIS_ERR)
			return exchange_failed(EXCHANGE_BROKEN, replies, received,
								   "reading from Redis failed: %s", conn.ctx->errstr);
	}
	mid_exchange = false;
	return EXCHANGE_OK;
}

/*
 * On a fresh connection: AUTH and SELECT, then the data-epoch marker
 * ({prefix}visittrack:epoch, set once with NX and read back), all in one
 * round trip.  A marker that differs from the one last seen means Redis
 * lost its data since (shared_state.c); nothing else here knows what is stored.
 */
static bool
handshake(TimestampTz deadline)
{
	VtRedisCommand cmds[4];
	redisReply *replies[4];
	const char *auth_argv[2] = {"AUTH", vt_redis_password};
	size_t		auth_len[2] = {4, vt_redis_password ? strlen(vt_redis_password) : 0};
	char		db[16];
	const char *select_argv[2] = {"SELECT", db};
	size_t		select_len[2] = {6, 0};
	char		key[128];
	char		fresh[32];
	const char *set_argv[4] = {"SET", key, fresh, "NX"};
	size_t		set_len[4] = {3, 0, 0, 2};
	const char *get_argv[2] = {"GET", key};
	size_t		get_len[2] = {3, 0};
	uint8		random[8];
	int			n = 0;
	int			i;
	bool		ok = true;
	char		message[160] = "";
	uint64		epoch = 0;

	if (vt_redis_password && vt_redis_password[0])
		cmds[n++] = (VtRedisCommand) {2, auth_argv, auth_len};
	if (vt_redis_db != 0)
	{
		snprintf(db, sizeof(db), "%d", vt_redis_db);
		select_len[1] = strlen(db);
		cmds[n++] = (VtRedisCommand) {2, select_argv, select_len};
	}
	snprintf(key, sizeof(key), "%svisittrack:epoch", vt_key_prefix());
	if (!pg_strong_random(random, sizeof(random)))
		memset(random, 0, sizeof(random));
	{
		uint64		r;

		memcpy(&r, random, sizeof(r));
		snprintf(fresh, sizeof(fresh), UINT64_FORMAT, r | 1);
	}
	set_len[1] = get_len[1] = strlen(key);
	set_len[2] = strlen(fresh);
	cmds[n++] = (VtRedisCommand) {4, set_argv, set_len};
	cmds[n++] = (VtRedisCommand) {2, get_argv, get_len};

	switch (exchange(n, cmds, replies, deadline))
	{
		case EXCHANGE_OK:
			break;
		case EXCHANGE_BROKEN:
			return connection_failed(false, "%s", exchange_error);
		case EXCHANGE_TIMED_OUT:
			return connection_failed(true, "%s", exchange_error);
	}
	for (i = 0; i < n; i++)
	{
		if (replies[i]->type == REDIS_REPLY_ERROR && ok)
		{
			strlcpy(message, replies[i]->str, sizeof(message));
			ok = false;
		}
	}
	if (ok && replies[n - 1]->type == REDIS_REPLY_STRING)
		epoch = strtoull(replies[n - 1]->str, NULL, 10);
	for (i = 0; i < n; i++)
		release_reply(replies[i]);
	if (!ok)
		return connection_failed(false, "Redis refused the connection set-up: %s", message);
	if (epoch != 0)
		vt_redis_epoch_seen(vt_redis_namespace(), epoch);
	return true;
}

static bool
ensure_connection(TimestampTz deadline)
{
	if (conn.ctx != NULL &&
		(conn.target != target_of_settings() ||
		 conn.credentials != credentials_of_settings()))
		close_connection();		/* settings changed since we connected */
	if (conn.ctx != NULL)
		return true;
	return connect_to_redis(deadline) && handshake(deadline);
}

/*
 * Error replies that say this server cannot serve us at all, whatever the
 * command: a replica after a failover (READONLY), lost credentials
 * (NOAUTH, WRONGPASS), a server still loading or refusing writes.  The
 * connection is then treated as failed, so the next call reconnects --
 * possibly to the new primary -- instead of every call falling back on a
 * connection that will never work again.
 */
static const char *
server_refusal(int n, redisReply **replies)
{
	static const char *const codes[] = {
		"READONLY", "NOAUTH", "WRONGPASS", "MASTERDOWN", "LOADING", "MISCONF"
	};
	int			i;
	int			k;

	for (i = 0; i < n; i++)
	{
		if (replies[i]->type != REDIS_REPLY_ERROR)
			continue;
		for (k = 0; k < lengthof(codes); k++)
		{
			/* scripts report the error of the command that failed inside them */
			if (strstr(replies[i]->str, codes[k]) != NULL)
				return codes[k];
		}
	}
	return NULL;
}

bool
vt_redis_configured(void)
{
	return vt_redis_host != NULL && vt_redis_host[0] != '\0';
}

bool
vt_redis_usable(void)
{
	return vt_redis_configured() && !vt_redis_health_waiting(target_of_settings());
}

/*
 * Run n commands before the deadline.  A connection kept from an earlier
 * call may have died while idle (Redis restarted, an idle timeout, a
 * proxy): if it breaks before answering, it is replaced once within the
 * same deadline before Redis is declared down.
 */
static bool
run_before(int n, const VtRedisCommand *cmds, redisReply **replies, TimestampTz deadline)
{
	uint32		target;
	int			attempt;
	const char *refusal;
	int			i;

	if (!vt_redis_configured())
		return false;
	ensure_cleanup_registered();
	if (mid_exchange)
		close_connection();		/* an ERROR cut the last call short */
	target = target_of_settings();
	if (!vt_redis_health_admit(target, vt_redis_retry_interval_ms))
	{
		vt_count(VT_REDIS_SKIPPED, 1);
		return false;
	}

	for (attempt = 0;; attempt++)
	{
		bool		reused;
		ExchangeResult result;

		if (conn.ctx != NULL &&
			(conn.target != target || conn.credentials != credentials_of_settings()))
			close_connection();
		reused = conn.ctx != NULL;
		if (!ensure_connection(deadline))
			return false;
		result = exchange(n, cmds, replies, deadline);
		if (result == EXCHANGE_OK)
			break;
		if (result == EXCHANGE_BROKEN && reused && attempt == 0)
			continue;
		return connection_failed(result == EXCHANGE_TIMED_OUT, "%s", exchange_error);
	}

	refusal = server_refusal(n, replies);
	if (refusal)
	{
		char		message[160];

		for (i = 0; i < n; i++)
		{
			if (replies[i]->type == REDIS_REPLY_ERROR && strstr(replies[i]->str, refusal))
				strlcpy(message, replies[i]->str, sizeof(message));
			release_reply(replies[i]);
		}
		return connection_failed(false, "Redis cannot serve us: %s", message);
	}

	vt_count(VT_REDIS_COMMANDS, 1);
	vt_redis_health_ok(target);
	return true;
}

static TimestampTz
new_deadline(void)
{
	return TimestampTzPlusMilliseconds(GetCurrentTimestamp(), vt_redis_timeout_ms);
}

bool
vt_redis_pipeline(int n, const VtRedisCommand *cmds, redisReply **replies)
{
	return run_before(n, cmds, replies, new_deadline());
}

redisReply *
vt_redis_command(const VtRedisCommand *cmd)
{
	redisReply *reply;

	return vt_redis_pipeline(1, cmd, &reply) ? reply : NULL;
}

static void
compute_sha1(VtRedisScript *script)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA1);
	uint8		digest[20];
	int			i;

	if (ctx == NULL ||
		pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) script->body, strlen(script->body)) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute SHA-1 of a Redis script");
	pg_cryptohash_free(ctx);
	for (i = 0; i < 20; i++)
		snprintf(script->sha1 + 2 * i, 3, "%02x", digest[i]);
}

redisReply *
vt_redis_eval(VtRedisScript *script,
			  int nkeys, const char **keys, const size_t *keylens,
			  int nargs, const char **args, const size_t *arglens)
{
	int			argc = 3 + nkeys + nargs;
	const char **argv = palloc(sizeof(char *) * argc);
	size_t	   *argvlen = palloc(sizeof(size_t) * argc);
	char		nkeys_str[16];
	VtRedisCommand cmd = {argc, argv, argvlen};
	redisReply *reply;
	TimestampTz deadline;
	int			i;

	if (script->sha1[0] == '\0')
		compute_sha1(script);
	snprintf(nkeys_str, sizeof(nkeys_str), "%d", nkeys);

	argv[0] = "EVALSHA";
	argvlen[0] = 7;
	argv[1] = script->sha1;
	argvlen[1] = 40;
	argv[2] = nkeys_str;
	argvlen[2] = strlen(nkeys_str);
	for (i = 0; i < nkeys; i++)
	{
		argv[3 + i] = keys[i];
		argvlen[3 + i] = keylens[i];
	}
	for (i = 0; i < nargs; i++)
	{
		argv[3 + nkeys + i] = args[i];
		argvlen[3 + nkeys + i] = arglens[i];
	}

	deadline = new_deadline();
	if (!run_before(1, &cmd, &reply, deadline))
		reply = NULL;
	if (reply && reply->type == REDIS_REPLY_ERROR &&
		strncmp(reply->str, "NOSCRIPT", 8) == 0)
	{
		/* first use on this server: send the body, which also caches it */
		release_reply(reply);
		argv[0] = "EVAL";
		argvlen[0] = 4;
		argv[1] = script->body;
		argvlen[1] = strlen(script->body);
		if (!run_before(1, &cmd, &reply, deadline))
			reply = NULL;
	}
	pfree(argv);
	pfree(argvlen);
	return reply;
}

bool
vt_redis_eval_many(VtRedisScript *script, int n, const VtRedisScriptCall *calls,
				   redisReply **replies)
{
	VtRedisCommand *cmds = palloc(sizeof(VtRedisCommand) * n);
	char		nkeys_str[16];
	int			i;

	if (script->sha1[0] == '\0')
		compute_sha1(script);
	for (i = 0; i < n; i++)
	{
		const VtRedisScriptCall *c = &calls[i];
		int			argc = 3 + c->nkeys + c->nargs;
		const char **argv = palloc(sizeof(char *) * argc);
		size_t	   *argvlen = palloc(sizeof(size_t) * argc);

		snprintf(nkeys_str, sizeof(nkeys_str), "%d", c->nkeys);
		argv[0] = "EVALSHA";
		argvlen[0] = 7;
		argv[1] = script->sha1;
		argvlen[1] = 40;
		argv[2] = pstrdup(nkeys_str);
		argvlen[2] = strlen(nkeys_str);
		memcpy(argv + 3, c->keys, sizeof(char *) * c->nkeys);
		memcpy(argvlen + 3, c->keylens, sizeof(size_t) * c->nkeys);
		memcpy(argv + 3 + c->nkeys, c->args, sizeof(char *) * c->nargs);
		memcpy(argvlen + 3 + c->nkeys, c->arglens, sizeof(size_t) * c->nargs);
		cmds[i].argc = argc;
		cmds[i].argv = argv;
		cmds[i].argvlen = argvlen;
	}
	if (!vt_redis_pipeline(n, cmds, replies))
		return false;

	/* first use on this server: the script body goes with one call, then by SHA */
	for (i = 0; i < n; i++)
	{
		const VtRedisScriptCall *c = &calls[i];

		if (replies[i]->type != REDIS_REPLY_ERROR ||
			strncmp(replies[i]->str, "NOSCRIPT", 8) != 0)
			continue;
		release_reply(replies[i]);
		replies[i] = vt_redis_eval(script, c->nkeys, c->keys, c->keylens,
								   c->nargs, c->args, c->arglens);
		if (replies[i] == NULL)
		{
			/* lost Redis half-way: give back every other reply */
			int			j;

			for (j = 0; j < n; j++)
				if (j != i)
					release_reply(replies[j]);
			return false;
		}
	}
	return true;
}

void
vt_redis_free(redisReply *reply)
{
	if (reply)
		release_reply(reply);
}

bool
vt_redis_reply_is_error(redisReply *reply, const char *what)
{
	if (reply == NULL || reply->type != REDIS_REPLY_ERROR)
		return false;
	ereport(LOG,
			(errmsg("visittrack: Redis refused %s: %s", what, reply->str)));
	return true;
}

bool
vt_redis_connected(void)
{
	return conn.ctx != NULL;
}
