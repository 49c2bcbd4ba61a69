/* markers.c - memtided's marker socket, bound where no other user can
 * take its name.
 *
 * Any local user may send markers, so the socket is 0666 (only tracked
 * processes' markers are kept, each within its budget); who may reach it
 * at all is said by its directory's mode (the unit's
 * RuntimeDirectoryMode=: 0755 everyone, 0750 the memtide group).  The
 * directory must be one no other user may write: there, nobody else can
 * bind the name first, or swap a leftover socket file for a link.  Such a
 * leftover, from a memtided that was killed, is removed only when nothing
 * listens on it.
 */
#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Whether a process listens on the socket file at path. */
static int listening(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return 0;
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	rc = connect(fd, (struct sockaddr *)&a, sizeof a);
	close(fd);
	return rc == 0;
}

/* Checks that the directory of path is one only memtided (or root) may
 * write.  Returns 0, or -1 with the reason in err. */
static int dir_is_ours(const char *path, char *err, size_t len)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *slash = strrchr(path, '/');
	struct stat sb;

	if (!slash || (size_t)(slash - path) >= sizeof dir) {
		snprintf(err, len, "give an absolute path shorter than %zu bytes", sizeof dir);
		return -1;
	}
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash == path ? 1 : slash - path] = '\0';
	if (lstat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		snprintf(err, len, "%s is not a directory", dir);
		return -1;
	}
	if ((sb.st_uid != geteuid() && sb.st_uid != 0) || (sb.st_mode & 022)) {
		snprintf(err, len,
			 "directory %s may be written by other users (owner uid %ld, mode"
			 " %04o): any of them could take the socket's name; use memtided's"
			 " runtime directory (/run/memtide)",
			 dir, (long)sb.st_uid, (unsigned)(sb.st_mode & 07777));
		return -1;
	}
	return 0;
}

int markers_open(const char *path, struct marksock **out, char *err, size_t len)
{
	struct stat sb;
	int rc;

	if (dir_is_ours(path, err, len))
		return -EPERM;
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			snprintf(err, len, "%s exists and is not a socket", path);
			return -EEXIST;
		}
		if (listening(path)) {
			snprintf(err, len, "%s is in use: another process listens on it", path);
			return -EADDRINUSE;
		}
		unlink(path); /* a leftover of a memtided that was killed */
	}
	if ((rc = marksock_open(path, out))) {
		snprintf(err, len, "%s", strerror(-rc));
		return rc;
	}
	if (chmod(path, 0666) < 0)
		log_warning("cannot make %s writable by every user: %m", path);
	return 0;
}
