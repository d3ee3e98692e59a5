/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: hha-mon reading any reply from hhad (first byte: which verb), then showing it. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mon/ui.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char members[] =
	"{\"self\":1,\"nodes\":[{\"id\":1,\"name\":\"n1\",\"state\":\"up\"},"
	"{\"id\":2,\"name\":\"n2\",\"state\":\"dead\"}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mon_snapshot s = { 0 };
	struct mon_canvas c = { 0 };
	struct mon_ui ui;
	json_object *o;
	char *text;

	if (size < 1)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	mon_ui_init(&ui, 1.0);
	mon_snapshot_parse(&s, MON_SRC_MEMBERS, members);
	mon_snapshot_parse(&s, (enum mon_source)(data[0] % MON_SRC_COUNT), text);
	mon_ui_update(&ui, &s);
	o = mon_snapshot_to_json(&s);
	json_object_put(o);
	/* Every view, in both character sets, at the smallest size and a wide one. */
	for (int v = 0; v < MON_VIEW_COUNT * 2; v++) {
		ui.view = (enum mon_view)(v % MON_VIEW_COUNT);
		ui.detail = v & 1;
		if (mon_canvas_init(&c, v < MON_VIEW_COUNT ? 80 : 200, 24, v & 2) == 0)
			mon_draw(&c, &ui, &s);
	}
	mon_canvas_free(&c);
	mon_ui_free(&ui);
	mon_snapshot_clear(&s);
	free(text);
	return 0;
}
