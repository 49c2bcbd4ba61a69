/* redact.h - hiding secrets in command lines before they are kept anywhere.
 *
 * Command lines carry passwords and tokens ("--password=hunter2",
 * "https://user:pw@host", "Authorization: Bearer ...").  Every program that
 * stores, logs or exports a command line passes its argv through
 * redact_argv() first: `memtide run`/`attach` before the store sees it, and
 * memtided (config key `redact = REGEX`, once per rule) before its store, its
 * log lines and its metrics labels.  The display text (text_argv) is then made
 * from the redacted argv, so the argv BLOB and the cmdline text agree.
 *
 * A rule is a POSIX extended regular expression matched against each
 * argument on its own (^ and $ are the argument's ends), as often as it
 * matches.  What it hides:
 *   - with subexpressions, the text of the last one that took part in the
 *     match (the value): "(--db-pw|--dbpass)=(.*)" turns "--dbpass=x" into
 *     "--dbpass=***", keeping the key;
 *   - without, the whole match: "sk-[[:alnum:]]{20,}";
 *   - when that last subexpression matches empty at the very end of the
 *     argument, the next argument (when not empty) is the value and becomes
 *     "***" whole: "^--db-pw()$" turns "--db-pw x" into "--db-pw ***".
 * Rules apply in order, each to the result of those before.  The number of
 * arguments and the NULs between them never change.
 *
 * The default rules (redact_add_defaults, case-insensitive) cover
 * KEY=VALUE and --KEY VALUE where KEY ends in password, passwd, passphrase,
 * pwd, pass, secret, token, auth, api_key/apikey, access_key, secret_key,
 * private_key or credential(s); environment-style KEY=VALUE whose
 * upper-case key holds PASSWORD, PASSWD, SECRET, TOKEN, PRIVATE or
 * CREDENTIAL anywhere (SECRET_KEY_BASE=...); JSON "KEY": "VALUE" or
 * "KEY": 123 with such a key; curl's -u/--user and -U/--proxy-user
 * USER:PASS (what follows the colon; an argument without one is kept, as in
 * "python -u app.py"); "://user:PASS@" up to the last @ before the path
 * (the user is kept);
 * "Authorization: Bearer|Basic ... VALUE", "Cookie: VALUE", "Bearer VALUE";
 * "X-Api-Key: VALUE"-style headers; openssl's "pass:VALUE"; and, matched
 * case-sensitively and hidden whole, AWS access key ids (AKIA..., ASIA...),
 * GitHub (ghp_...), GitLab (glpat-...), Slack (xox?-...), Stripe
 * (sk_live_..., rk_test_...) and OpenAI-style (sk-...) keys.  They err
 * towards hiding: "--tokenizer=bert" is kept, "compass=3" loses its value.
 * Not covered: a password glued to a short option ("mysql -phunter2") and
 * secrets that look like nothing in particular.
 *
 * Functions return 0 or -errno and never print.
 */
#ifndef MEMTIDE_REDACT_H
#define MEMTIDE_REDACT_H

#include <stddef.h>

/* What a hidden value becomes. */
#define REDACT_MASK "***"

struct redact;

/* Creates an empty rule set (nothing is hidden until rules are added). */
int redact_new(struct redact **out);
void redact_free(struct redact *r);

/* Appends the default rules described above. */
int redact_add_defaults(struct redact *r);

/* Appends one rule, POSIX ERE, case-sensitive.  A regex that does not
 * compile returns -EINVAL with regerror()'s message in err (err_len bytes,
 * may be NULL). */
int redact_add(struct redact *r, const char *ere, char *err, size_t err_len);

/* The number of rules. */
size_t redact_count(const struct redact *r);

/* The number of rules compiled so far.  A default rule compiles at the
 * first argument holding a word its matches need ("pass", "token", "://",
 * "ghp_"...), so a command line with none of them costs no regex memory
 * (all the defaults compiled and run hold some 300 KiB); a rule from
 * redact_add compiles at once.  Because of that, a rule set is not to be
 * used from two threads at once. */
size_t redact_compiled(const struct redact *r);

/* Redacts a NUL-separated argv of len bytes (a trailing NUL, as in
 * /proc/PID/cmdline, is kept as it is).  *out receives a malloc'd copy with
 * the secrets replaced by REDACT_MASK (always NUL-terminated one byte past
 * *out_len, so a one-argument result is also a C string), *out_len its
 * length.  r may be NULL: a plain copy.  Returns the number of values
 * hidden, or -ENOMEM (then *out is NULL: never store the unredacted argv
 * instead). */
int redact_argv(const struct redact *r, const char *argv, size_t len, char **out,
		size_t *out_len);

/* Redacts one string as a single argument (a label, a log line that quotes a
 * command).  Returns a malloc'd string, or NULL on ENOMEM. */
char *redact_text(const struct redact *r, const char *s);

#endif
