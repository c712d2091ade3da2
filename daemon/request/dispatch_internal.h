/* What dispatch.c and its handle_*.c files share; not used outside the dispatcher. */
#ifndef MMIOD_DISPATCH_INTERNAL_H
#define MMIOD_DISPATCH_INTERNAL_H

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>

#include "request/dispatch.h"

#define CONN_FMT     "conn %" PRIu64 " (pid %d uid %u)"
#define CONN_ARGS(s) (s)->conn_id, (int)(s)->who.pid, (unsigned)(s)->who.uid

/* n zeroed elements of size bytes, freed by dispatch_reply_finish(); NULL if out of memory. */
void *dispatch_alloc(struct dispatch_scratch *scratch, size_t n, size_t size);

/* Sets the reply's status from err (0 or a negative errno) and, when fmt is given, its detail. */
void dispatch_status(Mmio__Reply *reply, struct dispatch_scratch *scratch, int err, const char *fmt,
		     ...) __attribute__((format(printf, 4, 5)));

void dispatch_fill_lease_info(Mmio__LeaseInfo *info, const struct lease *l);

/* The caller's lease with this id, or NULL with NOT_FOUND set on the reply. */
struct lease *dispatch_find_lease(struct session *s, uint64_t id, Mmio__Reply *reply,
				  struct dispatch_scratch *scratch);

/* Checked, audited accesses (stores on a read-only lease: -EACCES). 0 or a negative errno. */
int dispatch_checked_load(const struct session *s, const struct lease *l, uint64_t off,
			  unsigned width, uint64_t *value);
int dispatch_checked_store(const struct session *s, const struct lease *l, uint64_t off,
			   unsigned width, uint64_t value);

/* Masked read-modify-write (Modify): *old gets the value read. 0 or a negative errno. */
int dispatch_checked_modify(const struct session *s, const struct lease *l, uint64_t off,
			    unsigned width, uint64_t mask, uint64_t value, uint64_t *old);

/* The reply status (with a detail naming the offset, width or lease) for an access's rc. */
void dispatch_access_status(Mmio__Reply *reply, struct dispatch_scratch *scratch, int rc,
			    const struct lease *l, uint64_t off, unsigned width);

/* One handler per request; each fills reply (and scratch) and never fails otherwise. */
void handle_list_regions(struct session *s, Mmio__Reply *reply, struct dispatch_scratch *scratch);
void handle_acquire(struct session *s, const Mmio__Acquire *req, Mmio__Reply *reply,
		    struct dispatch_scratch *scratch);
void handle_split(struct session *s, const Mmio__Split *req, Mmio__Reply *reply,
		  struct dispatch_scratch *scratch);
void handle_release(struct session *s, const Mmio__Release *req, Mmio__Reply *reply,
		    struct dispatch_scratch *scratch);
void handle_list_leases(struct session *s, const Mmio__ListLeases *req, Mmio__Reply *reply,
			struct dispatch_scratch *scratch);
/* Figures of the daemon; regions listed as for handle_list_regions (all for admins). */
void handle_stats(struct session *s, Mmio__Reply *reply, struct dispatch_scratch *scratch);
void handle_revoke(struct session *s, const Mmio__Revoke *req, Mmio__Reply *reply,
		   struct dispatch_scratch *scratch);
void handle_irq(struct session *s, Mmio__Request__BodyCase kind, uint64_t lease_id,
		Mmio__Reply *reply, struct dispatch_scratch *scratch);
void handle_load(struct session *s, const Mmio__Load *req, Mmio__Reply *reply,
		 struct dispatch_scratch *scratch);
void handle_store(struct session *s, const Mmio__Store *req, Mmio__Reply *reply,
		  struct dispatch_scratch *scratch);
void handle_barrier(struct session *s, const Mmio__Barrier *req, Mmio__Reply *reply,
		    struct dispatch_scratch *scratch);
void handle_batch(struct session *s, const Mmio__Batch *req, Mmio__Reply *reply,
		  struct dispatch_scratch *scratch);
void handle_modify(struct session *s, const Mmio__Modify *req, Mmio__Reply *reply,
		   struct dispatch_scratch *scratch);
void handle_block_read(struct session *s, const Mmio__BlockRead *req, Mmio__Reply *reply,
		       struct dispatch_scratch *scratch);
void handle_block_write(struct session *s, const Mmio__BlockWrite *req, Mmio__Reply *reply,
			struct dispatch_scratch *scratch);
/* Opens the session's ring (handle_ring.c); the memfd and doorbell go in scratch->pass_fds. */
void handle_ring_setup(struct session *s, const Mmio__RingSetup *req, Mmio__Reply *reply,
		       struct dispatch_scratch *scratch);
/* The first attempt; leaves scratch->poll.pending set when the poll must go on. */
void handle_poll(struct session *s, const Mmio__Poll *req, Mmio__Reply *reply,
		 struct dispatch_scratch *scratch);

#endif
