/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Backing-store I/O: the worker threads, the buffer pool, and the local read/write/flush/trim/zero. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/util.h"
#include "disk/engine.h"

static void *worker(void *arg)
{
	struct hha_disk *d = arg;
	struct hha_workq *q = &d->ioq;

	for (;;) {
		struct hha_job *j;

		pthread_mutex_lock(&q->lock);
		while (!q->head && !q->stop)
			pthread_cond_wait(&q->cond, &q->lock);
		j = q->head;
		if (!j) {
			pthread_mutex_unlock(&q->lock);
			return NULL;
		}
		q->head = j->next;
		if (!q->head)
			q->tail = &q->head;
		pthread_mutex_unlock(&q->lock);
		j->run(d, j);
	}
}

int hha_workq_start(struct hha_disk *d)
{
	struct hha_workq *q = &d->ioq;

	q->head = NULL;
	q->tail = &q->head;
	q->stop = false;
	q->nthreads = 0;
	for (int i = 0; i < HHA_DISK_IO_THREADS; i++) {
		int r = pthread_create(&q->th[i], NULL, worker, d);
		if (r) {
			hha_workq_stop(d);
			return -r;
		}
		q->nthreads++;
	}
	return 0;
}

/* Runs the queued jobs to the end, then joins the workers. */
void hha_workq_stop(struct hha_disk *d)
{
	struct hha_workq *q = &d->ioq;

	pthread_mutex_lock(&q->lock);
	q->stop = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	for (int i = 0; i < q->nthreads; i++)
		pthread_join(q->th[i], NULL);
	q->nthreads = 0;
}

void hha_workq_push(struct hha_disk *d, struct hha_job *j)
{
	struct hha_workq *q = &d->ioq;

	j->next = NULL;
	pthread_mutex_lock(&q->lock);
	*q->tail = j;
	q->tail = &j->next;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

/* Size classes: 4 KiB << i. Freed buffers are kept up to this many bytes. */
#define POOL_KEEP (16u << 20)

static int size_class(uint32_t len)
{
	int c = 0;

	while (c < HHA_POOL_CLASSES - 1 && (4096u << c) < len)
		c++;
	return c;
}

void *hha_pool_get(struct hha_disk *d, uint32_t len, uint32_t *cap)
{
	int c = size_class(len);
	uint32_t sz = 4096u << c;
	void *p;

	if (len > sz) /* beyond the largest class: never pooled */
		sz = len;
	pthread_mutex_lock(&d->pool.lock);
	d->pool.used = true;
	p = sz == (4096u << c) ? d->pool.free[c] : NULL;
	if (p) {
		d->pool.free[c] = *(void **)p;
		d->pool.cached -= sz;
	}
	pthread_mutex_unlock(&d->pool.lock);
	if (!p && posix_memalign(&p, 4096, sz) != 0)
		return NULL;
	*cap = sz;
	return p;
}

void hha_pool_put(struct hha_disk *d, void *buf, uint32_t cap)
{
	int c;

	if (!buf)
		return;
	c = size_class(cap);
	pthread_mutex_lock(&d->pool.lock);
	if (cap == (4096u << c) && d->pool.cached + cap <= POOL_KEEP) {
		*(void **)buf = d->pool.free[c];
		d->pool.free[c] = buf;
		d->pool.cached += cap;
		buf = NULL;
	}
	pthread_mutex_unlock(&d->pool.lock);
	free(buf);
}

void hha_pool_trim(struct hha_disk *d)
{
	void *list[HHA_POOL_CLASSES];
	bool freed = false;

	/* Buffers unused for a whole period go back to the system. */
	pthread_mutex_lock(&d->pool.lock);
	if (d->pool.used) {
		d->pool.used = false;
		pthread_mutex_unlock(&d->pool.lock);
		return;
	}
	memcpy(list, d->pool.free, sizeof(list));
	memset(d->pool.free, 0, sizeof(d->pool.free));
	d->pool.cached = 0;
	pthread_mutex_unlock(&d->pool.lock);
	for (int c = 0; c < HHA_POOL_CLASSES; c++) {
		while (list[c]) {
			void *p = list[c];
			list[c] = *(void **)p;
			free(p);
			freed = true;
		}
	}
	/* Large buffers freed by many threads stay in malloc's arenas otherwise. */
	if (freed)
		malloc_trim(0);
}

void hha_pool_fini(struct hha_disk *d)
{
	for (int c = 0; c < HHA_POOL_CLASSES; c++) {
		while (d->pool.free[c]) {
			void *p = d->pool.free[c];
			d->pool.free[c] = *(void **)p;
			free(p);
		}
	}
	d->pool.cached = 0;
}

int hha_io_write(struct hha_disk *d, const void *buf, uint32_t len, uint64_t off, bool fua)
{
	struct iovec iov = { (void *)buf, len };

	while (iov.iov_len > 0) {
		ssize_t w = pwritev2(d->fd, &iov, 1, (off_t)off, fua ? RWF_DSYNC : 0);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		iov.iov_base = (char *)iov.iov_base + w;
		iov.iov_len -= (size_t)w;
		off += (uint64_t)w;
	}
	ADD(d->st_dw, len);
	return 0;
}

int hha_io_read(struct hha_disk *d, void *buf, uint32_t len, uint64_t off)
{
	int r = hha_pread_full(d->fd, buf, len, (off_t)off);

	if (r == -EPIPE) /* a file shorter than its device size reads as zeroes */
		r = -EIO;
	if (r == 0)
		ADD(d->st_dr, len);
	return r;
}

int hha_io_flush(struct hha_disk *d)
{
	return fdatasync(d->fd) < 0 ? -errno : 0;
}

/* Write zeroes the slow way, for stores that cannot punch or zero ranges. */
static int write_zeroes(struct hha_disk *d, uint64_t off, uint64_t len, bool fua)
{
	static const uint8_t zero[65536];
	int r = 0;

	while (len > 0 && r == 0) {
		uint32_t n = (uint32_t)HHA_MIN(len, sizeof(zero));
		r = hha_io_write(d, zero, n, off, false);
		off += n;
		len -= n;
	}
	if (r == 0 && fua)
		r = hha_io_flush(d);
	return r;
}

int hha_io_trim(struct hha_disk *d, uint64_t off, uint64_t len, bool fua)
{
	int r = 0;

	if (d->is_blockdev) {
		uint64_t range[2] = { off, len };
		/* Discard is advisory on devices; what it leaves is the device's business. */
		if (ioctl(d->fd, BLKDISCARD, range) < 0 && errno != EOPNOTSUPP)
			r = -errno;
	} else if (fallocate(d->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) < 0) {
		/* Trimming is optional; reads must still match, so zero instead. */
		if (errno == EOPNOTSUPP)
			return write_zeroes(d, off, len, fua);
		r = -errno;
	}
	if (r == 0 && fua)
		r = hha_io_flush(d);
	return r;
}

int hha_io_zero(struct hha_disk *d, uint64_t off, uint64_t len, bool may_trim, bool fua)
{
	int r = 0;

	if (d->is_blockdev) {
		uint64_t range[2] = { off, len };
		if (ioctl(d->fd, BLKZEROOUT, range) < 0)
			return errno == EOPNOTSUPP ? write_zeroes(d, off, len, fua) : -errno;
	} else {
		int mode = may_trim ? (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)
				    : (FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE);
		if (fallocate(d->fd, mode, (off_t)off, (off_t)len) < 0) {
			if (errno != EOPNOTSUPP)
				return -errno;
			return write_zeroes(d, off, len, fua);
		}
	}
	if (fua)
		r = hha_io_flush(d);
	return r;
}

int hha_io_open_backing(struct hha_disk *d, const char *path, int *fd, uint64_t *size, bool *blk)
{
	struct stat st;

	*fd = open(path, O_RDWR | O_CLOEXEC);
	if (*fd < 0)
		return hha_error(-errno, NULL, "cannot open %s: %s", path, hha_strerror(errno));
	if (fstat(*fd, &st) < 0)
		goto fail;
	*blk = S_ISBLK(st.st_mode);
	if (*blk) {
		if (ioctl(*fd, BLKGETSIZE64, size) < 0)
			goto fail;
	} else if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
	} else {
		close(*fd);
		*fd = -1;
		return hha_error(-EINVAL, NULL, "%s is neither a regular file nor a block device", path);
	}
	return 0;
fail:;
	int r = -errno;
	close(*fd);
	*fd = -1;
	return hha_error(r, NULL, "cannot size %s: %s", path, hha_strerror(r));
}

int hha_io_store_size(int fd, bool blk, uint64_t *size)
{
	struct stat st;

	if (blk)
		return ioctl(fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
	if (fstat(fd, &st) < 0)
		return -errno;
	*size = (uint64_t)st.st_size;
	return 0;
}

int hha_io_apply(struct hha_disk *d, uint8_t cmd, void *buf, uint64_t off, uint32_t len, bool fua,
		 bool may_trim)
{
	switch (cmd) {
	case HHA_CMD_READ:
		return hha_io_read(d, buf, len, off);
	case HHA_CMD_WRITE:
		return hha_io_write(d, buf, len, off, fua);
	case HHA_CMD_TRIM:
		return hha_io_trim(d, off, len, fua);
	case HHA_CMD_ZERO:
		return hha_io_zero(d, off, len, may_trim, fua);
	case HHA_CMD_FLUSH:
		return hha_io_flush(d);
	default:
		return -EINVAL;
	}
}
