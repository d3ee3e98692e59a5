# SPDX-License-Identifier: LGPL-2.1-or-later
# Examples use only the public API and link the shared library, like any
# program outside this tree; tests/install.sh also builds them against the
# installed library through pkg-config.
check_PROGRAMS += examples/config-check examples/ctl-status
examples_config_check_SOURCES = examples/config-check.c
examples_config_check_LDADD = libhybridha.la
examples_ctl_status_SOURCES = examples/ctl-status.c
examples_ctl_status_LDADD = libhybridha.la

EXTRA_DIST += examples/hybridha.conf
