/*
 * A TCP connection on loopback whose close() sleeps: unsent data, SO_LINGER,
 * and a peer that does not read. What a hostile client passes mmiod to make
 * its close() sleep. Failures end the test (cmocka assertions).
 */
#ifndef MMIO_TEST_LINGER_SOCK_H
#define MMIO_TEST_LINGER_SOCK_H

struct linger_sock {
	int listener;
	int tcp;  /* the sleeper, to pass */
	int peer; /* its other end, which we keep and do not read */
};

/* Opens the pair, fills tcp's send path and sets it to linger linger_s seconds. */
void linger_open(struct linger_sock *s, int linger_s);

/*
 * Reads the peer to its end (waiting at most guard_ms for each read), letting
 * a sleeping close of tcp finish; closes the peer and listener.
 */
void linger_release(struct linger_sock *s, int guard_ms);

#endif
