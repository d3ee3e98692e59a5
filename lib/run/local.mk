# SPDX-License-Identifier: LGPL-2.1-or-later
# Remote launch (hha-runon) and load sampling.
libhha_internal_la_SOURCES += \
	lib/run/client.c \
	lib/run/crypto.c \
	lib/run/crypto.h \
	lib/run/load.c \
	lib/run/nonce.c \
	lib/run/nonce.h \
	lib/run/place.c \
	lib/run/proto.c \
	lib/run/proto.h \
	lib/run/pump.c \
	lib/run/pump.h \
	lib/run/session.c \
	lib/run/session.h \
	$(NULL)
libhha_internal_la_LIBADD += -lm
