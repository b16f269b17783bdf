/*
 * arrays.h: one-dimensional arrays built from C values, for the writer's
 * multi-row statements (INSERT ... SELECT FROM unnest($1, $2, ...)).
 */
#ifndef VT_ARRAYS_H
#define VT_ARRAYS_H

#include "postgres.h"

/* values[i] with nulls[i] (nulls may be NULL: none), of element type elemtype */
extern Datum vt_array(Oid elemtype, Datum *values, bool *nulls, int n);

#endif
