/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-mon's screen arithmetic: scales, bar heights, columns, scrolling, sparklines, history. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mon/layout.h"

double mon_scale_top(double v, double min)
{
	static const double steps[] = { 1, 1.5, 2, 3, 4, 5, 6, 8 };
	double p;

	if (!isfinite(v) || v < min)
		v = min;
	if (v <= 0)
		return 1;
	p = pow(10, floor(log10(v)));
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (v <= steps[i] * p * (1 + 1e-9))
			return steps[i] * p;
	return 10 * p;
}

double mon_scale_sticky(double old, double vmax, double min)
{
	double top = mon_scale_top(vmax, min);

	/* Shrink only below 40% of the old top: a value hovering at a step
	 * boundary would otherwise flip the scale every refresh. */
	if (old > top && vmax > old * 0.4)
		return old;
	return top;
}

int mon_bar_eighths(double value, double top, int height)
{
	double e;

	if (height <= 0 || !(top > 0) || !isfinite(value) || value <= 0)
		return 0;
	e = value / top * 8.0 * height;
	if (e >= 8.0 * height)
		return 8 * height;
	/* Anything above zero shows at least one eighth: an idle node and a
	 * barely busy one look different. */
	return e < 1 ? 1 : (int)lround(e);
}

void mon_columns_fit(int width, size_t n, int id_digits, struct mon_columns *c)
{
	int min_w = id_digits + 1 < 2 ? 2 : id_digits + 1;
	int w = n ? width / (int)(n < 1000 ? n : 1000) : 12;

	if (w > 12)
		w = 12;
	if (w < min_w)
		w = min_w;
	c->col_w = w;
	c->bar_w = w >= 6 ? w - 2 : w - 1;
	c->fit = width > 0 ? (size_t)(width / w) : 0;
}

size_t mon_window_first(size_t first, size_t fit, size_t n, size_t selected)
{
	if (fit == 0 || n <= fit)
		return 0;
	if (selected >= n)
		selected = n - 1;
	if (selected < first)
		first = selected;
	else if (selected >= first + fit)
		first = selected - fit + 1;
	if (first > n - fit)
		first = n - fit;
	return first;
}

void mon_sparkline(const double *v, size_t n, double top, int levels, int *out, int width)
{
	size_t take = n < (size_t)width ? n : (size_t)width;
	size_t pad = (size_t)width - take;

	for (size_t i = 0; i < pad; i++)
		out[i] = -1;
	for (size_t i = 0; i < take; i++) {
		double x = v[n - take + i];
		int l = 0;
		if (top > 0 && isfinite(x) && x > 0)
			l = (int)lround(x / top * (levels - 1));
		if (l < 0)
			l = 0;
		if (l > levels - 1)
			l = levels - 1;
		out[pad + i] = l;
	}
}

static struct mon_hist *hist_find(const struct mon_hists *hs, unsigned id)
{
	for (size_t i = 0; i < hs->n; i++)
		if (hs->h[i].id == id)
			return &hs->h[i];
	return NULL;
}

int mon_hist_push(struct mon_hists *hs, unsigned id, double value)
{
	struct mon_hist *h = hist_find(hs, id);

	if (!h) {
		struct mon_hist *a = realloc(hs->h, (hs->n + 1) * sizeof(*a));
		if (!a)
			return -ENOMEM;
		hs->h = a;
		h = &a[hs->n++];
		memset(h, 0, sizeof(*h));
		h->id = id;
	}
	h->v[h->head] = value;
	h->head = (h->head + 1) % MON_HIST_LEN;
	if (h->n < MON_HIST_LEN)
		h->n++;
	return 0;
}

size_t mon_hist_get(const struct mon_hists *hs, unsigned id, double *out)
{
	const struct mon_hist *h = hist_find(hs, id);
	size_t start;

	if (!h)
		return 0;
	start = (h->head + MON_HIST_LEN - h->n) % MON_HIST_LEN;
	for (size_t i = 0; i < h->n; i++)
		out[i] = h->v[(start + i) % MON_HIST_LEN];
	return h->n;
}

void mon_hists_free(struct mon_hists *hs)
{
	free(hs->h);
	hs->h = NULL;
	hs->n = 0;
}

const char *mon_fmt_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	double v = (double)bytes;
	int u = -1;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%u", (unsigned)bytes);
	else if (v < 9.95)
		snprintf(buf, len, "%.1f%c", v, units[u]);
	else
		snprintf(buf, len, "%.0f%c", v, units[u]);
	return buf;
}

const char *mon_fmt_duration(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		snprintf(buf, len, "-");
	else if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lld:%02lld:%02lld", (long long)(s / 3600),
			 (long long)(s / 60 % 60), (long long)(s % 60));
	else
		snprintf(buf, len, "%lldd%02lldh", (long long)(s / 86400), (long long)(s / 3600 % 24));
	return buf;
}

const char *mon_fmt_scale(double v, char *buf, size_t len)
{
	if (!isfinite(v) || v <= 0)
		snprintf(buf, len, "0");
	else if (v < 10 && fabs(v - round(v)) > 1e-9)
		snprintf(buf, len, "%.1f", v);
	else if (v < 1000)
		snprintf(buf, len, "%.0f", v);
	else if (v < 1e6)
		snprintf(buf, len, "%.3gk", v / 1e3);
	else
		snprintf(buf, len, "%.3gM", v / 1e6);
	return buf;
}
