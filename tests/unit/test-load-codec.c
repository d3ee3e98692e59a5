/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: the load vector's encoding, and the sampler on fixture procfs and cgroup trees. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <hybridha/load.h>

#include "core/internal.h"

static void test_roundtrip(void **state)
{
	struct hha_load l = { .loadavg = { 1.25, 0.5, 0.125 }, .ncpus = 8, .cpu_use = 0.42,
			      .speed = 1.5, .mem_total = 16ull << 30, .mem_free = 3ull << 30,
			      .mem_avail = 9ull << 30, .runon_procs = 3, .time_ms = 1800000000123ull };
	uint8_t buf[HHA_LOAD_ENCODED_LEN + 8];
	struct hha_load out;

	(void)state;
	assert_int_equal(hha_load_encode(&l, buf, 10), -ENOSPC);
	assert_int_equal(hha_load_encode(&l, buf, sizeof(buf)), HHA_LOAD_ENCODED_LEN);
	assert_int_equal(hha_load_decode(buf, HHA_LOAD_ENCODED_LEN, &out), 0);
	assert_float_equal(out.loadavg[0], 1.25, 1e-3);
	assert_float_equal(out.loadavg[2], 0.125, 1e-3);
	assert_int_equal(out.ncpus, 8);
	assert_float_equal(out.cpu_use, 0.42, 1e-6);
	assert_float_equal(out.speed, 1.5, 1e-3);
	assert_int_equal(out.mem_total, l.mem_total);
	assert_int_equal(out.mem_avail, l.mem_avail);
	assert_int_equal(out.runon_procs, 3);
	assert_int_equal(out.time_ms, l.time_ms);
	/* A newer revision's extra bytes are ignored. */
	assert_int_equal(hha_load_decode(buf, sizeof(buf), &out), 0);
}

static void test_refusals(void **state)
{
	struct hha_load l = { .ncpus = 2, .mem_total = 100, .mem_free = 50, .mem_avail = 60 }, out;
	uint8_t buf[HHA_LOAD_ENCODED_LEN], bad[HHA_LOAD_ENCODED_LEN];

	(void)state;
	hha_load_encode(&l, buf, sizeof(buf));
	assert_int_equal(hha_load_decode(buf, 0, &out), -EBADMSG);
	assert_int_equal(hha_load_decode(buf, HHA_LOAD_ENCODED_LEN - 1, &out), -EBADMSG);
	memcpy(bad, buf, sizeof(bad));
	bad[0] = 2;
	assert_int_equal(hha_load_decode(bad, sizeof(bad), &out), -HHA_EVERSION);
	memcpy(bad, buf, sizeof(bad));
	bad[2] = bad[3] = 0; /* no CPUs */
	assert_int_equal(hha_load_decode(bad, sizeof(bad), &out), -EBADMSG);
	memcpy(bad, buf, sizeof(bad));
	bad[16] = 0xff; /* CPU use above 100% */
	assert_int_equal(hha_load_decode(bad, sizeof(bad), &out), -EBADMSG);
	memcpy(bad, buf, sizeof(bad));
	bad[39] = 0xff; /* free above total */
	assert_int_equal(hha_load_decode(bad, sizeof(bad), &out), -EBADMSG);
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Machine-wide: /proc figures, CPU use from the /proc/stat difference. */
static void test_sampler_proc(void **state)
{
	char dir[] = "/tmp/hha-load-proc-XXXXXX";
	struct hha_load_sampler_opts o = { .size = sizeof(o), .speed = 1.0 };
	struct hha_load_sampler *s;
	struct hha_load l;

	(void)state;
	assert_non_null(mkdtemp(dir));
	o.proc = dir;
	put(dir, "loadavg", "1.50 0.75 0.25 2/300 4242\n");
	put(dir, "stat", "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 1 1 1 1\n");
	put(dir, "meminfo", "MemTotal:       1000 kB\nMemFree:         200 kB\nMemAvailable:    600 kB\n");
	assert_int_equal(hha_load_sampler_new(NULL, &o, &s), 0);
	/* Half the ticks since the last sample were busy. */
	put(dir, "stat", "cpu  150 0 150 900 0 0 0 0 0 0\n");
	usleep(200000);
	assert_int_equal(hha_load_sample(s, &l), 0);
	assert_float_equal(l.loadavg[0], 1.5, 1e-9);
	assert_float_equal(l.loadavg[2], 0.25, 1e-9);
	assert_int_equal(l.mem_total, 1000 * 1024);
	assert_int_equal(l.mem_free, 200 * 1024);
	assert_int_equal(l.mem_avail, 600 * 1024);
	assert_float_equal(l.speed, 1.0, 1e-9);
	/* Smoothed over about a second: after 0.2 s, between 0 and the 0.5 measured. */
	assert_true(l.cpu_use > 0.05 && l.cpu_use < 0.5);
	assert_true(l.time_ms > 0);
	hha_load_sampler_free(s);
	put(dir, "loadavg", "garbage");
	assert_int_equal(hha_load_sampler_new(NULL, &o, &s), 0);
	assert_true(hha_load_sample(s, &l) < 0);
	hha_load_sampler_free(s);
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
}

/* A node's cgroup: its CPU time, its memory limit, and our own average of its runnable tasks. */
static void test_sampler_cgroup(void **state)
{
	char proc[] = "/tmp/hha-load-proc-XXXXXX", cg[] = "/tmp/hha-load-cg-XXXXXX", path[512], cmd[256];
	struct hha_load_sampler_opts o = { .size = sizeof(o), .speed = 2.0 };
	struct hha_load_sampler *s;
	struct hha_load l;

	(void)state;
	assert_non_null(mkdtemp(proc));
	assert_non_null(mkdtemp(cg));
	o.proc = proc;
	o.cgroup = cg;
	put(proc, "meminfo", "MemTotal:       4000 kB\nMemFree:        3000 kB\nMemAvailable:   3500 kB\n");
	put(cg, "cpu.stat", "usage_usec 1000\nuser_usec 1000\n");
	put(cg, "cpu.max", "100000 100000\n"); /* one CPU's worth */
	put(cg, "memory.max", "2048000\n");
	put(cg, "memory.current", "1024000\n");
	/* Two busy threads and one sleeping one, one of them with ") R" in its name. */
	put(cg, "cgroup.threads", "101\n102\n103\n");
	for (int t = 101; t <= 103; t++) {
		snprintf(path, sizeof(path), "%s/%d", proc, t);
		mkdir(path, 0755);
	}
	snprintf(path, sizeof(path), "%s/101", proc);
	put(path, "stat", "101 (busy) R 1 101 101 0\n");
	snprintf(path, sizeof(path), "%s/102", proc);
	put(path, "stat", "102 (odd) S name) R 1 102 102 0\n");
	snprintf(path, sizeof(path), "%s/103", proc);
	put(path, "stat", "103 (sleepy) S 1 103 103 0\n");
	assert_int_equal(hha_load_sampler_new(NULL, &o, &s), 0);
	usleep(100000);
	assert_int_equal(hha_load_sample(s, &l), 0);
	assert_int_equal(l.ncpus, 1);
	assert_float_equal(l.speed, 2.0, 1e-9);
	assert_int_equal(l.mem_total, 2048000);
	assert_int_equal(l.mem_avail, 2048000 - 1024000);
	/* Two runnable tasks; after 0.1 s the 1-minute average moved a little towards 2. */
	assert_true(l.loadavg[0] > 0.001 && l.loadavg[0] < 0.1);
	assert_true(l.loadavg[1] < l.loadavg[0]);
	hha_load_sampler_free(s);
	o.cgroup = "/nonexistent";
	assert_int_equal(hha_load_sampler_new(NULL, &o, &s), -ENOENT);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", proc, cg);
	assert_int_equal(system(cmd), 0);
}

static void test_speed(void **state)
{
	double s = hha_load_measure_speed();

	(void)state;
	assert_true(s > 0.01 && s < 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_sampler_proc),
		cmocka_unit_test(test_sampler_cgroup),
		cmocka_unit_test(test_speed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
