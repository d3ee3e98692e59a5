/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The modules hhad hosts, in start order (stopped in reverse). */
#include "config.h"

#include "daemon.h"
#include "disk.h"
#include "run.h"

extern const struct hhad_module hhad_module_net;

const struct hhad_module *const hhad_modules[] = {
	&hhad_module_core,
	&hhad_module_net,
	&hhad_module_run,
	&hhad_module_disk,
	NULL,
};
