/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Definitions shared by every public libhybridha header. */
#ifndef HYBRIDHA_COMMON_H
#define HYBRIDHA_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define HHA_BEGIN_DECLS extern "C" {
#define HHA_END_DECLS }
#else
#define HHA_BEGIN_DECLS
#define HHA_END_DECLS
#endif

/* Marks the functions the shared library exports (it is built with
 * -fvisibility=hidden; a version script lists the same names). */
#if defined(HHA_BUILDING_LIBRARY) && defined(__GNUC__)
#define HHA_EXPORT __attribute__((visibility("default")))
#else
#define HHA_EXPORT
#endif

#if defined(__GNUC__)
#define HHA_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define HHA_PRINTF(fmt, args)
#endif

#endif /* HYBRIDHA_COMMON_H */
