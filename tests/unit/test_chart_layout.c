/* test_chart_layout.c - the chart model's layout: texts stay on the canvas
 * and apart, the legend avoids the data, labels are short and UTF-8 safe. */
#include "harness.h"

#include "../../plot/chart.h"
#include "../../plot/label.h"

#include <math.h>
#include <string.h>

/* A stand-in for cairo: every character 0.6 em wide (0.65 bold), counting
 * UTF-8 characters, not bytes. */
static double fake_measure(void *ctx, const char *text, double size, int bold)
{
	size_t chars = 0;

	(void)ctx;
	for (const char *p = text; *p; p++)
		chars += ((unsigned char)*p & 0xc0) != 0x80;
	return (double)chars * size * (bold ? 0.65 : 0.6);
}

static int boxes_overlap(const struct chart_rect *a, const struct chart_rect *b)
{
	return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h &&
	       b->y < a->y + a->h;
}

/* A chart like a multi-process run: a rising total, a few processes, a
 * peak and a kernel peak close above it, and a long title. */
static void build(struct chart *c, int w, int h, size_t nproc)
{
	const double mib = 1048576;
	long t;

	chart_init(c, w, h, 0, 60);
	chart_set_title(c,
			"/usr/bin/python3 /home/someone/projects/a-rather-long-"
			"path/train_the_model.py --epochs 20 --batch-size 64");
	t = chart_add_series(c, "total (4 processes)", CHART_INK, CHART_THICK,
			     0, 60);
	for (size_t p = 0; p < nproc; p++) {
		char label[64];

		snprintf(label, sizeof label, "%zu python3 worker.py --id %zu",
			 1000 + p, p);
		chart_add_series(c, label, (int)p, CHART_NORMAL, 0, 60);
	}
	for (int i = 0; i <= 6000; i++) {
		double x = i / 100.0, sum = 0;

		for (size_t p = 0; p < nproc; p++) {
			double v = (20 + 10 * (double)p) * mib * (1 + x / 60);

			decimate_add(&c->series[t + 1 + (long)p].dec, x, v);
			sum += v;
		}
		decimate_add(&c->series[t].dec, x, sum);
	}
	chart_add_mark(c, CHART_PEAK, c->series[t].dec.vmax, CHART_INK);
	chart_add_mark(c, CHART_KERNEL_PEAK, c->series[t].dec.vmax * 1.01,
		       CHART_INK);
}

static void check_texts(int *failed_, const struct chart *c)
{
	const struct chart_layout *L = &c->lay;

	CHECK(L->ntexts > 10);
	for (size_t i = 0; i < L->ntexts; i++) {
		const struct chart_rect *b = &L->texts[i].box;

		if (!(b->x >= 0 && b->y >= 0 && b->x + b->w <= c->width &&
		      b->y + b->h <= c->height))
			fprintf(stderr,
				"  off canvas: '%s' at %.1f,%.1f %.1fx%.1f\n",
				L->texts[i].text, b->x, b->y, b->w, b->h);
		CHECK(b->x >= 0 && b->y >= 0);
		CHECK(b->x + b->w <= c->width && b->y + b->h <= c->height);
		for (size_t j = i + 1; j < L->ntexts; j++) {
			int ov = boxes_overlap(b, &L->texts[j].box);

			if (ov)
				fprintf(stderr,
					"  overlap at %dx%d: "
					"%.1f,%.1f+%.1fx%.1f / "
					"%.1f,%.1f+%.1fx%.1f '%s' and '%s'\n",
					c->width, c->height, b->x, b->y, b->w,
					b->h, L->texts[j].box.x,
					L->texts[j].box.y, L->texts[j].box.w,
					L->texts[j].box.h, L->texts[i].text,
					L->texts[j].text);
			CHECK(!ov);
		}
		if (L->texts[i].role == CHART_MARK_LABEL) {
			const struct chart_rect *p = &L->plot;

			CHECK(b->x >= p->x && b->x + b->w <= p->x + p->w);
			CHECK(b->y >= p->y && b->y + b->h <= p->y + p->h);
			if (L->legend.w > 0)
				CHECK(!boxes_overlap(b, &L->legend));
		}
	}
}

TEST(chart_layout_texts_on_canvas_and_apart)
{
	static const int sizes[][2] = {
		{1200, 600},  {800, 400},  {320, 200},
		{2400, 1200}, {1600, 300}, {500, 900},
	};

	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		struct chart c;

		build(&c, sizes[s][0], sizes[s][1], 3);
		CHECK_EQ_INT(chart_layout(&c, fake_measure, NULL), 0);
		check_texts(failed_, &c);
		/* One column per unit of plot width after layout. */
		CHECK_EQ_INT(c.ncols, (size_t)c.lay.plot.w);
		CHECK_EQ_INT(c.series[0].dec.ncols, (size_t)c.lay.plot.w);
		chart_free(&c);
	}
}

TEST(chart_layout_scales_and_ticks)
{
	struct chart c;
	const struct chart_layout *L = &c.lay;
	double peak;

	build(&c, 1200, 600, 3);
	peak = c.marks[1].bytes;
	CHECK_EQ_INT(chart_layout(&c, fake_measure, NULL), 0);
	CHECK_EQ_STR(L->unit->name, "MiB");
	CHECK(fabs(chart_x(&c, 0) - L->plot.x) < 1e-9);
	CHECK(fabs(chart_x(&c, 60) - (L->plot.x + L->plot.w)) < 1e-9);
	CHECK(fabs(chart_y(&c, 0) - (L->plot.y + L->plot.h)) < 1e-9);
	/* The axis ends on a tick above the highest mark, with room for its
	 * label. */
	CHECK(L->y1 > peak);
	CHECK(chart_y(&c, peak) - L->plot.y >= L->font);
	CHECK(fabs(ticks_value(&L->yt, L->yt.n - 1) * L->unit->bytes - L->y1) <
	      1);
	CHECK(L->yt.n >= 3 && L->yt.n <= 12);
	CHECK(L->xt.n >= 4 && L->xt.n <= 16);
	/* Tick labels at least a font apart on both axes. */
	CHECK((chart_y(&c, 0) - chart_y(&c, L->yt.step * L->unit->bytes)) >=
	      2 * L->font);
	CHECK(chart_x(&c, L->xt.step) - chart_x(&c, 0) >= 3 * L->font);
	/* The long title was shortened with an ellipsis. */
	for (size_t i = 0; i < L->ntexts; i++)
		if (L->texts[i].role == CHART_TITLE) {
			CHECK(strstr(L->texts[i].text, "\xe2\x80\xa6") != NULL);
			CHECK(L->texts[i].box.w <= c.width - L->font);
		}
	chart_free(&c);
}

TEST(chart_legend_hides_no_data_when_it_can)
{
	struct chart c;
	const struct chart_layout *L = &c.lay;
	long s;

	/* A line from bottom left to top right: the upper left and lower
	 * right corners are free. */
	chart_init(&c, 1200, 600, 0, 100);
	s = chart_add_series(&c, "1 rising", 0, CHART_NORMAL, 0, 100);
	for (int i = 0; i <= 10000; i++)
		decimate_add(&c.series[s].dec, i / 100.0, i * 1000.0);
	CHECK_EQ_INT(chart_layout(&c, fake_measure, NULL), 0);
	CHECK(L->legend.w > 0);
	CHECK_EQ_INT(L->legend_n, 1);
	for (size_t i = 0; i < c.series[s].dec.ncols; i++) {
		const struct decimate_col *col =
			decimate_get(&c.series[s].dec, i);
		double x = L->plot.x + (double)i + 0.5;

		if (!col || x < L->legend.x || x > L->legend.x + L->legend.w)
			continue;
		CHECK(chart_y(&c, col->min) < L->legend.y ||
		      chart_y(&c, col->max) > L->legend.y + L->legend.h);
	}
	chart_free(&c);
}

TEST(chart_legend_lists_in_order_and_summarises_overflow)
{
	struct chart c;
	const struct chart_layout *L = &c.lay;

	chart_init(&c, 600, 300, 0, 10);
	for (int p = 0; p < 40; p++) {
		char label[32];
		long s;

		snprintf(label, sizeof label, "%d worker", 100 + p);
		s = chart_add_series(&c, label, p % CHART_PALETTE_N,
				     CHART_NORMAL, 0, 10);
		c.series[s].legend_order = 40 - p;
		decimate_add(&c.series[s].dec, 1, 1e6 * p);
	}
	CHECK_EQ_INT(chart_layout(&c, fake_measure, NULL), 0);
	CHECK(L->legend_n > 2 && L->legend_n < 40);
	/* Highest legend_order last, so the series added last comes first. */
	CHECK_EQ_INT(L->legend_series[0], 39);
	CHECK_EQ_INT(L->legend_series[L->legend_n - 1], -1);
	CHECK(L->legend.y + L->legend.h <= L->plot.y + L->plot.h);
	check_texts(failed_, &c);
	chart_free(&c);
}

TEST(chart_empty_has_note_and_default_axis)
{
	struct chart c;
	int notes = 0;

	chart_init(&c, 1200, 600, 0, 1);
	chart_set_note(&c, "no samples recorded");
	CHECK_EQ_INT(chart_layout(&c, fake_measure, NULL), 0);
	CHECK_EQ_STR(c.lay.unit->name, "MiB");
	CHECK(c.lay.y1 > 0);
	CHECK(c.lay.legend.w == 0);
	for (size_t i = 0; i < c.lay.ntexts; i++)
		notes += c.lay.texts[i].role == CHART_NOTE;
	CHECK_EQ_INT(notes, 1);
	chart_free(&c);
}

TEST(chart_label_command_short_forms)
{
	char buf[64];

	CHECK_EQ_STR(label_command("/usr/bin/python3 /srv/app/worker.py -n 3",
				   NULL, buf, sizeof buf),
		     "python3 worker.py -n 3");
	CHECK_EQ_STR(label_command("python3  -m  pkg.mod  --out=/tmp/x", NULL,
				   buf, sizeof buf),
		     "python3 -m pkg.mod --out=/tmp/x");
	CHECK_EQ_STR(label_command(NULL, "/usr/sbin/nginx", buf, sizeof buf),
		     "nginx");
	CHECK_EQ_STR(label_command("   ", NULL, buf, sizeof buf), "?");
	CHECK_EQ_STR(label_command("/opt/dir/ arg", NULL, buf, sizeof buf),
		     "/opt/dir/ arg");
	/* Cut on a character boundary: "é" is two bytes. */
	CHECK_EQ_STR(label_command("/bin/\xc3\xa9"
				   "cho",
				   NULL, buf, 5),
		     "\xc3\xa9"
		     "ch");
	CHECK_EQ_STR(label_command("/bin/a\xc3\xa9", NULL, buf, 3), "a");
	CHECK_EQ_INT(label_utf8_cut("a\xc3\xa9", 2), 1);
	CHECK_EQ_INT(label_utf8_cut("a\xc3\xa9", 3), 3);
	CHECK_EQ_INT(label_utf8_cut("abc", 10), 3);
}
