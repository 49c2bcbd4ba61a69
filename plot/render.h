/* render.h - draws a chart with cairo into a PNG, SVG or PDF file.  The only
 * place that knows cairo: layout decisions come from chart.h, this file
 * measures text for them and strokes what they say. */
#ifndef MEMTIDE_PLOT_RENDER_H
#define MEMTIDE_PLOT_RENDER_H

#include "chart.h"

enum render_format { RENDER_PNG, RENDER_SVG, RENDER_PDF };

/* The format named by the extension of path (".png", ".svg", ".pdf", any
 * case), or -1. */
int render_format_of(const char *path);

/* Lays c out (chart_layout) with cairo's font metrics and writes it to path
 * as format f: PNG pixels, or SVG/PDF points, of c->width x c->height.  SVG
 * and PDF carry the title as document metadata.  A PNG is drawn on this
 * thread and one more, and encoded for speed (see pngfile.h).  Returns 0,
 * -errno when path cannot be written (the partial file is removed),
 * -ENOMEM, or -EIO for a cairo failure. */
int render_file(struct chart *c, const char *path, enum render_format f);

/* render_file() of n panels sharing one canvas (p[0]'s size, title and
 * theme), laid out with chart_layout_panels().  A PNG has scale pixels per
 * canvas unit (--dpi / 96); SVG and PDF ignore it. */
int render_panels(struct chart *p, size_t n, const char *path,
		  enum render_format f, double scale);

#endif
