/* test_chart_panels.c - the layout of the new chart kinds: panels stacked on
 * one time axis stay aligned, marker labels stacked in lanes never collide
 * with each other or anything else, a flame panel's bars and labels stay in
 * it, a wall-clock axis, the trend label; at every canvas size. */
#include "harness.h"

#include "../../plot/chart.h"
#include "../../plot/lanes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB 1048576.0

static double fake_measure(void *ctx, const char *text, double size, int bold)
{
	size_t chars = 0;

	(void)ctx;
	for (const char *p = text; *p; p++)
		chars += ((unsigned char)*p & 0xc0) != 0x80;
	return (double)chars * size * (bold ? 0.65 : 0.6);
}

static int overlap(const struct chart_rect *a, const struct chart_rect *b)
{
	return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h &&
	       b->y < a->y + a->h;
}

static int empty(const struct chart_rect *r)
{
	return r->w <= 0 || r->h <= 0;
}

/* A memory panel with processes, a trend, marks and many markers (nested
 * spans, crowded moments); x is Unix seconds when wall. */
static void mem_panel(struct chart *c, int w, int h, int wall)
{
	double x0 = wall ? 1795161600.0 : 0, x1 = x0 + 3600;
	long t;

	chart_init(c, w, h, x0, x1);
	c->wall = wall;
	chart_set_title(c, "python3 service.py --with a long enough title");
	t = chart_add_series(c, "total (2 processes)", CHART_INK, CHART_THICK,
			     x0, x1);
	chart_add_series(c, "1 python3 service.py", 0, CHART_NORMAL, x0, x1);
	chart_add_series(c, "2 python3 service.py --worker", 1, CHART_NORMAL,
			 x0, x1);
	for (int i = 0; i <= 3600; i++) {
		double a = (100 + 30 * i / 3600.0) * MIB, b = 50 * MIB;

		decimate_add(&c->series[t + 1].dec, x0 + i, a);
		decimate_add(&c->series[t + 2].dec, x0 + i, b);
		decimate_add(&c->series[t].dec, x0 + i, a + b);
	}
	chart_add_mark(c, CHART_PEAK, c->series[t].dec.vmax, CHART_INK);
	c->trend = (struct chart_trend){1, 30 * MIB / 3600, 150 * MIB, x0, x0,
					x1, CHART_INK, -1};
	for (int i = 0; i < 12; i++) {
		char label[64];

		snprintf(label, sizeof label, "moment number %d", i);
		chart_add_marker(c, label, x0 + 100 + 40 * i, x0, 0);
	}
	chart_add_marker(c, "load_data", x0 + 200, x0 + 1800, 0);
	chart_add_marker(c, "parse", x0 + 300, x0 + 900, 1);
	chart_add_marker(c, "tokenize_every_single_line", x0 + 310, x0 + 320, 2);
	chart_add_marker(c, "train", x0 + 2000, x0 + 3500, 0);
}

static void cpu_panel(struct chart *c, int w, int h, int wall)
{
	double x0 = wall ? 1795161600.0 : 0, x1 = x0 + 3600;
	long s;

	chart_init(c, w, h, x0, x1);
	c->wall = wall;
	c->value = CHART_PERCENT;
	chart_set_y_title(c, "CPU");
	c->marker_labels = 0;
	s = chart_add_series(c, NULL, CHART_INK, CHART_THICK, x0, x1);
	for (int i = 0; i <= 3600; i++)
		decimate_add(&c->series[s].dec, x0 + i, 150 + 50 * sin(i / 60.0));
}

static void flame_panel(struct chart *c, const struct chart *from)
{
	chart_init(c, from->width, from->height, from->x0, from->x1);
	c->wall = from->wall;
	c->kind = CHART_FLAME;
	c->marker_labels = 0;
	chart_set_y_title(c, "functions");
	for (size_t i = 0; i < from->nmarkers; i++)
		chart_add_marker(c, from->markers[i].label,
				 from->markers[i].t0, from->markers[i].t1,
				 from->markers[i].level);
}

static void check_panel(int *failed_, const struct chart *c)
{
	const struct chart_layout *L = &c->lay;
	const struct chart_rect *p = &L->plot;

	for (size_t i = 0; i < L->ntexts; i++) {
		const struct chart_text *t = &L->texts[i];
		const struct chart_rect *b = &t->box;

		if (!t->text[0])
			continue;
		if (!(b->x >= 0 && b->y >= 0 && b->x + b->w <= c->width + 1e-9 &&
		      b->y + b->h <= c->height + 1e-9))
			fprintf(stderr, "  off canvas at %dx%d: '%s'\n",
				c->width, c->height, t->text);
		CHECK(b->x >= 0 && b->y >= 0);
		CHECK(b->x + b->w <= c->width + 1e-9 &&
		      b->y + b->h <= c->height + 1e-9);
		/* Each panel keeps to its band. */
		if (c->band_h > 0 && !(b->y >= c->band_y - 1e-9 &&
			      b->y + b->h <= c->band_y + c->band_h + 1e-9))
			fprintf(stderr, "  out of band %.0f+%.0f at %dx%d: '%s' %.1f+%.1f role %d\n",
				c->band_y, c->band_h, c->width, c->height, t->text, b->y, b->h, t->role);
		if (c->band_h > 0)
			CHECK(b->y >= c->band_y - 1e-9 &&
			      b->y + b->h <= c->band_y + c->band_h + 1e-9);
		for (size_t j = i + 1; j < L->ntexts; j++) {
			if (!L->texts[j].text[0])
				continue;
			if (overlap(b, &L->texts[j].box))
				fprintf(stderr, "  overlap at %dx%d: '%s' / '%s'\n",
					c->width, c->height, t->text,
					L->texts[j].text);
			CHECK(!overlap(b, &L->texts[j].box));
		}
		if (t->role == CHART_MARKER_LABEL || t->role == CHART_TREND_LABEL ||
		    t->role == CHART_MARK_LABEL) {
			CHECK(b->x >= p->x - 1e-9 && b->x + b->w <= p->x + p->w + 1e-9);
			CHECK(b->y >= p->y - 1e-9 && b->y + b->h <= p->y + p->h + 1e-9);
			if (!empty(&L->legend))
				CHECK(!overlap(b, &L->legend));
		}
		if ((t->role == CHART_TREND_LABEL || t->role == CHART_MARK_LABEL) &&
		    !empty(&L->lanes))
			CHECK(!overlap(b, &L->lanes));
	}
	if (!empty(&L->legend) && !empty(&L->lanes))
		CHECK(!overlap(&L->legend, &L->lanes));
}

TEST(chart_panels_aligned_and_apart)
{
	static const int sizes[][2] = {{1200, 600}, {800, 500}, {400, 300},
				       {2400, 1200}, {1600, 400}, {600, 900}};

	for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
		for (int wall = 0; wall < 2; wall++) {
			struct chart p[3];
			int w = sizes[s][0], h = sizes[s][1];

			mem_panel(&p[0], w, h, wall);
			p[0].marker_labels = CHART_MOMENTS;
			cpu_panel(&p[1], w, h, wall);
			flame_panel(&p[2], &p[0]);
			p[0].band_y = 0;
			p[0].band_h = round(h * 0.55);
			p[1].band_y = p[0].band_h;
			p[1].band_h = round(h * 0.25);
			p[2].band_y = p[1].band_y + p[1].band_h;
			p[2].band_h = h - p[2].band_y;
			p[0].x_labels = p[1].x_labels = 0;
			CHECK_EQ_INT(chart_layout_panels(p, 3, fake_measure, NULL), 0);
			for (int i = 0; i < 3; i++) {
				check_panel(failed_, &p[i]);
				CHECK(p[i].lay.plot.x == p[0].lay.plot.x);
				CHECK(p[i].lay.plot.w == p[0].lay.plot.w);
				CHECK(p[i].lay.plot.h > 0);
			}
			/* Labels only under the last panel. */
			for (size_t i = 0; i < p[0].lay.ntexts; i++)
				CHECK(p[0].lay.texts[i].role != CHART_AXIS ||
				      p[0].lay.texts[i].vertical);
			for (int i = 0; i < 3; i++)
				chart_free(&p[i]);
		}
}

TEST(chart_marker_lanes_never_collide)
{
	static const int sizes[][2] = {{1200, 600}, {640, 360}, {300, 200},
				       {3000, 800}};

	for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
		struct chart c;
		size_t shown = 0;

		mem_panel(&c, sizes[s][0], sizes[s][1], 0);
		CHECK_EQ_INT(chart_layout(&c, fake_measure, NULL), 0);
		check_panel(failed_, &c);
		for (size_t i = 0; i < c.nmarkers; i++)
			shown += c.markers[i].text >= 0;
		/* Room for all of them on a wide canvas; on a small one, the
		 * lanes a third of the plot holds. */
		if (sizes[s][0] >= 3000)
			CHECK_EQ_INT(shown, c.nmarkers);
		CHECK(shown >= c.lay.nlanes);
		CHECK(c.lay.nlanes >= 2);
		/* The data stays under the lanes. */
		CHECK(chart_y(&c, c.series[0].dec.vmax) >=
		      c.lay.lanes.y + c.lay.lanes.h);
		chart_free(&c);
	}
}

TEST(chart_trend_label_per_hour)
{
	struct chart c;
	int found = 0;

	mem_panel(&c, 1200, 600, 1);
	CHECK_EQ_INT(chart_layout(&c, fake_measure, NULL), 0);
	for (size_t i = 0; i < c.lay.ntexts; i++)
		if (c.lay.texts[i].role == CHART_TREND_LABEL) {
			CHECK_EQ_STR(c.lay.texts[i].text, "trend +30.0 MiB/h");
			found = 1;
		}
	CHECK(found);
	/* Wall-clock ticks on whole minutes. */
	CHECK(c.lay.nx >= 4);
	for (int i = 0; i < c.lay.nx; i++)
		CHECK(fmod(c.lay.xv[i], 60) == 0);
	chart_free(&c);
}

TEST(lanes_first_fit)
{
	double a[] = {0, 5, 12, 1, 30}, b[] = {10, 8, 20, 2, 31};
	int lane[5];

	CHECK_EQ_INT(lanes_assign(a, b, 5, 1, 8, lane), 2);
	CHECK_EQ_INT(lane[0], 0); /* 0-10 */
	CHECK_EQ_INT(lane[3], 1); /* 1-2 */
	CHECK_EQ_INT(lane[1], 1); /* 5-8, after 1-2 */
	CHECK_EQ_INT(lane[2], 0); /* 12-20, after 0-10 */
	CHECK_EQ_INT(lane[4], 0);
	CHECK_EQ_INT(lanes_assign(a, b, 5, 1, 1, lane), 1);
	CHECK_EQ_INT(lane[3], -1);
	CHECK_EQ_INT(lane[2], 0);
}
