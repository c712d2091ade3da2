/*
 * A process holding many connections to mmiod, as another uid: idle ones that
 * never say Hello (re-opened when mmiod closes them) and trickling ones that
 * said Hello and then send one small request a millisecond between them,
 * never reading a reply.
 */
#ifndef MMIO_TEST_ATTACKER_H
#define MMIO_TEST_ATTACKER_H

#include <sys/types.h>

struct attacker {
	unsigned idle;
	unsigned trickle;
	uid_t uid; /* taken (with gid = uid, no groups) when the test runs as root */
	pid_t pid;
	int stop_fd; /* closing it ends the attack */
};

/*
 * Forks the attacker, which raises its fd limit, takes a->uid, opens its
 * sockets, and reports. Returns 0 once every connect() returned (and every
 * trickling socket's Hello was answered OK), or -1.
 */
int attacker_start(const char *socket_path, struct attacker *a);

/* Ends the attack and reaps it: every socket closes. Its exit status (0), or -1. */
int attacker_stop(struct attacker *a);

#endif
