/*
 * mmioctl replay: a trace as 'mmioctl trace -o json' wrote it, re-executed on a sim region, to
 * find the first load whose value differs. The reader is hand-written for exactly that shape
 * (one flat object per line: strings, numbers, null): no JSON library for one fixed format.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mmio/client.h"
#include "mmioctl.h"
#include "parse.h"

const char mmioctl_replay_help[] =
	"Re-execute a trace, as 'mmioctl trace -o json' wrote it to FILE ('-': stdin),\n"
	"on SIMREGION, a region of type sim, in order: loads and stores through one\n"
	"lease of the whole region at the traced offsets and widths (a modify was\n"
	"traced as its load and its store), and the device side's sim-get and sim-set.\n"
	"Accesses that failed in the trace are skipped. No access runs ahead of its\n"
	"time in the trace (a model's timers see the same delays). A run of loads of\n"
	"one register is a poll: it matches once the register reads the run's last\n"
	"value (within a second), every value read before being one the run saw.\n"
	"Prints 'N accesses replayed, all loads matched' and exits 0, or names the\n"
	"first load that differs (line, offset, register, traced and replayed value)\n"
	"and exits 1; a trace that lost records cannot be replayed (exit 1).\n"
	"\n"
	"  --region SIMREGION   the sim region to replay on (required)\n"
	"  --reset              reset it (mmio_sim_reset) first\n";

/* What replay needs of one line. */
struct traced {
	char op[160];
	char reg[160]; /* "" for null */
	char status[160];
	unsigned width;
	uint64_t offset, value, mask, dropped;
	uint64_t time_ns;
};

/* A JSON string at *p (after its opening quote) into out; *p past the closing quote. */
static bool
read_string(const char **p, char *out, size_t len)
{
	size_t n = 0;
	const char *s = *p;
	while (*s && *s != '"') {
		char ch = *s++;
		if (ch == '\\') {
			ch = *s++;
			if (ch == 'n') {
				ch = '\n';
			} else if (ch == 'u') {
				char hex[5] = {0};
				char *end;
				memcpy(hex, s, strnlen(s, 4));
				unsigned long code = strtoul(hex, &end, 16);
				if (end != hex + 4) {
					return false;
				}
				s += 4;
				ch = (char)code;
			} else if (ch != '"' && ch != '\\' && ch != '/') {
				return false;
			}
		}
		if (n + 1 < len) {
			out[n++] = ch;
		}
	}
	if (*s != '"') {
		return false;
	}
	out[n] = '\0';
	*p = s + 1;
	return true;
}

static const char *
skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
		s++;
	}
	return s;
}

/* One line into *t. false: not an object of that shape. */
static bool
parse_line(const char *line, struct traced *t)
{
	memset(t, 0, sizeof(*t));
	bool have_op = false, have_width = false, have_offset = false, have_value = false;
	const char *p = skip_blanks(line);
	if (*p++ != '{') {
		return false;
	}
	for (;;) {
		p = skip_blanks(p);
		if (*p == '}') {
			break;
		}
		char key[32];
		char text[160];
		if (*p++ != '"' || !read_string(&p, key, sizeof(key))) {
			return false;
		}
		p = skip_blanks(p);
		if (*p++ != ':') {
			return false;
		}
		p = skip_blanks(p);
		bool is_string = *p == '"';
		if (is_string) {
			p++;
			if (!read_string(&p, text, sizeof(text))) {
				return false;
			}
		} else {
			size_t n = strcspn(p, ",} \t\r\n");
			if (n == 0 || n >= sizeof(text)) {
				return false;
			}
			memcpy(text, p, n);
			text[n] = '\0';
			p += n;
		}
		uint64_t v = 0;
		bool number = !is_string && parse_u64(text, &v) == 0;
		if (strcmp(key, "op") == 0 && is_string) {
			(void)snprintf(t->op, sizeof(t->op), "%s", text);
			have_op = true;
		} else if (strcmp(key, "register") == 0) {
			(void)snprintf(t->reg, sizeof(t->reg), "%s", is_string ? text : "");
		} else if (strcmp(key, "status") == 0 && is_string) {
			(void)snprintf(t->status, sizeof(t->status), "%s", text);
		} else if (strcmp(key, "width") == 0 && number) {
			t->width = (unsigned)v;
			have_width = v == 1 || v == 2 || v == 4 || v == 8;
		} else if (strcmp(key, "offset_int") == 0 && number) {
			t->offset = v;
			have_offset = true;
		} else if (strcmp(key, "value_int") == 0 && number) {
			t->value = v;
			have_value = true;
		} else if (strcmp(key, "mask_int") == 0 && number) {
			t->mask = v;
		} else if (strcmp(key, "time_ns") == 0 && number) {
			t->time_ns = v;
		} else if (strcmp(key, "dropped") == 0 && number) {
			t->dropped = v;
		}
		p = skip_blanks(p);
		if (*p == ',') {
			p++;
		} else if (*p != '}') {
			return false;
		}
	}
	return have_op && have_width && have_offset && have_value;
}

static bool
is_load(const struct traced *t)
{
	return strcmp(t->op, "load") == 0 || strcmp(t->op, "sim-get") == 0;
}

static bool
same_register(const struct traced *a, const struct traced *b)
{
	return strcmp(a->op, b->op) == 0 && a->offset == b->offset && a->width == b->width;
}

struct replay {
	struct mmio_client *client;
	struct mmio_lease *lease;
	const char *region;
	const char *file;
	unsigned long accesses;
	/* The first record's time, and when its replay started: nothing runs ahead of the trace. */
	bool started;
	uint64_t trace_t0, replay_t0;
	/* The run of loads of one register now being replayed (a poll), by line. */
	struct traced *run;
	unsigned long *run_lines;
	size_t n_run, cap_run;
};

static int
load_one(struct replay *r, const struct traced *t, uint64_t *v)
{
	if (strcmp(t->op, "sim-get") == 0) {
		return mmio_sim_get(r->client, r->region, t->offset, t->width, v);
	}
	return mmio_load(r->lease, t->offset, t->width, v);
}

static int
report_mismatch(const struct replay *r, unsigned long line, const struct traced *t, uint64_t got)
{
	if (mmioctl_output == MMIOCTL_OUTPUT_JSON) {
		printf("{\"error\": \"MISMATCH\", \"line\": %lu, \"offset\": \"0x%" PRIx64
		       "\", \"offset_int\": %" PRIu64 ", \"register\": ",
		       line, t->offset, t->offset);
		if (t->reg[0]) {
			mmioctl_json_string(t->reg);
		} else {
			fputs("null", stdout);
		}
		printf(", \"traced\": \"0x%" PRIx64 "\", \"traced_int\": %" PRIu64
		       ", \"replayed\": \"0x%" PRIx64 "\", \"replayed_int\": %" PRIu64 "}\n",
		       t->value, t->value, got, got);
	}
	fprintf(stderr,
		"mmioctl: replay %s: line %lu: %s%u at 0x%" PRIx64 " (%s) read 0x%" PRIx64
		", the trace has 0x%" PRIx64 "\n",
		r->file, line, t->op, t->width * 8, t->offset, t->reg[0] ? t->reg : "-", got,
		t->value);
	return MMIOCTL_EXIT_FAILURE;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
now_ms(void)
{
	return now_ns() / 1000000u;
}

/*
 * Waits until t's time in the trace, counted from the first record: a device whose state moves
 * with time (a model's timers) is where it was, never behind, when the access replays.
 */
static void
keep_pace(struct replay *r, const struct traced *t)
{
	if (!r->started) {
		r->started = true;
		r->trace_t0 = t->time_ns;
		r->replay_t0 = now_ns();
		return;
	}
	if (t->time_ns <= r->trace_t0) {
		return;
	}
	uint64_t due = r->replay_t0 + (t->time_ns - r->trace_t0);
	uint64_t now = now_ns();
	if (now < due) {
		struct timespec d = {.tv_sec = (time_t)((due - now) / 1000000000u),
				     .tv_nsec = (long)((due - now) % 1000000000u)};
		while (nanosleep(&d, &d) < 0 && errno == EINTR) {
		}
	}
}

/* Replays the pending run of loads of one register: 0 or the exit status after reporting. */
static int
flush_run(struct replay *r)
{
	if (r->n_run == 0) {
		return 0;
	}
	const struct traced *last = &r->run[r->n_run - 1];
	keep_pace(r, last);
	uint64_t deadline = now_ms() + 1000;
	unsigned long line = r->run_lines[r->n_run - 1];
	int rc = 0;
	for (;;) {
		uint64_t v;
		int err = load_one(r, last, &v);
		if (err < 0) {
			rc = mmioctl_fail(r->client, err, "replay %s: line %lu", r->file, line);
			break;
		}
		r->accesses++;
		if (v == last->value) {
			break;
		}
		/* A value the poll saw before its last: the device is not there yet. */
		bool seen = false;
		for (size_t k = 0; k + 1 < r->n_run; k++) {
			seen = seen || r->run[k].value == v;
		}
		if (!seen || now_ms() > deadline) {
			rc = report_mismatch(r, line, last, v);
			break;
		}
	}
	r->n_run = 0;
	return rc;
}

/* One traced access, replayed (loads gathered into runs). 0 or the exit status. */
static int
replay_one(struct replay *r, unsigned long line, const struct traced *t)
{
	if (strcmp(t->status, "OK") != 0) {
		return 0; /* it touched nothing in the trace either */
	}
	if (is_load(t)) {
		if (r->n_run > 0 && !same_register(&r->run[0], t)) {
			int rc = flush_run(r);
			if (rc != 0) {
				return rc;
			}
		}
		if (r->n_run == r->cap_run) {
			size_t cap = r->cap_run ? 2 * r->cap_run : 16;
			struct traced *run = realloc(r->run, cap * sizeof(*run));
			if (run) {
				r->run = run;
			}
			unsigned long *lines = realloc(r->run_lines, cap * sizeof(*lines));
			if (lines) {
				r->run_lines = lines;
			}
			if (!run || !lines) {
				return mmioctl_fail(NULL, -ENOMEM, "replay %s", r->file);
			}
			r->cap_run = cap;
		}
		r->run[r->n_run] = *t;
		r->run_lines[r->n_run++] = line;
		return 0;
	}
	int rc = flush_run(r);
	if (rc != 0) {
		return rc;
	}
	keep_pace(r, t);
	int err;
	if (strcmp(t->op, "store") == 0) {
		err = mmio_store(r->lease, t->offset, t->width, t->value);
	} else if (strcmp(t->op, "sim-set") == 0) {
		err = mmio_sim_set(r->client, r->region, t->offset, t->width, t->mask, t->value);
	} else {
		fprintf(stderr, "mmioctl: replay %s: line %lu: unknown op '%s'\n", r->file, line,
			t->op);
		return MMIOCTL_EXIT_FAILURE;
	}
	if (err < 0) {
		return mmioctl_fail(r->client, err, "replay %s: line %lu", r->file, line);
	}
	r->accesses++;
	return 0;
}

/* The region's size if it is listed to the caller as a sim, else the exit status after saying why.
 */
static int
sim_region_size(struct mmio_client *client, const char *region, uint64_t *size)
{
	struct mmio_region_info *regions = NULL;
	int n = mmio_list_regions(client, &regions);
	if (n < 0) {
		return mmioctl_fail(client, n, "replay: regions");
	}
	int rc = -1;
	for (int i = 0; i < n; i++) {
		if (strcmp(regions[i].name, region) != 0) {
			continue;
		}
		if (strcmp(regions[i].type, "sim") != 0) {
			fprintf(stderr,
				"mmioctl: replay: INVALID_ARGUMENT: region %s is of type %s: "
				"replay "
				"needs a sim region\n",
				region, regions[i].type);
			if (mmioctl_output == MMIOCTL_OUTPUT_JSON) {
				mmioctl_json_error("INVALID_ARGUMENT", "replay needs a sim region");
			}
			rc = MMIOCTL_EXIT_FAILURE;
		} else {
			*size = regions[i].size;
			rc = 0;
		}
	}
	free(regions);
	if (rc < 0) {
		rc = mmioctl_fail(client, -ENOENT, "replay: region %s", region);
	}
	return rc;
}

static int
replay_file(struct replay *r, FILE *in)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned long n = 0;
	int rc = 0;
	while (rc == 0 && getline(&line, &cap, in) >= 0) {
		n++;
		if (skip_blanks(line)[0] == '\0') {
			continue;
		}
		struct traced t;
		if (!parse_line(line, &t)) {
			fprintf(stderr,
				"mmioctl: replay %s: line %lu: not a record of 'mmioctl trace -o "
				"json'\n",
				r->file, n);
			rc = MMIOCTL_EXIT_FAILURE;
		} else if (t.dropped) {
			fprintf(stderr,
				"mmioctl: replay %s: line %lu: the trace lost %" PRIu64
				" records before it: it cannot be replayed faithfully\n",
				r->file, n, t.dropped);
			rc = MMIOCTL_EXIT_FAILURE;
		} else {
			rc = replay_one(r, n, &t);
		}
	}
	free(line);
	return rc != 0 ? rc : flush_run(r);
}

int
mmioctl_replay(const struct invocation *inv)
{
	if (!inv->region) {
		return mmioctl_usage_error("replay", "needs --region SIMREGION");
	}
	struct replay r = {.region = inv->region, .file = inv->args[0]};
	FILE *in = strcmp(r.file, "-") == 0 ? stdin : fopen(r.file, "r");
	if (!in) {
		return mmioctl_fail(NULL, -errno, "replay %s", r.file);
	}
	int rc = mmioctl_connect(inv->socket_path, &r.client);
	if (rc != 0) {
		goto out_file;
	}
	uint64_t size = 0;
	if ((rc = sim_region_size(r.client, r.region, &size)) != 0) {
		goto out;
	}
	if (inv->reset && (rc = mmio_sim_reset(r.client, r.region)) < 0) {
		rc = mmioctl_fail(r.client, rc, "replay: reset %s", r.region);
		goto out;
	}
	if ((rc = mmio_acquire(r.client, r.region, 0, size, &r.lease)) < 0) {
		rc = mmioctl_fail(r.client, rc, "replay: lease %s", r.region);
		goto out;
	}
	rc = replay_file(&r, in);
	if (rc == 0) {
		if (mmioctl_output == MMIOCTL_OUTPUT_JSON) {
			printf("{\"replayed\": %lu, \"matched\": true}\n", r.accesses);
		} else {
			printf("%lu accesses replayed, all loads matched\n", r.accesses);
		}
	}
out:
	free(r.run);
	free(r.run_lines);
	mmio_disconnect(r.client);
out_file:
	if (in != stdin) {
		(void)fclose(in);
	}
	return rc;
}
