/* config.c - memtided.conf (see include/memtide/config.h).
 *
 * A small INI reader of our own rather than inih: Debian's inih cuts lines
 * at 200 bytes (a long regex would be split silently), gives its 4-argument
 * handler no line number, and never reports an empty section, while every
 * error here must name its FILE:LINE.
 */
#include "memtide/config.h"

#include "memtide/grouptpl.h"
#include "memtide/httpd.h"

#include "memtide/units.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NS 1000000000LL
#define DAY (86400 * NS)

enum section { SEC_MAIN, SEC_TRACK };
enum ctype { T_STRING, T_ADDR, T_DURATION, T_BOOL, T_REGEX, T_REGEX_LIST, T_USER, T_PID,
	     T_LEVEL, T_SOCKET, T_TEMPLATE };

/* One setting: where it lives, its type, default and bounds.  Durations
 * marked tick must be whole multiples of memtided's 10 ms tick. */
struct ckey {
	const char *name;
	enum section sec;
	enum ctype type;
	const char *def; /* NULL: unset */
	int64_t min, max;
	int tick;
	size_t off;
};

#define M(f) offsetof(struct config, f)
#define R(f) offsetof(struct config_rule, f)

static const struct ckey keys[] = {
	{"database", SEC_MAIN, T_STRING, CONFIG_DEFAULT_DB, 0, 0, 0, M(database)},
	{"interval", SEC_MAIN, T_DURATION, "1s", CONFIG_TICK_NS, 3600 * NS, 1, M(interval_ns)},
	{"scan", SEC_MAIN, T_DURATION, "2s", NS / 10, 3600 * NS, 0, M(scan_ns)},
	{"retention", SEC_MAIN, T_DURATION, "14d", 60 * NS, 3660 * DAY, 0, M(retention_ns)},
	{"rollup_retention", SEC_MAIN, T_DURATION, "400d", 60 * NS, 36600 * DAY, 0,
	 M(rollup_retention_ns)},
	{"log_level", SEC_MAIN, T_LEVEL, "info", 0, 0, 0, M(log_level)},
	{"metrics", SEC_MAIN, T_ADDR, NULL, 0, 0, 0, M(metrics)},
	{"markers", SEC_MAIN, T_SOCKET, NULL, 0, 0, 0, M(markers)},
	{"redact", SEC_MAIN, T_REGEX_LIST, NULL, 0, 0, 0, M(redact)},
	{"per_process_metrics", SEC_MAIN, T_BOOL, "no", 0, 0, 0, M(per_process_metrics)},
	{"python", SEC_TRACK, T_BOOL, NULL, 0, 0, 0, R(python)},
	{"cmdline", SEC_TRACK, T_REGEX, NULL, 0, 0, 0, R(cmdline)},
	{"user", SEC_TRACK, T_USER, NULL, 0, 0, 0, R(uid)},
	{"unit", SEC_TRACK, T_STRING, NULL, 0, 0, 0, R(unit)},
	{"pid", SEC_TRACK, T_PID, NULL, 1, 4194304, 0, R(pid)},
	{"children", SEC_TRACK, T_BOOL, NULL, 0, 0, 0, R(children)},
	{"interval", SEC_TRACK, T_DURATION, NULL, CONFIG_TICK_NS, 3600 * NS, 1, R(interval_ns)},
	{"pss", SEC_TRACK, T_BOOL, NULL, 0, 0, 0, R(pss)},
	{"cgroup", SEC_TRACK, T_REGEX, NULL, 0, 0, 0, R(cgroup)},
	{"group", SEC_TRACK, T_TEMPLATE, NULL, 0, 0, 0, R(group)},
	{"stacks", SEC_TRACK, T_BOOL, NULL, 0, 0, 0, R(stacks)},
};

static const char *const level_names[] = {
	[CONFIG_LOG_ERROR] = "error", [CONFIG_LOG_WARNING] = "warning",
	[CONFIG_LOG_NOTICE] = "notice", [CONFIG_LOG_INFO] = "info",
	[CONFIG_LOG_DEBUG] = "debug",
};

const char *config_level_name(int level)
{
	if (level < CONFIG_LOG_ERROR || level > CONFIG_LOG_DEBUG)
		return NULL;
	return level_names[level];
}

struct parser {
	const char *path;
	int line;
	char *err;
	size_t errlen;
	struct config *c;
	enum section sec;
	struct config_rule *rule;  /* the current [track] */
	unsigned long long seen;   /* keys given in the current section */
	int have_track;
};

__attribute__((format(printf, 2, 3))) static int bad(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(p->err, p->errlen, "%s:%d: ", p->path, p->line);

	if (n > 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static void rule_init(struct config_rule *r)
{
	memset(r, 0, sizeof *r);
	r->python = -1;
	r->uid = -1;
}

static void rule_free(struct config_rule *r)
{
	free(r->name);
	if (r->cmdline)
		regfree(&r->cmdline_re);
	free(r->cmdline);
	free(r->user);
	free(r->unit);
	if (r->cgroup)
		regfree(&r->cgroup_re);
	free(r->cgroup);
	free(r->group);
}

void config_free(struct config *c)
{
	for (size_t i = 0; i < c->nrules; i++)
		rule_free(&c->rules[i]);
	free(c->rules);
	free(c->path);
	free(c->database);
	free(c->metrics);
	free(c->markers);
	for (size_t i = 0; i < c->nredact; i++)
		free(c->redact[i]);
	free(c->redact);
	memset(c, 0, sizeof *c);
}

int64_t config_rule_interval(const struct config *c, const struct config_rule *r)
{
	return r->interval_ns ? r->interval_ns : c->interval_ns;
}

static int parse_bool(const char *v, int *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = 0, 0;
	}
	return -EINVAL;
}

/* glibc's regcomp is exponential on some short patterns, and memtided
 * compiles the admin's regexes at start and on every reload: it copies the
 * operand of '+' twice and of "{m,n}" max(m,n)+1 times, so stacked or
 * nested repetitions multiply ("a++++++++++++++++++++" takes 1 s and
 * 700 MB); and its epsilon closures blow up when a loop's body can match
 * nothing ("(((a*)?)+){30}" runs for minutes).  re_check refuses both; the
 * node bound also keeps the closures, quadratic in the worst case, under a
 * second. */
#define RE_NODES_MAX 2000

static uint64_t sat(uint64_t v)
{
	return v > RE_NODES_MAX ? RE_NODES_MAX + 1 : v;
}

/* Reads the decimal at *s (saturating), leaving *s after it. */
static uint64_t re_count(const char **s)
{
	uint64_t n = 0;

	for (; **s >= '0' && **s <= '9'; (*s)++)
		n = sat(n * 10 + (uint64_t)(**s - '0'));
	return n;
}

/* What an ERE (or one nesting level of it) holds so far. */
struct re_level {
	uint64_t nodes;    /* an upper bound on regcomp's nodes */
	uint64_t last;     /* ... of the last operand, which a repetition copies */
	int have_last;
	int last_null;     /* the last operand can match the empty string */
	int before_null;   /* so can everything before it in this alternative */
	int alt_null;      /* so can an earlier alternative */
};

static void re_operand(struct re_level *l, uint64_t nodes, int null)
{
	l->before_null = l->before_null && l->last_null;
	l->nodes = sat(l->nodes + nodes);
	l->last = nodes;
	l->last_null = null;
	l->have_last = 1;
}

/* NULL when regcomp compiles the ERE re quickly, else why not.  Malformed
 * patterns get some answer too: regcomp then says what is wrong. */
static const char *re_check(const char *re)
{
	enum { DEPTH = 64 };
	static const char big[] = "its repetitions copy it too many times";
	static const char empty[] = "it repeats a part that can match nothing, as (a*)+ does";
	struct re_level lv[DEPTH], *l = lv;
	uint64_t nodes = 0;

	*l = (struct re_level){.last_null = 1, .before_null = 1};
	for (const char *s = re; *s; s++) {
		uint64_t copies = 1;
		int loop = 0, rep = 1;

		switch (*s) {
		case '\\':
			if (!s[1]) {
				rep = 0;
				break;
			}
			s++;
			re_operand(l, 1, strchr("bB<>`'", *s) != NULL);
			continue;
		case '^':
		case '$':
			re_operand(l, 1, 1);
			continue;
		case '[': /* to its ']', which may come first or close a [:class:] */
			s += s[1] == '^';
			s += s[1] == ']';
			while (s[1] && s[1] != ']') {
				s++;
				if (*s == '[' && (s[1] == ':' || s[1] == '.' || s[1] == '=')) {
					const char *e = strchr(s + 2, s[1]);

					while (e && e[1] != ']')
						e = strchr(e + 1, s[1]);
					if (e)
						s = e + 1;
				}
			}
			s += s[1] != '\0';
			re_operand(l, 1, 0);
			continue;
		case '(':
			if (++l == lv + DEPTH)
				return "its groups nest too deeply";
			*l = (struct re_level){.last_null = 1, .before_null = 1};
			continue;
		case ')': /* unmatched, it is a literal */
			if (l > lv) {
				int null = l->alt_null || (l->before_null && l->last_null);
				uint64_t n = l->nodes + 1;

				l--;
				re_operand(l, sat(n), null);
				continue;
			}
			rep = 0;
			break;
		case '|':
			l->alt_null = l->alt_null || (l->before_null && l->last_null);
			l->before_null = l->last_null = 1;
			l->have_last = 0;
			continue;
		case '?':
		case '*':
		case '+':
			if (!(rep = l->have_last))
				break; /* a literal */
			loop = *s != '?';
			copies = *s == '+' ? 2 : 1;
			if (loop && l->last_null)
				return empty;
			l->last_null = l->last_null || *s != '+';
			break;
		case '{': {
			const char *q = s + 1;
			uint64_t m, n;

			if (!(rep = l->have_last && *q >= '0' && *q <= '9'))
				break; /* a literal '{' */
			m = n = re_count(&q);
			if (*q == ',') {
				q++;
				loop = *q < '0' || *q > '9';
				n = re_count(&q);
			}
			if (loop && l->last_null)
				return empty;
			l->last_null = l->last_null || m == 0;
			copies = sat((m > n ? m : n) + 1);
			s = *q == '}' ? q : q - 1;
			break;
		}
		default:
			rep = 0;
			break;
		}
		if (rep) {
			l->nodes = sat(l->nodes + l->last * (copies - 1));
			l->last = sat(l->last * copies);
		} else {
			re_operand(l, 1, 0);
		}
	}
	for (; l >= lv; l--)
		nodes = sat(nodes + l->nodes);
	return nodes > RE_NODES_MAX ? big : NULL;
}

/* Sets key k of the struct at base from the text v. */
static int set_value(struct parser *p, const struct ckey *k, void *base, const char *v)
{
	char *field = (char *)base + k->off;
	const char *why;
	char msg[256];
	regex_t re;
	int rc;

	switch (k->type) {
	case T_TEMPLATE:
		if ((why = grouptpl_check(v)))
			return bad(p, "bad %s '%s': %s", k->name, v, why);
		goto string;
	case T_ADDR:
		if (httpd_check_addr(v) < 0)
			return bad(p, "bad %s address '%s': give HOST:PORT with a numeric"
				   " IPv4 host, [IPV6]:PORT, or a PORT on 127.0.0.1",
				   k->name, v);
		/* fall through */
	case T_SOCKET:
		/* Any user may bind a name in the abstract namespace first and
		 * keep memtided from starting; a file in a directory only
		 * memtided may write cannot be taken. */
		if (k->type == T_SOCKET && v[0] == '@')
			return bad(p, "%s '%s': the abstract namespace is refused (any user"
				   " could bind the name first); give a path in memtided's"
				   " runtime directory, such as /run/memtide/mark.sock",
				   k->name, v);
		if (k->type == T_SOCKET && v[0] != '/')
			return bad(p, "%s '%s': give an absolute path, such as"
				   " /run/memtide/mark.sock", k->name, v);
		/* fall through */
	case T_STRING:
	string:
		if (!*v)
			return bad(p, "%s: empty value", k->name);
		free(*(char **)field);
		if (!(*(char **)field = strdup(v)))
			return -ENOMEM;
		return 0;
	case T_DURATION: {
		int64_t ns;

		if (units_parse_duration_max(v, k->max, &ns) || ns < k->min)
			return bad(p, "bad %s '%s': give a duration from %lld ms to %lld s,"
				   " such as 200ms, 1s, 2m, 1h or 14d", k->name, v,
				   (long long)(k->min / 1000000), (long long)(k->max / NS));
		if (k->tick && ns % CONFIG_TICK_NS)
			return bad(p, "bad %s '%s': must be a multiple of 10 ms", k->name, v);
		*(int64_t *)field = ns;
		return 0;
	}
	case T_BOOL:
		if (parse_bool(v, (int *)field))
			return bad(p, "bad %s '%s': give yes or no", k->name, v);
		return 0;
	case T_REGEX_LIST: {
		/* Repeatable: every line adds a rule, in order. */
		char **v2;

		if ((why = re_check(v)))
			return bad(p, "bad %s regex '%s': %s", k->name, v, why);
		if ((rc = regcomp(&re, v, REG_EXTENDED))) {
			regerror(rc, &re, msg, sizeof msg);
			regfree(&re);
			return bad(p, "bad %s regex '%s': %s", k->name, v, msg);
		}
		regfree(&re);
		if (!(v2 = realloc(p->c->redact, (p->c->nredact + 1) * sizeof *v2)))
			return -ENOMEM;
		p->c->redact = v2;
		if (!(v2[p->c->nredact] = strdup(v)))
			return -ENOMEM;
		p->c->nredact++;
		return 0;
	}
	case T_REGEX: {
		char **text = (char **)field;

		if (!*v)
			return bad(p, "%s: empty regex", k->name);
		if ((why = re_check(v)))
			return bad(p, "bad %s regex '%s': %s", k->name, v, why);
		if ((rc = regcomp(&re, v, REG_EXTENDED | REG_NOSUB))) {
			regerror(rc, &re, msg, sizeof msg);
			regfree(&re);
			return bad(p, "bad %s regex '%s': %s", k->name, v, msg);
		}
		if (k->sec == SEC_TRACK && k->off == R(cgroup))
			p->rule->cgroup_re = re;
		else if (k->sec == SEC_TRACK)
			p->rule->cmdline_re = re;
		else
			regfree(&re);
		free(*text);
		if (!(*text = strdup(v)))
			return -ENOMEM;
		return 0;
	}
	case T_USER: {
		struct passwd *pw = getpwnam(v);
		char *end;
		long uid;

		if (pw) {
			uid = (long)pw->pw_uid;
		} else {
			errno = 0;
			uid = strtol(v, &end, 10);
			if (errno || end == v || *end || uid < 0 || uid > 0x7fffffffL)
				return bad(p, "unknown user '%s'", v);
		}
		*(long *)field = uid;
		free(p->rule->user);
		if (!(p->rule->user = strdup(v)))
			return -ENOMEM;
		return 0;
	}
	case T_PID: {
		char *end;
		long n;

		errno = 0;
		n = strtol(v, &end, 10);
		if (errno || end == v || *end || n < k->min || n > k->max)
			return bad(p, "bad pid '%s': give a process id", v);
		*(long *)field = n;
		return 0;
	}
	case T_LEVEL:
		for (int l = CONFIG_LOG_ERROR; l <= CONFIG_LOG_DEBUG; l++)
			if (strcasecmp(v, level_names[l]) == 0)
				return *(int *)field = l, 0;
		return bad(p, "bad log_level '%s': give error, warning, notice, info or debug", v);
	}
	return -EINVAL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int begin_section(struct parser *p, char *s)
{
	char *close = s + 1, *name, *rest;
	struct config_rule *v;
	int quoted = 0;

	/* The first ']' outside the quoted name closes the header; a comment
	 * may follow it, as after a value. */
	for (; *close && (quoted || *close != ']'); close++)
		if (*close == '"')
			quoted = !quoted;
	if (*close != ']')
		return bad(p, "bad section header: give [memtided] or [track \"NAME\"]");
	rest = trim(close + 1);
	if (*rest && *rest != ';' && *rest != '#')
		return bad(p, "bad section header: give [memtided] or [track \"NAME\"]");
	*close = '\0';
	s = trim(s + 1);
	p->seen = 0;
	if (strcmp(s, "memtided") == 0) {
		p->sec = SEC_MAIN;
		p->rule = NULL;
		return 0;
	}
	if (strncmp(s, "track", 5) != 0 || (s[5] != ' ' && s[5] != '\t' && s[5]))
		return bad(p, "unknown section [%s]: give [memtided] or [track \"NAME\"]", s);
	name = trim(s + 5);
	if (strlen(name) < 3 || name[0] != '"' || name[strlen(name) - 1] != '"')
		return bad(p, "[track] needs a quoted name: [track \"NAME\"]");
	name[strlen(name) - 1] = '\0';
	name++;
	for (size_t i = 0; i < p->c->nrules; i++)
		if (strcmp(p->c->rules[i].name, name) == 0)
			return bad(p, "duplicate rule \"%s\" (first on line %d)", name,
				   p->c->rules[i].line);
	if (!p->have_track) {
		/* The first [track] replaces the implicit all-Python rule. */
		for (size_t i = 0; i < p->c->nrules; i++)
			rule_free(&p->c->rules[i]);
		p->c->nrules = 0;
		p->have_track = 1;
	}
	v = realloc(p->c->rules, (p->c->nrules + 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	p->c->rules = v;
	p->rule = &v[p->c->nrules++];
	rule_init(p->rule);
	p->rule->line = p->line;
	if (!(p->rule->name = strdup(name)))
		return -ENOMEM;
	p->sec = SEC_TRACK;
	return 0;
}

/* Cuts a value at an inline comment, or unquotes a "double-quoted" one. */
static int value_of(struct parser *p, char *v, char **out)
{
	if (*v == '"') {
		char *q = strchr(v + 1, '"');

		if (!q)
			return bad(p, "unterminated quoted value");
		*q = '\0';
		if (*trim(q + 1) && *trim(q + 1) != ';' && *trim(q + 1) != '#')
			return bad(p, "text after a quoted value");
		*out = v + 1;
		return 0;
	}
	for (char *s = v; *s; s++)
		if ((*s == ';' || *s == '#') && s > v && (s[-1] == ' ' || s[-1] == '\t')) {
			*s = '\0';
			break;
		}
	*out = trim(v);
	return 0;
}

static int parse_line(struct parser *p, char *s)
{
	char *eq, *key, *val = NULL;
	const struct ckey *k = NULL;
	size_t idx = 0;
	int err;

	s = trim(s);
	if (!*s || *s == ';' || *s == '#')
		return 0;
	if (*s == '[')
		return begin_section(p, s);
	if (!(eq = strchr(s, '=')))
		return bad(p, "expected 'key = value', a [section] or a comment");
	*eq = '\0';
	key = trim(s);
	if ((err = value_of(p, trim(eq + 1), &val)))
		return err;
	if (p->line && p->sec != SEC_MAIN && p->sec != SEC_TRACK)
		return bad(p, "'%s' outside a section", key);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (keys[i].sec == p->sec && strcmp(keys[i].name, key) == 0) {
			k = &keys[i];
			idx = i;
		}
	if (!k)
		return bad(p, "unknown key '%s' in [%s]", key,
			   p->sec == SEC_MAIN ? "memtided" : "track");
	if ((p->seen & (1ULL << idx)) && k->type != T_REGEX_LIST)
		return bad(p, "duplicate key '%s'", key);
	p->seen |= 1ULL << idx;
	if (!*val)
		return bad(p, "%s: empty value", key);
	return set_value(p, k, p->sec == SEC_MAIN ? (void *)p->c : (void *)p->rule, val);
}

static int add_implicit_rule(struct config *c)
{
	if (!(c->rules = calloc(1, sizeof *c->rules)))
		return -ENOMEM;
	rule_init(c->rules);
	c->nrules = 1;
	c->rules->python = 1;
	return (c->rules->name = strdup("python")) ? 0 : -ENOMEM;
}

int config_defaults(struct config *c)
{
	struct parser p = {.path = "(defaults)", .c = c, .sec = SEC_MAIN};
	char err[256];
	int rc;

	memset(c, 0, sizeof *c);
	p.err = err;
	p.errlen = sizeof err;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (keys[i].sec == SEC_MAIN && keys[i].def &&
		    (rc = set_value(&p, &keys[i], c, keys[i].def)))
			goto fail;
	if ((rc = add_implicit_rule(c)))
		goto fail;
	return 0;
fail:
	config_free(c);
	return rc == -EINVAL ? -EINVAL : -ENOMEM;
}

int config_parse(const char *path, const char *text, size_t len,
		 struct config *c, char *err, size_t errlen)
{
	struct parser p = {.path = path, .err = err, .errlen = errlen, .c = c,
			   .sec = (enum section)-1};
	char *buf = malloc(len + 1), *s, *nl;
	int rc;

	if (!buf)
		return -ENOMEM;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if ((rc = config_defaults(c)))
		goto out;
	if (!(c->path = strdup(path))) {
		rc = -ENOMEM;
		goto out;
	}
	for (s = buf; s; s = nl) {
		nl = strchr(s, '\n');
		if (nl)
			*nl++ = '\0';
		p.line++;
		if (strlen(s) != (size_t)((nl ? nl - 1 : buf + len) - s)) {
			rc = bad(&p, "NUL byte in the line");
			break;
		}
		if (p.sec == (enum section)-1) {
			char *t = trim(s);

			if (*t && *t != '[' && *t != ';' && *t != '#') {
				rc = bad(&p, "'%.*s' outside a section: start with [memtided]"
					 " or [track \"NAME\"]", (int)strcspn(t, " =\t"), t);
				break;
			}
		}
		if ((rc = parse_line(&p, s)))
			break;
	}
out:
	free(buf);
	if (rc)
		config_free(c);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", path);
	return rc;
}

int config_load(const char *path, struct config *c, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
	ssize_t n;

	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	for (;;) {
		if (len == cap) {
			char *b = cap > (1 << 20) ? NULL : realloc(buf, cap = cap ? cap * 2 : 4096);

			if (!b) {
				free(buf);
				close(fd);
				snprintf(err, errlen, "%s: too big or out of memory", path);
				return -EFBIG;
			}
			buf = b;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return rc;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	rc = config_parse(path, buf ? buf : "", len, c, err, errlen);
	free(buf);
	return rc;
}
