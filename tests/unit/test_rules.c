/* test_rules.c - rule matching, facts from fixture /proc trees, and the
 * systemd unit of a cgroup. */
#include "harness.h"

#include "memtide/config.h"
#include "memtide/rules.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int parse(const char *text, struct config *c)
{
	char err[256];

	return config_parse("t.conf", text, strlen(text), c, err, sizeof err);
}

TEST(rules_every_key_must_match)
{
	struct config c;
	struct rules_facts f = {.pid = 10, .ppid = 1, .uid = 33, .python = 1, .have = RULES_NEED_UNIT | RULES_NEED_PYTHON};
	char cmd[] = "/usr/bin/python3 /srv/app/bin/gunicorn app:wsgi";
	char unit[] = "myapp.service";

	f.cmdline = cmd;
	f.unit = unit;
	CHECK_EQ_INT(parse("[track \"w\"]\npython = yes\ncmdline = celery|gunicorn\n"
			   "user = 33\nunit = myapp.service\n"
			   "[track \"p\"]\npid = 4242\n"
			   "[track \"nopy\"]\npython = no\n",
			   &c), 0);
	CHECK_EQ_INT(rules_match(&c, &f, -1), 0);
	f.uid = 0; /* one key off: not "w"; python = yes: not "nopy" */
	CHECK_EQ_INT(rules_match(&c, &f, -1), -1);
	f.uid = 33;
	f.unit = NULL;
	CHECK_EQ_INT(rules_match(&c, &f, -1), -1);
	f.unit = unit;
	cmd[20] = 'X'; /* "gunicorn" no more */
	memcpy(cmd + 17, "srv/app/bin/wsgi_server", 23);
	CHECK_EQ_INT(rules_match(&c, &f, -1), -1);
	f.python = 0;
	CHECK_EQ_INT(rules_match(&c, &f, -1), 2);
	f.pid = 4242;
	CHECK_EQ_INT(rules_match(&c, &f, -1), 1);
	config_free(&c);
}

TEST(rules_children_follow_their_parent)
{
	struct config c;
	struct rules_facts f = {.pid = 11, .ppid = 4242, .uid = 0, .python = 0, .have = RULES_NEED_UNIT | RULES_NEED_PYTHON};
	char cmd[] = "/bin/sleep 10";

	f.cmdline = cmd;
	CHECK_EQ_INT(parse("[track \"py\"]\npython = yes\n"
			   "[track \"tree\"]\npid = 4242\nchildren = yes\n"
			   "[track \"flat\"]\npid = 4243\n", &c), 0);
	CHECK_EQ_INT(rules_match(&c, &f, 1), 1);  /* parent under "tree" */
	CHECK_EQ_INT(rules_match(&c, &f, 2), -1); /* "flat": no children */
	CHECK_EQ_INT(rules_match(&c, &f, -1), -1);
	f.python = 1; /* a Python child of a "flat" parent: its own match */
	CHECK_EQ_INT(rules_match(&c, &f, 2), 0);
	config_free(&c);
}

TEST(rules_no_track_section_means_all_python)
{
	struct config c;
	struct rules_facts f = {.pid = 5, .python = 2, .have = RULES_NEED_UNIT | RULES_NEED_PYTHON};

	CHECK_EQ_INT(parse("[memtided]\ninterval = 2s\n", &c), 0);
	CHECK_EQ_INT(c.nrules, 1);
	CHECK_EQ_STR(c.rules[0].name, "python");
	CHECK_EQ_INT(rules_match(&c, &f, -1), 0);
	f.python = 0;
	CHECK_EQ_INT(rules_match(&c, &f, -1), -1);
	CHECK_EQ_INT(rules_needs(&c), RULES_NEED_PYTHON);
	config_free(&c);
}

TEST(rules_facts_from_fixture)
{
	struct rules_facts f;

	CHECK_EQ_INT(rules_read_facts("tests/fixtures/proc", 200,
				      RULES_NEED_UNIT | RULES_NEED_PYTHON, &f), 0);
	CHECK_EQ_INT(f.ppid, 1);
	CHECK_EQ_INT(f.start_ticks, 9000200);
	CHECK_EQ_STR(f.exe, "/usr/bin/python3.11");
	CHECK_EQ_STR(f.cmdline, "/srv/myapp/venv/bin/python /srv/myapp/venv/bin/gunicorn app:wsgi");
	CHECK_EQ_STR(f.unit, "myapp.service");
	CHECK_EQ_INT(f.python, 1);
	rules_facts_free(&f);
	CHECK_EQ_INT(rules_read_facts("tests/fixtures/proc", 203, RULES_NEED_PYTHON, &f), 0);
	CHECK_EQ_INT(f.python, 2);
	CHECK_EQ_STR(f.interpreter, "python3.11");
	CHECK(f.unit == NULL); /* not asked for */
	rules_facts_free(&f);
	CHECK_EQ_INT(rules_read_facts("tests/fixtures/proc", 205, RULES_NEED_PYTHON, &f), 0);
	CHECK_EQ_INT(f.python, 0);
	rules_facts_free(&f);
	CHECK_EQ_INT(rules_read_facts("tests/fixtures/proc", 99999, 0, &f), -ESRCH);
}

TEST(rules_cgroup_units)
{
	char u[64];
	const char v2[] = "0::/system.slice/myapp.service\n";
	const char sub[] = "0::/system.slice/app.service/worker/leaf\n";
	const char scope[] = "0::/user.slice/user-1000.slice/session-3.scope\n";
	const char v1[] = "12:name=systemd:/system.slice/cron.service\n0::/\n";
	const char none[] = "0::/\n";

	CHECK_EQ_INT(rules_cgroup_unit(v2, sizeof v2 - 1, u, sizeof u), 1);
	CHECK_EQ_STR(u, "myapp.service");
	CHECK_EQ_INT(rules_cgroup_unit(sub, sizeof sub - 1, u, sizeof u), 1);
	CHECK_EQ_STR(u, "app.service");
	CHECK_EQ_INT(rules_cgroup_unit(scope, sizeof scope - 1, u, sizeof u), 1);
	CHECK_EQ_STR(u, "session-3.scope");
	CHECK_EQ_INT(rules_cgroup_unit(v1, sizeof v1 - 1, u, sizeof u), 1);
	CHECK_EQ_STR(u, "cron.service");
	CHECK_EQ_INT(rules_cgroup_unit(none, sizeof none - 1, u, sizeof u), 0);
}
