/* flamegraph.c - see flamegraph.h.  The stacks of the selection
 * (where.h) are merged into a tree by function, outermost at the bottom;
 * each box is as wide as the bytes grown while its function was on the
 * stack, its children sit on it. */
#include "flamegraph.h"

#include "pngfile.h"
#include "render.h"
#include "when.h"

#include "memtide/store.h"
#include "memtide/units.h"
#include "memtide/where.h"

#include <cairo.h>
#include <cairo-svg.h>
#include <errno.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WIDTH 1200
#define ROW 18
#define TOP 36 /* title */
#define MIN_BOX_PX 0.5
#define MAX_DEPTH 128

struct node {
	char *function, *file;
	int64_t grown;
	struct node **kid;
	size_t nkid, cap;
};

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("memtide: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static struct node *kid_of(struct node *n, const struct where_frame *f)
{
	struct node *k;

	for (size_t i = 0; i < n->nkid; i++)
		if (strcmp(n->kid[i]->function, f->function) == 0 &&
		    strcmp(n->kid[i]->file, f->file) == 0)
			return n->kid[i];
	if (n->nkid == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 4;
		struct node **v = realloc(n->kid, cap * sizeof *v);

		if (!v)
			return NULL;
		n->kid = v;
		n->cap = cap;
	}
	if (!(k = calloc(1, sizeof *k)) || !(k->function = strdup(f->function)) ||
	    !(k->file = strdup(f->file))) {
		if (k)
			free(k->function);
		free(k);
		return NULL;
	}
	n->kid[n->nkid++] = k;
	return k;
}

static int add_stack(void *ctx, const struct where_frame *frames, size_t n,
		     int64_t grown, int64_t released)
{
	struct node *at = ctx;

	(void)released;
	if (grown <= 0)
		return 0;
	at->grown += grown;
	for (size_t i = 0; i < n && i < MAX_DEPTH; i++) {
		if (!(at = kid_of(at, &frames[i])))
			return -1;
		at->grown += grown;
	}
	return 0;
}

static void free_tree(struct node *n)
{
	for (size_t i = 0; i < n->nkid; i++)
		free_tree(n->kid[i]);
	free(n->kid);
	free(n->function);
	free(n->file);
	free(n);
}

static int depth_of(const struct node *n)
{
	int d = 0;

	for (size_t i = 0; i < n->nkid; i++) {
		int k = depth_of(n->kid[i]);

		if (k > d)
			d = k;
	}
	return d + 1;
}

static int by_name(const void *a, const void *b)
{
	const struct node *x = *(struct node *const *)a, *y = *(struct node *const *)b;

	return strcmp(x->function, y->function);
}

/* A warm colour from the name, so a function keeps its colour. */
static void colour_of(const char *name, double *r, double *g, double *b)
{
	unsigned h = 2166136261u;

	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	*r = 0.86 + (double)(h % 14) / 100;
	*g = 0.35 + (double)((h >> 8) % 40) / 100;
	*b = 0.10 + (double)((h >> 16) % 15) / 100;
}

static void draw_box(cairo_t *cr, const struct node *n, double x, double w, double y,
		     int64_t total, const char *label_override)
{
	double r, g, b;
	char label[512], size[32];
	cairo_text_extents_t te;

	colour_of(n->function, &r, &g, &b);
	cairo_set_source_rgb(cr, r, g, b);
	cairo_rectangle(cr, x + 0.5, y + 0.5, w - 1 > 0.5 ? w - 1 : 0.5, ROW - 1);
	cairo_fill(cr);
	if (w < 24)
		return;
	units_format_bytes(n->grown, size, sizeof size);
	if (label_override)
		snprintf(label, sizeof label, "%s", label_override);
	else
		snprintf(label, sizeof label, "%s (%s, %.1f%%)", n->function, size,
			 total ? 100.0 * (double)n->grown / (double)total : 0.0);
	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	for (size_t len = strlen(label); len > 0; len--) {
		label[len] = 0;
		cairo_text_extents(cr, label, &te);
		if (te.x_advance <= w - 6)
			break;
		if (len > 3)
			memcpy(label + len - 3, "..", 2);
	}
	cairo_move_to(cr, x + 3, y + ROW - 5);
	cairo_show_text(cr, label);
}

static void draw_node(cairo_t *cr, struct node *n, double x, double w, double y,
		      int64_t total)
{
	double kx = x;

	draw_box(cr, n, x, w, y, total, NULL);
	if (n->nkid > 1)
		qsort(n->kid, n->nkid, sizeof *n->kid, by_name);
	for (size_t i = 0; i < n->nkid; i++) {
		double kw = w * (double)n->kid[i]->grown / (double)n->grown;

		if (kw >= MIN_BOX_PX)
			draw_node(cr, n->kid[i], kx, kw, y - ROW, total);
		kx += kw;
	}
}

static void draw(cairo_t *cr, struct node *root, int height, const char *title)
{
	char size[32], label[256];
	double kx = 0;

	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
			       CAIRO_FONT_WEIGHT_BOLD);
	cairo_set_font_size(cr, 15);
	cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
	cairo_move_to(cr, 8, 22);
	cairo_show_text(cr, title);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
			       CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, 11);
	units_format_bytes(root->grown, size, sizeof size);
	snprintf(label, sizeof label, "all (%s of RSS grown)", size);
	draw_box(cr, root, 0, WIDTH, height - ROW, root->grown, label);
	if (root->nkid > 1)
		qsort(root->kid, root->nkid, sizeof *root->kid, by_name);
	for (size_t i = 0; i < root->nkid; i++) {
		double kw = WIDTH * (double)root->kid[i]->grown / (double)root->grown;

		if (kw >= MIN_BOX_PX)
			draw_node(cr, root->kid[i], kx, kw, height - 2 * ROW, root->grown);
		kx += kw;
	}
}

static int write_png(cairo_surface_t *sf, const char *path)
{
	FILE *f = fopen(path, "wb");
	int err;

	if (!f)
		return -errno;
	cairo_surface_flush(sf);
	err = pngfile_write(f, (const uint32_t *)cairo_image_surface_get_data(sf),
			    cairo_image_surface_get_width(sf),
			    cairo_image_surface_get_height(sf),
			    cairo_image_surface_get_stride(sf));
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

static int render(struct node *root, const char *path, const char *title)
{
	int height = TOP + (depth_of(root) + 1) * ROW;
	int fmt = render_format_of(path);
	cairo_surface_t *sf;
	cairo_t *cr;
	int err = 0;

	if (fmt == RENDER_SVG)
		sf = cairo_svg_surface_create(path, WIDTH, height);
	else
		sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, WIDTH, height);
	if (cairo_surface_status(sf) != CAIRO_STATUS_SUCCESS) {
		cairo_surface_destroy(sf);
		return -EIO;
	}
	cr = cairo_create(sf);
	draw(cr, root, height, title);
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
		err = -EIO;
	cairo_destroy(cr);
	if (!err && fmt == RENDER_PNG)
		err = write_png(sf, path);
	cairo_surface_finish(sf);
	if (!err && cairo_surface_status(sf) != CAIRO_STATUS_SUCCESS)
		err = -EIO;
	cairo_surface_destroy(sf);
	if (err)
		unlink(path);
	return err;
}

struct fg_args {
	struct where_query q;
	const char *db, *out, *run;
};

static int parse(int argc, char **argv, struct fg_args *a)
{
	enum { O_PID = 256, O_SINCE, O_UNTIL, O_IGNORED, O_TOP, O_FLAME, O_DB };
	static const struct option opts[] = {
		{"pid", required_argument, NULL, O_PID},
		{"since", required_argument, NULL, O_SINCE},
		{"until", required_argument, NULL, O_UNTIL},
		{"functions", no_argument, NULL, O_IGNORED},
		{"inclusive", no_argument, NULL, O_IGNORED},
		{"csv", no_argument, NULL, O_IGNORED},
		{"json", no_argument, NULL, O_IGNORED},
		{"top", required_argument, NULL, O_TOP},
		{"flamegraph", required_argument, NULL, O_FLAME},
		{"db", required_argument, NULL, O_DB},
		{NULL, 0, NULL, 0},
	};
	struct timespec ts;
	double now;
	int c;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case O_PID:
			a->q.pid = atoi(optarg);
			break;
		case O_SINCE:
			if (when_parse(optarg, now, &a->q.since))
				return -1;
			break;
		case O_UNTIL:
			if (when_parse(optarg, now, &a->q.until))
				return -1;
			break;
		case O_FLAME:
			a->out = optarg;
			break;
		case O_DB:
			a->db = optarg;
			break;
		case O_IGNORED:
		case O_TOP:
			break;
		default:
			return -1;
		}
	}
	a->run = optind < argc ? argv[optind] : NULL;
	return 0;
}

int flamegraph_main(int argc, char **argv)
{
	struct fg_args a = {0};
	struct store *s = NULL;
	struct node *root = calloc(1, sizeof *root);
	char *path = NULL, title[160];
	int rc = 1, err;

	/* memtide where has checked the arguments already. */
	if (root && (!(root->function = strdup("all")) || !(root->file = strdup(""))))
		goto out;
	if (!root || parse(argc, argv, &a) || !a.out) {
		fail("where --flamegraph: bad arguments");
		rc = 2;
		goto out;
	}
	if (render_format_of(a.out) != RENDER_PNG && render_format_of(a.out) != RENDER_SVG) {
		fail("where --flamegraph: cannot write '%s': give a .svg or .png file", a.out);
		rc = 2;
		goto out;
	}
	if (!(path = store_default_path(a.db)) || store_open(path, STORE_READ, &s) < 0) {
		fail("cannot open database '%s': %s", path ? path : "?", store_errmsg(s));
		goto out;
	}
	if (store_run_resolve(s, a.run, &a.q.run)) {
		fail("%s", store_errmsg(s));
		goto out;
	}
	if (where_stacks(store_db(s), &a.q, add_stack, root) != SQLITE_OK) {
		fail("where: %s", sqlite3_errmsg(store_db(s)));
		goto out;
	}
	if (root->grown <= 0) {
		fail("run %lld has no growth charged to Python code%s", (long long)a.q.run,
		     a.q.pid || a.q.since || a.q.until ? " in what was selected"
						       : " (record it with 'memtide run --stacks')");
		goto out;
	}
	snprintf(title, sizeof title, "Memory grown by Python code, run %lld%s",
		 (long long)a.q.run, a.q.pid ? " (one process)" : "");
	if ((err = render(root, a.out, title))) {
		fail("cannot write '%s': %s", a.out, strerror(-err));
		goto out;
	}
	rc = 0;
out:
	if (root)
		free_tree(root);
	free(path);
	store_close(s);
	return rc;
}
