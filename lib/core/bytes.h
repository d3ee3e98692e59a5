/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fixed byte order for every wire and on-disk format: one set of helpers for all codecs. */
#ifndef HHA_CORE_BYTES_H
#define HHA_CORE_BYTES_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

/*
 * Network formats (NBD, the peer link, heartbeats, remote launch) are
 * big-endian; the on-disk metadata is little-endian. memcpy keeps unaligned
 * access defined; compilers turn each helper into one load or store.
 */
static inline void hha_put_be16(uint8_t *p, uint16_t v) { v = htobe16(v); memcpy(p, &v, 2); }
static inline void hha_put_be32(uint8_t *p, uint32_t v) { v = htobe32(v); memcpy(p, &v, 4); }
static inline void hha_put_be64(uint8_t *p, uint64_t v) { v = htobe64(v); memcpy(p, &v, 8); }
static inline void hha_put_le32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static inline void hha_put_le64(uint8_t *p, uint64_t v) { v = htole64(v); memcpy(p, &v, 8); }

static inline uint16_t hha_get_be16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return be16toh(v); }
static inline uint32_t hha_get_be32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return be32toh(v); }
static inline uint64_t hha_get_be64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return be64toh(v); }
static inline uint32_t hha_get_le32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }
static inline uint64_t hha_get_le64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return le64toh(v); }

#endif /* HHA_CORE_BYTES_H */
