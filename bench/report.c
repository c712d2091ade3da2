/* mmio-bench: the result rows, printed as an aligned table or as JSON. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

struct row *
report_add(struct report *r, const char *name, const char *placement)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 32;
		struct row *rows = realloc(r->rows, cap * sizeof(*rows));
		if (!rows) {
			return NULL;
		}
		r->rows = rows;
		r->cap = cap;
	}
	struct row *row = &r->rows[r->n++];
	*row = (struct row){0};
	snprintf(row->name, sizeof(row->name), "%s", name);
	snprintf(row->placement, sizeof(row->placement), "%s", placement);
	row->p50_ns = row->p99_ns = row->ops_per_s = row->ratio = NAN;
	row->client_cpu_ns_per_op = row->server_cpu_ns_per_op = NAN;
	row->server_faults_per_op = NAN;
	for (size_t i = 0; i < sizeof(row->rss_kib) / sizeof(row->rss_kib[0]); i++) {
		row->rss_kib[i] = NAN;
	}
	return row;
}

void
report_finish(struct report *r)
{
	free(r->rows);
	*r = (struct report){0};
}

const char *
report_time(double ns, char *buf, size_t cap)
{
	if (isnan(ns)) {
		snprintf(buf, cap, "-");
	} else if (ns < 10.0) {
		snprintf(buf, cap, "%.2f ns", ns);
	} else if (ns < 1e3) {
		snprintf(buf, cap, "%.0f ns", ns);
	} else if (ns < 1e6) {
		snprintf(buf, cap, "%.2f us", ns / 1e3);
	} else if (ns < 1e9) {
		snprintf(buf, cap, "%.2f ms", ns / 1e6);
	} else {
		snprintf(buf, cap, "%.2f s", ns / 1e9);
	}
	return buf;
}

void
report_note_cpu(struct row *row, const char *prefix, const char *server)
{
	char c[32];
	char d[32];
	int has_c = !isnan(row->client_cpu_ns_per_op);
	int has_d = !isnan(row->server_cpu_ns_per_op);
	report_time(row->client_cpu_ns_per_op, c, sizeof(c));
	report_time(row->server_cpu_ns_per_op, d, sizeof(d));
	int n = snprintf(row->note, sizeof(row->note), "%s%s%s%s%s%s%s%s%s", prefix,
			 prefix[0] && (has_c || has_d) ? "; " : "",
			 has_c || has_d ? "CPU/op: " : "", has_c ? "client " : "", has_c ? c : "",
			 has_c && has_d ? ", " : "", has_d ? server : "", has_d ? " " : "",
			 has_d ? d : "");
	if (!isnan(row->server_faults_per_op) && n >= 0 && (size_t)n < sizeof(row->note)) {
		snprintf(row->note + n, sizeof(row->note) - (size_t)n, "; %s faults/op %.3g",
			 server, row->server_faults_per_op);
	}
}

static const char *
format_rate(double v, char *buf, size_t cap)
{
	if (isnan(v)) {
		snprintf(buf, cap, "-");
	} else if (v < 1e3) {
		snprintf(buf, cap, "%.1f", v);
	} else if (v < 1e6) {
		snprintf(buf, cap, "%.1f k", v / 1e3);
	} else if (v < 1e9) {
		snprintf(buf, cap, "%.2f M", v / 1e6);
	} else {
		snprintf(buf, cap, "%.2f G", v / 1e9);
	}
	return buf;
}

static const char *
verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_PASS:
		return "PASS";
	case VERDICT_MISS:
		return "MISS";
	case VERDICT_NONE:
		break;
	}
	return "-";
}

enum {
	COL_CASE,
	COL_PLACEMENT,
	COL_P50,
	COL_P99,
	COL_OPS,
	COL_RATIO,
	COL_TARGET,
	COL_VERDICT,
	COL_NOTE,
	N_COLS
};

static const char *const col_title[N_COLS] = {
	"case", "placement", "p50", "p99", "ops/s", "ratio", "target", "verdict", "notes",
};

/* Numbers are right-aligned, text left-aligned. */
static const int col_right[N_COLS] = {0, 0, 1, 1, 1, 0, 0, 0, 0};

#define CELL 160 /* a note whole */

static void
row_cells(const struct row *row, char cells[N_COLS][CELL])
{
	snprintf(cells[COL_CASE], CELL, "%s", row->name);
	snprintf(cells[COL_PLACEMENT], CELL, "%s", row->placement);
	report_time(row->p50_ns, cells[COL_P50], CELL);
	report_time(row->p99_ns, cells[COL_P99], CELL);
	format_rate(row->ops_per_s, cells[COL_OPS], CELL);
	if (isnan(row->ratio)) {
		snprintf(cells[COL_RATIO], CELL, "-");
	} else {
		snprintf(cells[COL_RATIO], CELL, "%.2fx %s", row->ratio, row->baseline);
	}
	snprintf(cells[COL_TARGET], CELL, "%s", row->target[0] ? row->target : "-");
	snprintf(cells[COL_VERDICT], CELL, "%s", verdict_name(row->verdict));
	snprintf(cells[COL_NOTE], CELL, "%s", row->note);
}

static void
print_line(FILE *out, char cells[N_COLS][CELL], const int *width)
{
	char line[N_COLS * (CELL + 2) + 1];
	size_t len = 0;
	for (int c = 0; c < N_COLS; c++) {
		int w = c == N_COLS - 1 ? 0 : width[c];
		len += (size_t)snprintf(line + len, sizeof(line) - len,
					col_right[c] ? "%*s" : "%-*s", w, cells[c]);
		if (c < N_COLS - 1) {
			len += (size_t)snprintf(line + len, sizeof(line) - len, "  ");
		}
	}
	while (len > 0 && line[len - 1] == ' ') {
		line[--len] = '\0';
	}
	fprintf(out, "%s\n", line);
}

void
report_print_table(const struct report *r, FILE *out)
{
	int width[N_COLS];
	char cells[N_COLS][CELL];
	for (int c = 0; c < N_COLS; c++) {
		width[c] = (int)strlen(col_title[c]);
	}
	for (size_t i = 0; i < r->n; i++) {
		row_cells(&r->rows[i], cells);
		for (int c = 0; c < N_COLS; c++) {
			int w = (int)strlen(cells[c]);
			width[c] = w > width[c] ? w : width[c];
		}
	}
	for (int c = 0; c < N_COLS; c++) {
		snprintf(cells[c], CELL, "%s", col_title[c]);
	}
	print_line(out, cells, width);
	for (int c = 0; c < N_COLS; c++) {
		memset(cells[c], '-', (size_t)width[c]);
		cells[c][width[c]] = '\0';
	}
	print_line(out, cells, width);
	for (size_t i = 0; i < r->n; i++) {
		row_cells(&r->rows[i], cells);
		print_line(out, cells, width);
	}
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void
json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			fprintf(out, "\\%c", *p);
		} else if (*p < 0x20) {
			fprintf(out, "\\u%04x", *p);
		} else {
			fputc(*p, out);
		}
	}
	fputc('"', out);
}

/* A JSON number, or null for NAN or infinity (JSON has neither). */
static void
json_number(FILE *out, double v)
{
	if (isnan(v) || isinf(v)) {
		fputs("null", out);
	} else {
		fprintf(out, "%.6g", v);
	}
}

static void
json_field(FILE *out, const char *key, const char *text, double num, int last)
{
	fprintf(out, "\"%s\": ", key);
	if (text) {
		if (text[0]) {
			json_string(out, text);
		} else {
			fputs("null", out);
		}
	} else {
		json_number(out, num);
	}
	fputs(last ? "" : ", ", out);
}

void
report_print_json(const struct report *r, FILE *out)
{
	fputs("[\n", out);
	for (size_t i = 0; i < r->n; i++) {
		const struct row *row = &r->rows[i];
		fputs("  {", out);
		json_field(out, "case", row->name, 0, 0);
		json_field(out, "placement", row->placement, 0, 0);
		json_field(out, "p50_ns", NULL, row->p50_ns, 0);
		json_field(out, "p99_ns", NULL, row->p99_ns, 0);
		json_field(out, "ops_per_s", NULL, row->ops_per_s, 0);
		json_field(out, "ratio", NULL, row->ratio, 0);
		json_field(out, "baseline", row->baseline, 0, 0);
		json_field(out, "target", row->target, 0, 0);
		json_field(out, "verdict",
			   row->verdict == VERDICT_NONE ? "" : verdict_name(row->verdict), 0, 0);
		json_field(out, "client_cpu_ns_per_op", NULL, row->client_cpu_ns_per_op, 0);
		json_field(out, "server_cpu_ns_per_op", NULL, row->server_cpu_ns_per_op, 0);
		json_field(out, "server_faults_per_op", NULL, row->server_faults_per_op, 0);
		json_field(out, "daemon_rss_kib_start", NULL, row->rss_kib[0], 0);
		json_field(out, "daemon_rss_kib_after_cases", NULL, row->rss_kib[1], 0);
		json_field(out, "daemon_rss_kib_churn_first", NULL, row->rss_kib[2], 0);
		json_field(out, "daemon_rss_kib_churn_last", NULL, row->rss_kib[3], 0);
		json_field(out, "note", row->note, 0, 1);
		fprintf(out, "}%s\n", i + 1 < r->n ? "," : "");
	}
	fputs("]\n", out);
}
