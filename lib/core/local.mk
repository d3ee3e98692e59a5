# SPDX-License-Identifier: LGPL-2.1-or-later
libhha_internal_la_SOURCES += \
	lib/core/clock.c \
	lib/core/conf.c \
	lib/core/conf.h \
	lib/core/conf-schema.c \
	lib/core/ctl.c \
	lib/core/ctlproto.c \
	lib/core/bytes.h \
	lib/core/ctlproto.h \
	lib/core/ctx.c \
	lib/core/error.c \
	lib/core/internal.h \
	lib/core/loop.c \
	lib/core/loop.h \
	lib/core/schema.c \
	lib/core/schema.h \
	lib/core/util.c \
	lib/core/util.h \
	$(NULL)
