/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Persistent membership state: our incarnation and the newest incarnation seen from each peer. */
#ifndef HHA_NET_HB_STATE_H
#define HHA_NET_HB_STATE_H

#include <stdint.h>

/*
 * The next incarnation: max(stored + 1, wall-clock ms), written back durably
 * before it is used. The wall clock keeps it growing if the state directory
 * is lost; the stored value keeps it growing if the clock is set back.
 * 0 or -errno (message names the file).
 */
int hb_state_next_incarnation(const char *dir, uint64_t *out);
/* Read STATE_DIR/peers ("ID INCARNATION" lines) into floors[id]; a missing file is empty. */
int hb_state_load_peers(const char *dir, uint64_t floors[256]);
/* Write it back (temporary file, fsync, rename). */
int hb_state_save_peers(const char *dir, const uint64_t floors[256]);

#endif /* HHA_NET_HB_STATE_H */
