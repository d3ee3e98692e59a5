# SPDX-License-Identifier: LGPL-2.1-or-later
EXTRA_DIST += bench/run-vs-ssh.sh
EXTRA_DIST += bench/disk-replication.sh
EXTRA_DIST += bench/nbd-server.sh

EXTRA_DIST += bench/net-failover.sh bench/net-hbcost.sh bench/net-stress.sh
EXTRA_DIST += bench/resync-bench.sh
