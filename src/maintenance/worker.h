/*
 * worker.h: the visittrack background worker.
 */
#ifndef VT_WORKER_H
#define VT_WORKER_H

extern void vt_worker_register(void);

#endif
