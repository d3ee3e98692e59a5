# SPDX-License-Identifier: LGPL-2.1-or-later
hybridhaincludedir = $(includedir)/hybridha
hybridhainclude_HEADERS = \
	include/hybridha/clock.h \
	include/hybridha/common.h \
	include/hybridha/config.h \
	include/hybridha/ctl.h \
	include/hybridha/ctx.h \
	include/hybridha/disk.h \
	include/hybridha/error.h \
	include/hybridha/hybridha.h \
	include/hybridha/load.h \
	include/hybridha/run.h \
	include/hybridha/membership.h \
	include/hybridha/vip.h \
	$(NULL)
