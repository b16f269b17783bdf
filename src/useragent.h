/*
 * useragent.h: user-agent classification (interim: heuristics only; the
 * enrichment work replaces this with the uap-core rule set).
 */
#ifndef VT_USERAGENT_H
#define VT_USERAGENT_H

extern bool vt_ua_is_bot(const char *user_agent);

#endif
