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
	tests/unit/test-config \
	tests/unit/test-ctlproto \
	tests/unit/test-error \
	tests/unit/test-loop \
	tests/unit/test-util \
	tests/unit/test-hb-proto \
	tests/unit/test-hb-lease \
	tests/unit/test-member-fsm \
	tests/unit/test-membership \
	$(NULL)
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
endif

tests_unit_test_config_SOURCES = tests/unit/test-config.c
tests_unit_test_config_CFLAGS = $(UNIT_CFLAGS) -DSRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_config_LDADD = $(UNIT_LIBS)

tests_unit_test_ctlproto_SOURCES = tests/unit/test-ctlproto.c
tests_unit_test_ctlproto_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ctlproto_LDADD = $(UNIT_LIBS)

tests_unit_test_loop_SOURCES = tests/unit/test-loop.c
tests_unit_test_loop_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_loop_LDADD = $(UNIT_LIBS)

tests_unit_test_util_SOURCES = tests/unit/test-util.c
tests_unit_test_util_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_util_LDADD = $(UNIT_LIBS)

tests_unit_test_error_SOURCES = tests/unit/test-error.c
tests_unit_test_error_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_error_LDADD = $(UNIT_LIBS)

tests_unit_test_hb_proto_SOURCES = tests/unit/test-hb-proto.c
tests_unit_test_hb_proto_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_hb_proto_LDADD = $(UNIT_LIBS)
tests_unit_test_hb_lease_SOURCES = tests/unit/test-hb-lease.c
tests_unit_test_hb_lease_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_hb_lease_LDADD = $(UNIT_LIBS)
tests_unit_test_member_fsm_SOURCES = tests/unit/test-member-fsm.c
tests_unit_test_member_fsm_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_member_fsm_LDADD = $(UNIT_LIBS)
tests_unit_test_membership_SOURCES = tests/unit/test-membership.c
tests_unit_test_membership_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_membership_LDADD = $(UNIT_LIBS)

# Shell tests: each exits 77 (skipped) when it cannot run here (not root,
# lab tests disabled, e.g. inside make distcheck).
SHELL_TESTS = \
	tests/config-doc.sh \
	tests/headers.sh \
	tests/hhad-daemon.sh \
	tests/install.sh \
	tests/symbols.sh \
	tests/e2e/net-conf.sh \
	tests/e2e/net-hb.sh \
	tests/e2e/net-vip.sh \
	$(NULL)
TESTS += $(SHELL_TESTS)
EXTRA_DIST += $(SHELL_TESTS) tests/lab tests/e2e/net-common.sh
include tests/fuzz/local.mk
