# SPDX-License-Identifier: LGPL-2.1-or-later
# libFuzzer targets, one per parser of outside bytes. Built by `make fuzz`
# in a tree configured with CC=clang --enable-fuzzers (scripts/test.sh does
# this and runs each target briefly). Add a target: list it in FUZZ_TARGETS
# and give it the three lines the others have.

FUZZ_TARGETS = \
	tests/fuzz/fuzz-ctlproto \
	tests/fuzz/fuzz-config \
	tests/fuzz/fuzz-run-request \
	tests/fuzz/fuzz-run-frame \
	tests/fuzz/fuzz-wire \
	tests/fuzz/fuzz-md \
	tests/fuzz/fuzz-al \
	tests/fuzz/fuzz-mon-snapshot \
	tests/fuzz/fuzz-nbd-server \
	tests/fuzz/fuzz-hb \
	tests/fuzz/fuzz-vip-payload \
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

tests_fuzz_fuzz_run_request_SOURCES = tests/fuzz/fuzz-run-request.c
tests_fuzz_fuzz_run_request_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_run_request_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_run_request_LDADD = $(FUZZ_LIBS)

tests_fuzz_fuzz_run_frame_SOURCES = tests/fuzz/fuzz-run-frame.c
tests_fuzz_fuzz_run_frame_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_run_frame_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_run_frame_LDADD = $(FUZZ_LIBS)

tests_fuzz_fuzz_wire_SOURCES = tests/fuzz/fuzz-wire.c
tests_fuzz_fuzz_wire_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_wire_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_wire_LDADD = $(FUZZ_LIBS)

tests_fuzz_fuzz_md_SOURCES = tests/fuzz/fuzz-md.c
tests_fuzz_fuzz_md_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_md_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_md_LDADD = $(FUZZ_LIBS)

tests_fuzz_fuzz_al_SOURCES = tests/fuzz/fuzz-al.c
tests_fuzz_fuzz_al_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_al_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_al_LDADD = $(FUZZ_LIBS)

tests_fuzz_fuzz_mon_snapshot_SOURCES = tests/fuzz/fuzz-mon-snapshot.c
tests_fuzz_fuzz_mon_snapshot_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cli
tests_fuzz_fuzz_mon_snapshot_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_mon_snapshot_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_mon_snapshot_LDADD = libhha-mon.la $(FUZZ_LIBS) -lm

# The NBD server: a client's bytes into the connection state machine.
tests_fuzz_fuzz_nbd_server_SOURCES = tests/fuzz/fuzz-nbd-server.c tests/nbd/conn-harness.c \
	tests/nbd/conn-harness.h
tests_fuzz_fuzz_nbd_server_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_nbd_server_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_nbd_server_LDADD = $(FUZZ_LIBS)

tests_fuzz_fuzz_hb_SOURCES = tests/fuzz/fuzz-hb.c
tests_fuzz_fuzz_hb_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_hb_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_hb_LDADD = $(FUZZ_LIBS)

tests_fuzz_fuzz_vip_payload_SOURCES = tests/fuzz/fuzz-vip-payload.c
tests_fuzz_fuzz_vip_payload_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_fuzz_vip_payload_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_vip_payload_LDADD = $(FUZZ_LIBS)

EXTRA_DIST += tests/fuzz/corpus tests/fuzz/run-fuzzers.sh

if ENABLE_FUZZERS
fuzz: $(FUZZ_TARGETS)
else
fuzz:
	@echo "make fuzz: configure with CC=clang --enable-fuzzers first" >&2; exit 1
endif
