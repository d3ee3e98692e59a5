# SPDX-License-Identifier: LGPL-2.1-or-later
# libFuzzer targets, built by `make fuzz' in a tree configured with
# --enable-fuzzers (CC=clang). Run one with: tests/fuzz/fuzz-run-request -max_total_time=60
HHA_FUZZ_COMPILE = $(HHA_INTERNAL_CFLAGS) -fsanitize=fuzzer,address,undefined
HHA_FUZZ_LINK = -fsanitize=fuzzer,address,undefined

FUZZ_TARGETS = \
	tests/fuzz/fuzz-run-request \
	tests/fuzz/fuzz-run-frame \
	$(NULL)
EXTRA_PROGRAMS += $(FUZZ_TARGETS)
CLEANFILES += $(FUZZ_TARGETS)

# The parsers are compiled in again so libFuzzer sees their coverage.
tests_fuzz_fuzz_run_request_SOURCES = tests/fuzz/fuzz-run-request.c lib/run/proto.c lib/run/crypto.c
tests_fuzz_fuzz_run_request_CFLAGS = $(HHA_FUZZ_COMPILE)
tests_fuzz_fuzz_run_request_LDFLAGS = $(HHA_FUZZ_LINK)
tests_fuzz_fuzz_run_request_LDADD = $(HHA_INTERNAL_LIBS)
tests_fuzz_fuzz_run_frame_SOURCES = tests/fuzz/fuzz-run-frame.c lib/run/proto.c lib/run/crypto.c \
	lib/run/load.c
tests_fuzz_fuzz_run_frame_CFLAGS = $(HHA_FUZZ_COMPILE)
tests_fuzz_fuzz_run_frame_LDFLAGS = $(HHA_FUZZ_LINK)
tests_fuzz_fuzz_run_frame_LDADD = $(HHA_INTERNAL_LIBS)

if ENABLE_FUZZERS
fuzz: $(FUZZ_TARGETS)
else
fuzz:
	@echo "configure with --enable-fuzzers CC=clang to build the fuzz targets" >&2; exit 1
endif
