/*
 * keyspace.h: the namespace of visittrack's Redis keys.
 *
 * Every key is <prefix><kind>:<id>[<suffix>], and a prefix is one segment
 * ending in the only ':' it holds ("myapp:").  So the text up to a key's
 * first ':' is its prefix: two different prefixes can never build the same
 * key, whatever the ids.  An empty visittrack.redis_prefix means the
 * database's own prefix, "vt.<system identifier>.<database oid>:", so that
 * two databases sharing one Redis never share a key unless told to
 * (doc/redis.md, "Key namespace").
 */
#ifndef VT_KEYSPACE_H
#define VT_KEYSPACE_H

/* longest prefix, the ':' included */
#define VT_KEY_PREFIX_MAX 64

/* The prefix in force: visittrack.redis_prefix, or the database's own. */
extern const char *vt_key_prefix(void);

/*
 * Does prefix follow the grammar (1 to 63 printable ASCII characters other
 * than ':' and then one ':')?  If not, *why says what is wrong.
 */
extern bool vt_key_prefix_is_valid(const char *prefix, const char **why);

/* s with Redis glob characters (* ? [ ] \) escaped, for SCAN MATCH */
extern char *vt_key_glob_escape(const char *s);

#endif
