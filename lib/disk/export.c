/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device for applications: an NBD export whose backend is the replication engine. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "disk/engine.h"

/*
 * What the export offers: FLUSH and FUA (durable on both stores under
 * protocol C), TRIM and WRITE_ZEROES (replicated), and multi-connection: a
 * FLUSH on any connection is a barrier through the one engine behind all of
 * them, so it covers writes answered on every connection, on both nodes.
 * Requests must be 512-byte aligned (what the kernel client sends anyway).
 */
HHA_EXPORT int hha_disk_export(struct hha_disk *d, const struct hha_disk_export_opts *o)
{
	struct hha_nbd_export e = {
		.name = d->name,
		.description = "libhybridha replicated device",
		.can_flush = true, .can_fua = true, .can_trim = true, .can_zero = true,
		.can_multi_conn = true,
		.min_block = 512, .pref_block = 4096, .max_payload = HHA_DISK_MAX_PAYLOAD,
	};
	struct hha_nbd_backend be = { hha_disk_submit, d };
	struct hha_nbd_server *srv = NULL;
	const char *unix_path, *tcp_addr;
	int tcp_port, r;

	if (!o || o->struct_size < sizeof(*o))
		return hha_error(-EINVAL, __func__, "missing options");
	unix_path = o->unix_path;
	tcp_addr = o->tcp_addr;
	tcp_port = o->tcp_port;
	if (o->name)
		e.name = o->name;
	if (d->nbd)
		return hha_error(-HHA_ESTATE, __func__, "%s is already exported", d->name);
	if (d->dstate == HHA_DS_DISKLESS)
		return hha_error(-HHA_ESTATE, __func__, "%s has no disk: attach first", d->name);
	if (!unix_path && !tcp_addr)
		return hha_error(-EINVAL, __func__, "give a Unix socket path or a TCP address");
	e.size = d->size;
	e.read_only = d->role != HHA_ROLE_PRIMARY;
	d->complete = hha_nbd_req_complete;
	r = hha_nbd_server_new(d->ctx, &e, &be, &srv);
	if (r == 0 && unix_path)
		r = hha_nbd_server_listen_unix(srv, unix_path);
	if (r == 0 && tcp_addr)
		r = hha_nbd_server_listen_tcp(srv, tcp_addr, tcp_port ? tcp_port : 10809);
	if (r < 0) {
		hha_nbd_server_free(srv);
		return hha_error_wrap(r, __func__);
	}
	pthread_mutex_lock(&d->lock);
	d->nbd = srv;
	snprintf(d->export_unix, sizeof(d->export_unix), "%s", unix_path ? unix_path : "");
	if (tcp_addr)
		snprintf(d->export_tcp, sizeof(d->export_tcp), "%s:%d", tcp_addr, tcp_port ? tcp_port : 10809);
	else
		d->export_tcp[0] = 0;
	d->export_ro_secondary = o->secondary == HHA_EXPORT_SECONDARY_READ_ONLY;
	pthread_mutex_unlock(&d->lock);
	return hha_export_update(d);
}

int hha_export_update(struct hha_disk *d)
{
	bool primary, ro;

	pthread_mutex_lock(&d->lock);
	primary = d->role == HHA_ROLE_PRIMARY;
	ro = d->export_ro_secondary;
	pthread_mutex_unlock(&d->lock);
	if (!d->nbd)
		return 0;
	if (primary) {
		hha_nbd_server_set_read_only(d->nbd, false);
		hha_nbd_server_set_enabled(d->nbd, true, false);
	} else if (ro) {
		/* Writers must not stay connected to a secondary. */
		hha_nbd_server_set_enabled(d->nbd, false, true);
		hha_nbd_server_set_read_only(d->nbd, true);
		hha_nbd_server_set_enabled(d->nbd, true, false);
	} else {
		hha_nbd_server_set_enabled(d->nbd, false, true);
	}
	return 0;
}

void hha_export_resized(struct hha_disk *d)
{
	uint64_t size;

	pthread_mutex_lock(&d->lock);
	size = d->size;
	pthread_mutex_unlock(&d->lock);
	/* Clients connected before keep the size they were told: NBD has no
	 * way to announce a new one; they must reconnect. */
	if (d->nbd)
		hha_nbd_server_set_size(d->nbd, size);
}

void hha_export_close(struct hha_disk *d)
{
	struct hha_nbd_server *srv = d->nbd;

	if (!srv)
		return;
	hha_nbd_server_free(srv);
	pthread_mutex_lock(&d->lock);
	d->nbd = NULL;
	d->export_unix[0] = d->export_tcp[0] = 0;
	pthread_mutex_unlock(&d->lock);
}

HHA_EXPORT int hha_disk_unexport(struct hha_disk *d)
{
	hha_export_close(d);
	return 0;
}
