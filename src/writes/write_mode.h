/*
 * write_mode.h: whether a call writes its rows now or leaves them to the
 * write-behind writers.
 *
 * Decided once, where an SQL function starts, and passed down as an
 * argument: to the record kinds' callers in src/api and to the hot store's
 * entry points that would queue.  Nothing below the SQL entry points asks
 * the settings again, so one call never mixes the two modes.
 */
#ifndef VT_WRITE_MODE_H
#define VT_WRITE_MODE_H

typedef enum VtWriteMode
{
	VT_WRITE_NOW,				/* write in the calling transaction */
	VT_WRITE_BEHIND				/* queue at commit for the writers
								 * (queue_at_commit.h) */
} VtWriteMode;

/*
 * The mode for this call: BEHIND when visittrack.write_behind is on and
 * both writers are attached in this database with this session's Redis
 * settings (write_queue.h); NOW otherwise, and always in a writer.
 */
extern VtWriteMode vt_write_mode_for_call(void);

#endif
