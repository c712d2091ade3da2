#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>

#include "device/fault.h"

_Thread_local sigjmp_buf *volatile fault_jump;

static void
sigbus_handler(int sig, siginfo_t *info, void *context)
{
	(void)info;
	(void)context;
	sigjmp_buf *env = fault_jump;
	if (env) {
		fault_jump = NULL;
		siglongjmp(*env, 1);
	}
	/* Not from a guarded access: a bug of ours. Die of it, with a core. */
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	/* Should raise() fail, returning re-runs the faulting access, now under SIG_DFL. */
	(void)raise(sig);
}

int
fault_init(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigbus_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, NULL) < 0 ? -errno : 0;
}
