/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-runon --list: the nodes a command could go to, with their loads and placement scores. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "hha-runon.h"

static double num(json_object *o, const char *k)
{
	return json_object_get_double(json_object_object_get(o, k));
}

int runon_list(struct hha_cli *cli, uint64_t mem_bytes)
{
	json_object *res, *nodes;
	int r = hha_cli_call(cli, "run.load", NULL, 10000, &res);

	if (r != HHA_EXIT_OK)
		return RUNON_EXIT_LAUNCH;
	if (cli->json) {
		hha_cli_print_json(res);
		json_object_put(res);
		return HHA_EXIT_OK;
	}
	nodes = json_object_object_get(res, "nodes");
	printf("%-4s %-12s %-8s %8s %6s %5s %6s %6s %10s %5s %6s\n", "ID", "NODE", "STATE", "AGE",
	       "LOAD", "CPUS", "CPU%", "SPEED", "MEM_AVAIL", "RUNON", "SCORE");
	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		json_object *n = json_object_array_get_idx(nodes, i);
		json_object *l = json_object_object_get(n, "load");
		const char *st = json_object_get_string(json_object_object_get(n, "state"));
		bool self = json_object_get_boolean(json_object_object_get(n, "self"));
		char name[80], age[16] = "-", mem[32] = "-";
		struct hha_load hl = { 0 };

		snprintf(name, sizeof(name), "%s%s",
			 json_object_get_string(json_object_object_get(n, "name")), self ? "*" : "");
		if (json_object_object_get(n, "age_ms"))
			snprintf(age, sizeof(age), "%.1fs", num(n, "age_ms") / 1000.0);
		if (!l) {
			printf("%-4d %-12s %-8s %8s %s\n", json_object_get_int(json_object_object_get(n, "id")),
			       name, st, age,
			       json_object_get_string(json_object_object_get(n, "error")) ?
			       json_object_get_string(json_object_object_get(n, "error")) : "");
			continue;
		}
		hl.loadavg[0] = json_object_get_double(
			json_object_array_get_idx(json_object_object_get(l, "loadavg"), 0));
		hl.ncpus = (unsigned)json_object_get_int(json_object_object_get(l, "ncpus"));
		hl.cpu_use = num(l, "cpu_use");
		hl.speed = num(l, "speed");
		hl.mem_avail = (uint64_t)json_object_get_int64(json_object_object_get(l, "mem_avail"));
		snprintf(mem, sizeof(mem), "%.1f GiB", (double)hl.mem_avail / (1 << 30));
		printf("%-4d %-12s %-8s %8s %6.2f %5u %5.0f%% %6.2f %10s %5d %6.2f%s\n",
		       json_object_get_int(json_object_object_get(n, "id")), name, st, age, hl.loadavg[0],
		       hl.ncpus, hl.cpu_use * 100.0, hl.speed, mem,
		       json_object_get_int(json_object_object_get(l, "runon_procs")),
		       hha_load_score(&hl, 0),
		       mem_bytes && hl.mem_avail < mem_bytes ? "  (not enough memory)" : "");
	}
	json_object_put(res);
	return HHA_EXIT_OK;
}
