/* redact.c - secrets out of command lines (see include/memtide/redact.h). */
#include "memtide/redact.h"

#include "memtide/strbuf.h"

#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

/* Enough for every default rule; a user rule with more subexpressions has
 * its value found among the first ones only. */
#define MAX_GROUPS 10

struct rule {
	regex_t re;
	int compiled; /* re holds ere, compiled */
	/* A default rule compiles at the first argument that holds one of its
	 * needles: a match needs one, and most command lines hold none, so
	 * they cost no regex memory (a few hundred KiB for all the rules). */
	const char *ere;
	int flags;
	const char *needles; /* '|'-separated, any case; NULL: always applies */
	/* The next argument is "USER:PASSWORD" (curl -u): only what follows
	 * its first colon is hidden, and only when there is a colon, so that
	 * "python -u app.py" and "sudo -u bob" keep their arguments. */
	int user_colon;
};

struct redact {
	struct rule *v;
	size_t n, cap;
};

/* The keys whose value is a secret, as a regex alternation; a key is
 * matched at its end, so "--db-password" and "PGPASSWORD" are keys too. */
#define KEYS                                                                   \
	"(pass(word|wd|phrase)?|pwd|secret|token|auth|api[_-]?key|access[_-]?key|" \
	"secret[_-]?key|private[_-]?key|credentials?)"

/* Words every match of KEYS holds, one at least. */
#define KEY_NEEDLES "pass|pwd|secret|token|auth|key|credential"

static const struct {
	const char *ere;
	int icase;
	const char *needles; /* see struct rule */
} defaults[] = {
	/* KEY=VALUE, in an option or an environment-style argument. */
	{KEYS "=(.*)", 1, KEY_NEEDLES},
	/* --KEY VALUE: the value is the next argument. */
	{"^-{1,2}[[:alnum:]_.-]*" KEYS "()$", 1, KEY_NEEDLES},
	/* scheme://user:PASS@host: the password ends at the last @ before the
	 * path, since passwords hold '@' ("amqp://u:p@ss@host"). */
	{"://[^/@:[:space:]]*:([^/[:space:]]*)@", 0, "://"},
	/* KEY=VALUE where the key holds a secret word anywhere, environment
	 * style: SECRET_KEY_BASE=..., DB_PASSWORD_PRIMARY=... */
	{"^[A-Z0-9_]*(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE|CREDENTIAL)[A-Z0-9_]*=(.*)", 0,
	 "pass|secret|token|private|credential"},
	/* JSON: {"password": "hunter2"}, {"api_token": 1234} */
	{"\"[^\"]*" KEYS "\"[[:space:]]*:[[:space:]]*(\"([^\"]*)\"|[^\",}[:space:]]+)", 1,
	 KEY_NEEDLES},
	/* HTTP headers given to curl, httpie, wget... */
	{"(proxy-)?authorization:[[:space:]]*((bearer|basic|digest|token|negotiate)"
	 "[[:space:]]+)?(.*)",
	 1, "authorization"},
	{"cookie:[[:space:]]*(.*)", 1, "cookie"},
	{"(api[_-]?key|auth[_-]?token|access[_-]?token|token|secret|password):"
	 "[[:space:]]+(.*)",
	 1, "key|auth|token|secret|pass"},
	{"bearer[[:space:]]+(.*)", 1, "bearer"},
	/* openssl -passin pass:VALUE */
	{"(^|[^[:alnum:]])pass:(.*)", 0, "pass:"},
	/* Tokens recognisable by their form alone, hidden whole. */
	{"A[KS]IA[0-9A-Z]{16}", 0, "akia|asia"},
	{"gh[pousr]_[[:alnum:]]{36}", 0, "ghp_|gho_|ghu_|ghs_|ghr_"},
	{"github_pat_[[:alnum:]_]{22,}", 0, "github_pat_"},
	{"glpat-[[:alnum:]_-]{20}", 0, "glpat-"},
	{"xox[abprs]-[[:alnum:]-]{10,}", 0, "xox"},
	{"[rs]k_live_[[:alnum:]]{10,}", 0, "k_live_"}, /* Stripe; no group: hidden whole */
	{"[rs]k_test_[[:alnum:]]{10,}", 0, "k_test_"},
	{"sk-[[:alnum:]_-]{20,}", 0, "sk-"}, /* OpenAI, Anthropic */
};

int redact_new(struct redact **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? 0 : -ENOMEM;
}

void redact_free(struct redact *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].compiled)
			regfree(&r->v[i].re);
	free(r->v);
	free(r);
}

size_t redact_count(const struct redact *r)
{
	return r ? r->n : 0;
}

size_t redact_compiled(const struct redact *r)
{
	size_t n = 0;

	for (size_t i = 0; r && i < r->n; i++)
		n += r->v[i].compiled != 0;
	return n;
}

/* Compiles rule w.  0, or -ENOMEM / -EINVAL with regerror()'s message in
 * err (err_len bytes, err may be NULL). */
static int compile(struct rule *w, char *err, size_t err_len)
{
	int rc = regcomp(&w->re, w->ere, REG_EXTENDED | w->flags);

	if (rc) {
		if (err && err_len)
			regerror(rc, &w->re, err, err_len);
		regfree(&w->re);
		return rc == REG_ESPACE ? -ENOMEM : -EINVAL;
	}
	w->compiled = 1;
	return 0;
}

/* Appends a rule; compiles it now unless needles defers it to its first
 * use (the defaults, known to compile). */
static struct rule *add(struct redact *r, const char *ere, int flags, const char *needles)
{
	struct rule *w;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct rule *v = realloc(r->v, cap * sizeof *v);

		if (!v)
			return NULL;
		r->v = v;
		r->cap = cap;
	}
	w = &r->v[r->n];
	memset(w, 0, sizeof *w);
	w->ere = ere;
	w->flags = flags;
	w->needles = needles;
	return w;
}

int redact_add(struct redact *r, const char *ere, char *err, size_t err_len)
{
	struct rule *w = add(r, ere, 0, NULL);
	int rc;

	if (!w)
		return -ENOMEM;
	if ((rc = compile(w, err, err_len)))
		return rc;
	w->ere = NULL; /* the caller's string may not outlive the rule */
	r->n++;
	return 0;
}

int redact_add_defaults(struct redact *r)
{
	struct rule *w;

	for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
		if (!(w = add(r, defaults[i].ere, defaults[i].icase ? REG_ICASE : 0,
			      defaults[i].needles)))
			return -ENOMEM;
		r->n++;
	}
	/* curl's -u/--user and -U/--proxy-user USER:PASSWORD. */
	if (!(w = add(r, "^-(u|-user|U|-proxy-user)()$", 0, "-u")))
		return -ENOMEM;
	w->user_colon = 1;
	r->n++;
	return 0;
}

/* Whether a (NUL-terminated) holds one of the '|'-separated needles, in
 * any case; no needles: yes. */
static int has_needle(const char *needles, const char *a)
{
	char word[32];

	if (!needles)
		return 1;
	while (*needles) {
		size_t n = strcspn(needles, "|");

		if (n < sizeof word) {
			memcpy(word, needles, n);
			word[n] = '\0';
			if (strcasestr(a, word))
				return 1;
		}
		needles += n + (needles[n] == '|');
	}
	return 0;
}

/* Applies one rule to the NUL-terminated argument a, appending the result
 * to out.  Returns how many values it hid; *next is set when the argument
 * names a value that follows as the next argument. */
static int apply(const regex_t *re, const char *a, struct strbuf *out, int *next)
{
	regmatch_t m[MAX_GROUPS];
	size_t pos = 0, len = strlen(a);
	size_t ngroups = re->re_nsub + 1 < MAX_GROUPS ? re->re_nsub + 1 : MAX_GROUPS;
	int hidden = 0;

	while (pos <= len &&
	       regexec(re, a + pos, ngroups, m, pos ? REG_NOTBOL : 0) == 0) {
		size_t g = 0, so, eo, end = pos + (size_t)m[0].rm_eo;

		for (size_t k = ngroups - 1; k > 0; k--)
			if (m[k].rm_so >= 0) {
				g = k;
				break;
			}
		so = pos + (size_t)m[g].rm_so;
		eo = pos + (size_t)m[g].rm_eo;
		if (m[0].rm_eo == m[0].rm_so) {
			/* An empty match hides nothing: step past it. */
			if (pos == len)
				break;
			strbuf_add(out, a + pos, 1);
			pos++;
			continue;
		}
		strbuf_add(out, a + pos, so - pos);
		if (eo > so) {
			/* A value an earlier rule hid already is not counted twice. */
			hidden += eo - so != strlen(REDACT_MASK) ||
				  memcmp(a + so, REDACT_MASK, eo - so) != 0;
			strbuf_add(out, REDACT_MASK, strlen(REDACT_MASK));
		} else if (g > 0 && eo == len && end == len) {
			*next = 1;
		}
		strbuf_add(out, a + eo, end - eo);
		pos = end;
	}
	if (pos < len)
		strbuf_add(out, a + pos, len - pos);
	return hidden;
}

/* Redacts one argument (NUL-terminated) through every rule into out. */
static int redact_one(const struct redact *r, const char *a, struct strbuf *out, int *next)
{
	struct strbuf cur = {0}, tmp = {0};
	int hidden = 0;

	strbuf_add(&cur, a, strlen(a));
	for (size_t i = 0; r && i < r->n && !cur.oom; i++) {
		struct rule *w = &r->v[i];
		int names = 0;

		if (!has_needle(w->needles, cur.p))
			continue;
		if (!w->compiled && compile(w, NULL, 0)) {
			cur.oom = 1; /* a default that compiles: only memory fails */
			break;
		}
		tmp.len = 0;
		strbuf_add(&tmp, "", 0);
		hidden += apply(&w->re, cur.p, &tmp, &names);
		if (names)
			*next = w->user_colon ? 2 : 1;
		{
			struct strbuf t = cur;

			cur = tmp;
			tmp = t;
		}
	}
	if (cur.oom || tmp.oom)
		out->oom = 1;
	else
		strbuf_add(out, cur.p, cur.len);
	free(cur.p);
	free(tmp.p);
	return hidden;
}

/* USER:PASSWORD (the argument after curl -u), already through the rules
 * and appended to b from start: what follows the first colon becomes the
 * mask.  Returns 1 when it hid something new. */
static int hide_after_colon(struct strbuf *b, size_t start)
{
	char *colon = memchr(b->p + start, ':', b->len - start);
	size_t m = strlen(REDACT_MASK);
	int fresh;

	if (!colon)
		return 0;
	fresh = (size_t)(b->p + b->len - colon - 1) != m || memcmp(colon + 1, REDACT_MASK, m) != 0;
	b->len = (size_t)(colon + 1 - b->p);
	strbuf_add(b, REDACT_MASK, m);
	return fresh;
}

int redact_argv(const struct redact *r, const char *argv, size_t len, char **out,
		size_t *out_len)
{
	struct strbuf b = {0};
	size_t i = 0;
	int hidden = 0, next = 0;
	char *arg = NULL;

	*out = NULL;
	*out_len = 0;
	strbuf_add(&b, "", 0);
	while (i < len && !b.oom) {
		const char *nul = memchr(argv + i, '\0', len - i);
		size_t n = nul ? (size_t)(nul - (argv + i)) : len - i;
		int names_next = 0;
		size_t start = b.len;

		if (next == 1 && n > 0) {
			strbuf_add(&b, REDACT_MASK, strlen(REDACT_MASK));
			hidden++;
		} else {
			/* The last argument may lack its NUL: work on a copy. */
			if (!(arg = malloc(n + 1))) {
				b.oom = 1;
				break;
			}
			memcpy(arg, argv + i, n);
			arg[n] = '\0';
			hidden += redact_one(r, arg, &b, &names_next);
			free(arg);
			arg = NULL;
			if (next == 2 && !b.oom)
				hidden += hide_after_colon(&b, start);
		}
		next = names_next;
		i += n;
		if (nul) {
			strbuf_add(&b, "", 1);
			i++;
		}
	}
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*out_len = b.len;
	return hidden;
}

char *redact_text(const struct redact *r, const char *s)
{
	struct strbuf b = {0};
	int next = 0;

	strbuf_add(&b, "", 0);
	redact_one(r, s, &b, &next);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
