#include <errno.h>
#include <inttypes.h>
#include <time.h>

#include "base/log.h"
#include "device/region.h"
#include "request/park.h"
#include "status.h"

const char *
lease_end_name(enum lease_end why)
{
	switch (why) {
	case LEASE_END_ADMIN:
		return "admin";
	case LEASE_END_TTL:
		return "ttl";
	case LEASE_END_POLICY:
		return "policy";
	case LEASE_END_FAULT:
		return "fault";
	case LEASE_END_SHUTDOWN:
		return "shutdown";
	default:
		return "disconnect";
	}
}

/* Bounded by the config (PARK_MAX_DELAY_US in all); an absolute deadline survives signals. */
static void
park_delay(unsigned us)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += (long)(us % 1000000) * 1000;
	until.tv_sec += us / 1000000 + until.tv_nsec / 1000000000;
	until.tv_nsec %= 1000000000;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR) {
	}
}

static int
park_step_run(const struct lease *l, const struct park_step *step)
{
	uint64_t off = step->offset - l->start;
	uint64_t old = 0;
	int rc;
	switch (step->op) {
	case PARK_BARRIER:
		region_write_barrier(l);
		return 0;
	case PARK_DELAY:
		park_delay(step->delay_us);
		return 0;
	case PARK_MODIFY:
		if ((rc = region_load(l, off, step->width, &old)) < 0) {
			return rc;
		}
		return region_store(l, off, step->width, (old & ~step->mask) | step->value);
	default:
		return region_store(l, off, step->width, step->value);
	}
}

void
park_lease(const struct lease *l, enum lease_end why)
{
	const struct region *r = region_of_lease(l);
	if (r->park.n == 0 || l->read_only) {
		return;
	}
	unsigned run = 0;
	unsigned skipped = 0;
	int first_error = 0;
	for (unsigned i = 0; i < r->park.n; i++) {
		const struct park_step *step = &r->park.steps[i];
		if (!park_step_inside(step, l->start, l->len)) {
			skipped++;
			continue;
		}
		int rc = park_step_run(l, step);
		run++;
		if (rc < 0 && first_error == 0) {
			first_error = rc;
		}
	}
	log_audit_text("park region %s lease %" PRIu64 " pid %d uid %u reason %s steps %u "
		       "skipped %u status %s",
		       r->name, l->id, (int)l->set->pid, (unsigned)l->set->uid, lease_end_name(why),
		       run, skipped, status_name_of_errno(first_error));
}
