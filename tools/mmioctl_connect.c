/*
 * mmioctl's connection to mmiod and, when there is none, the reason in the
 * user's terms: UNAVAILABLE (not NOT_FOUND, which is a region or a lease)
 * with the socket tried, how to see whether mmiod runs, and whether the user
 * is in the socket's group.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mmio/client.h>

#include "mmioctl.h"

/* Room for one hint line. */
#define HINT_LEN 320

/* Whether the calling process has gid as its group or one of its supplementary groups. */
static bool
process_in_group(gid_t gid)
{
	if (getegid() == gid) {
		return true;
	}
	int n = getgroups(0, NULL);
	gid_t *groups = n > 0 ? calloc((size_t)n, sizeof(*groups)) : NULL;
	bool found = false;
	if (groups && (n = getgroups(n, groups)) > 0) {
		for (int i = 0; i < n && !found; i++) {
			found = groups[i] == gid;
		}
	}
	free(groups);
	return found;
}

/* Whether the user database puts the calling user in gid: a new login would be in it. */
static bool
user_in_group(const struct passwd *pw, gid_t gid)
{
	if (!pw) {
		return false;
	}
	if (pw->pw_gid == gid) {
		return true;
	}
	int n = 64;
	gid_t *groups = NULL;
	for (int tries = 0; tries < 2; tries++) {
		gid_t *more = realloc(groups, (size_t)n * sizeof(*groups));
		if (!more) {
			break;
		}
		groups = more;
		int want = n;
		if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &want) >= 0) {
			for (int i = 0; i < want; i++) {
				if (groups[i] == gid) {
					free(groups);
					return true;
				}
			}
			break;
		}
		n = want; /* too small: getgrouplist said how many there are */
	}
	free(groups);
	return false;
}

/* The hint about who may connect to path (refused with EACCES or EPERM), in buf. */
static const char *
membership_hint(const char *path, char *buf, size_t len)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		snprintf(buf, len,
			 "you may not look at %s either (%s): check the permissions of its "
			 "directory",
			 path, strerror(errno));
		return buf;
	}
	const struct group *gr = getgrgid(st.st_gid);
	char group[64];
	if (gr) {
		snprintf(group, sizeof(group), "%s", gr->gr_name);
	} else {
		snprintf(group, sizeof(group), "%lu", (unsigned long)st.st_gid);
	}
	const struct passwd *pw = getpwuid(getuid());
	if (process_in_group(st.st_gid)) {
		snprintf(buf, len,
			 "you are in group '%s', the socket's: check the mode of %s (connecting "
			 "takes write access) and of its directory",
			 group, path);
	} else if (user_in_group(pw, st.st_gid)) {
		snprintf(buf, len,
			 "you are in group '%s', the socket's, but this login is not yet: log in "
			 "again (or run 'newgrp %s')",
			 group, group);
	} else {
		snprintf(buf, len,
			 "connecting takes membership of group '%s', the socket's, and you are not "
			 "a member: 'sudo adduser %s %s', then log in again",
			 group, pw ? pw->pw_name : "$USER", group);
	}
	return buf;
}

/*
 * Reports that mmiod cannot be reached at path, found as source says, for
 * err (a connect(2) error): the UNAVAILABLE line, its hints, and with
 * -o json the error object. Returns MMIOCTL_EXIT_UNAVAILABLE.
 */
static int
unavailable(const char *path, const char *source, int err)
{
	char detail[256];
	char text[2][HINT_LEN]; /* the hints made up here */
	const char *hints[MMIOCTL_MAX_HINTS + 1] = {NULL};
	int n = 0;
	const char *why;
	if (err == -EACCES || err == -EPERM) {
		why = "you may not connect to it";
		hints[n++] = membership_hint(path, text[0], sizeof(text[0]));
	} else {
		why = err == -ECONNREFUSED ? "a socket is there, but nothing listens on it"
					   : "there is no socket there";
		hints[n++] = "is mmiod running? See 'systemctl status mmiod.socket' (a mmiod "
			     "started by hand listens where its --socket says)";
	}
	snprintf(text[1], sizeof(text[1]),
		 "the socket tried is %s (%s); -s SOCKET or $MMIOD_SOCKET names another", path,
		 source);
	hints[n++] = text[1];
	snprintf(detail, sizeof(detail), "%s: %s", strerror(-err), why);
	fprintf(stderr, "mmioctl: connect %s: UNAVAILABLE: %s\n", path, detail);
	mmioctl_print_hints(hints);
	if (mmioctl_output == MMIOCTL_OUTPUT_JSON) {
		mmioctl_json_error_hints("UNAVAILABLE", detail, path, hints);
	}
	return MMIOCTL_EXIT_UNAVAILABLE;
}

int
mmioctl_connect(const char *socket_path, struct mmio_client **out)
{
	int rc = mmio_connect(socket_path, out);
	if (rc == 0) {
		return 0;
	}
	/* The path mmio_connect() tried, found as it does. */
	const char *path = socket_path;
	const char *source = "given with -s";
	if (!path) {
		path = getenv("MMIOD_SOCKET");
		source = "from $MMIOD_SOCKET";
	}
	if (!path || !path[0]) {
		path = MMIO_DEFAULT_SOCKET_PATH;
		source = "the default";
	}
	/* connect(2) found no listener, or may not reach one. */
	if (rc == -ENOENT || rc == -ENOTDIR || rc == -ECONNREFUSED || rc == -EACCES ||
	    rc == -EPERM) {
		return unavailable(path, source, rc);
	}
	/* Errors of the exchange after connect(2) have a status name of the library's. */
	if (rc == -EPROTONOSUPPORT || rc == -EPROTO || rc == -ECONNRESET || rc == -ENOMEM) {
		return mmioctl_fail(NULL, rc, "connect %s", path);
	}
	/* Any other connect(2) error reads best in libc's words. */
	fprintf(stderr, "mmioctl: connect %s: %s\n", path, strerror(-rc));
	if (mmioctl_output == MMIOCTL_OUTPUT_JSON) {
		mmioctl_json_error(mmioctl_status_name(rc), strerror(-rc));
	}
	return MMIOCTL_EXIT_FAILURE;
}
