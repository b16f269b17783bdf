# visittrack: PGXS build for PostgreSQL 15
EXTENSION   = visittrack
EXTVERSION  = 1.1

MODULE_big  = visittrack
# src/ holds one folder per subsystem (doc/architecture.md); headers are
# found by name in any of them.
SRC_DIRS    = $(sort $(dir $(wildcard src/*/*.c)))
OBJS        = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c src/*/*.c)))

# The install script is assembled from one file per concern (sql/install/NN_*.sql);
# each upgrade script from the changes since the previous release
# (sql/upgrade/FROM--TO/NN_*.sql).  Released install scripts are kept as
# they shipped (sql/visittrack--1.0.sql) so that the upgrade path is tested.
UPGRADES    = 1.0--1.1
DATA_built  = sql/$(EXTENSION)--$(EXTVERSION).sql \
              $(foreach u,$(UPGRADES),sql/$(EXTENSION)--$(u).sql)
DATA        = sql/$(EXTENSION)--1.0.sql

PG_CONFIG  ?= pg_config
PG_CPPFLAGS = $(addprefix -I,$(SRC_DIRS))
PG_CFLAGS   = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare \
              -Wno-missing-field-initializers
SHLIB_LINK  = -lhiredis -lpcre2-8 -lyaml -lmaxminddb

# pg_regress suites (sql/ + expected/); run against an already running server
# whose settings point at a test Redis: scripts/test does the set-up.
REGRESS      = $(shell cat test/regress_schedule 2>/dev/null)
REGRESS_OPTS = --inputdir=. --outputdir=.

PGXS := $(shell $(PG_CONFIG) --pgxs)
.SECONDEXPANSION:
include $(PGXS)

sql/$(EXTENSION)--$(EXTVERSION).sql: $(sort $(wildcard sql/install/*.sql))
	cat $^ > $@

sql/$(EXTENSION)--%.sql: $$(sort $$(wildcard sql/upgrade/%/*.sql))
	cat $^ > $@

# objects depend on the headers they include (PGXS does not track them)
$(OBJS): override CPPFLAGS += -MMD -MP
-include $(OBJS:.o=.d)
EXTRA_CLEAN = $(OBJS:.o=.d)
