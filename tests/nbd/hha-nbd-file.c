/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test fixture: serve a file through the NBD server with a small threaded file backend. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/internal.h"
#include "core/util.h"
#include "disk/nbd-server.h"

/*
 * Not a product: the replication engine is the real backend. This one does
 * pread/pwrite/fdatasync/fallocate on a worker pool, and can delay and
 * reorder completions so tests exercise out-of-order replies.
 */

struct pool {
	int fd;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct hha_nbd_req *head, *tail; /* queued, linked through backend_priv */
	unsigned queued;
	bool stop;
	unsigned delay_us;
	bool reorder;
	bool inline_io;
	bool trace; /* print FLUSH, TRIM and WRITE_ZEROES requests on stderr */
	unsigned nworkers;
	pthread_t *workers;
};

static const char zeroes[1 << 16];

static int write_zeroes(int fd, uint64_t off, uint64_t len)
{
	while (len) {
		size_t n = len < sizeof(zeroes) ? (size_t)len : sizeof(zeroes);
		int r = hha_pwrite_full(fd, zeroes, n, (off_t)off);

		if (r < 0)
			return r;
		off += n;
		len -= n;
	}
	return 0;
}

static int do_io(int fd, struct hha_nbd_req *r)
{
	bool fua = r->flags & HHA_NBD_REQ_FUA;
	int err = 0;

	switch (r->cmd) {
	case HHA_NBD_CMD_READ:
		return hha_pread_full(fd, r->buf, r->len, (off_t)r->offset);
	case HHA_NBD_CMD_WRITE:
		if (fua) {
			struct iovec iov = { r->buf, r->len };
			ssize_t n = pwritev2(fd, &iov, 1, (off_t)r->offset, RWF_DSYNC);

			if (n == (ssize_t)r->len)
				return 0;
			fua = true; /* short or unsupported: finish the slow way */
		}
		err = hha_pwrite_full(fd, r->buf, r->len, (off_t)r->offset);
		break;
	case HHA_NBD_CMD_FLUSH:
		return fdatasync(fd) < 0 ? -errno : 0;
	case HHA_NBD_CMD_TRIM:
		/* Advisory: a file system that cannot punch holes just keeps the data. */
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)r->offset,
			      (off_t)r->len) < 0 && errno != EOPNOTSUPP)
			err = -errno;
		break;
	case HHA_NBD_CMD_WRITE_ZEROES:
		if (!(r->flags & HHA_NBD_REQ_NO_HOLE) &&
		    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)r->offset,
			      (off_t)r->len) == 0)
			break;
		if (fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)r->offset,
			      (off_t)r->len) == 0)
			break;
		err = write_zeroes(fd, r->offset, r->len);
		break;
	default:
		return -EINVAL;
	}
	if (!err && fua && fdatasync(fd) < 0)
		err = -errno;
	return err;
}

static void *worker_main(void *arg)
{
	struct pool *p = arg;
	unsigned seed = (unsigned)(uintptr_t)pthread_self();

	for (;;) {
		struct hha_nbd_req *r, *prev = NULL;
		unsigned pick = 0;

		pthread_mutex_lock(&p->lock);
		while (!p->head && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		if (!p->head) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		/* Reordering: take a random queued request, not the oldest. */
		if (p->reorder && p->queued > 1)
			pick = (unsigned)rand_r(&seed) % p->queued;
		r = p->head;
		for (unsigned i = 0; i < pick; i++) {
			prev = r;
			r = r->backend_priv;
		}
		if (prev)
			prev->backend_priv = r->backend_priv;
		else
			p->head = r->backend_priv;
		if (p->tail == r)
			p->tail = prev;
		p->queued--;
		pthread_mutex_unlock(&p->lock);
		if (p->delay_us)
			usleep(p->reorder ? (unsigned)rand_r(&seed) % (p->delay_us + 1) : p->delay_us);
		hha_nbd_req_complete(r, do_io(p->fd, r));
	}
}

static void pool_submit(void *ud, struct hha_nbd_req *r)
{
	struct pool *p = ud;

	if (p->trace && r->cmd != HHA_NBD_CMD_READ && r->cmd != HHA_NBD_CMD_WRITE)
		fprintf(stderr, "hha-nbd-file: %s offset %llu length %u%s%s\n",
			r->cmd == HHA_NBD_CMD_FLUSH ? "FLUSH" :
			r->cmd == HHA_NBD_CMD_TRIM  ? "TRIM" :
						      "WRITE_ZEROES",
			(unsigned long long)r->offset, r->len,
			(r->flags & HHA_NBD_REQ_FUA) ? " FUA" : "",
			(r->flags & HHA_NBD_REQ_NO_HOLE) ? " NO_HOLE" : "");

	if (p->inline_io) {
		hha_nbd_req_complete(r, do_io(p->fd, r));
		return;
	}
	r->backend_priv = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->backend_priv = r;
	else
		p->head = r;
	p->tail = r;
	p->queued++;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hha-nbd-file [OPTIONS] FILE\n"
		"Serve FILE as an NBD export (a test fixture for the NBD server).\n"
		"  --unix PATH          listen on a Unix socket\n"
		"  --tcp ADDR:PORT      listen on TCP (PORT 0: any free port)\n"
		"  --port-file PATH     write the TCP port there once listening\n"
		"  --name NAME          export name (default \"hha\"; \"\" always matches)\n"
		"  --description TEXT   export description\n"
		"  --size SIZE          export size (default: the file's; the file grows to it)\n"
		"  --read-only          refuse writes\n"
		"  --min-block N  --pref-block N  --max-payload N   advertised block sizes\n"
		"  --no-flush --no-fua --no-trim --no-zero   do not offer these\n"
		"  --multi-conn         advertise NBD_FLAG_CAN_MULTI_CONN\n"
		"  --workers N          I/O threads (default 4)\n"
		"  --inline             do the I/O in the reader thread (no pool)\n"
		"  --delay-us N         delay each completion by N microseconds\n"
		"  --reorder            complete in random order (random delays up to --delay-us)\n"
		"  --trace              print FLUSH, TRIM and WRITE_ZEROES requests on stderr\n"
		"  --log-level LEVEL    err, warning, notice, info (default), debug\n");
}

static int parse_size_opt(const char *opt, const char *s, uint64_t *out)
{
	if (hha_parse_size(s, out) < 0) {
		fprintf(stderr, "hha-nbd-file: invalid %s `%s'\n", opt, s);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	enum { O_UNIX = 256, O_TCP, O_PORT_FILE, O_NAME, O_DESC, O_SIZE, O_RO, O_MIN, O_PREF,
	       O_MAX, O_NOFLUSH, O_NOFUA, O_NOTRIM, O_NOZERO, O_MULTI, O_WORKERS, O_INLINE,
	       O_DELAY, O_REORDER, O_LOG, O_TRACE };
	static const struct option opts[] = {
		{ "unix", required_argument, NULL, O_UNIX },
		{ "tcp", required_argument, NULL, O_TCP },
		{ "port-file", required_argument, NULL, O_PORT_FILE },
		{ "name", required_argument, NULL, O_NAME },
		{ "description", required_argument, NULL, O_DESC },
		{ "size", required_argument, NULL, O_SIZE },
		{ "read-only", no_argument, NULL, O_RO },
		{ "min-block", required_argument, NULL, O_MIN },
		{ "pref-block", required_argument, NULL, O_PREF },
		{ "max-payload", required_argument, NULL, O_MAX },
		{ "no-flush", no_argument, NULL, O_NOFLUSH },
		{ "no-fua", no_argument, NULL, O_NOFUA },
		{ "no-trim", no_argument, NULL, O_NOTRIM },
		{ "no-zero", no_argument, NULL, O_NOZERO },
		{ "multi-conn", no_argument, NULL, O_MULTI },
		{ "workers", required_argument, NULL, O_WORKERS },
		{ "inline", no_argument, NULL, O_INLINE },
		{ "delay-us", required_argument, NULL, O_DELAY },
		{ "reorder", no_argument, NULL, O_REORDER },
		{ "log-level", required_argument, NULL, O_LOG },
		{ "trace", no_argument, NULL, O_TRACE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hha_nbd_export exp = { .name = "hha", .can_flush = true, .can_fua = true,
				      .can_trim = true, .can_zero = true, .min_block = 512 };
	struct pool pool = { .nworkers = 4 };
	struct hha_nbd_backend be = { .submit = pool_submit, .ud = &pool };
	const char *unix_path = NULL, *tcp = NULL, *port_file = NULL;
	enum hha_log_level level = HHA_LOG_INFO;
	struct hha_nbd_server *srv = NULL;
	struct hha_ctx *ctx = NULL;
	struct hha_nbd_stats st;
	uint64_t size = 0, v;
	int64_t iv;
	sigset_t sigs;
	struct stat sb;
	int c, sig, rc = 1;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_UNIX: unix_path = optarg; break;
		case O_TCP: tcp = optarg; break;
		case O_PORT_FILE: port_file = optarg; break;
		case O_NAME: exp.name = optarg; break;
		case O_DESC: exp.description = optarg; break;
		case O_SIZE:
			if (parse_size_opt("size", optarg, &size) < 0)
				return 2;
			break;
		case O_RO: exp.read_only = true; break;
		case O_MIN: case O_PREF: case O_MAX:
			if (parse_size_opt("block size", optarg, &v) < 0 || v > UINT32_MAX)
				return 2;
			if (c == O_MIN)
				exp.min_block = (uint32_t)v;
			else if (c == O_PREF)
				exp.pref_block = (uint32_t)v;
			else
				exp.max_payload = (uint32_t)v;
			break;
		case O_NOFLUSH: exp.can_flush = false; break;
		case O_NOFUA: exp.can_fua = false; break;
		case O_NOTRIM: exp.can_trim = false; break;
		case O_NOZERO: exp.can_zero = false; break;
		case O_MULTI: exp.can_multi_conn = true; break;
		case O_WORKERS:
			if (hha_parse_int64(optarg, 1, 256, &iv) < 0) {
				fprintf(stderr, "hha-nbd-file: invalid worker count `%s'\n", optarg);
				return 2;
			}
			pool.nworkers = (unsigned)iv;
			break;
		case O_INLINE: pool.inline_io = true; break;
		case O_DELAY:
			if (hha_parse_int64(optarg, 0, 10000000, &iv) < 0) {
				fprintf(stderr, "hha-nbd-file: invalid delay `%s'\n", optarg);
				return 2;
			}
			pool.delay_us = (unsigned)iv;
			break;
		case O_REORDER: pool.reorder = true; break;
		case O_TRACE: pool.trace = true; break;
		case O_LOG:
			if (hha_log_level_from_string(optarg, &level) < 0) {
				fprintf(stderr, "hha-nbd-file: invalid log level `%s'\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc || (!unix_path && !tcp)) {
		usage(stderr);
		return 2;
	}
	if (pool.inline_io && (pool.delay_us || pool.reorder)) {
		fprintf(stderr, "hha-nbd-file: --inline excludes --delay-us and --reorder\n");
		return 2;
	}

	pool.fd = open(argv[optind], (exp.read_only ? O_RDONLY : O_RDWR | O_CREAT) | O_CLOEXEC, 0644);
	if (pool.fd < 0 || fstat(pool.fd, &sb) < 0) {
		fprintf(stderr, "hha-nbd-file: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	if (!size)
		size = (uint64_t)sb.st_size;
	else if ((uint64_t)sb.st_size < size && !exp.read_only && ftruncate(pool.fd, (off_t)size) < 0) {
		fprintf(stderr, "hha-nbd-file: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	exp.size = size;

	/* Every thread inherits this mask; main waits for the signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	pthread_mutex_init(&pool.lock, NULL);
	pthread_cond_init(&pool.cond, NULL);
	if (!pool.inline_io) {
		pool.workers = calloc(pool.nworkers, sizeof(*pool.workers));
		for (unsigned i = 0; pool.workers && i < pool.nworkers; i++)
			pthread_create(&pool.workers[i], NULL, worker_main, &pool);
	}

	if (hha_ctx_new(&ctx) < 0)
		goto out;
	hha_ctx_set_log_level(ctx, level);
	if (hha_nbd_server_new(ctx, &exp, &be, &srv) < 0) {
		fprintf(stderr, "hha-nbd-file: %s\n", hha_last_error());
		goto out;
	}
	if (unix_path && hha_nbd_server_listen_unix(srv, unix_path) < 0) {
		fprintf(stderr, "hha-nbd-file: %s\n", hha_last_error());
		goto out;
	}
	if (tcp) {
		const char *colon = strrchr(tcp, ':');
		char addr[128];

		if (!colon || (size_t)(colon - tcp) >= sizeof(addr) ||
		    hha_parse_int64(colon + 1, 0, 65535, &iv) < 0) {
			fprintf(stderr, "hha-nbd-file: invalid TCP address `%s' (ADDR:PORT)\n", tcp);
			goto out;
		}
		memcpy(addr, tcp, (size_t)(colon - tcp));
		addr[colon - tcp] = '\0';
		if (hha_nbd_server_listen_tcp(srv, addr, (int)iv) < 0) {
			fprintf(stderr, "hha-nbd-file: %s\n", hha_last_error());
			goto out;
		}
		if (port_file) {
			char tmp[4096];
			FILE *f;

			/* Written then renamed, so a reader never sees half a number. */
			snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
			f = fopen(tmp, "w");
			if (!f || fprintf(f, "%d\n", hha_nbd_server_tcp_port(srv)) < 0 ||
			    fclose(f) != 0 || rename(tmp, port_file) < 0) {
				fprintf(stderr, "hha-nbd-file: %s: %s\n", port_file, strerror(errno));
				goto out;
			}
		}
	}
	sigwait(&sigs, &sig);
	rc = 0;
out:
	if (srv) {
		hha_nbd_server_stats(srv, &st);
		hha_nbd_server_free(srv);
		fprintf(stderr,
			"hha-nbd-file: %llu requests, %llu bytes read, %llu written, %llu errors, "
			"%llu protocol errors\n",
			(unsigned long long)st.requests, (unsigned long long)st.bytes_read,
			(unsigned long long)st.bytes_written, (unsigned long long)st.errors,
			(unsigned long long)st.protocol_errors);
	}
	pthread_mutex_lock(&pool.lock);
	pool.stop = true;
	pthread_cond_broadcast(&pool.cond);
	pthread_mutex_unlock(&pool.lock);
	for (unsigned i = 0; pool.workers && i < pool.nworkers; i++)
		pthread_join(pool.workers[i], NULL);
	free(pool.workers);
	hha_ctx_free(ctx);
	close(pool.fd);
	return rc;
}
