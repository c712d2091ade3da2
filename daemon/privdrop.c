#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "privdrop.h"

int
privdrop(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	/* Groups first: once the uid is gone, so is the right to change them. */
	if (setgroups(1, &gid) < 0) {
		int rc = -errno;
		snprintf(err, errlen, "setgroups: %s", strerror(-rc));
		return rc;
	}
	if (setresgid(gid, gid, gid) < 0) {
		int rc = -errno;
		snprintf(err, errlen, "setresgid %u: %s", (unsigned)gid, strerror(-rc));
		return rc;
	}
	/* From root to another uid, the kernel clears permitted, effective and ambient caps. */
	if (setresuid(uid, uid, uid) < 0) {
		int rc = -errno;
		snprintf(err, errlen, "setresuid %u: %s", (unsigned)uid, strerror(-rc));
		return rc;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		int rc = -errno;
		snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(-rc));
		return rc;
	}
	/* Trust, but verify: a drop that can be undone is no drop. */
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "could regain uid 0 after dropping to %u", (unsigned)uid);
		return -EPERM;
	}
	if (gid != 0 && (setgid(0) == 0 || setegid(0) == 0)) {
		snprintf(err, errlen, "could regain gid 0 after dropping to %u", (unsigned)gid);
		return -EPERM;
	}
	return 0;
}
