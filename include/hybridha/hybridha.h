/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Umbrella header: the whole public libhybridha API. */
#ifndef HYBRIDHA_HYBRIDHA_H
#define HYBRIDHA_HYBRIDHA_H

#include <hybridha/common.h>
#include <hybridha/error.h>
#include <hybridha/ctx.h>
#include <hybridha/clock.h>
#include <hybridha/config.h>
#include <hybridha/ctl.h>
#include <hybridha/disk.h>
#include <hybridha/load.h>
#include <hybridha/run.h>
#include <hybridha/membership.h>
#include <hybridha/vip.h>

#endif /* HYBRIDHA_HYBRIDHA_H */
