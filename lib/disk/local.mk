# SPDX-License-Identifier: LGPL-2.1-or-later
# Sources of lib/disk/: the replicated block device.
libhha_internal_la_SOURCES += \
	lib/disk/actlog.c \
	lib/disk/admin.c \
	lib/disk/al.c \
	lib/disk/al.h \
	lib/disk/bitmap.c \
	lib/disk/bitmap.h \
	lib/disk/cstate.c \
	lib/disk/decide.c \
	lib/disk/disk.c \
	lib/disk/dstate.c \
	lib/disk/engine.h \
	lib/disk/export.c \
	lib/disk/genid.c \
	lib/disk/genid.h \
	lib/disk/inflight.c \
	lib/disk/inflight.h \
	lib/disk/io.c \
	lib/disk/ioerr.c \
	lib/disk/link.c \
	lib/disk/md.c \
	lib/disk/md.h \
	lib/disk/mdhint.c \
	lib/disk/mdmove.c \
	lib/disk/mdops.c \
	lib/disk/peer.c \
	lib/disk/primary.c \
	lib/disk/resize.c \
	lib/disk/resync.c \
	lib/disk/secondary.c \
	lib/disk/state.h \
	lib/disk/status.c \
	lib/disk/verify.c \
	lib/disk/wire.c \
	lib/disk/wire.h \
	lib/disk/wire-sec.c \
	lib/disk/wire-sec.h \
	$(NULL)

# NBD server (the device applications see).
libhha_internal_la_SOURCES += \
	lib/disk/nbd-conn.c \
	lib/disk/nbd-conn.h \
	lib/disk/nbd-conn-impl.h \
	lib/disk/nbd-conn-out.c \
	lib/disk/nbd-proto.c \
	lib/disk/nbd-proto.h \
	lib/disk/nbd-server.c \
	lib/disk/nbd-server.h \
	$(NULL)
