#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run_as.h"

int
run_as(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups, int (*fn)(void *arg), void *arg)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		return 127;
	}
	if (pid == 0) {
		if (setgroups(n_groups, groups) < 0 || setresgid(gid, gid, gid) < 0 ||
		    setresuid(uid, uid, uid) < 0) {
			perror("run_as");
			_exit(127);
		}
		int rc = fn(arg);
		fflush(NULL);
		_exit(rc);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			return 127;
		}
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
