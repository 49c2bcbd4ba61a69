/* grouptpl.c - group names from templates (see include/memtide/grouptpl.h). */
#include "memtide/grouptpl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[GROUPTPL_NFIELDS] = {
	[GROUPTPL_RULE] = "Rule",       [GROUPTPL_NAME] = "Name",
	[GROUPTPL_COMM] = "Comm",       [GROUPTPL_EXEBASE] = "ExeBase",
	[GROUPTPL_SCRIPT] = "Script",   [GROUPTPL_MODULE] = "Module",
	[GROUPTPL_UNIT] = "Unit",       [GROUPTPL_USER] = "User",
	[GROUPTPL_CGROUP] = "Cgroup",   [GROUPTPL_POD] = "Pod",
	[GROUPTPL_CONTAINER] = "Container",
};

/* The field of the placeholder at s ("{{.Name}}"), its length in *len;
 * -1 when s is not a known placeholder. */
static int field_at(const char *s, size_t *len)
{
	if (strncmp(s, "{{", 2) != 0)
		return -1;
	for (int i = 0; i < GROUPTPL_NFIELDS; i++) {
		const char *p = s + 2;
		size_t n = strlen(names[i]);

		while (*p == ' ')
			p++;
		if (*p++ != '.' || strncmp(p, names[i], n) != 0)
			continue;
		p += n;
		while (*p == ' ')
			p++;
		if (strncmp(p, "}}", 2) == 0) {
			*len = (size_t)(p + 2 - s);
			return i;
		}
	}
	return -1;
}

const char *grouptpl_check(const char *tpl)
{
	for (const char *s = tpl; *s; s++) {
		size_t len;

		if (s[0] == '{' && s[1] == '{') {
			if (field_at(s, &len) < 0)
				return "unknown placeholder: give {{.Rule}}, {{.Name}},"
				       " {{.Comm}}, {{.ExeBase}}, {{.Script}}, {{.Module}},"
				       " {{.Unit}}, {{.User}}, {{.Cgroup}}, {{.Pod}} or"
				       " {{.Container}}";
			s += len - 1;
		}
	}
	return NULL;
}

unsigned grouptpl_fields(const char *tpl)
{
	unsigned used = 0;

	for (const char *s = tpl; s && *s; s++) {
		size_t len;
		int f = field_at(s, &len);

		if (f >= 0) {
			used |= 1u << f;
			s += len - 1;
		}
	}
	return used;
}

char *grouptpl_expand(const char *tpl, const struct grouptpl_facts *f)
{
	size_t cap = strlen(tpl) + 1, n = 0;
	char *out;

	for (const char *s = tpl; *s; s++) {
		size_t len;
		int k = field_at(s, &len);

		if (k >= 0) {
			cap += f->v[k] ? strlen(f->v[k]) : 0;
			s += len - 1;
		}
	}
	if (!(out = malloc(cap)))
		return NULL;
	for (const char *s = tpl; *s;) {
		size_t len;
		int k = field_at(s, &len);

		if (k < 0) {
			out[n++] = *s++;
			continue;
		}
		if (f->v[k]) {
			memcpy(out + n, f->v[k], strlen(f->v[k]));
			n += strlen(f->v[k]);
		}
		s += len;
	}
	out[n] = '\0';
	return out;
}
