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
	tests/unit/test-md-format \
	tests/unit/test-wire-codec \
	tests/unit/test-wire-sec \
	tests/unit/test-disk-state \
	tests/unit/test-disk-inflight \
	tests/unit/test-disk-pair \
	$(NULL)
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
endif

tests_unit_test_error_SOURCES = tests/unit/test-error.c
tests_unit_test_error_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_error_LDADD = $(UNIT_LIBS)

tests_unit_test_md_format_SOURCES = tests/unit/test-md-format.c
tests_unit_test_md_format_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_md_format_LDADD = $(UNIT_LIBS)

tests_unit_test_disk_pair_SOURCES = tests/unit/test-disk-pair.c
tests_unit_test_disk_pair_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_disk_pair_LDADD = $(UNIT_LIBS)

tests_unit_test_disk_inflight_SOURCES = tests/unit/test-disk-inflight.c
tests_unit_test_disk_inflight_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_disk_inflight_LDADD = $(UNIT_LIBS)

tests_unit_test_disk_state_SOURCES = tests/unit/test-disk-state.c
tests_unit_test_disk_state_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_disk_state_LDADD = $(UNIT_LIBS)

tests_unit_test_wire_sec_SOURCES = tests/unit/test-wire-sec.c
tests_unit_test_wire_sec_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_wire_sec_LDADD = $(UNIT_LIBS)

tests_unit_test_wire_codec_SOURCES = tests/unit/test-wire-codec.c
tests_unit_test_wire_codec_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_wire_codec_LDADD = $(UNIT_LIBS)

# Shell tests: each exits 77 (skipped) when it cannot run here (not root,
# lab tests disabled, e.g. inside make distcheck).
SHELL_TESTS = \
	$(NULL)
TESTS += $(SHELL_TESTS)
EXTRA_DIST += $(SHELL_TESTS) tests/lab
