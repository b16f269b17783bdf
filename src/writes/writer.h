/*
 * writer.h: the visittrack writer, which drains the write queue
 * (write_queue.h).  Registered with the background worker when preloaded.
 */
#ifndef VT_WRITER_H
#define VT_WRITER_H

extern void vt_writer_register(void);

#endif
