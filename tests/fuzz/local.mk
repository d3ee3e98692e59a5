# SPDX-License-Identifier: LGPL-2.1-or-later
# libFuzzer targets, built by `make fuzz` in a tree configured with
# --enable-fuzzers and CC=clang. Run one from the build directory with, e.g.:
#   mkdir -p corpus
#   ./tests/fuzz/fuzz-nbd-server -max_total_time=20 corpus $(srcdir)/tests/fuzz/corpus-nbd-server

FUZZER_SAN = -fsanitize=fuzzer,address,undefined

# The NBD server's parser: the connection state machine fed a client's bytes.
# Its sources are compiled into the target so libFuzzer instruments them.
NBD_FUZZ_SOURCES = \
	tests/fuzz/fuzz-nbd-server.c \
	tests/nbd/conn-harness.c \
	tests/nbd/conn-harness.h \
	lib/disk/nbd-conn.c \
	lib/disk/nbd-conn-out.c \
	lib/disk/nbd-proto.c \
	$(NULL)

if ENABLE_FUZZERS
FUZZ_TARGETS = tests/fuzz/fuzz-nbd-server
EXTRA_PROGRAMS += $(FUZZ_TARGETS)
CLEANFILES += $(FUZZ_TARGETS)
fuzz: $(FUZZ_TARGETS)
else
fuzz:
	@echo "make fuzz: configure with --enable-fuzzers CC=clang first" >&2; exit 1
endif

tests_fuzz_fuzz_nbd_server_SOURCES = $(NBD_FUZZ_SOURCES)
tests_fuzz_fuzz_nbd_server_CFLAGS = $(HHA_INTERNAL_CFLAGS) $(FUZZER_SAN)
tests_fuzz_fuzz_nbd_server_LDFLAGS = $(FUZZER_SAN)
tests_fuzz_fuzz_nbd_server_LDADD = $(HHA_INTERNAL_LIBS)
