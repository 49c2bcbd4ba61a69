/* test_grouptpl.c - group templates, the group and cgroup rule keys and
 * per_process_metrics in memtided.conf. */
#include "harness.h"

#include "memtide/config.h"
#include "memtide/grouptpl.h"
#include "memtide/rules.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int parse(const char *text, struct config *c, char *err, size_t len)
{
	return config_parse("t.conf", text, strlen(text), c, err, len);
}

TEST(grouptpl_expands_facts)
{
	struct grouptpl_facts f = {{0}};
	char *s;

	f.v[GROUPTPL_RULE] = "shop";
	f.v[GROUPTPL_SCRIPT] = "/srv/shop/worker.py";
	f.v[GROUPTPL_POD] = "0f3e1c52-7a1b";
	s = grouptpl_expand("{{.Rule}}:{{ .Script }}@{{.Pod}}{{.Unit}}", &f);
	CHECK_EQ_STR(s, "shop:/srv/shop/worker.py@0f3e1c52-7a1b");
	free(s);
	/* Text that only looks like a placeholder is kept as it is. */
	s = grouptpl_expand("{x}{{", &f);
	CHECK_EQ_STR(s, "{x}{{");
	free(s);
	CHECK(grouptpl_check("{{.Comm}}-{{.ExeBase}}") == NULL);
	CHECK(grouptpl_check("{{.Pid}}") != NULL);
	CHECK_EQ_INT(grouptpl_fields("{{.Comm}} {{.User}}"),
		     (1u << GROUPTPL_COMM) | (1u << GROUPTPL_USER));
}

TEST(config_group_cgroup_and_per_process_keys)
{
	struct config c;
	char err[256];

	CHECK_EQ_INT(parse("[memtided]\nper_process_metrics = yes\n"
			   "[track \"k8s\"]\ncgroup = ^/kubepods\ngroup = \"{{.Pod}}/{{.Comm}}\"\n",
			   &c, err, sizeof err), 0);
	CHECK_EQ_INT(c.per_process_metrics, 1);
	CHECK_EQ_STR(c.rules[0].group, "{{.Pod}}/{{.Comm}}");
	CHECK_EQ_STR(c.rules[0].cgroup, "^/kubepods");
	config_free(&c);
	CHECK_EQ_INT(parse("[track \"a\"]\ngroup = {{.Pid}}\n", &c, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "t.conf:2: bad group '{{.Pid}}': unknown placeholder") == err);
	CHECK_EQ_INT(parse("[track \"a\"]\ncgroup = (\n", &c, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "t.conf:2: bad cgroup regex") == err);
	CHECK_EQ_INT(parse("[memtided]\n", &c, err, sizeof err), 0);
	CHECK_EQ_INT(c.per_process_metrics, 0);
	config_free(&c);
}

/* cgroup = matches the path; until the cgroup is read, the rule may match. */
TEST(rules_cgroup_regex)
{
	struct config c;
	char err[256], cmd[] = "python3 w.py";
	char in[] = "/kubepods.slice/kubepods-pod1.slice", out[] = "/system.slice/x.service";
	struct rules_facts f = {.pid = 5, .uid = 0, .python = 1, .have = RULES_NEED_CGROUP};

	f.cmdline = cmd;
	CHECK_EQ_INT(parse("[track \"k\"]\ncgroup = ^/kubepods\n", &c, err, sizeof err), 0);
	CHECK(rules_needs(&c) & RULES_NEED_CGROUP);
	f.cgroup = in;
	CHECK_EQ_INT(rules_match(&c, &f, -1), 0);
	f.cgroup = out;
	CHECK_EQ_INT(rules_match(&c, &f, -1), -1);
	f.cgroup = NULL;
	CHECK_EQ_INT(rules_match(&c, &f, -1), -1);
	f.have = 0;
	CHECK_EQ_INT(rules_match(&c, &f, -1), 0);
	config_free(&c);
}
