/*
 * Per-register rules of a grant (mmiod.conf(5), "Register rules"): the registers a grant names,
 * write masks, allowed access widths, and the map's read-sensitive registers that only a grant
 * naming them may read. Pure: what the config says (struct grant_rules, names unresolved, so
 * that a reload can keep the map read at start), compiled against a region's map into a table
 * (struct regrules) that every access through a lease with rules is judged by.
 *
 * Offsets in a table are the region's; values are little-endian across registers (a store that
 * spans two registers gives each its bytes).
 */
#ifndef MMIOD_REGRULES_H
#define MMIOD_REGRULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/regmap.h"

#define REGRULES_MAX_NAME   (REGMAP_MAX_NAME + 24) /* "ARR[65535]" */
#define REGRULES_MAX_MASK   255                    /* "EN|MODE|..." */
#define REGRULES_MAX_LABEL  80                     /* "group fan" */
#define REGRULES_MAX_ITEMS  256                    /* names and rules per grant */
#define REGRULES_NEED_OLD   1                      /* regrules_check_store: load first */
#define REGRULES_WIDTH_BITS 0x0f                   /* 1, 2, 4, 8 bytes as bits 0..3 */

/* A width in bytes (1, 2, 4, 8) as a bit of a widths set. */
static inline unsigned
regrules_width_bit(unsigned bytes)
{
	return bytes == 1 ? 1u : bytes == 2 ? 2u : bytes == 4 ? 4u : bytes == 8 ? 8u : 0u;
}

/* A register the grant names: "REG", "ARR[i]" or "ARR" (every instance). */
struct regrule_name {
	char text[REGRULES_MAX_NAME + 1];
	int line;
};

/* One rule as written: { register = "CTRL"; write_mask = "EN|MODE"; ... } */
struct regrule_spec {
	char reg[REGRULES_MAX_NAME + 1];
	char write_mask[REGRULES_MAX_MASK + 1]; /* field names joined by |, or a number; "" none */
	bool preserve;                          /* mask_mode = "preserve": keep protected bits */
	unsigned widths;                        /* regrules_width_bit()s; 0: any the map allows */
	int line;
};

/* What a grant says about registers. Owned by the grant. */
struct grant_rules {
	struct regrule_name *names;
	unsigned n_names;
	struct regrule_spec *rules;
	unsigned n_rules;
	bool exact; /* no offset/length: the grant covers exactly the named registers */
	char label[REGRULES_MAX_LABEL + 1]; /* for messages: "group fan" */
};

struct grant_rules *grant_rules_dup(const struct grant_rules *src);
void grant_rules_free(struct grant_rules *rules);

/* One entry of a table: instances [first, first+count) of a register, and what applies. */
struct regrule {
	char name[REGMAP_MAX_NAME + 1];
	uint64_t offset; /* of the register's instance 0 */
	uint64_t stride;
	uint64_t first, count; /* instances this entry is about */
	unsigned bytes;        /* the register's width */
	unsigned widths;       /* allowed access widths; 0: any */
	bool named;            /* the grant names it (so it may read it) */
	bool read_sensitive;   /* from the map: a read changes the device */
	bool has_mask;
	bool preserve;
	bool no_load;        /* w1c/w1s or read-sensitive: never read to judge a store */
	uint64_t write_mask; /* bits of the register a store may change */
};

struct regrules {
	struct regrule *e;
	unsigned n;
	bool exact;
	uint64_t span_start, span_len; /* exact: from the first named byte to the last */
	char label[REGRULES_MAX_LABEL + 1];
};

struct regrules_error {
	int line;
	char message[256];
	/* A name the map lacks, for a "did you mean": a register (unknown_in NULL) or a field of
	 * unknown_in. "" if the error is another. */
	char unknown[REGRULES_MAX_NAME + 1];
	const struct regmap_register *unknown_in;
};

/*
 * The table of a grant with rules (may be NULL: only the map's) over a valid map (may be NULL:
 * then rules must be NULL or empty). map_only: what binds everyone (the map's widths), for the
 * superuser. *out is NULL if nothing applies (the fast path). 0, -EINVAL (a name, mask or width
 * that does not fit the map, with the rule's line in *err) or -ENOMEM.
 */
int regrules_compile(const struct regmap *map, const struct grant_rules *rules, bool map_only,
		     struct regrules **out, struct regrules_error *err);
void regrules_free(struct regrules *t);

/* Exact tables: are [off, off+len) all bytes of named registers? */
bool regrules_covers(const struct regrules *t, uint64_t off, uint64_t len);

/* May a load of bytes at region offset off run? 0, or -EACCES with the reason in why. */
int regrules_check_load(const struct regrules *t, uint64_t off, unsigned bytes, char *why,
			size_t why_len);

/*
 * Whether a store at off of bytes may be refused for the value its register holds now (a write
 * mask that refuses, on a register a load can read): REGRULES_NEED_OLD from
 * regrules_check_store() then means a check ahead of the store must read it; else it only
 * merges (preserve), which never refuses.
 */
bool regrules_store_judged_on_old(const struct regrules *t, uint64_t off, unsigned bytes);

/*
 * May a store of value run? 0 with the value to store in *out (preserve merges old into it),
 * -EACCES with the reason in why, or REGRULES_NEED_OLD: call again with old, what the same
 * load reads now (old NULL: not read yet).
 */
int regrules_check_store(const struct regrules *t, uint64_t off, unsigned bytes, uint64_t value,
			 const uint64_t *old, uint64_t *out, char *why, size_t why_len);

#endif
