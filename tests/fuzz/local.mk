# SPDX-License-Identifier: LGPL-2.1-or-later
# libFuzzer targets (configure --enable-fuzzers CC=clang; `make fuzz` builds and runs them briefly).
FUZZ_TARGETS =

if ENABLE_FUZZERS
FUZZ_CFLAGS = $(HHA_INTERNAL_CFLAGS) -fsanitize=fuzzer,address,undefined
FUZZ_LINK_FLAGS = -fsanitize=fuzzer,address,undefined

FUZZ_TARGETS += tests/fuzz/fuzz-wire tests/fuzz/fuzz-md
tests_fuzz_fuzz_wire_SOURCES = tests/fuzz/fuzz-wire.c
tests_fuzz_fuzz_wire_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_wire_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_wire_LDADD = $(HHA_INTERNAL_LIBS)
tests_fuzz_fuzz_md_SOURCES = tests/fuzz/fuzz-md.c
tests_fuzz_fuzz_md_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_md_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_md_LDADD = $(HHA_INTERNAL_LIBS)
EXTRA_PROGRAMS += $(FUZZ_TARGETS)
endif

# Each target runs for FUZZ_SECONDS (default 20), seeded from
# tests/fuzz/corpus-NAME when it exists; new inputs go to a scratch directory.
FUZZ_SECONDS ?= 20
fuzz: $(FUZZ_TARGETS)
	@set -e; for t in $(FUZZ_TARGETS); do \
		n=$${t##*/fuzz-}; seed=$(srcdir)/tests/fuzz/corpus-$$n; \
		scratch=$$(mktemp -d); \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		./$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 $$scratch \
			$$(test -d $$seed && echo $$seed) 2>&1 | tail -n 3; \
		rm -rf $$scratch; \
	done
EXTRA_DIST += tests/fuzz
