/*
 * Containing device faults. A device (or a file truncated under a mapping)
 * can answer an access with SIGBUS; only the access itself is guarded, and a
 * SIGBUS that no guarded access raised still kills the daemon.
 */
#ifndef MMIOD_FAULT_H
#define MMIOD_FAULT_H

#include <setjmp.h>

/* Where an armed access jumps on SIGBUS; NULL when no access is armed. */
extern _Thread_local sigjmp_buf *volatile fault_jump;

/* Installs the SIGBUS handler. Call once before serving; 0 or a negative errno. */
int fault_init(void);

/*
 * Whether FAULT_GUARD saves the signal mask. Not by default: sigsetjmp(env, 1)
 * costs a syscall per access, and the handler runs with SA_NODEFER, so jumping
 * out of it leaves the mask as it was at the access. ThreadSanitizer's signal
 * wrapper runs the handler with every signal blocked, though, and the jump out
 * would leave them blocked (the next SIGBUS then kills): MMIO_TSAN builds
 * define MMIO_FAULT_SAVE_SIGMASK and pay the syscall.
 */
#ifdef MMIO_FAULT_SAVE_SIGMASK
#define FAULT_SAVE_SIGMASK 1
#else
#define FAULT_SAVE_SIGMASK 0
#endif

/*
 * Runs `access` (a statement) with SIGBUS guarded; sets `rc` (an int lvalue)
 * to 0, or to -EIO if the access faulted.
 */
#define FAULT_GUARD(rc, access)                                                                    \
	do {                                                                                       \
		sigjmp_buf fault_env_;                                                             \
		if (sigsetjmp(fault_env_, FAULT_SAVE_SIGMASK) == 0) {                              \
			fault_jump = &fault_env_;                                                  \
			access;                                                                    \
			fault_jump = NULL;                                                         \
			(rc) = 0;                                                                  \
		} else {                                                                           \
			(rc) = -EIO;                                                               \
		}                                                                                  \
	} while (0)

#endif
