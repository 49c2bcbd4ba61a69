/* pngfile.h - writes a rendered image as a PNG with libpng, tuned for
 * speed: zlib level 1 and one fixed row filter.  A chart is mostly flat
 * colour, so the file is hardly bigger than at zlib's default level, and
 * encoding takes a fraction of the time.  No cairo: the caller hands over
 * the pixels. */
#ifndef MEMTIDE_PLOT_PNGFILE_H
#define MEMTIDE_PLOT_PNGFILE_H

#include <stdint.h>
#include <stdio.h>

/* Writes the width x height image at px to out as an opaque 8-bit RGB PNG.
 * Each row of px starts stride bytes after the previous one and holds
 * width native-endian 32-bit pixels 0xXXRRGGBB, the top byte ignored
 * (cairo's CAIRO_FORMAT_RGB24).  Returns 0, -ENOMEM, or -errno of the
 * write that failed (-EIO when there is none); out is left for the caller
 * to close, and holds a partial file after an error. */
int pngfile_write(FILE *out, const uint32_t *px, int width, int height,
		  int stride);

#endif
