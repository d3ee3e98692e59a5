# SPDX-License-Identifier: LGPL-2.1-or-later
# Sources of lib/disk/: the replicated block device.
libhha_internal_la_SOURCES += \
	lib/disk/bitmap.c \
	lib/disk/bitmap.h \
	lib/disk/md.c \
	lib/disk/md.h \
	lib/disk/wire.c \
	lib/disk/wire.h \
	lib/disk/wire-sec.c \
	lib/disk/wire-sec.h \
	$(NULL)
