# SPDX-License-Identifier: LGPL-2.1-or-later
# Sources of lib/disk/.

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
