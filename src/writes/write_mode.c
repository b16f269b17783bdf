/*
 * write_mode.c: the write mode of an SQL call (write_mode.h).
 */
#include "postgres.h"

#include "write_mode.h"
#include "write_queue.h"

VtWriteMode
vt_write_mode_for_call(void)
{
	return vt_write_behind_active() ? VT_WRITE_BEHIND : VT_WRITE_NOW;
}
