/* dim, dimIncrement and dimIndex of an SVD element; see svd_dim.h. */
#include "svd_dim.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svd_xml.h"

/* The longest dimIndex read: a name per instance, REGMAP_MAX_INSTANCES of them. */
#define MAX_INDEX_TEXT ((size_t)REGMAP_MAX_INSTANCES * 16)

static int fail(struct regmap_error *err, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(struct regmap_error *err, int line, const char *fmt, ...)
{
	err->line = line;
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A number child of the view: 0, -ENOENT, or -EINVAL with a message. */
static int
view_number(const struct svd_view *v, const char *tag, uint64_t *out, struct regmap_error *err)
{
	char text[64];
	int rc = svd_view_text(v, tag, text, sizeof(text));
	if (rc == -ENOENT) {
		return rc;
	}
	if (rc < 0 || svd_number(text, out) < 0) {
		return fail(err, svd_line(svd_view_child(v, tag)), "%s \"%.40s\" is not a number",
			    tag, text);
	}
	return 0;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* "3-6" or "A-D": the first index and how many; false if text is no range. */
static bool
range_of(const char *text, char *letter, uint64_t *first, uint64_t *n)
{
	const char *dash = strchr(text, '-');
	if (!dash || dash == text || strchr(dash + 1, '-')) {
		return false;
	}
	if (dash - text == 1 && text[0] >= 'A' && text[0] <= 'Z' && dash[1] >= text[0] &&
	    dash[1] <= 'Z' && !dash[2]) {
		*letter = text[0];
		*first = 0;
		*n = (uint64_t)(dash[1] - text[0]) + 1;
		return true;
	}
	char a[24];
	uint64_t last = 0;
	size_t alen = (size_t)(dash - text);
	if (alen >= sizeof(a)) {
		return false;
	}
	memcpy(a, text, alen);
	a[alen] = '\0';
	*letter = 0;
	if (svd_number(a, first) < 0 || svd_number(dash + 1, &last) < 0 || last < *first ||
	    last - *first >= REGMAP_MAX_INSTANCES) {
		return false;
	}
	*n = last - *first + 1;
	return true;
}

/* A range written out as count names of at most 20 digits each, into d. */
static int
write_range(struct svd_dim *d, char letter, uint64_t first)
{
	enum { SLOT = 24 };
	d->index = malloc((size_t)d->count * (size_t)SLOT);
	if (!d->index) {
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < d->count; i++) {
		char *slot = d->index + i * (uint64_t)SLOT;
		if (letter) {
			slot[0] = (char)(letter + (char)i);
			slot[1] = '\0';
		} else {
			(void)snprintf(slot, SLOT, "%" PRIu64, first + i);
		}
		d->names[i] = slot;
	}
	return 0;
}

/* A comma-separated list split in place into d's names, blanks around each dropped. */
static int
split_list(struct svd_dim *d, char *text, int line, struct regmap_error *err)
{
	uint64_t n = 0;
	for (char *p = text;; n++) {
		char *comma = strchr(p, ',');
		char *end = comma ? comma : p + strlen(p);
		while (is_space(*p)) {
			p++;
		}
		while (end > p && is_space(end[-1])) {
			end--;
		}
		if (end == p) {
			return fail(err, line, "dimIndex has an empty name");
		}
		if (n == d->count) {
			return fail(err, line, "dimIndex has more names than dim %llu",
				    (unsigned long long)d->count);
		}
		*end = '\0';
		d->names[n] = p;
		if (!comma) {
			n++;
			break;
		}
		p = comma + 1;
	}
	if (n != d->count) {
		return fail(err, line, "dimIndex has %llu names for dim %llu",
			    (unsigned long long)n, (unsigned long long)d->count);
	}
	return 0;
}

/* dimIndex as d->count names. */
static int
read_index(struct svd_dim *d, const xmlNode *node, struct regmap_error *err)
{
	int line = svd_line(node);
	char *text = malloc(MAX_INDEX_TEXT);
	if (!text) {
		return -ENOMEM;
	}
	int rc = 0;
	char letter = 0;
	uint64_t first = 0;
	uint64_t n = 0;
	if (svd_text(node, text, MAX_INDEX_TEXT) < 0) {
		rc = fail(err, line, "dimIndex is longer than %zu bytes", MAX_INDEX_TEXT - 1);
	} else if (range_of(text, &letter, &first, &n)) {
		rc = n == d->count
			     ? write_range(d, letter, first)
			     : fail(err, line, "dimIndex %s has %llu names for dim %llu", text,
				    (unsigned long long)n, (unsigned long long)d->count);
	} else {
		d->index = text;
		text = NULL;
		rc = split_list(d, d->index, line, err);
	}
	free(text);
	return rc;
}

int
svd_dim_read(const struct svd_view *v, const char *name, uint64_t max, struct svd_dim *out,
	     struct regmap_error *err)
{
	*out = (struct svd_dim){0};
	int rc = view_number(v, "dim", &out->count, err);
	if (rc == -ENOENT) {
		out->count = 0;
		return 0;
	}
	int line = svd_line(svd_view_child(v, "dim"));
	if (rc < 0) {
		return rc;
	}
	if (out->count == 0 || out->count > max) {
		return fail(err, line, "dim %llu: 1 to %llu instances",
			    (unsigned long long)out->count, (unsigned long long)max);
	}
	out->bracket = strstr(name, "[%s]") != NULL;
	if (!strstr(name, "%s")) {
		return fail(err, line, "dim %llu, but the name %s has no %%s",
			    (unsigned long long)out->count, name);
	}
	rc = view_number(v, "dimIncrement", &out->increment, err);
	if (rc == -ENOENT) {
		return fail(err, line, "dim without dimIncrement");
	}
	if (rc < 0) {
		return rc;
	}
	const xmlNode *index = svd_view_child(v, "dimIndex");
	if (!index) {
		return 0;
	}
	out->names = calloc((size_t)out->count, sizeof(*out->names));
	if (!out->names) {
		return -ENOMEM;
	}
	rc = read_index(out, index, err);
	if (rc < 0) {
		svd_dim_free(out);
	}
	return rc;
}

void
svd_dim_free(struct svd_dim *dim)
{
	free(dim->index);
	free(dim->names);
	*dim = (struct svd_dim){0};
}

int
svd_dim_subst(const char *tmpl, const char *with, char *out, size_t len)
{
	const char *at = strstr(tmpl, "[%s]");
	size_t skip = 4;
	if (!at) {
		at = strstr(tmpl, "%s");
		skip = 2;
	}
	if (!at) {
		at = tmpl + strlen(tmpl);
		skip = 0;
	}
	int n = snprintf(out, len, "%.*s%s%s", (int)(at - tmpl), tmpl, with, at + skip);
	return n >= 0 && (size_t)n < len ? 0 : -E2BIG;
}

int
svd_dim_name(const struct svd_dim *dim, const char *tmpl, uint64_t i, char *out, size_t len)
{
	char number[24];
	const char *index = dim->names ? dim->names[i] : number;
	if (!dim->names) {
		(void)snprintf(number, sizeof(number), "%" PRIu64, i);
	}
	return svd_dim_subst(tmpl, index, out, len);
}
