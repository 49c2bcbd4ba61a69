/* pystack_embed.c - a program that embeds Debian's shared libpython3.11
 * (as uwsgi or mod_wsgi do) and runs Python's own main with its
 * arguments, for tests/e2e/test_pystack.py: its executable has no
 * _PyRuntime, the libpython it maps has. */
#include <Python.h>

int main(int argc, char **argv)
{
	return Py_BytesMain(argc, argv);
}
