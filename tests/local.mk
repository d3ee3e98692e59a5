# SPDX-License-Identifier: LGPL-2.1-or-later
# Tests. Unit tests are cmocka programs linked with the internal library;
# shell tests start real daemons (the lab ones in network namespaces, as root).

AM_TESTS_ENVIRONMENT = \
	HHA_BUILDDIR='$(abs_top_builddir)'; export HHA_BUILDDIR; \
	HHA_SRCDIR='$(abs_top_srcdir)'; export HHA_SRCDIR; \
	HHA_LAB_TESTS='$(ENABLE_LAB_TESTS)'; export HHA_LAB_TESTS; \
	HHA_SANITIZERS='$(ENABLE_SANITIZERS)'; export HHA_SANITIZERS; \
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
	tests/unit/test-run-proto \
	tests/unit/test-run-place \
	tests/unit/test-load-codec \
	tests/unit/test-md-format \
	tests/unit/test-wire-codec \
	tests/unit/test-wire-sec \
	tests/unit/test-disk-state \
	tests/unit/test-disk-inflight \
	tests/unit/test-disk-pair \
	tests/unit/test-disk-al \
	tests/unit/test-disk-resize \
	tests/unit/test-disk-settle \
	tests/unit/test-disk-newid \
	tests/unit/test-resync-model \
	tests/unit/test-resync-pair \
	tests/unit/test-mon-draw \
	tests/unit/test-mon-layout \
	tests/unit/test-mon-snapshot \
	tests/unit/test-nbd-conn \
	tests/unit/test-nbd-proto \
	tests/unit/test-nbd-server \
	tests/unit/test-hb-proto \
	tests/unit/test-vip-payload \
	tests/unit/test-hb-lease \
	tests/unit/test-member-fsm \
	tests/unit/test-membership \
	tests/unit/test-membership-reconf \
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

tests_unit_test_run_proto_SOURCES = tests/unit/test-run-proto.c
tests_unit_test_run_proto_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_run_proto_LDADD = $(UNIT_LIBS)
tests_unit_test_run_place_SOURCES = tests/unit/test-run-place.c
tests_unit_test_run_place_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_run_place_LDADD = $(UNIT_LIBS)
tests_unit_test_load_codec_SOURCES = tests/unit/test-load-codec.c
tests_unit_test_load_codec_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_load_codec_LDADD = $(UNIT_LIBS)

tests_unit_test_md_format_SOURCES = tests/unit/test-md-format.c
tests_unit_test_md_format_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_md_format_LDADD = $(UNIT_LIBS)

tests_unit_test_disk_pair_SOURCES = tests/unit/test-disk-pair.c tests/unit/test-disk-pairlib.h
tests_unit_test_disk_pair_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_disk_pair_LDADD = $(UNIT_LIBS)

tests_unit_test_disk_resize_SOURCES = tests/unit/test-disk-resize.c tests/unit/test-disk-pairlib.h
tests_unit_test_disk_resize_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_disk_resize_LDADD = $(UNIT_LIBS)

tests_unit_test_disk_settle_SOURCES = tests/unit/test-disk-settle.c tests/unit/test-disk-pairlib.h
tests_unit_test_disk_settle_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_disk_settle_LDADD = $(UNIT_LIBS)

tests_unit_test_disk_newid_SOURCES = tests/unit/test-disk-newid.c tests/unit/test-disk-pairlib.h
tests_unit_test_disk_newid_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_disk_newid_LDADD = $(UNIT_LIBS)

tests_unit_test_disk_al_SOURCES = tests/unit/test-disk-al.c
tests_unit_test_disk_al_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_disk_al_LDADD = $(UNIT_LIBS)

tests_unit_test_resync_model_SOURCES = tests/unit/test-resync-model.c
tests_unit_test_resync_model_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_resync_model_LDADD = $(UNIT_LIBS)

tests_unit_test_resync_pair_SOURCES = tests/unit/test-resync-pair.c tests/unit/test-disk-pairlib.h
tests_unit_test_resync_pair_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_resync_pair_LDADD = $(UNIT_LIBS)

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
# hha-mon: the snapshot parser, the layout arithmetic and the views (no terminal needed).
MON_UNIT_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cli
MON_UNIT_LIBS = libhha-mon.la $(UNIT_LIBS) -lm
tests_unit_test_mon_snapshot_SOURCES = tests/unit/test-mon-snapshot.c
tests_unit_test_mon_snapshot_CPPFLAGS = $(MON_UNIT_CPPFLAGS)
tests_unit_test_mon_snapshot_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_mon_snapshot_LDADD = $(MON_UNIT_LIBS)
tests_unit_test_mon_layout_SOURCES = tests/unit/test-mon-layout.c
tests_unit_test_mon_layout_CPPFLAGS = $(MON_UNIT_CPPFLAGS)
tests_unit_test_mon_layout_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_mon_layout_LDADD = $(MON_UNIT_LIBS)
tests_unit_test_mon_draw_SOURCES = tests/unit/test-mon-draw.c
tests_unit_test_mon_draw_CPPFLAGS = $(MON_UNIT_CPPFLAGS)
tests_unit_test_mon_draw_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_mon_draw_LDADD = $(MON_UNIT_LIBS)

tests_unit_test_hb_proto_SOURCES = tests/unit/test-hb-proto.c
tests_unit_test_hb_proto_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_hb_proto_LDADD = $(UNIT_LIBS)
tests_unit_test_vip_payload_SOURCES = tests/unit/test-vip-payload.c
tests_unit_test_vip_payload_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_vip_payload_LDADD = $(UNIT_LIBS)
tests_unit_test_hb_lease_SOURCES = tests/unit/test-hb-lease.c
tests_unit_test_hb_lease_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_hb_lease_LDADD = $(UNIT_LIBS)
tests_unit_test_member_fsm_SOURCES = tests/unit/test-member-fsm.c
tests_unit_test_member_fsm_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_member_fsm_LDADD = $(UNIT_LIBS)
tests_unit_test_membership_SOURCES = tests/unit/test-membership.c
tests_unit_test_membership_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_membership_LDADD = $(UNIT_LIBS)
tests_unit_test_membership_reconf_SOURCES = tests/unit/test-membership-reconf.c
tests_unit_test_membership_reconf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_membership_reconf_LDADD = $(UNIT_LIBS)

# Shell tests: each exits 77 (skipped) when it cannot run here (not root,
# lab tests disabled, e.g. inside make distcheck).
SHELL_TESTS = \
	tests/config-doc.sh \
	tests/headers.sh \
	tests/hhad-daemon.sh \
	tests/install.sh \
	tests/symbols.sh \
	tests/e2e/lab-selftest.sh \
	tests/e2e/core-daemon.sh \
	tests/e2e/demo.sh \
	tests/e2e/run-launch.sh \
	tests/e2e/run-stream.sh \
	tests/e2e/run-auto.sh \
	tests/e2e/run-security.sh \
	tests/e2e/disk-protocols.sh \
	tests/e2e/disk-fs.sh \
	tests/e2e/disk-resize.sh \
	tests/e2e/disk-resize-faults.sh \
	tests/e2e/disk-sync.sh \
	tests/e2e/disk-faults.sh \
	tests/e2e/disk-many.sh \
	tests/e2e/resync-faults.sh \
	tests/e2e/resync-crash.sh \
	tests/e2e/resync-splitbrain.sh \
	tests/e2e/resync-verify.sh \
	tests/e2e/resync-ioerror.sh \
	tests/e2e/disk-slow-store.sh \
	tests/e2e/mon-lab.sh \
	tests/e2e/mon-once.sh \
	tests/e2e/mon-screen.sh \
	tests/e2e/net-conf.sh \
	tests/e2e/net-hb.sh \
	tests/e2e/net-reload.sh \
	tests/e2e/net-vip.sh \
	tests/e2e/net-vip-cluster.sh \
	tests/e2e/net-witness.sh \
	tests/nbd/clients.sh \
	tests/nbd/filesystem.sh \
	tests/nbd/protocol.sh \
	$(NULL)
TESTS += $(SHELL_TESTS)
EXTRA_DIST += $(SHELL_TESTS) tests/lab tests/e2e/tap.sh \
	tests/e2e/run-lib.sh tests/e2e/mon-lib.sh tests/e2e/net-common.sh \
	tests/e2e/net-hbtool.py \
	tests/e2e/disk-lib.sh tests/e2e/disk-nbd-raw.py

# NBD server: the file-backed fixture, the raw protocol client, the tests.
check_PROGRAMS += tests/nbd/hha-nbd-file tests/nbd/nbd-raw
EXTRA_DIST += tests/nbd/lib.sh
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

include tests/fuzz/local.mk
