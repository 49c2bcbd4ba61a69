/* test_pyinfo.c - Python detection and naming on fixture /proc trees
 * (tests/fixtures/proc/200-205) and a fixture file system holding a venv
 * (tests/fixtures/fs). */
#include "harness.h"

#include "memtide/pyinfo.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define ROOT "tests/fixtures/proc"
#define FS "tests/fixtures/fs"

TEST(pyinfo_exe_names)
{
	CHECK(pyinfo_exe_is_python("/usr/bin/python3.11"));
	CHECK(pyinfo_exe_is_python("/usr/bin/python3"));
	CHECK(pyinfo_exe_is_python("/opt/py/bin/python3.12d"));
	CHECK(pyinfo_exe_is_python("/usr/bin/pypy3"));
	CHECK(pyinfo_exe_is_python("/usr/bin/python3.11 (deleted)"));
	CHECK(pyinfo_exe_is_python("python"));
	CHECK(!pyinfo_exe_is_python("/usr/bin/python3-config"));
	CHECK(!pyinfo_exe_is_python("/usr/bin/pythonista"));
	CHECK(!pyinfo_exe_is_python("/usr/bin/gunicorn"));
	CHECK(!pyinfo_exe_is_python("/usr/lib/python3.11/foo/bash"));
}

TEST(pyinfo_venv_gunicorn_renamed_comm)
{
	struct pyinfo p;

	CHECK_EQ_INT(pyinfo_read(ROOT, 200, FS, NULL, &p), 0);
	CHECK_EQ_INT(p.kind, PYINFO_EXE);
	CHECK_EQ_STR(p.interpreter, "python3.11");
	CHECK_EQ_STR(p.script, "/srv/myapp/venv/bin/gunicorn");
	CHECK(p.module == NULL);
	CHECK_EQ_STR(p.venv, "/srv/myapp/venv");
	CHECK_EQ_STR(p.name, "gunicorn app:wsgi (venv myapp)");
	pyinfo_free(&p);
	/* Without the file system that holds the venv there is no venv. */
	CHECK_EQ_INT(pyinfo_read(ROOT, 200, "/nonexistent", NULL, &p), 0);
	CHECK(p.venv == NULL);
	CHECK_EQ_STR(p.name, "gunicorn app:wsgi");
	pyinfo_free(&p);
}

TEST(pyinfo_dash_m_module_and_virtual_env)
{
	struct pyinfo p;

	CHECK_EQ_INT(pyinfo_read(ROOT, 201, FS, NULL, &p), 0);
	CHECK_EQ_STR(p.module, "celery");
	CHECK(p.script == NULL);
	CHECK_EQ_STR(p.venv, "/opt/envs/celery");
	CHECK_EQ_STR(p.name, "celery -A proj worker (venv celery)");
	pyinfo_free(&p);
}

TEST(pyinfo_shebang_script_deleted_exe)
{
	struct pyinfo p;

	CHECK_EQ_INT(pyinfo_read(ROOT, 202, FS, NULL, &p), 0);
	CHECK_EQ_INT(p.kind, PYINFO_EXE);
	CHECK_EQ_STR(p.interpreter, "python3.11");
	CHECK_EQ_STR(p.script, "/usr/local/bin/backup.py");
	CHECK_EQ_STR(p.name, "backup.py --full");
	pyinfo_free(&p);
}

TEST(pyinfo_embedded_libpython)
{
	struct pyinfo p;
	char ver[32];
	const char maps[] = "7f1-7f2 r-xp 0 fe:01 1 /usr/lib/libc.so.6\n"
			    "7f3-7f4 r-xp 0 fe:01 2 /usr/lib/libpython3.12.so.1.0\n";

	CHECK_EQ_INT(pyinfo_maps_libpython(maps, sizeof maps - 1, ver, sizeof ver), 1);
	CHECK_EQ_STR(ver, "python3.12");
	CHECK_EQ_INT(pyinfo_maps_libpython(maps, 40, ver, sizeof ver), 0);
	CHECK_EQ_INT(pyinfo_read(ROOT, 203, FS, NULL, &p), 0);
	CHECK_EQ_INT(p.kind, PYINFO_EMBEDDED);
	CHECK_EQ_STR(p.interpreter, "python3.11");
	CHECK_EQ_STR(p.name, "uwsgi-core --ini app.ini");
	pyinfo_free(&p);
}

TEST(pyinfo_setproctitle_and_not_python)
{
	struct pyinfo p;

	CHECK_EQ_INT(pyinfo_read(ROOT, 204, FS, NULL, &p), 0);
	CHECK_EQ_INT(p.kind, PYINFO_EXE);
	CHECK_EQ_STR(p.name, "gunicorn: worker [app:wsgi]");
	pyinfo_free(&p);
	CHECK_EQ_INT(pyinfo_read(ROOT, 205, FS, NULL, &p), 0);
	CHECK_EQ_INT(p.kind, PYINFO_NOT);
	CHECK(p.name == NULL);
	CHECK_EQ_INT(pyinfo_read(ROOT, 99999, FS, NULL, &p), -ESRCH);
}

TEST(pyinfo_describe_options_and_long_names)
{
	struct pyinfo p;
	const char a1[] = "python3\0-X\0dev\0-W\0ignore\0-OO\0srv.py\0--port\0-1";
	const char a2[] = "python3\0-c\0import time; time.sleep(1)";
	char long_arg[600];
	char a3[700];

	CHECK_EQ_INT(pyinfo_describe("/usr/bin/python3", a1, sizeof a1, NULL, 0, PYINFO_EXE,
				     NULL, "", &p), 0);
	CHECK_EQ_STR(p.script, "srv.py");
	CHECK_EQ_STR(p.name, "srv.py --port -1");
	pyinfo_free(&p);
	CHECK_EQ_INT(pyinfo_describe("/usr/bin/python3", a2, sizeof a2, NULL, 0, PYINFO_EXE,
				     NULL, "", &p), 0);
	CHECK_EQ_STR(p.name, "python3 -c import time; time.sleep(1)");
	pyinfo_free(&p);
	memset(long_arg, 'x', sizeof long_arg - 1);
	long_arg[sizeof long_arg - 1] = '\0';
	snprintf(a3, sizeof a3, "python3%cjob.py%c%s", 0, 0, long_arg);
	CHECK_EQ_INT(pyinfo_describe("/usr/bin/python3", a3, 7 + 1 + 6 + 1 + strlen(long_arg),
				     NULL, 0, PYINFO_EXE, NULL, "", &p), 0);
	CHECK(strlen(p.name) <= 160);
	CHECK(strncmp(p.name, "job.py xxx", 10) == 0);
	CHECK(strcmp(p.name + strlen(p.name) - 3, "...") == 0);
	pyinfo_free(&p);
}
