# memtide - see README.md.  `make`, `make check`, `make demo`, `make bench`, `make install`.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
# memtided and its systemd files.  The systemd directories are where Debian's
# systemd looks whatever PREFIX is; the unit's ExecStart= names SBINDIR.
SBINDIR ?= $(PREFIX)/sbin
DOCDIR ?= $(PREFIX)/share/doc/memtide
SYSCONFDIR ?= /etc
UNITDIR ?= /usr/lib/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
TMPFILESDIR ?= /usr/lib/tmpfiles.d
DESTDIR ?=
PKG_CONFIG ?= pkg-config
CC ?= cc
CFLAGS ?= -O2 -g
PYTHON ?= /usr/bin/python3

VERSION := 0.1.0
B := build

WARN := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wwrite-strings -Wpointer-arith -Wundef
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
LDHARDEN := -pie -Wl,-z,relro,-z,now
ALL_CFLAGS = $(WARN) $(HARDEN) -Iinclude -Ilib -DMEMTIDE_VERSION='"$(VERSION)"' \
	$(CFLAGS) $(WERROR)
LDFLAGS ?=

# libproc2 is opened at run time (dlopen, see lib/sampler.c): only its
# headers are needed to build.
LIB_PKGS := libproc2 sqlite3
PLOT_PKGS := sqlite3 cairo libpng
LIB_LIBS = $(shell $(PKG_CONFIG) --libs sqlite3) -ldl -lpthread
PLOT_LIBS = $(shell $(PKG_CONFIG) --libs $(PLOT_PKGS)) -lm -lpthread
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(LIB_PKGS) $(PLOT_PKGS))

LIB_SRC := $(wildcard lib/*.c)
CLI_SRC := $(wildcard cli/*.c)
PLOT_SRC := $(filter-out plot/main.c,$(wildcard plot/*.c))
DAEMON_SRC := $(wildcard daemon/*.c)
UNIT_SRC := $(wildcard tests/unit/*.c)
BENCH_SRC := $(wildcard bench/*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/%.o)
PLOT_OBJ := $(PLOT_SRC:%.c=$(B)/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(B)/%.o)
UNIT_OBJ := $(UNIT_SRC:%.c=$(B)/%.o)

PROGS := $(B)/memtide $(B)/memtide-plot
DAEMON := $(B)/memtided
MANS := $(B)/man/memtide.1 $(B)/man/memtide-plot.1 $(B)/man/memtided.8 \
	$(B)/man/memtided.conf.5 $(B)/man/memtide-sql.7
# The Python marker module (python/memtide): /usr's dist-packages for
# PREFIX=/usr, else the versioned one that python3 also searches.
PYVER = $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
PYDIR ?= $(if $(filter /usr,$(PREFIX)),$(PREFIX)/lib/python3/dist-packages,$(PREFIX)/lib/python$(PYVER)/dist-packages)

.PHONY: all deps check unit e2e demo bench install install-daemon install-python uninstall clean lint-man \
	check-asan fuzz fuzz-short pystack-layouts
all: $(PROGS) $(DAEMON) $(MANS)

$(B)/%.o: %.c $(wildcard include/memtide/*.h lib/*.h plot/*.h cli/*.h daemon/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) -MMD -c -o $@ $<

$(B)/libmemtide.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

# The run's growth budget in MiB/h reuses the chart's trend (plot/slope.c);
# --since/--until of memtide list and where are read as memtide-plot reads
# them (plot/when.c).
$(B)/memtide: $(CLI_OBJ) $(B)/plot/when.o $(B)/plot/slope.o $(B)/plot/decimate.o \
		$(B)/libmemtide.a
	$(CC) $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(LIB_LIBS) -lm

$(B)/memtided: $(DAEMON_OBJ) $(B)/libmemtide.a
	$(CC) $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(LIB_LIBS) -lm

$(B)/memtide-plot: $(B)/plot/main.o $(PLOT_OBJ) $(B)/libmemtide.a
	$(CC) $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(PLOT_LIBS) $(LIB_LIBS)

$(B)/unit-tests: $(UNIT_OBJ) $(PLOT_OBJ) $(B)/libmemtide.a
	$(CC) $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(PLOT_LIBS) $(LIB_LIBS)

$(B)/bench/%: bench/%.c $(B)/libmemtide.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) $(LDHARDEN) -o $@ $^ $(LIB_LIBS)

# Serves a fixed metrics page with lib/httpd.c, for tests/e2e/test_metrics.py.
$(B)/metrics-serve: tests/helpers/metrics_serve.c $(B)/libmemtide.a
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(LIB_LIBS)

# Prints a running Python's stack with lib/pystack.c, for
# tests/e2e/test_pystack.py and tests/helpers/pystack_layouts.sh.
$(B)/pystack-dump: tests/helpers/pystack_dump.c $(B)/libmemtide.a
	$(CC) $(ALL_CFLAGS) $(PKG_CFLAGS) $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(LIB_LIBS)

# A made-up CPython 3.11 whose memory loops or changes under the reader.
$(B)/pystack-fake: tests/helpers/pystack_fake.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDHARDEN) $(LDFLAGS) -rdynamic -o $@ $< -lpthread

# A program embedding Debian's shared libpython3.11 (libpython3.11-dev).
PY311_CONFIG := /usr/bin/python3.11-config
$(B)/pystack-embed: tests/helpers/pystack_embed.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $$($(PY311_CONFIG) --includes) -o $@ $< \
		$$($(PY311_CONFIG) --embed --ldflags)

$(B)/man/%: man/%.scd
	@mkdir -p $(dir $@)
	scdoc < $< > $@

# Installs the Debian packages that building, testing and benchmarking need,
# only those missing.
DEB_PKGS := build-essential pkg-config libproc2-dev libsqlite3-dev libcairo2-dev \
	sqlite3 python3 python3-pytest python3-psutil python3-memory-profiler \
	python3-matplotlib scdoc mandoc prometheus clang austin prometheus-process-exporter \
	python3-pytest-xdist libpython3.11-dev strace
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

check: deps
	$(MAKE) clean-objs
	$(MAKE) WERROR=-Werror all $(B)/unit-tests $(B)/metrics-serve $(B)/pystack-dump \
		$(B)/pystack-fake $(B)/pystack-embed
	$(MAKE) unit e2e lint-man fuzz-short pystack-layouts

unit: $(B)/unit-tests
	$(B)/unit-tests

e2e: $(PROGS) $(B)/metrics-serve $(B)/pystack-dump $(B)/pystack-fake $(B)/pystack-embed
	cd tests/e2e && MEMTIDE_BUILD=$(CURDIR)/$(B) $(PYTHON) -m pytest -q -p no:cacheprovider .

# lib/pystack_layout.c's tables against offsetof() over each installed
# CPython's internal headers, and the layout read from a live interpreter.
pystack-layouts: $(B)/pystack-dump
	tests/helpers/pystack_layouts.sh $(B)

# scdoc emits an empty .PP after each heading, which mandoc reports as
# "skipping paragraph macro"; any other warning fails.
lint-man: $(MANS)
	@for m in $(MANS); do out=$$(mandoc -T lint -W warning $$m 2>&1 | \
		grep -v 'skipping paragraph macro'); \
		if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; done; echo "man pages: mandoc lint clean"

demo: deps
	$(MAKE) all
	@db=$(B)/demo.db; rm -f $$db $$db-wal $$db-shm; \
	$(B)/memtide run --db $$db -C -T 0.05 --label demo examples/leaky_worker.py && \
	$(B)/memtide list --db $$db && $(B)/memtide peak --db $$db && \
	$(B)/memtide plot --db $$db -o $(B)/demo.png

bench: deps all $(B)/bench/sampler_floor
	$(PYTHON) bench/run.py --build $(B)

install: all
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(PROGS) $(DESTDIR)$(BINDIR)/
	for m in $(MANS); do d=$(DESTDIR)$(MANDIR)/man$${m##*.}; \
		install -d $$d && install -m 0644 $$m $$d/ || exit 1; done
	$(MAKE) install-python
	$(MAKE) install-daemon

# The Python package twice: in python3's dist-packages with the metadata of
# its pytest11 entry point (pytest loads memtide.pytest by itself), and in
# PYLIBDIR, which memtide run puts first on PYTHONPATH for any interpreter
# (found as BINDIR/../lib/memtide/python) with its sitecustomize shim.
PYLIBDIR ?= $(PREFIX)/lib/memtide/python
PYFILES := python/memtide/__init__.py python/memtide/pytest.py
EGGINFO := memtide-$(VERSION).egg-info
install-python:
	install -d $(DESTDIR)$(PYDIR)/memtide $(DESTDIR)$(PYDIR)/$(EGGINFO) \
		$(DESTDIR)$(PYLIBDIR)/memtide
	install -m 0644 $(PYFILES) $(DESTDIR)$(PYDIR)/memtide/
	printf 'Metadata-Version: 2.1\nName: memtide\nVersion: $(VERSION)\n' \
		> $(DESTDIR)$(PYDIR)/$(EGGINFO)/PKG-INFO
	printf '[pytest11]\nmemtide.pytest = memtide.pytest\n' \
		> $(DESTDIR)$(PYDIR)/$(EGGINFO)/entry_points.txt
	printf 'memtide\n' > $(DESTDIR)$(PYDIR)/$(EGGINFO)/top_level.txt
	install -m 0644 $(PYFILES) $(DESTDIR)$(PYLIBDIR)/memtide/
	install -m 0644 python/sitecustomize.py $(DESTDIR)$(PYLIBDIR)/

# memtided, its unit (ExecStart= and the comments name SBINDIR and DOCDIR),
# sysusers.d and tmpfiles.d files, and a config only where there is none.
install-daemon: $(DAEMON)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSCONFDIR)/memtide $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(DAEMON) $(DESTDIR)$(SBINDIR)/
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' systemd/memtided.service.in \
		> $(DESTDIR)$(UNITDIR)/memtided.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/memtided.service
	install -m 0644 systemd/memtide.sysusers $(DESTDIR)$(SYSUSERSDIR)/memtide.conf
	install -m 0644 systemd/memtide.tmpfiles $(DESTDIR)$(TMPFILESDIR)/memtide.conf
	install -m 0644 examples/memtided.conf examples/memtided-metrics.conf \
		$(DESTDIR)$(DOCDIR)/examples/
	[ -e $(DESTDIR)$(SYSCONFDIR)/memtide/memtided.conf ] || \
		install -m 0644 examples/memtided.conf $(DESTDIR)$(SYSCONFDIR)/memtide/memtided.conf

# Leaves /etc/memtide/memtided.conf: it is the administrator's.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/memtide $(DESTDIR)$(BINDIR)/memtide-plot \
		$(DESTDIR)$(PYDIR)/memtide/__init__.py $(DESTDIR)$(PYDIR)/memtide/pytest.py \
		$(DESTDIR)$(PYDIR)/$(EGGINFO)/PKG-INFO \
		$(DESTDIR)$(PYDIR)/$(EGGINFO)/entry_points.txt \
		$(DESTDIR)$(PYDIR)/$(EGGINFO)/top_level.txt \
		$(DESTDIR)$(PYLIBDIR)/memtide/__init__.py $(DESTDIR)$(PYLIBDIR)/memtide/pytest.py \
		$(DESTDIR)$(PYLIBDIR)/sitecustomize.py \
		$(DESTDIR)$(SBINDIR)/memtided $(DESTDIR)$(UNITDIR)/memtided.service \
		$(DESTDIR)$(SYSUSERSDIR)/memtide.conf $(DESTDIR)$(TMPFILESDIR)/memtide.conf \
		$(DESTDIR)$(DOCDIR)/examples/memtided.conf \
		$(DESTDIR)$(DOCDIR)/examples/memtided-metrics.conf
	for m in $(MANS); do rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}; done

clean-objs:
	rm -rf $(B)/lib $(B)/cli $(B)/plot $(B)/tests $(B)/bench $(B)/daemon

clean:
	rm -rf $(B) build-asan build-fuzz

# Every test again, on a build with AddressSanitizer and UBSan in their own
# directory; any finding aborts the program, which fails its test.  (The
# kill -9 test makes 10 kills here, 30 in check.)  CI runs check, then this.
ASAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp
check-asan: deps
	$(MAKE) B=build-asan CFLAGS="-O1 -g $(ASAN)" LDFLAGS="$(ASAN)" WERROR=-Werror \
		build-asan/memtide build-asan/memtide-plot build-asan/memtided \
		build-asan/metrics-serve build-asan/pystack-dump build-asan/pystack-fake \
		build-asan/pystack-embed build-asan/unit-tests
	$(ASAN_ENV) build-asan/unit-tests
	cd tests/e2e && $(ASAN_ENV) MEMTIDE_BUILD=$(CURDIR)/build-asan MEMTIDE_CRASH_ROUNDS=10 \
		$(PYTHON) -m pytest -q -p no:cacheprovider .

# libFuzzer targets: every tests/fuzz/fuzz_NAME.c is one, seeded from
# tests/fixtures/fuzz/NAME/.  `make fuzz` runs each FUZZ_TIME seconds;
# `make fuzz-short` (part of check) runs each FUZZ_SHORT_TIME seconds (at
# most FUZZ_RUNS inputs).
FUZZ_CC := clang
FUZZ_SAN := address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
FUZZ_TIME ?= 60
FUZZ_RUNS ?= 1000000
FUZZ_SHORT_TIME ?= 3
ifneq ($(B),build-fuzz/lib)
build-fuzz/lib/libmemtide.a: $(LIB_SRC) $(wildcard include/memtide/*.h lib/*.h)
	$(MAKE) B=build-fuzz/lib CC=$(FUZZ_CC) \
		CFLAGS="-g -O1 -fsanitize=fuzzer-no-link,$(FUZZ_SAN)" build-fuzz/lib/libmemtide.a
endif
build-fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h build-fuzz/lib/libmemtide.a
	$(FUZZ_CC) $(WARN) -Iinclude -g -O1 -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $< \
		build-fuzz/lib/libmemtide.a $(LIB_LIBS)
# New inputs go to build-fuzz/corpus/NAME (the first directory), never
# into the seeds.
FUZZ_RUN = for f in $(FUZZ_BIN); do n=$$(basename $$f | sed s/^fuzz_//); \
		mkdir -p build-fuzz/corpus/$$n; \
		$$f $(1) -print_final_stats=1 build-fuzz/corpus/$$n tests/fixtures/fuzz/$$n \
			> build-fuzz/$$n.log 2>&1 || { tail -40 build-fuzz/$$n.log; exit 1; }; \
		echo "fuzz $$n: $$(sed -n 's/^stat::number_of_executed_units: *//p' build-fuzz/$$n.log) \
			inputs in $$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' build-fuzz/$$n.log) s, no crash"; \
	done
fuzz: $(FUZZ_BIN)
	@$(call FUZZ_RUN,-max_total_time=$(FUZZ_TIME))
fuzz-short: $(FUZZ_BIN)
	@$(call FUZZ_RUN,-runs=$(FUZZ_RUNS) -max_total_time=$(FUZZ_SHORT_TIME))

-include $(wildcard $(B)/*/*.d $(B)/*/*/*.d)
