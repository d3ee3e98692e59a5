# SPDX-License-Identifier: GPL-2.0-or-later
# hha-mon, the live cluster view. Everything but the terminal layer is a
# convenience library, so the unit tests need neither ncurses nor a terminal.

noinst_LTLIBRARIES += libhha-mon.la
libhha_mon_la_SOURCES = \
	cli/mon/canvas.c \
	cli/mon/canvas.h \
	cli/mon/draw-bars.c \
	cli/mon/draw-tables.c \
	cli/mon/draw.h \
	cli/mon/feed.c \
	cli/mon/feed.h \
	cli/mon/layout.c \
	cli/mon/layout.h \
	cli/mon/output.c \
	cli/mon/output.h \
	cli/mon/snapshot.c \
	cli/mon/snapshot.h \
	cli/mon/source.c \
	cli/mon/source.h \
	cli/mon/ui.c \
	cli/mon/ui.h \
	$(NULL)
libhha_mon_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cli
libhha_mon_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(PTHREAD_CFLAGS)
libhha_mon_la_LIBADD = $(JSONC_LIBS) $(PTHREAD_LIBS) -lm

if HAVE_NCURSES
bin_PROGRAMS += hha-mon
endif
hha_mon_SOURCES = cli/hha-mon.c cli/mon/term.c cli/mon/term.h
hha_mon_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cli
hha_mon_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(NCURSES_CFLAGS)
hha_mon_LDADD = libhha-mon.la $(HHA_CLI_LIBS) $(NCURSES_LIBS) $(PTHREAD_LIBS) -lm

# The stand-in hhad the screen tests talk to (tests/e2e/mon-*.sh).
check_PROGRAMS += cli/mon/fake-hhad
cli_mon_fake_hhad_SOURCES = cli/mon/fake-hhad.c
cli_mon_fake_hhad_CFLAGS = $(HHA_INTERNAL_CFLAGS)
cli_mon_fake_hhad_LDADD = $(HHA_INTERNAL_LIBS)

EXTRA_DIST += cli/mon/capture-views.sh
