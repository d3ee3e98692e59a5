# SPDX-License-Identifier: LGPL-2.1-or-later
dist_doc_DATA += \
	docs/ARCHITECTURE.md \
	docs/control-protocol.md \
	docs/disk.md \
	docs/exit-codes.md \
	docs/hha-disk.md \
	docs/hha-mon.md \
	docs/hybridha.conf.md \
	docs/nbd.md \
	docs/resync.md \
	docs/split-brain.md \
	docs/wire-protocol.md \
	docs/hha-net.md \
	docs/membership.md \
	docs/vip.md \
	docs/witness-lease.md \
	$(NULL)
EXTRA_DIST += docs/hybridha.conf.md.in

# docs/hybridha.conf.md = the hand-written text + the table generated from the schema.
.PHONY: update-config-doc
update-config-doc: hhad
	$(AM_V_GEN)./hhad --config-schema > docs-schema.tmp && \
	sed -e '/@SCHEMA_TABLE@/{r docs-schema.tmp' -e 'd}' \
		$(srcdir)/docs/hybridha.conf.md.in > $(srcdir)/docs/hybridha.conf.md && \
	rm -f docs-schema.tmp
