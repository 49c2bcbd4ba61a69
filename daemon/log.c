/* log.c - memtided's one logging function: one line a message on stderr.
 *
 * Under systemd ($JOURNAL_STREAM set) each line starts with its syslog
 * priority, "<4>", which journald turns into the entry's priority; on a
 * terminal it reads "memtided: warning: ...".  A line is written with one
 * write(2), so the two threads never interleave within a line, and every
 * message is escaped (text.h): a marker label or an exe path holding a
 * newline cannot add a line of its own, nor a "<3>" at its start set a
 * journal priority.
 */
#include "daemon.h"

#include "memtide/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int max_level = CONFIG_LOG_INFO;

void log_set_level(int level)
{
	max_level = level;
}

int log_enabled(int level)
{
	return level <= max_level;
}

void dlog(int level, const char *fmt, ...)
{
	static int journal = -1;
	char line[1024], msg[1024];
	va_list ap;
	int n, len;

	if (level > max_level)
		return;
	if (journal < 0)
		journal = getenv("JOURNAL_STREAM") != NULL;
	if (journal)
		n = snprintf(line, sizeof line, "<%d>", level);
	else
		n = snprintf(line, sizeof line, "memtided: %s%s",
			     level <= CONFIG_LOG_WARNING ? config_level_name(level) : "",
			     level <= CONFIG_LOG_WARNING ? ": " : "");
	va_start(ap, fmt);
	len = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	/* Messages carry outside bytes (labels, exe paths, argv): escaped,
	 * none can end this line and forge the next, under journald or not. */
	n += (int)text_escape(line + n, sizeof line - (size_t)n - 1, msg,
			      strnlen(msg, sizeof msg - 1));
	line[n++] = '\n';
	if (write(2, line, (size_t)n) < 0)
		return;
}
