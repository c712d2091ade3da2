/*
 * A park sequence: what mmiod writes to a device when a lease on it ends in any way other than an
 * orderly release (mmiod.conf(5), "park"), so that a client that dies leaves the device in a
 * known state. Resolved from register names at config load into offsets and widths. Pure.
 */
#ifndef MMIOD_PARK_H
#define MMIOD_PARK_H

#include <stdbool.h>
#include <stdint.h>

/* Steps in one sequence, and the delay of all its steps together (the loop stalls that long). */
#define PARK_MAX_STEPS    64
#define PARK_MAX_DELAY_US 10000

enum park_op {
	PARK_STORE,   /* the register := value */
	PARK_MODIFY,  /* the register := (old & ~mask) | (value & mask) */
	PARK_BARRIER, /* earlier stores before later ones */
	PARK_DELAY,   /* delay_us microseconds */
};

struct park_step {
	enum park_op op;
	uint64_t offset; /* in the region */
	unsigned width;  /* bytes */
	uint64_t mask;   /* PARK_MODIFY */
	uint64_t value;
	unsigned delay_us; /* PARK_DELAY */
};

struct park_seq {
	struct park_step *steps; /* owned */
	unsigned n;
};

/* Whether a step's register lies inside [start, start+len) of the region; barriers and delays do.
 */
bool park_step_inside(const struct park_step *step, uint64_t start, uint64_t len);

/* Frees what seq owns and empties it. */
void park_seq_finish(struct park_seq *seq);

#endif
