# PGXS build of nexus: one shared library from src/ (and, as they arrive,
# adapters/ and bgworker/), one install script concatenated from the ordered
# fragments in sql/install/.

EXTENSION = nexus
EXTVERSION := $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" nexus.control)

MODULE_big = nexus
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c adapters/*.c bgworker/*.c)))

DATA_built = nexus--$(EXTVERSION).sql
DATA = $(wildcard sql/upgrade/nexus--*--*.sql)

REGRESS = setup context tenants api_keys ratelimit credentials orders ingest_writes webhooks sync isolation
REGRESS_OPTS = --temp-instance=tmp_check --temp-config=test/nexus.conf \
	--load-extension=pg_cron --load-extension=nexus

DEPS = libcurl jansson hiredis libcrypto
PG_CPPFLAGS = -DNEXUS_VERSION='"$(EXTVERSION)"' -Isrc -Iadapters -Ibgworker $(shell pkg-config --cflags $(DEPS))
SHLIB_LINK = $(shell pkg-config --libs $(DEPS))
# -Wno-unused-parameter: PostgreSQL's own headers and PG_FUNCTION_ARGS trip it.
# -MMD -MP: each object also depends on the headers it includes (a struct
# changed in adapter.h must rebuild every file that lays it out).
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter \
	-Werror=implicit-function-declaration -MMD -MP

EXTRA_CLEAN = tmp_check results regression.diffs regression.out log $(OBJS:.o=.d)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

nexus--$(EXTVERSION).sql: $(sort $(wildcard sql/install/*.sql)) nexus.control
	cat $(sort $(wildcard sql/install/*.sql)) > $@

-include $(OBJS:.o=.d)

print-regress:
	@echo $(REGRESS)
.PHONY: print-regress
