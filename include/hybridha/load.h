/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Node load vectors: sampling, a compact wire encoding, and load-aware placement. */
#ifndef HYBRIDHA_LOAD_H
#define HYBRIDHA_LOAD_H

#include <stdbool.h>

#include <hybridha/ctx.h>

HHA_BEGIN_DECLS

/*
 * What a node says about its load, sampled every heartbeat period and
 * published to the other nodes (see docs/load.md for where each figure comes
 * from, and how a node measures itself when it shares a kernel with others).
 */
struct hha_load {
	double loadavg[3];     /* runnable tasks averaged over 1, 5, 15 minutes */
	unsigned ncpus;        /* CPUs this node may use, >= 1 */
	double cpu_use;        /* busy fraction of those CPUs, 0..1, recent (~1 s) */
	double speed;          /* relative speed of one CPU; 1.0 = the reference machine */
	uint64_t mem_total;    /* bytes */
	uint64_t mem_free;     /* bytes unused */
	uint64_t mem_avail;    /* bytes a new program can get without swapping */
	unsigned runon_procs;  /* commands this node runs for hha-runon now */
	uint64_t time_ms;      /* when sampled: realtime, ms since the epoch */
};

/* Bytes of the version-1 encoding; decoders accept longer (newer) vectors. */
#define HHA_LOAD_ENCODED_LEN 64

/**
 * hha_load_encode - the compact, versioned binary form of a load vector.
 * @l: the vector.
 * @buf: where to write.
 * @len: room in @buf.
 *
 * Return: bytes written (HHA_LOAD_ENCODED_LEN), or -ENOSPC.
 */
HHA_EXPORT int hha_load_encode(const struct hha_load *l, void *buf, size_t len);

/**
 * hha_load_decode - read a vector written by hha_load_encode() on any node.
 * @buf: the bytes (from the network: any content is handled).
 * @len: their number; trailing bytes of a newer minor revision are ignored.
 * @out: receives the vector.
 *
 * Return: 0; -EBADMSG when too short or impossible (no CPUs, use above 100%,
 * free above total); -HHA_EVERSION for another major version.
 */
HHA_EXPORT int hha_load_decode(const void *buf, size_t len, struct hha_load *out);

/**
 * hha_load_score - the figure placement minimises: load per CPU divided by speed.
 * @l: a vector.
 * @extra: tasks about to be added (copies placed but not yet visible in @l).
 *
 * The load is max(loadavg[0], cpu_use * ncpus): the CPU use reacts within a
 * second, the load average counts queued tasks beyond the CPUs.
 *
 * Return: a non-negative number; lower is better.
 */
HHA_EXPORT double hha_load_score(const struct hha_load *l, unsigned extra);

struct hha_load_sampler;

struct hha_load_sampler_opts {
	size_t size;         /* sizeof(struct hha_load_sampler_opts) */
	const char *cgroup;  /* cgroup directory measuring this node, or NULL: the whole machine */
	double speed;        /* > 0: use this speed; 0: measure it once */
	const char *proc;    /* procfs mount, NULL = "/proc" (tests point it at fixtures) */
};

/**
 * hha_load_sampler_new - a sampler for this node.
 * @ctx: context for logging.
 * @opts: options, or NULL for the whole machine with a measured speed.
 * @out: receives the sampler; free it with hha_load_sampler_free().
 *
 * Measuring the speed takes about 30 ms of CPU time, once.
 *
 * Return: 0; -ENOENT when @opts->cgroup has neither a cgroup v2 cpu.stat nor
 * a v1 cpuacct.usage; -ENOMEM.
 */
HHA_EXPORT int hha_load_sampler_new(struct hha_ctx *ctx, const struct hha_load_sampler_opts *opts,
				    struct hha_load_sampler **out);

/** hha_load_sampler_free - free a sampler; NULL is a no-op. */
HHA_EXPORT void hha_load_sampler_free(struct hha_load_sampler *s);

/**
 * hha_load_sample - take a sample now and return the vector.
 * @s: the sampler. Call it periodically (every heartbeat period): the
 *     averages advance with the real time between calls.
 * @out: receives the vector; runon_procs is left 0 for the caller to fill in.
 *
 * Reads a few small files (with a cgroup: one per task of the cgroup, at
 * most 4096). Return: 0, or -errno when a source cannot be read (the
 * previous figures are kept in @out).
 */
HHA_EXPORT int hha_load_sample(struct hha_load_sampler *s, struct hha_load *out);

/**
 * hha_load_measure_speed - time a fixed integer workload on this thread's CPU.
 *
 * Return: the speed relative to the reference machine (about 1.0 for a
 * 2020s x86-64 core); uses thread CPU time, so a busy machine does not make
 * it look slower.
 */
HHA_EXPORT double hha_load_measure_speed(void);

/* A candidate node for placement. */
struct hha_place_node {
	unsigned id;
	bool up;               /* only nodes that are up are candidates */
	struct hha_load load;
	unsigned pending;      /* copies placed there that its vector does not show yet */
};

struct hha_place_opts {
	size_t size;           /* sizeof(struct hha_place_opts) */
	uint64_t mem_bytes;    /* nodes need at least this much mem_avail */
	double margin;         /* nodes within best + margin are equal; <= 0: the default 0.1 */
	/* Random numbers for choosing among equals; NULL = random(3). */
	uint32_t (*rand)(void *userdata);
	void *userdata;
};

/**
 * hha_place - choose nodes for @count copies of a command, least loaded first.
 * @nodes: the candidates; each chosen node's pending count is incremented,
 *         so later copies (and later calls) see the copies placed before.
 * @n: number of candidates.
 * @opts: options, or NULL for the defaults.
 * @count: copies to place.
 * @chosen: receives @count node ids (the same node may appear repeatedly).
 *
 * A copy goes to a node that is up with enough available memory, chosen at
 * random among those whose hha_load_score() is within the margin of the
 * best, so a burst does not land on one node.
 *
 * Return: 0; -ENOENT when no node qualifies (nothing is placed); -EINVAL.
 */
HHA_EXPORT int hha_place(struct hha_place_node *nodes, size_t n, const struct hha_place_opts *opts,
			 size_t count, unsigned *chosen);

HHA_END_DECLS

#endif /* HYBRIDHA_LOAD_H */
