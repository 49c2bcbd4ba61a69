/* test_redact.c - secrets hidden from command lines, keys and structure kept. */
#include "harness.h"

#include "memtide/redact.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct redact *defaults(void)
{
	struct redact *r = NULL;

	if (redact_new(&r) == 0 && redact_add_defaults(r) != 0) {
		redact_free(r);
		r = NULL;
	}
	return r;
}

/* The redacted form of one argument, as a string the caller frees. */
static char *one(const struct redact *r, const char *arg)
{
	return redact_text(r, arg);
}

/* The redacted argv given as "a|b|c" ('|' stands for NUL), back as "a|b|c". */
static char *argv_of(const struct redact *r, const char *bars, int *hidden)
{
	size_t n = strlen(bars), out_len;
	char *in = strdup(bars), *out;

	for (size_t i = 0; i < n; i++)
		if (in[i] == '|')
			in[i] = '\0';
	*hidden = redact_argv(r, in, n, &out, &out_len);
	free(in);
	if (*hidden < 0)
		return NULL;
	for (size_t i = 0; i < out_len; i++)
		if (out[i] == '\0')
			out[i] = '|';
	return out;
}

#define EXPECT_ONE(r, in, want)                                                \
	do {                                                                   \
		char *got_ = one(r, in);                                       \
		CHECK_EQ_STR(got_, want);                                      \
		free(got_);                                                    \
	} while (0)

#define EXPECT_ARGV(r, in, want, nhidden)                                      \
	do {                                                                   \
		int h_;                                                        \
		char *got_ = argv_of(r, in, &h_);                              \
		CHECK_EQ_STR(got_, want);                                      \
		CHECK_EQ_INT(h_, nhidden);                                     \
		free(got_);                                                    \
	} while (0)

TEST(redact_key_value_forms)
{
	struct redact *r = defaults();

	CHECK(r != NULL);
	EXPECT_ONE(r, "--password=hunter2", "--password=***");
	EXPECT_ONE(r, "--PASSWORD=hunter2", "--PASSWORD=***");
	EXPECT_ONE(r, "--db-password=a b c", "--db-password=***");
	EXPECT_ONE(r, "PGPASSWORD=hunter2", "PGPASSWORD=***");
	EXPECT_ONE(r, "MYSQL_PWD=x", "MYSQL_PWD=***");
	EXPECT_ONE(r, "--passwd=x", "--passwd=***");
	EXPECT_ONE(r, "--pass=x", "--pass=***");
	EXPECT_ONE(r, "--passphrase=correct horse", "--passphrase=***");
	EXPECT_ONE(r, "token=abc", "token=***");
	EXPECT_ONE(r, "--hf_token=hf_abc", "--hf_token=***");
	EXPECT_ONE(r, "GITHUB_TOKEN=abc", "GITHUB_TOKEN=***");
	EXPECT_ONE(r, "secret=s3", "secret=***");
	EXPECT_ONE(r, "--client-secret=s3", "--client-secret=***");
	EXPECT_ONE(r, "api_key=k", "api_key=***");
	EXPECT_ONE(r, "--api-key=k", "--api-key=***");
	EXPECT_ONE(r, "APIKEY=k", "APIKEY=***");
	EXPECT_ONE(r, "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG", "AWS_SECRET_ACCESS_KEY=***");
	EXPECT_ONE(r, "--private-key=-----BEGIN", "--private-key=***");
	EXPECT_ONE(r, "credentials=u:p", "credentials=***");
	EXPECT_ONE(r, "--auth=user:pw", "--auth=***");
	/* Empty values stay empty: nothing to hide. */
	EXPECT_ONE(r, "--password=", "--password=");
	redact_free(r);
}

TEST(redact_keeps_what_is_not_secret)
{
	struct redact *r = defaults();

	EXPECT_ONE(r, "--tokenizer=bert-base", "--tokenizer=bert-base");
	EXPECT_ONE(r, "--max-tokens=512", "--max-tokens=512");
	EXPECT_ONE(r, "train.py", "train.py");
	EXPECT_ONE(r, "--epochs=2", "--epochs=2");
	EXPECT_ONE(r, "https://example.com/path?q=1", "https://example.com/path?q=1");
	EXPECT_ONE(r, "ssh://git@github.com/x.git", "ssh://git@github.com/x.git");
	EXPECT_ONE(r, "", "");
	redact_free(r);
}

TEST(redact_urls_headers_and_tokens)
{
	struct redact *r = defaults();

	EXPECT_ONE(r, "postgres://alice:hunter2@db:5432/x", "postgres://alice:***@db:5432/x");
	EXPECT_ONE(r, "--url=https://u:p@h/", "--url=https://u:***@h/");
	EXPECT_ONE(r, "redis://:pw@localhost", "redis://:***@localhost");
	EXPECT_ONE(r, "Authorization: Bearer eyJhbGciOi.x.y", "Authorization: Bearer ***");
	EXPECT_ONE(r, "authorization:basic dXNlcjpwdw==", "authorization:basic ***");
	EXPECT_ONE(r, "Proxy-Authorization: Negotiate abc", "Proxy-Authorization: Negotiate ***");
	EXPECT_ONE(r, "Authorization: abc", "Authorization: ***");
	EXPECT_ONE(r, "Bearer abc", "Bearer ***");
	EXPECT_ONE(r, "Cookie: session=abc", "Cookie: ***");
	EXPECT_ONE(r, "X-Api-Key: abc", "X-Api-Key: ***");
	EXPECT_ONE(r, "pass:hunter2", "pass:***");
	EXPECT_ONE(r, "AKIAIOSFODNN7EXAMPLE", "***");
	EXPECT_ONE(r, "--key-id=ASIAIOSFODNN7EXAMPLE", "--key-id=***");
	EXPECT_ONE(r, "ghp_0123456789abcdefghijABCDEFGHIJ012345", "***");
	EXPECT_ONE(r, "glpat-0123456789abcdefghij", "***");
	EXPECT_ONE(r, "xoxb-123456789012-abc", "***");
	/* A lower-case lookalike of an AWS key id is not one. */
	EXPECT_ONE(r, "akiaiosfodnn7example", "akiaiosfodnn7example");
	redact_free(r);
}

TEST(redact_value_in_next_argument)
{
	struct redact *r = defaults();

	EXPECT_ARGV(r, "python3|app.py|--password|hunter2|token=abc|",
		    "python3|app.py|--password|***|token=***|", 2);
	EXPECT_ARGV(r, "mysql|-u|root|--password|s3|-h|db", "mysql|-u|root|--password|***|-h|db", 1);
	EXPECT_ARGV(r, "openssl|enc|-pass|pass:x|-in|f", "openssl|enc|-pass|***|-in|f", 1);
	EXPECT_ARGV(r, "x|--api-key|k|--token|t", "x|--api-key|***|--token|***", 2);
	EXPECT_ARGV(r, "curl|-H|Authorization:|abc", "curl|-H|Authorization:|***", 1);
	/* The option last: nothing follows to hide. */
	EXPECT_ARGV(r, "x|--password|", "x|--password|", 0);
	EXPECT_ARGV(r, "x|--password", "x|--password", 0);
	/* An empty value is kept; the argument after it is not a value. */
	EXPECT_ARGV(r, "x|--password||y", "x|--password||y", 0);
	/* Not an option: "bypass" does not make the next argument secret. */
	EXPECT_ARGV(r, "x|bypass|y", "x|bypass|y", 0);
	redact_free(r);
}

TEST(redact_structure_is_kept)
{
	struct redact *r = defaults();
	static const char in[] = "python3\0--password=x\0\0\0";
	char *out;
	size_t n;

	/* No secret: the same bytes, NULs and padding included. */
	EXPECT_ARGV(r, "a|b||c|", "a|b||c|", 0);
	EXPECT_ARGV(r, "", "", 0);
	CHECK_EQ_INT(redact_argv(r, in, sizeof in - 1, &out, &n), 1);
	CHECK_EQ_INT(n, strlen("python3") + 1 + strlen("--password=***") + 3);
	CHECK(memcmp(out, "python3\0--password=***\0\0\0", n) == 0);
	CHECK(out[n] == '\0');
	free(out);
	/* No rules, or no rule set, hide nothing. */
	CHECK_EQ_INT(redact_argv(NULL, in, sizeof in - 1, &out, &n), 0);
	CHECK_EQ_INT(n, sizeof in - 1);
	CHECK(memcmp(out, in, n) == 0);
	free(out);
	redact_free(r);
}

TEST(redact_user_rules)
{
	struct redact *r = NULL;
	char err[128] = "";

	CHECK_EQ_INT(redact_new(&r), 0);
	CHECK_EQ_INT(redact_count(r), 0);
	CHECK_EQ_INT(redact_add(r, "(--db-pw|--dbpass)=(.*)", err, sizeof err), 0);
	CHECK_EQ_INT(redact_add(r, "sk-[[:alnum:]]{8,}", err, sizeof err), 0);
	CHECK_EQ_INT(redact_add(r, "^--vault()$", err, sizeof err), 0);
	CHECK_EQ_INT(redact_count(r), 3);
	EXPECT_ONE(r, "--dbpass=x", "--dbpass=***");
	EXPECT_ONE(r, "--db-pw=x", "--db-pw=***");
	EXPECT_ONE(r, "key sk-abcdefgh12 and sk-ZZZZZZZZZZ", "key *** and ***");
	/* User rules are case-sensitive, and defaults are not in this set. */
	EXPECT_ONE(r, "--DBPASS=x", "--DBPASS=x");
	EXPECT_ONE(r, "--password=x", "--password=x");
	EXPECT_ARGV(r, "v|--vault|tok|x", "v|--vault|***|x", 1);
	/* A rule matching the empty string hides nothing and ends. */
	CHECK_EQ_INT(redact_add(r, "z*", err, sizeof err), 0);
	EXPECT_ONE(r, "abc", "abc");
	EXPECT_ONE(r, "zz", "***");
	/* A bad regex is refused with regerror's words. */
	CHECK_EQ_INT(redact_add(r, "(unclosed", err, sizeof err), -EINVAL);
	CHECK(err[0] != '\0');
	CHECK_EQ_INT(redact_count(r), 4);
	redact_free(r);
}

TEST(redact_many_matches_and_long_arguments)
{
	struct redact *r = defaults();
	size_t n = 100000;
	char *big = malloc(n + 1), *out;

	EXPECT_ONE(r, "a://u:p@h b://v:q@i", "a://u:***@h b://v:***@i");
	memset(big, 'x', n);
	memcpy(big + n - 12, "token=abcdef", 12);
	big[n] = '\0';
	out = redact_text(r, big);
	CHECK(out && strlen(out) == n - 6 + 3);
	CHECK(out && strcmp(out + n - 12, "token=***") == 0);
	free(out);
	free(big);
	redact_free(r);
}

/* The gaps a review found (issue 15), as a table: each argv in, the argv
 * stored, how many values hidden. */
TEST(redact_review_cases)
{
	static const struct {
		const char *in, *want;
		int hidden;
	} cases[] = {
		{"curl|-u|alice:hunter2|https://x", "curl|-u|alice:***|https://x", 1},
		{"curl|--user|alice:hunter2|https://x", "curl|--user|alice:***|https://x", 1},
		{"curl|-U|proxy:pw|https://x", "curl|-U|proxy:***|https://x", 1},
		{"curl|--proxy-user|p:a:b|x", "curl|--proxy-user|p:***|x", 1},
		/* -u without a colon after it is not a password. */
		{"python3|-u|app.py", "python3|-u|app.py", 0},
		{"sudo|-u|bob|id", "sudo|-u|bob|id", 0},
		{"mysql|-u|root", "mysql|-u|root", 0},
		{"app|{\"password\":\"hunter2\"}", "app|{\"password\":\"***\"}", 1},
		{"app|{\"user\": \"a\", \"db_password\" : \"x y\"}",
		 "app|{\"user\": \"a\", \"db_password\" : \"***\"}", 1},
		{"app|{\"api_token\": 12345}", "app|{\"api_token\": ***}", 1},
		{"app|{\"name\":\"passive\"}", "app|{\"name\":\"passive\"}", 0},
		{"env|SECRET_KEY_BASE=abc123|rails", "env|SECRET_KEY_BASE=***|rails", 1},
		{"env|DB_PASSWORD_PRIMARY=x", "env|DB_PASSWORD_PRIMARY=***", 1},
		{"env|GITHUB_TOKEN_RO=ghx", "env|GITHUB_TOKEN_RO=***", 1},
		{"env|PATH=/usr/bin", "env|PATH=/usr/bin", 0},
		{"stripe|--key|sk_live_51HxYzAbCdEfGh", "stripe|--key|***", 1},
		{"x|rk_test_abcdefghijkl", "x|***", 1},
		{"x|--openai=sk-proj-abcdefghijklmnopqrstuv", "x|--openai=***", 1},
		{"celery|amqp://user:p@ss@host/vhost", "celery|amqp://user:***@host/vhost", 1},
		{"x|amqp://user:p@ss@host", "x|amqp://user:***@host", 1},
		{"x|https://host/a@b", "x|https://host/a@b", 0},
	};
	struct redact *r = defaults();

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		EXPECT_ARGV(r, cases[i].in, cases[i].want, cases[i].hidden);
	redact_free(r);
}

/* The user part of curl -u USER:PASS still goes through the other rules. */
TEST(redact_user_colon_after_the_rules)
{
	struct redact *r = defaults();

	EXPECT_ARGV(r, "curl|-u|AKIAIOSFODNN7EXAMPLE:pw|x", "curl|-u|***:***|x", 2);
	/* Redacting the result again hides nothing new. */
	EXPECT_ARGV(r, "curl|-u|alice:***|x", "curl|-u|alice:***|x", 0);
	redact_free(r);
}

/* A command line with no secret-looking word compiles none of the default
 * rules: memtide attach on "python3 -c ..." keeps its peak RSS low. */
TEST(redact_defaults_compile_when_needed)
{
	struct redact *r = defaults();
	char err[64];

	CHECK(r != NULL);
	if (!r)
		return;
	CHECK_EQ_INT(redact_compiled(r), 0);
	EXPECT_ARGV(r, "/usr/bin/python3|-c|import time; time.sleep(600)|",
		    "/usr/bin/python3|-c|import time; time.sleep(600)|", 0);
	EXPECT_ARGV(r, "make|-j2|CFLAGS=-O2 -g|check", "make|-j2|CFLAGS=-O2 -g|check", 0);
	CHECK_EQ_INT(redact_compiled(r), 0);
	/* "python -u": the curl -u rule alone, and the argument kept. */
	EXPECT_ARGV(r, "python|-u|app.py", "python|-u|app.py", 0);
	CHECK_EQ_INT(redact_compiled(r), 1);
	/* Each secret still found on first sight of its word. */
	EXPECT_ARGV(r, "app|--password|hunter2", "app|--password|***", 1);
	EXPECT_ONE(r, "postgres://alice:hunter2@db/x", "postgres://alice:***@db/x");
	EXPECT_ONE(r, "ghp_0123456789abcdefghijABCDEFGHIJ012345", "***");
	CHECK(redact_compiled(r) > 1 && redact_compiled(r) < redact_count(r));
	/* Every default compiles (one argument per word). */
	{
		int h;
		char *got = argv_of(r, "pass|pwd|secret|token|auth|key|credential|://|"
				    "private|authorization|cookie|bearer|pass:|akia|asia|"
				    "ghp_|github_pat_|glpat-|xox|k_live_|k_test_|sk-|-u", &h);

		CHECK(got != NULL);
		free(got);
	}
	CHECK_EQ_INT(redact_compiled(r), redact_count(r));
	/* A user's rule compiles at once, to report a bad one. */
	CHECK_EQ_INT(redact_add(r, "[", err, sizeof err), -EINVAL);
	CHECK_EQ_INT(redact_add(r, "^--dbpw=(.*)", err, sizeof err), 0);
	CHECK_EQ_INT(redact_compiled(r), redact_count(r));
	redact_free(r);
}
