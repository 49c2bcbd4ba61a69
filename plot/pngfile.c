/* pngfile.c - a fast PNG encoder over libpng (see pngfile.h). */
#include "pngfile.h"

#include <errno.h>
#include <png.h>
#include <stdlib.h>

/* Where the PNG goes, and the first errno writing it failed with. */
struct out {
	FILE *f;
	int err;
};

/* libpng's own handlers print; a library must not.  This one only unwinds
 * to the setjmp() in pngfile_write(). */
static void on_error(png_structp png, png_const_charp msg)
{
	(void)msg;
	png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

static void on_write(png_structp png, png_bytep data, size_t len)
{
	struct out *o = png_get_io_ptr(png);

	if (fwrite(data, 1, len, o->f) == len)
		return;
	o->err = errno ? -errno : -EIO;
	png_error(png, "write failed");
}

static void on_flush(png_structp png)
{
	(void)png;
}

int pngfile_write(FILE *out, const uint32_t *px, int width, int height,
		  int stride)
{
	struct out o = {.f = out};
	png_structp png;
	png_infop info = NULL;
	png_bytep row;

	if (!(row = malloc((size_t)width * 3)))
		return -ENOMEM;
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, on_error,
				      on_warning);
	if (!png || !(info = png_create_info_struct(png))) {
		png_destroy_write_struct(&png, NULL);
		free(row);
		return -ENOMEM;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		free(row);
		return o.err ? o.err : -ENOMEM;
	}
	png_set_write_fn(png, &o, on_write, on_flush);
	png_set_compression_level(png, 1);
	/* Up suits a chart: most rows repeat the one above but for a few
	 * pixels of line or text.  Trying every filter on every row, as
	 * libpng does by default, costs more than it saves at level 1. */
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_UP);
	png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
		     PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (int y = 0; y < height; y++) {
		const uint32_t *p = (const uint32_t *)((const char *)px +
						       (size_t)y * stride);

		for (int x = 0; x < width; x++) {
			row[3 * x] = (png_byte)(p[x] >> 16);
			row[3 * x + 1] = (png_byte)(p[x] >> 8);
			row[3 * x + 2] = (png_byte)p[x];
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	free(row);
	return 0;
}
