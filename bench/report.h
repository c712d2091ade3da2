/* mmio-bench: the result rows, printed as an aligned table or as JSON. */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum verdict {
	VERDICT_NONE = 0, /* the row has no target */
	VERDICT_PASS,
	VERDICT_MISS,
};

/* One measured case. Every double is NAN where the case has no such figure. */
struct row {
	char name[32];      /* "mmiod load32", "batch 4096", ... */
	char placement[16]; /* "one-cpu", "spread", "unpinned", "in-process" */
	double p50_ns;      /* per op, per batch or per invocation: see the name */
	double p99_ns;
	double ops_per_s;
	double ratio;      /* against baseline */
	char baseline[24]; /* what ratio divides by; "" for a baseline itself */
	char target[32];   /* "" when the row has none */
	enum verdict verdict;
	double client_cpu_ns_per_op; /* the timing thread of mmio-bench */
	double server_cpu_ns_per_op; /* mmiod, or the ping-pong server process */
	double server_faults_per_op; /* its minor page faults */
	double rss_kib[4]; /* daemon memory row: start, after the cases, churn round 1, last round
			    */
	char note[160];
};

struct report {
	struct row *rows;
	size_t n;
	size_t cap;
};

/* Appends a row with every figure NAN and every string empty; NULL on -ENOMEM. */
struct row *report_add(struct report *r, const char *name, const char *placement);

void report_finish(struct report *r);

/*
 * Sets the row's note to prefix followed by "CPU/op: client X, SERVER Y",
 * leaving out a figure that is NAN (and the whole CPU part if both are).
 */
void report_note_cpu(struct row *row, const char *prefix, const char *server);

/* Formats ns as "412 ns", "8.31 us", "2.05 ms" or "-" for NAN, into buf. */
const char *report_time(double ns, char *buf, size_t cap);

/* The rows as an aligned text table. */
void report_print_table(const struct report *r, FILE *out);

/* The rows as a JSON array of objects, one per row; NAN figures are null. */
void report_print_json(const struct report *r, FILE *out);

#endif
