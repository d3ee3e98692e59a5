# SPDX-License-Identifier: LGPL-2.1-or-later
# Tests. Unit tests are cmocka programs linked with the internal library;
# shell tests start real daemons (the lab ones in network namespaces, as root).

AM_TESTS_ENVIRONMENT = \
	HHA_BUILDDIR='$(abs_top_builddir)'; export HHA_BUILDDIR; \
	HHA_SRCDIR='$(abs_top_srcdir)'; export HHA_SRCDIR; \
	HHA_LAB_TESTS='$(ENABLE_LAB_TESTS)'; export HHA_LAB_TESTS; \
	CMOCKA_MESSAGE_OUTPUT=STDOUT; export CMOCKA_MESSAGE_OUTPUT; \
	$(NULL)

UNIT_CFLAGS = $(HHA_INTERNAL_CFLAGS) $(CMOCKA_CFLAGS)
UNIT_LIBS = $(HHA_INTERNAL_LIBS) $(CMOCKA_LIBS)

if HAVE_CMOCKA
UNIT_TESTS = \
	tests/unit/test-error \
	tests/unit/test-nbd-conn \
	tests/unit/test-nbd-proto \
	tests/unit/test-nbd-server \
	$(NULL)
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
endif

tests_unit_test_error_SOURCES = tests/unit/test-error.c
tests_unit_test_error_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_error_LDADD = $(UNIT_LIBS)

# Shell tests: each exits 77 (skipped) when it cannot run here (not root,
# lab tests disabled, e.g. inside make distcheck).
SHELL_TESTS = \
	tests/nbd/clients.sh \
	tests/nbd/filesystem.sh \
	tests/nbd/protocol.sh \
	$(NULL)
TESTS += $(SHELL_TESTS)
EXTRA_DIST += $(SHELL_TESTS) tests/lab

# NBD server: the file-backed fixture, the raw protocol client, the tests.
check_PROGRAMS += tests/nbd/hha-nbd-file tests/nbd/nbd-raw
EXTRA_DIST += tests/nbd/lib.sh tests/fuzz/corpus-nbd-server
tests_nbd_hha_nbd_file_SOURCES = tests/nbd/hha-nbd-file.c
tests_nbd_hha_nbd_file_CFLAGS = $(HHA_INTERNAL_CFLAGS)
tests_nbd_hha_nbd_file_LDADD = $(HHA_INTERNAL_LIBS)
tests_nbd_nbd_raw_SOURCES = tests/nbd/nbd-raw.c
tests_nbd_nbd_raw_CFLAGS = $(HHA_INTERNAL_CFLAGS)
tests_nbd_nbd_raw_LDADD = $(HHA_INTERNAL_LIBS)
tests_unit_test_nbd_proto_SOURCES = tests/unit/test-nbd-proto.c
tests_unit_test_nbd_proto_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_nbd_proto_LDADD = $(UNIT_LIBS)
tests_unit_test_nbd_server_SOURCES = tests/unit/test-nbd-server.c
tests_unit_test_nbd_server_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_nbd_server_LDADD = $(UNIT_LIBS)
tests_unit_test_nbd_conn_SOURCES = tests/unit/test-nbd-conn.c tests/nbd/conn-harness.c \
	tests/nbd/conn-harness.h
tests_unit_test_nbd_conn_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_nbd_conn_LDADD = $(UNIT_LIBS)

include $(top_srcdir)/tests/fuzz/local.mk
