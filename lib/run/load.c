/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The load vector: sampling from procfs or a node's cgroup, and its binary encoding. */
#include "config.h"

#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hybridha/load.h>

#include "core/internal.h"
#include "core/util.h"
#include "run/proto.h"

#define MAX_TASKS 4096
/* Smoothing of cpu_use: one period's figure is too jumpy to place by. */
#define CPU_TAU_MS 1000.0

struct hha_load_sampler {
	struct hha_ctx *ctx;
	char *cgroup;
	char *proc;
	bool v1;              /* cgroup v1 cpuacct instead of v2 cpu.stat */
	double speed;
	struct hha_load last;
	bool primed;          /* a previous sample exists to diff against */
	uint64_t prev_busy, prev_total; /* /proc/stat ticks, or usage us and wall us */
	int64_t prev_ms;
};

HHA_EXPORT int hha_load_encode(const struct hha_load *l, void *buf, size_t len)
{
	uint8_t *p = buf;
	double use = l->cpu_use < 0 ? 0 : l->cpu_use > 1 ? 1 : l->cpu_use;

	if (len < HHA_LOAD_ENCODED_LEN)
		return -ENOSPC;
	memset(p, 0, HHA_LOAD_ENCODED_LEN);
	p[0] = 1;
	hha_put_be16(p + 2, (uint16_t)HHA_MIN(l->ncpus, 65535u));
	for (int i = 0; i < 3; i++)
		hha_put_be32(p + 4 + 4 * i, (uint32_t)fmin(fmax(l->loadavg[i], 0) * 1000.0 + 0.5,
							    UINT32_MAX));
	hha_put_be32(p + 16, (uint32_t)(use * 1e6 + 0.5));
	hha_put_be32(p + 20, (uint32_t)fmin(fmax(l->speed, 0) * 1000.0 + 0.5, UINT32_MAX));
	hha_put_be64(p + 24, l->mem_total);
	hha_put_be64(p + 32, l->mem_free);
	hha_put_be64(p + 40, l->mem_avail);
	hha_put_be32(p + 48, l->runon_procs);
	hha_put_be64(p + 56, l->time_ms);
	return HHA_LOAD_ENCODED_LEN;
}

HHA_EXPORT int hha_load_decode(const void *buf, size_t len, struct hha_load *out)
{
	const uint8_t *p = buf;
	struct hha_load l = { 0 };

	if (len < 1)
		return -EBADMSG;
	if (p[0] != 1)
		return -HHA_EVERSION;
	if (len < HHA_LOAD_ENCODED_LEN)
		return -EBADMSG;
	l.ncpus = hha_get_be16(p + 2);
	for (int i = 0; i < 3; i++)
		l.loadavg[i] = hha_get_be32(p + 4 + 4 * i) / 1000.0;
	l.cpu_use = hha_get_be32(p + 16) / 1e6;
	l.speed = hha_get_be32(p + 20) / 1000.0;
	l.mem_total = hha_get_be64(p + 24);
	l.mem_free = hha_get_be64(p + 32);
	l.mem_avail = hha_get_be64(p + 40);
	l.runon_procs = hha_get_be32(p + 48);
	l.time_ms = hha_get_be64(p + 56);
	if (l.ncpus == 0 || l.cpu_use > 1.0 || l.mem_free > l.mem_total || l.mem_avail > l.mem_total)
		return -EBADMSG;
	*out = l;
	return 0;
}

HHA_EXPORT double hha_load_score(const struct hha_load *l, unsigned extra)
{
	double load = fmax(l->loadavg[0], l->cpu_use * l->ncpus) + extra;
	double cap = (l->ncpus ? l->ncpus : 1) * (l->speed > 0 ? l->speed : 1.0);

	return load / cap;
}

/* A fixed integer workload; volatile keeps the compiler from folding it. */
static uint64_t workload(unsigned iters)
{
	volatile uint64_t sink;
	uint64_t x = 0x9e3779b97f4a7c15ull, acc = 0;

	for (unsigned i = 0; i < iters; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		acc += x * 0xff51afd7ed558ccdull + (acc >> 3);
	}
	sink = acc;
	return sink;
}

/* Iterations per microsecond of the reference machine (the project's
 * development machine, a 2020s x86-64 server core). */
#define SPEED_REF_PER_US 680.0

HHA_EXPORT double hha_load_measure_speed(void)
{
	double best = 0;

	/* Best of three: a preemption or a cold cache only ever makes a run slower. */
	for (int round = 0; round < 3; round++) {
		struct timespec a, b;
		const unsigned iters = 2000000;
		double us;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
		workload(iters);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
		us = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
		if (us > 0 && iters / us > best)
			best = iters / us;
	}
	best /= SPEED_REF_PER_US;
	/* Two significant digits: more would be noise. */
	return best > 0 ? round(best * 100.0) / 100.0 : 1.0;
}

static int read_small(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (int)n;
}

static int read_u64_file(const char *path, uint64_t *out)
{
	char buf[64];
	int r = read_small(path, buf, sizeof(buf));

	if (r < 0)
		return r;
	if (strncmp(buf, "max", 3) == 0)
		return -ERANGE;
	*out = strtoull(buf, NULL, 10);
	return 0;
}

static unsigned online_cpus(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* CPUs a cgroup v2 may use: its cpu.max quota, rounded up, else every online CPU. */
static unsigned cgroup_cpus(const struct hha_load_sampler *s)
{
	char path[4096], buf[128];
	unsigned n = online_cpus();
	long long quota, period;

	snprintf(path, sizeof(path), "%s/cpu.max", s->cgroup);
	if (read_small(path, buf, sizeof(buf)) > 0 && sscanf(buf, "%lld %lld", &quota, &period) == 2 &&
	    quota > 0 && period > 0) {
		unsigned q = (unsigned)((quota + period - 1) / period);
		if (q >= 1 && q < n)
			n = q;
	}
	return n;
}

static int meminfo(const struct hha_load_sampler *s, struct hha_load *l)
{
	char path[4096], buf[4096], *p;
	uint64_t total = 0, freeb = 0, avail = 0, limit, usage;

	snprintf(path, sizeof(path), "%s/meminfo", s->proc);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return -errno;
	if ((p = strstr(buf, "MemTotal:")))
		total = strtoull(p + 9, NULL, 10) * 1024;
	if ((p = strstr(buf, "MemFree:")))
		freeb = strtoull(p + 8, NULL, 10) * 1024;
	if ((p = strstr(buf, "MemAvailable:")))
		avail = strtoull(p + 13, NULL, 10) * 1024;
	else
		avail = freeb;
	/* A memory limit on the node's cgroup is the node's memory. */
	if (s->cgroup) {
		char lp[4096], up[4096];
		snprintf(lp, sizeof(lp), "%s/%s", s->cgroup, s->v1 ? "memory.limit_in_bytes" : "memory.max");
		snprintf(up, sizeof(up), "%s/%s", s->cgroup,
			 s->v1 ? "memory.usage_in_bytes" : "memory.current");
		if (read_u64_file(lp, &limit) == 0 && limit < total && read_u64_file(up, &usage) == 0) {
			uint64_t room = usage < limit ? limit - usage : 0;
			total = limit;
			freeb = HHA_MIN(freeb, room);
			avail = HHA_MIN(avail, room);
		}
	}
	l->mem_total = total;
	l->mem_free = HHA_MIN(freeb, total);
	l->mem_avail = HHA_MIN(avail, total);
	return 0;
}

/* Machine-wide: /proc/loadavg and the first line of /proc/stat. */
static int sample_proc(struct hha_load_sampler *s, struct hha_load *l, uint64_t *busy,
		       uint64_t *total)
{
	char path[4096], buf[512];
	unsigned long long v[8] = { 0 };

	snprintf(path, sizeof(path), "%s/loadavg", s->proc);
	if (read_small(path, buf, sizeof(buf)) < 0 ||
	    sscanf(buf, "%lf %lf %lf", &l->loadavg[0], &l->loadavg[1], &l->loadavg[2]) != 3)
		return -EIO;
	snprintf(path, sizeof(path), "%s/stat", s->proc);
	if (read_small(path, buf, sizeof(buf)) < 0 ||
	    sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7]) < 4)
		return -EIO;
	*total = 0;
	for (int i = 0; i < 8; i++)
		*total += v[i];
	*busy = *total - v[3] - v[4]; /* idle and iowait are not busy */
	l->ncpus = online_cpus();
	return 0;
}

/* Tasks of the cgroup that are runnable or in uninterruptible sleep, as the kernel's loadavg counts. */
static unsigned cgroup_runnable(const struct hha_load_sampler *s)
{
	char path[4096], line[64], stat[512];
	unsigned n = 0, seen = 0;
	pid_t self = gettid();
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", s->cgroup, s->v1 ? "tasks" : "cgroup.threads");
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f) && seen++ < MAX_TASKS) {
		long tid = strtol(line, NULL, 10);
		char *p;
		/* The sampler itself is running while it looks: leave it out. */
		if (tid <= 0 || tid == self)
			continue;
		snprintf(path, sizeof(path), "%s/%ld/stat", s->proc, tid);
		if (read_small(path, stat, sizeof(stat)) <= 0)
			continue;
		/* The state follows the command name, which may contain ')'. */
		p = strrchr(stat, ')');
		if (p && (p[2] == 'R' || p[2] == 'D'))
			n++;
	}
	fclose(f);
	return n;
}

/* The node's own cgroup: CPU time used, and our own load average of its tasks. */
static int sample_cgroup(struct hha_load_sampler *s, struct hha_load *l, uint64_t *busy,
			 uint64_t *total, int64_t now_ms, double dt_ms)
{
	char path[4096], buf[1024], *p;
	static const double tau_ms[3] = { 60e3, 300e3, 900e3 };
	unsigned run;

	if (s->v1) {
		snprintf(path, sizeof(path), "%s/cpuacct.usage", s->cgroup);
		if (read_u64_file(path, busy) < 0)
			return -EIO;
		*busy /= 1000; /* ns -> us */
	} else {
		snprintf(path, sizeof(path), "%s/cpu.stat", s->cgroup);
		if (read_small(path, buf, sizeof(buf)) < 0 || !(p = strstr(buf, "usage_usec ")))
			return -EIO;
		*busy = strtoull(p + 11, NULL, 10);
	}
	l->ncpus = cgroup_cpus(s);
	*total = (uint64_t)now_ms * 1000 * l->ncpus; /* wall time times CPUs, in us */
	run = cgroup_runnable(s);
	/* The kernel's exponential averages, advanced by the real time since the last sample. */
	for (int i = 0; i < 3; i++) {
		double e = s->primed ? exp(-dt_ms / tau_ms[i]) : 1.0;
		l->loadavg[i] = s->last.loadavg[i] * e + run * (1.0 - e);
	}
	return 0;
}

HHA_EXPORT int hha_load_sample(struct hha_load_sampler *s, struct hha_load *out)
{
	struct hha_load l = s->last;
	int64_t now = hha_now_ms();
	double dt = s->primed ? (double)(now - s->prev_ms) : 0;
	uint64_t busy = 0, total = 0;
	struct timespec ts;
	int r;

	r = s->cgroup ? sample_cgroup(s, &l, &busy, &total, now, dt) : sample_proc(s, &l, &busy, &total);
	if (r < 0) {
		*out = s->last;
		return hha_error(r, __func__, "cannot read the load of %s", s->cgroup ? s->cgroup : s->proc);
	}
	if (s->primed && total > s->prev_total && busy >= s->prev_busy) {
		double use = (double)(busy - s->prev_busy) / (double)(total - s->prev_total);
		double e = exp(-dt / CPU_TAU_MS);
		use = use > 1 ? 1 : use;
		l.cpu_use = s->last.cpu_use * e + use * (1 - e);
	}
	meminfo(s, &l);
	l.speed = s->speed;
	l.runon_procs = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	l.time_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	s->prev_busy = busy;
	s->prev_total = total;
	s->prev_ms = now;
	s->primed = true;
	s->last = l;
	*out = l;
	return 0;
}

HHA_EXPORT int hha_load_sampler_new(struct hha_ctx *ctx, const struct hha_load_sampler_opts *opts,
				    struct hha_load_sampler **out)
{
	struct hha_load_sampler *s = calloc(1, sizeof(*s));
	struct hha_load ignored;
	char path[4096];
	struct stat st;

	if (!s)
		return hha_error(-ENOMEM, __func__, "out of memory");
	s->ctx = ctx;
	s->proc = strdup(opts && opts->proc ? opts->proc : "/proc");
	if (opts && opts->cgroup)
		s->cgroup = strdup(opts->cgroup);
	if (!s->proc || (opts && opts->cgroup && !s->cgroup)) {
		hha_load_sampler_free(s);
		return hha_error(-ENOMEM, __func__, "out of memory");
	}
	if (s->cgroup) {
		snprintf(path, sizeof(path), "%s/cpu.stat", s->cgroup);
		if (stat(path, &st) < 0) {
			snprintf(path, sizeof(path), "%s/cpuacct.usage", s->cgroup);
			if (stat(path, &st) < 0) {
				hha_load_sampler_free(s);
				return hha_error(-ENOENT, __func__,
						 "%s has neither cpu.stat (cgroup v2) nor cpuacct.usage (v1)",
						 opts->cgroup);
			}
			s->v1 = true;
		}
	}
	s->speed = opts && opts->speed > 0 ? opts->speed : hha_load_measure_speed();
	s->last.ncpus = 1;
	s->last.speed = s->speed;
	hha_load_sample(s, &ignored); /* the base the first real sample diffs against */
	*out = s;
	return 0;
}

HHA_EXPORT void hha_load_sampler_free(struct hha_load_sampler *s)
{
	if (!s)
		return;
	free(s->cgroup);
	free(s->proc);
	free(s);
}
