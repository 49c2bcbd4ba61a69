/* test_config.c - memtided.conf: defaults, every setting, and every error
 * path with its FILE:LINE. */
#include "harness.h"

#include "memtide/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NS 1000000000LL

static int parse(const char *text, struct config *c, char *err, size_t len)
{
	return config_parse("m.conf", text, strlen(text), c, err, len);
}

TEST(config_defaults_and_every_key)
{
	struct config c;
	char err[256] = "";
	const char *text =
		"; memtided.conf\n"
		"# both comment styles\n"
		"[memtided]\n"
		"database = /var/lib/x.db   ; where\n"
		"interval = 500ms\n"
		"scan = 5s\n"
		"retention = 7d\n"
		"rollup_retention = 400d\n"
		"log_level = debug\n"
		"metrics = 127.0.0.1:9756\n"
		"redact = \"token=[^ ]+ ;x\"\n"
		"redact = (--db-pw)=(.*)\n"
		"[track \"web\"]   ; a rule [with a comment]\n"
		"python = yes\n"
		"cmdline = gunicorn|uwsgi\n"
		"user = root\n"
		"unit = web.service\n"
		"pid = 77\n"
		"children = yes\n"
		"interval = 20ms\n"
		"pss = on\n"
		"[ track   \"batch jobs\" ]\n"
		"user = 1000\n";

	CHECK_EQ_INT(config_defaults(&c), 0);
	CHECK_EQ_STR(c.database, "/var/lib/memtide/memtide.db");
	CHECK_EQ_INT(c.interval_ns, NS);
	CHECK_EQ_INT(c.scan_ns, 2 * NS);
	CHECK_EQ_INT(c.retention_ns, 14 * 86400 * NS);
	CHECK_EQ_INT(c.log_level, CONFIG_LOG_INFO);
	CHECK_EQ_INT(c.nrules, 1);
	CHECK_EQ_INT(c.rules[0].python, 1);
	config_free(&c);

	CHECK_EQ_INT(parse(text, &c, err, sizeof err), 0);
	CHECK_EQ_STR(err, "");
	CHECK_EQ_STR(c.database, "/var/lib/x.db");
	CHECK_EQ_INT(c.interval_ns, NS / 2);
	CHECK_EQ_INT(c.scan_ns, 5 * NS);
	CHECK_EQ_INT(c.retention_ns, 7 * 86400 * NS);
	CHECK_EQ_INT(c.rollup_retention_ns, 400 * 86400 * NS);
	CHECK_EQ_INT(c.log_level, CONFIG_LOG_DEBUG);
	CHECK_EQ_STR(c.metrics, "127.0.0.1:9756");
	CHECK_EQ_INT(c.nredact, 2);
	CHECK(c.nredact == 2 && strcmp(c.redact[0], "token=[^ ]+ ;x") == 0);
	CHECK(c.nredact == 2 && strcmp(c.redact[1], "(--db-pw)=(.*)") == 0);
	CHECK_EQ_INT(c.nrules, 2);
	CHECK_EQ_STR(c.rules[0].name, "web");
	CHECK_EQ_INT(c.rules[0].line, 13);
	CHECK_EQ_INT(c.rules[0].python, 1);
	CHECK_EQ_STR(c.rules[0].cmdline, "gunicorn|uwsgi");
	CHECK_EQ_INT(c.rules[0].uid, 0);
	CHECK_EQ_STR(c.rules[0].unit, "web.service");
	CHECK_EQ_INT(c.rules[0].pid, 77);
	CHECK_EQ_INT(c.rules[0].children, 1);
	CHECK_EQ_INT(c.rules[0].interval_ns, 20000000);
	CHECK_EQ_INT(config_rule_interval(&c, &c.rules[0]), 20000000);
	CHECK_EQ_INT(c.rules[0].pss, 1);
	CHECK_EQ_STR(c.rules[1].name, "batch jobs");
	CHECK_EQ_INT(c.rules[1].uid, 1000);
	CHECK_EQ_INT(c.rules[1].python, -1);
	CHECK_EQ_INT(config_rule_interval(&c, &c.rules[1]), NS / 2);
	config_free(&c);
}

/* Each bad text, the line it names and the start of its message. */
static const struct {
	const char *text;
	int line;
	const char *msg;
} bad[] = {
	{"[memtided]\ninterval = 15ms\n", 2, "bad interval '15ms': must be a multiple of 10 ms"},
	{"[memtided]\ninterval = 5ms\n", 2, "bad interval '5ms': give a duration from 10 ms"},
	{"[memtided]\ninterval = 2h\n", 2, "bad interval '2h'"},
	{"[memtided]\nscan = soon\n", 2, "bad scan 'soon'"},
	{"[memtided]\nretention = 30s\n", 2, "bad retention '30s'"},
	{"[memtided]\nrollup_retention = -1d\n", 2, "bad rollup_retention '-1d'"},
	{"[memtided]\nlog_level = chatty\n", 2, "bad log_level 'chatty'"},
	{"[memtided]\nredact = [z-a]\n", 2, "bad redact regex '[z-a]'"},
	{"[memtided]\ndatabase =\n", 2, "database: empty value"},
	{"[memtided]\npython = yes\n", 2, "unknown key 'python' in [memtided]"},
	{"[memtided]\n\n\nscan = 1s\nscan = 2s\n", 5, "duplicate key 'scan'"},
	{"[track \"a\"]\nretention = 1d\n", 2, "unknown key 'retention' in [track]"},
	{"[track \"a\"]\npython = sometimes\n", 2, "bad python 'sometimes': give yes or no"},
	{"[track \"a\"]\nchildren = 2\n", 2, "bad children '2'"},
	{"[track \"a\"]\npss = \n", 2, "pss: empty value"},
	{"[track \"a\"]\ncmdline = ((\n", 2, "bad cmdline regex '(('"},
	{"[track \"a\"]\nuser = nosuchuser_x\n", 2, "unknown user 'nosuchuser_x'"},
	{"[track \"a\"]\npid = 0\n", 2, "bad pid '0'"},
	{"[track \"a\"]\npid = 12abc\n", 2, "bad pid '12abc'"},
	{"[track \"a\"]\ninterval = 1.005s\n", 2, "bad interval '1.005s': must be a multiple"},
	{"[track \"a\"]\n[track \"b\"]\n[track \"a\"]\n", 3, "duplicate rule \"a\" (first on line 1)"},
	{"[track]\n", 1, "[track] needs a quoted name"},
	{"[track a]\n", 1, "[track] needs a quoted name"},
	{"[trace \"a\"]\n", 1, "unknown section [trace \"a\"]"},
	{"[memtided\n", 1, "bad section header"},
	{"scan = 1s\n", 1, "'scan' outside a section"},
	{"[memtided]\nscan 1s\n", 2, "expected 'key = value'"},
	{"[track \"a\"]\ncmdline = \"abc\n", 2, "unterminated quoted value"},
	{"[track \"a\"]\ncmdline = \"abc\" def\n", 2, "text after a quoted value"},
};

TEST(config_every_error_names_its_line)
{
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct config c;
		char err[256] = "", want[256];

		snprintf(want, sizeof want, "m.conf:%d: %s", bad[i].line, bad[i].msg);
		CHECK_EQ_INT(parse(bad[i].text, &c, err, sizeof err), -EINVAL);
		if (strncmp(err, want, strlen(want)) != 0) {
			fprintf(stderr, "  case %zu: got \"%s\", want \"%s...\"\n", i, err, want);
			*failed_ = 1;
		}
		CHECK(c.rules == NULL && c.database == NULL); /* nothing leaks out */
	}
}

TEST(config_nul_byte_and_missing_file)
{
	struct config c;
	char err[256];
	const char text[] = "[memtided]\nscan = 1s\0x\n";

	CHECK_EQ_INT(config_parse("m.conf", text, sizeof text - 1, &c, err, sizeof err), -EINVAL);
	CHECK_EQ_STR(err, "m.conf:2: NUL byte in the line");
	CHECK_EQ_INT(config_load("/nonexistent/memtided.conf", &c, err, sizeof err), -ENOENT);
	CHECK_EQ_STR(err, "/nonexistent/memtided.conf: No such file or directory");
}

TEST(config_load_reads_a_file)
{
	char path[] = "/tmp/memtide-conf-XXXXXX", err[256];
	struct config c;
	int fd = mkstemp(path);
	const char text[] = "[track \"x\"]\ncmdline = python\n";

	CHECK(fd >= 0);
	CHECK(write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1));
	close(fd);
	CHECK_EQ_INT(config_load(path, &c, err, sizeof err), 0);
	CHECK_EQ_STR(c.path, path);
	CHECK_EQ_INT(c.nrules, 1);
	config_free(&c);
	unlink(path);
}

/* Found by fuzz_config: glibc's regcomp doubles the operand of every '+',
 * so "a+++...+" (30 of them) ate all memory, and loops over a part that can
 * match nothing ran for minutes, before memtided could refuse them.  Such
 * patterns are refused up front; ordinary ones still pass. */
TEST(config_refuses_exploding_regex)
{
	static const struct {
		const char *text, *why;
	} bomb[] = {
		{"[track \"x\"]\ncmdline = a++++++++++++++++++++++++++++++\n", "copy it too many"},
		{"[track \"x\"]\ncmdline = (a{1000}){1000}\n", "copy it too many"},
		{"[track \"x\"]\ncmdline = ((a+){40}){40}\n", "copy it too many"},
		{"[track \"x\"]\ncmdline = (((a*)?)+){30}\n", "can match nothing"},
		{"[track \"x\"]\ncmdline = (a*?+){300}\n", "can match nothing"},
		{"[track \"x\"]\ncmdline = (()+){300}\n", "can match nothing"},
		{"[memtided]\nredact = x(y|)+\n", "can match nothing"},
		{"[memtided]\nredact = (x{2}){2}(y{99}){99}\n", "copy it too many"},
	};
	static const char *const fine[] = {
		"[track \"x\"]\ncmdline = ^python3? .*(celery|gunicorn)+ -w [0-9]+ --port=[0-9]{2,5}$\n",
		"[track \"x\"]\ncmdline = a{999}\\{99999}[]{}+]+[^]]{1,100}(a+*){50}\n",
		"[track \"x\"]\ncmdline = ([[:alpha:]]*[[:digit:]]?){500}\n",
		"[memtided]\nredact = (--password|--token)[= ][^ ]+\n",
	};
	struct config c;
	char err[512];

	for (size_t i = 0; i < sizeof bomb / sizeof bomb[0]; i++) {
		CHECK_EQ_INT(parse(bomb[i].text, &c, err, sizeof err), -EINVAL);
		CHECK(strncmp(err, "m.conf:2: bad ", 14) == 0);
		CHECK(strstr(err, bomb[i].why) != NULL);
	}
	for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
		CHECK_EQ_INT(parse(fine[i], &c, err, sizeof err), 0);
		config_free(&c);
	}
}
