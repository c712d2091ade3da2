/* Runs test code as another user, for policy tests (the suite itself runs as root). */
#ifndef MMIO_TEST_RUN_AS_H
#define MMIO_TEST_RUN_AS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Forks; the child takes groups, gid and uid (in that order, for good) and
 * returns fn(arg) as its exit status. Returns that status, or 128 + signal if
 * the child died of one, or 127 if it could not change identity.
 */
int run_as(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups, int (*fn)(void *arg),
	   void *arg);

/* In fn: on a false condition, say where on stderr and return 1. */
#define CHILD_CHECK(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: child check failed: %s\n", __FILE__, __LINE__,     \
				#cond);                                                            \
			return 1;                                                                  \
		}                                                                                  \
	} while (0)

#endif
