/*
 * async_commit.h: how a transaction that records tracking data commits.
 */
#ifndef VT_ASYNC_COMMIT_H
#define VT_ASYNC_COMMIT_H

/*
 * Called by every request-path function that writes.  With
 * visittrack.async_commit on (the default), the calling transaction commits
 * without waiting for its WAL to reach disk (SET LOCAL synchronous_commit =
 * off): a crash may lose the last moments of tracking data, never corrupt
 * it.  See doc/settings.md.
 */
extern void vt_tracking_write(void);

#endif
