# SPDX-License-Identifier: LGPL-2.1-or-later
# Sources of lib/disk/: the replicated block device.
libhha_internal_la_SOURCES += \
	lib/disk/bitmap.c \
	lib/disk/bitmap.h \
	lib/disk/cstate.c \
	lib/disk/dstate.c \
	lib/disk/genid.c \
	lib/disk/genid.h \
	lib/disk/inflight.c \
	lib/disk/inflight.h \
	lib/disk/md.c \
	lib/disk/md.h \
	lib/disk/state.h \
	lib/disk/wire.c \
	lib/disk/wire.h \
	lib/disk/wire-sec.c \
	lib/disk/wire-sec.h \
	$(NULL)
