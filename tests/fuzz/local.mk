# SPDX-License-Identifier: LGPL-2.1-or-later
# libFuzzer targets, one per parser of outside bytes. Built by `make fuzz`
# in a tree configured with CC=clang --enable-fuzzers (scripts/test.sh does
# this and runs each target briefly). Add a target: list it in FUZZ_TARGETS
# and give it the three lines the others have.

FUZZ_TARGETS = \
	tests/fuzz/fuzz-ctlproto \
	tests/fuzz/fuzz-config \
	tests/fuzz/fuzz-hb \
	$(NULL)

FUZZ_CFLAGS = $(HHA_INTERNAL_CFLAGS)
FUZZ_LIBS = $(HHA_INTERNAL_LIBS)

EXTRA_PROGRAMS += $(FUZZ_TARGETS)
CLEANFILES += $(FUZZ_TARGETS)

tests_fuzz_fuzz_ctlproto_SOURCES = tests/fuzz/fuzz-ctlproto.c
tests_fuzz_fuzz_ctlproto_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_ctlproto_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ctlproto_LDADD = $(FUZZ_LIBS)

tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz-config.c
tests_fuzz_fuzz_config_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_config_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_config_LDADD = $(FUZZ_LIBS)

tests_fuzz_fuzz_hb_SOURCES = tests/fuzz/fuzz-hb.c
tests_fuzz_fuzz_hb_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_hb_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_hb_LDADD = $(FUZZ_LIBS)

EXTRA_DIST += tests/fuzz/corpus tests/fuzz/run-fuzzers.sh

if ENABLE_FUZZERS
fuzz: $(FUZZ_TARGETS)
else
fuzz:
	@echo "make fuzz: configure with CC=clang --enable-fuzzers first" >&2; exit 1
endif
