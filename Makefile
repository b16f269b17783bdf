# visittrack: PGXS build for PostgreSQL 15
EXTENSION   = visittrack
EXTVERSION  = 1.0

MODULE_big  = visittrack
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

# The install script is assembled from one file per concern (sql/install/NN_*.sql).
DATA_built  = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA        = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*--*.sql))

PG_CONFIG  ?= pg_config
PG_CPPFLAGS = -Isrc
PG_CFLAGS   = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare \
              -Wno-missing-field-initializers
SHLIB_LINK  = -lhiredis -lpcre2-8 -lyaml -lmaxminddb

# pg_regress suites (sql/ + expected/); run against an already running server
# whose settings point at a test Redis: scripts/test does the set-up.
REGRESS      = $(shell cat test/regress_schedule 2>/dev/null)
REGRESS_OPTS = --inputdir=. --outputdir=.

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

sql/$(EXTENSION)--$(EXTVERSION).sql: $(sort $(wildcard sql/install/*.sql))
	cat $^ > $@

# objects depend on the headers they include (PGXS does not track them)
src/%.o: override CPPFLAGS += -MMD -MP
-include $(OBJS:.o=.d)
EXTRA_CLEAN = $(OBJS:.o=.d)
