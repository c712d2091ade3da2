/*
 * `mmioctl regmap import [--peripheral NAME] FILE.svd`: a CMSIS-SVD file converted to a
 * register map file (mmiod-regmap(5)) on stdout, by svd_import.c's rules. Runs as anyone and
 * never connects: mmiod itself never reads vendor XML. Diagnostics about the file are
 * "FILE:LINE: message" on stderr, as a compiler's.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mmioctl.h"
#include "regmap_write.h"
#include "svd_import.h"
#include "svd_xml.h"

const char mmioctl_regmap_help[] =
	"Convert a peripheral of a CMSIS-SVD file into an mmiod register map (YAML,\n"
	"mmiod-regmap(5)) on stdout. Runs as anyone; needs no daemon.\n"
	"\n"
	"What a map cannot hold (registers sharing bytes, a field outside its\n"
	"register, a value with do-not-care bits, ...) is left out with a warning\n"
	"'FILE:LINE: warning: ...' on stderr: the map printed always passes\n"
	"'mmiod --check-config'. mmioctl(1) tells the conversion rules.\n"
	"\n"
	"  -p, --peripheral NAME\n"
	"                       the peripheral to convert (needed when the file has\n"
	"                       more than one)\n";

/*
 * text on stderr with control characters (C0, DEL, and C1 as UTF-8) as '?': names and
 * messages from the file must not drive the terminal.
 */
static void
put_safe(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			fputc('?', stderr);
			p++;
		} else {
			fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, stderr);
		}
	}
}

/* "FILE:LINE: [warning: ]message" on stderr. */
static void
print_diagnostic(const char *path, int line, const char *kind, const char *message)
{
	put_safe(path);
	fprintf(stderr, ":%d: %s", line, kind);
	put_safe(message);
	fputc('\n', stderr);
}

/* The warning callback's: the file named in messages. */
static void
print_warning(void *arg, int line, const char *message)
{
	print_diagnostic(arg, line, "warning: ", message);
}

/* Levenshtein distance of a and b, letters compared without case; both at most 63 bytes. */
static unsigned
distance(const char *a, const char *b)
{
	unsigned row[REGMAP_MAX_NAME + 2];
	size_t la = strlen(a);
	size_t lb = strlen(b);
	if (la > REGMAP_MAX_NAME || lb > REGMAP_MAX_NAME) {
		return ~0u;
	}
	for (size_t j = 0; j <= lb; j++) {
		row[j] = (unsigned)j;
	}
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned cost = strncasecmp(a + i - 1, b + j - 1, 1) != 0;
			unsigned best = diag + cost;
			best = up + 1 < best ? up + 1 : best;
			best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* How far a name may be from a peripheral's to be offered as meant: a typo. */
static unsigned
typo_distance(const char *name)
{
	return strlen(name) >= 6 ? 2 : 1;
}

/* The peripheral named name, or NULL; *best is the least distance to any other. */
static const struct svd_peripheral *
find_peripheral(const struct svd_peripherals *all, const char *name, unsigned *best)
{
	*best = ~0u;
	for (size_t i = 0; i < all->n; i++) {
		if (strcmp(all->items[i].name, name) == 0) {
			return &all->items[i];
		}
		unsigned d = distance(all->items[i].name, name);
		*best = d < *best ? d : *best;
	}
	return NULL;
}

/*
 * The names of the peripherals (with name, only those at distance near of it), ", " between
 * them, the last after " or " if or.
 */
static void
print_names(const struct svd_peripherals *all, const char *name, unsigned near, bool or)
{
	size_t total = 0;
	for (size_t i = 0; i < all->n; i++) {
		total += !name || distance(all->items[i].name, name) == near;
	}
	size_t n = 0;
	for (size_t i = 0; i < all->n; i++) {
		if (name && distance(all->items[i].name, name) != near) {
			continue;
		}
		if (n > 0) {
			fputs(or &&n + 1 == total ? " or " : ", ", stderr);
		}
		put_safe(all->items[i].name);
		n++;
	}
}

/* The peripheral --peripheral names, or the only one; NULL after telling why not. */
static const struct svd_peripheral *
pick(const struct invocation *inv, const char *path, const struct svd_peripherals *all, int *status)
{
	if (!inv->peripheral && all->n == 1) {
		return &all->items[0];
	}
	if (!inv->peripheral) {
		fputs("mmioctl: regmap import: ", stderr);
		put_safe(path);
		fprintf(stderr, " has %zu peripherals (", all->n);
		print_names(all, NULL, 0, false);
		fputs("): pick one with --peripheral NAME\nTry 'mmioctl regmap --help'.\n", stderr);
		*status = MMIOCTL_EXIT_USAGE;
		return NULL;
	}
	unsigned best;
	const struct svd_peripheral *p = find_peripheral(all, inv->peripheral, &best);
	if (!p) {
		fputs("mmioctl: regmap import: NOT_FOUND: no peripheral '", stderr);
		put_safe(inv->peripheral);
		fputs("' in ", stderr);
		put_safe(path);
		if (best <= typo_distance(inv->peripheral)) {
			fputs("\nmmioctl: hint: did you mean ", stderr);
			print_names(all, inv->peripheral, best, true);
			fputs("?\n", stderr);
		} else {
			fputs("\nmmioctl: hint: its peripherals: ", stderr);
			print_names(all, NULL, 0, false);
			fputc('\n', stderr);
		}
		*status = MMIOCTL_EXIT_FAILURE;
	}
	return p;
}

/* text with anything but printable ASCII as '?', into buf: safe in a comment line. */
static void
printable(const char *text, char *buf, size_t len)
{
	size_t n = 0;
	for (; text[n] && n + 1 < len; n++) {
		buf[n] = '?';
		if (text[n] >= 0x20 && text[n] < 0x7f) {
			buf[n] = text[n];
		}
	}
	buf[n] = '\0';
}

/* The comment the map starts with: where it came from. */
static void
make_header(xmlDoc *doc, const char *path, const char *peripheral, char *buf, size_t len)
{
	char device[REGMAP_MAX_NAME + 1] = "";
	char shown_device[REGMAP_MAX_NAME + 1];
	char shown_file[128];
	const char *slash = strrchr(path, '/');
	(void)svd_text(svd_child(xmlDocGetRootElement(doc), "name"), device, sizeof(device));
	printable(device, shown_device, sizeof(shown_device));
	printable(slash ? slash + 1 : path, shown_file, sizeof(shown_file));
	(void)snprintf(buf, len,
		       "Register map of peripheral %s of %s (%s), converted from CMSIS-SVD by\n"
		       "'mmioctl regmap import'. See mmiod-regmap(5).",
		       peripheral, shown_device[0] ? shown_device : "?", shown_file);
}

/* The map of the picked peripheral on stdout. */
static int
import(xmlDoc *doc, const char *path, const struct svd_peripheral *p)
{
	struct regmap *map = NULL;
	struct regmap_error err = {0};
	int rc = svd_import(p, print_warning, (void *)path, &map, &err);
	if (rc == -ENOMEM) {
		fputs("mmioctl: regmap import: out of memory\n", stderr);
		return MMIOCTL_EXIT_FAILURE;
	}
	if (rc < 0) {
		print_diagnostic(path, err.line, "", err.message);
		return MMIOCTL_EXIT_FAILURE;
	}
	char header[400];
	make_header(doc, path, p->name, header, sizeof(header));
	/* A failed write shows in stdout's error flag, which main() checks. */
	(void)regmap_write_yaml(stdout, map, header);
	regmap_free(map);
	return 0;
}

int
mmioctl_regmap(const struct invocation *inv)
{
	if (strcmp(inv->args[0], "import") != 0) {
		return mmioctl_usage_error(
			"regmap", "unknown subcommand '%s' (there is one: import)", inv->args[0]);
	}
	const char *path = inv->args[1];
	char msg[600];
	xmlDoc *doc = NULL;
	int rc = svd_xml_load(path, &doc, msg, sizeof(msg));
	if (rc < 0) {
		put_safe(rc == -ENOMEM ? "mmioctl: regmap import: out of memory" : msg);
		fputc('\n', stderr);
		return MMIOCTL_EXIT_FAILURE;
	}
	struct svd_peripherals all;
	struct regmap_error err = {0};
	rc = svd_list_peripherals(doc, &all, &err);
	int status = MMIOCTL_EXIT_FAILURE;
	if (rc == -EINVAL) {
		print_diagnostic(path, err.line, "", err.message);
	} else if (rc < 0) {
		fputs("mmioctl: regmap import: out of memory\n", stderr);
	} else {
		const struct svd_peripheral *p = pick(inv, path, &all, &status);
		if (p) {
			status = import(doc, path, p);
		}
		svd_peripherals_free(&all);
	}
	xmlFreeDoc(doc);
	return status;
}
