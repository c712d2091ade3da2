/* mmioctl trace: every access on a region as it happens, a line (or a JSON object) each. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mmio/client.h"
#include "mmioctl.h"

const char mmioctl_trace_help[] =
	"Print every access on REGION as it happens (root and the admin group only),\n"
	"one line each: time (UTC), uid, pid, lease (0: the device side of a sim\n"
	"region), op (load, store, sim-get, sim-set; a modify is a load and a store)\n"
	"with its width in bits, offset, the register of the region's map there\n"
	"('-' for none), value and status. mmiod never waits for a tracer: one that\n"
	"does not keep up loses records, and a line 'N records dropped' says so\n"
	"before the next record. Ends on Ctrl-C, or when mmiod ends the trace.\n"
	"\n"
	"  -n, --count N        stop after N records\n"
	"\n"
	"With -o json, one JSON object per line (what 'mmioctl replay' reads):\n"
	"{\"time\", \"time_ns\", \"uid\", \"pid\", \"conn\", \"lease\", \"op\", \"width\",\n"
	"\"offset\", \"register\" (null for none), \"value\", \"mask\", \"status\",\n"
	"\"dropped\"}, offset, value and mask hex with their _int.\n";

static volatile sig_atomic_t interrupted;

static void
on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void
format_time(uint64_t ns, char *buf, size_t len)
{
	time_t secs = (time_t)(ns / 1000000000u);
	struct tm tm;
	char date[32] = "?";
	if (gmtime_r(&secs, &tm)) {
		(void)strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	}
	(void)snprintf(buf, len, "%s.%09" PRIu64 "Z", date, ns % 1000000000u);
}

static void
print_record(const struct mmio_trace_record *rec, const char *reg)
{
	char when[64];
	format_time(rec->time_ns, when, sizeof(when));
	const char *status = rec->status == 0 ? "OK" : mmioctl_status_name(rec->status);
	const char *op = mmio_trace_op_name(rec->op);
	if (mmioctl_output == MMIOCTL_OUTPUT_JSON) {
		printf("{\"time\": \"%s\", \"time_ns\": %" PRIu64 ", \"uid\": %u, \"pid\": %d, "
		       "\"conn\": %" PRIu64 ", \"lease\": %" PRIu64 ", \"op\": \"%s\", "
		       "\"width\": %u, \"offset\": \"0x%" PRIx64 "\", \"offset_int\": %" PRIu64
		       ", \"register\": ",
		       when, rec->time_ns, (unsigned)rec->uid, (int)rec->pid, rec->conn, rec->lease,
		       op, rec->width, rec->offset, rec->offset);
		if (reg) {
			mmioctl_json_string(reg);
		} else {
			fputs("null", stdout);
		}
		printf(", \"value\": \"0x%" PRIx64 "\", \"value_int\": %" PRIu64
		       ", \"mask\": \"0x%" PRIx64 "\", \"mask_int\": %" PRIu64
		       ", \"status\": \"%s\", \"dropped\": %" PRIu32 "}\n",
		       rec->value, rec->value, rec->mask, rec->mask, status, rec->dropped);
	} else {
		if (rec->dropped) {
			printf("%" PRIu32 " records dropped\n", rec->dropped);
		}
		printf("%s uid %u pid %d lease %" PRIu64 " %s%u 0x%" PRIx64 " %s 0x%" PRIx64
		       " %s\n",
		       when, (unsigned)rec->uid, (int)rec->pid, rec->lease, op, rec->width * 8,
		       rec->offset, reg ? reg : "-", rec->value, status);
	}
	(void)fflush(stdout); /* errors stay in ferror(stdout), which main() checks */
}

/* Waits for the trace fd; false on Ctrl-C. */
static bool
wait_readable(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	while (!interrupted) {
		if (poll(&pfd, 1, -1) > 0) {
			return true;
		}
	}
	return false;
}

int
mmioctl_trace(const struct invocation *inv)
{
	const char *region = inv->args[0];
	struct mmio_client *client;
	int rc = mmioctl_connect(inv->socket_path, &client);
	if (rc != 0) {
		return rc;
	}
	int fd = -1;
	rc = mmio_trace_open(client, region, &fd);
	if (rc < 0) {
		rc = mmioctl_fail(client, rc, "trace %s", region);
		mmio_disconnect(client);
		return rc;
	}
	/* Names come from the map as the tool sees it; a region without one has none. */
	const struct mmio_regmap *map = NULL;
	if (mmio_regmap_get(client, region, &map) < 0) {
		map = NULL;
	}
	/* Ctrl-C ends the trace cleanly: what was printed is flushed, exit 0. */
	struct sigaction sa = {.sa_handler = on_interrupt};
	(void)sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	rc = 0;
	for (unsigned n = 0; !inv->count_given || n < inv->count; n++) {
		if (!wait_readable(fd)) {
			break;
		}
		struct mmio_trace_record rec;
		int got = mmio_trace_read(fd, &rec);
		if (got == 0) {
			break; /* mmiod ended the trace */
		}
		if (got < 0) {
			rc = mmioctl_fail(NULL, got, "trace %s", region);
			break;
		}
		char name[192];
		print_record(&rec, mmio_regmap_name_at(map, rec.offset, name, sizeof(name)));
	}
	(void)close(fd);
	mmio_disconnect(client);
	return rc;
}
