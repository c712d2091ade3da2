#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "base/named_fds.h"
#include "base/pool.h"
#include "core/lease.h"
#include "device/backend.h"
#include "device/backend_sim.h"
#include "device/region.h"
#include "device/region_table.h"
#include "net/server_state.h"
#include "restart_export.h"
#include "restart_state.h"

static int
export_regions(const struct region_table *regions, MmiodState__State *st, struct pool *p,
	       struct named_fds *fds)
{
	st->regions = pool_alloc(p, regions->count * sizeof(MmiodState__Region *));
	if (!st->regions) {
		return -ENOMEM;
	}
	for (unsigned i = 0; i < regions->count; i++) {
		const struct region *r = regions->regions[i];
		const struct backend *b = r->backend;
		MmiodState__Region *m = pool_alloc(p, sizeof(*m));
		if (!m) {
			return -ENOMEM;
		}
		mmiod_state__region__init(m);
		m->name = pool_strdup(p, r->name);
		m->type = pool_strdup(p, b->type);
		m->len = r->space.len;
		m->backing_shared = b->backing.shared;
		m->backing_dev = (uint64_t)b->backing.dev;
		m->backing_ino = (uint64_t)b->backing.ino;
		m->backing_offset = b->backing.start;
		if (!m->name || !m->type) {
			return -ENOMEM;
		}
		if (backend_is_sim(b)) {
			uint8_t *regs = pool_alloc(p, b->len);
			if (!regs) {
				return -ENOMEM;
			}
			sim_registers_save(b, regs);
			m->registers = (ProtobufCBinaryData){.len = b->len, .data = regs};
		}
		if (b->memory_fd >= 0) {
			m->memory = pool_printf(p, "mem.%s", r->name);
			if (!m->memory || named_fds_add(fds, m->memory, b->memory_fd) < 0) {
				return -ENOMEM;
			}
		}
		st->regions[st->n_regions++] = m;
	}
	return 0;
}

int
restart_build_state(const struct server *srv, const struct region_table *regions,
		    MmiodState__State *st, struct pool *p, struct named_fds *fds, bool live)
{
	st->format = RESTART_STATE_FORMAT;
	st->next_lease_id = lease_next_id();
	int rc = export_regions(regions, st, p, fds);
	if (rc == 0) {
		rc = server_state_export(srv, st, p, fds, live);
	}
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	st->written_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	return rc;
}
