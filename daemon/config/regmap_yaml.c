/*
 * The register map file, read with libfyaml. The document is walked by hand-written rules per
 * mapping: every key known, every value of its type (numbers are plain scalars read by
 * parse_u64, as everywhere in mmiod), no aliases, tags or second documents. Lines come from the
 * tokens' start marks (0-based there, 1-based here).
 */
#include "config/regmap_yaml.h"

#include <errno.h>
#include <libfyaml.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "parse.h"

struct ctx {
	const char *path;
	char *err;
	size_t errlen;
};

static int fail(const struct ctx *c, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(const struct ctx *c, int line, const char *fmt, ...)
{
	char msg[320];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)snprintf(c->err, c->errlen, "%s:%d: %s", c->path, line, msg);
	return -EINVAL;
}

/* The 1-based line where a node starts (a collection: its first scalar), or fallback. */
static int
node_line(struct fy_node *n, int fallback)
{
	for (int depth = 0; n && depth < 8; depth++) {
		if (fy_node_is_scalar(n)) {
			struct fy_token *t = fy_node_get_scalar_token(n);
			const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
			return m ? m->line + 1 : fallback;
		}
		void *it = NULL;
		if (fy_node_is_mapping(n)) {
			struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
			n = p ? fy_node_pair_key(p) : NULL;
		} else {
			n = fy_node_sequence_iterate(n, &it);
		}
	}
	return fallback;
}

/* One key: value of a mapping. */
struct entry {
	const char *key;
	struct fy_node *value; /* may be NULL: "key:" with nothing */
	int line;              /* of the key */
};

/* A node that is of no type here: aliases and tags are not part of the format. */
static int
check_plain_node(const struct ctx *c, struct fy_node *n, int line, const char *what)
{
	if (!n) {
		return fail(c, line, "%s has no value", what);
	}
	size_t len;
	if (fy_node_is_alias(n)) {
		return fail(c, line, "%s: aliases (*name) are not used in a map file", what);
	}
	if (fy_node_get_tag(n, &len)) {
		return fail(c, line, "%s: tags (!!type) are not used in a map file", what);
	}
	return 0;
}

/* A string value: any scalar style, at most max bytes, no NUL. */
static int
get_text(const struct ctx *c, const struct entry *e, size_t max, const char **text, size_t *len)
{
	int rc = check_plain_node(c, e->value, e->line, e->key);
	if (rc < 0) {
		return rc;
	}
	*text = fy_node_is_scalar(e->value) ? fy_node_get_scalar(e->value, len) : NULL;
	if (!*text) {
		return fail(c, e->line, "%s must be a string", e->key);
	}
	if (*len > max) {
		return fail(c, e->line, "%s is longer than %zu bytes", e->key, max);
	}
	if (memchr(*text, '\0', *len)) {
		return fail(c, e->line, "%s holds a NUL byte", e->key);
	}
	return 0;
}

/* A name into buf (REGMAP_MAX_NAME + 1 bytes); the rules of names are regmap_validate's. */
static int
get_name(const struct ctx *c, const struct entry *e, char *buf)
{
	const char *text = NULL;
	size_t len = 0;
	int rc = get_text(c, e, REGMAP_MAX_NAME, &text, &len);
	if (rc < 0 || !text) {
		return rc < 0 ? rc : -EINVAL;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	return 0;
}

static int
get_description(const struct ctx *c, const struct entry *e, char **out)
{
	const char *text = NULL;
	size_t len = 0;
	int rc = get_text(c, e, REGMAP_MAX_DESCRIPTION, &text, &len);
	if (rc < 0 || !text) {
		return rc < 0 ? rc : -EINVAL;
	}
	return regmap_set_text(out, text, len);
}

/* A plain scalar: decimal or 0x hex, no leading zero, no sign, 64 bits. */
static int
get_number(const struct ctx *c, struct fy_node *n, int line, const char *what, uint64_t *out)
{
	int rc = check_plain_node(c, n, line, what);
	if (rc < 0) {
		return rc;
	}
	size_t len = 0;
	const char *text = fy_node_is_scalar(n) && fy_node_get_style(n) == FYNS_PLAIN
				   ? fy_node_get_scalar(n, &len)
				   : NULL;
	char buf[32];
	if (!text || len >= sizeof(buf)) {
		return fail(c, line, "%s must be a number (decimal or 0x hex), not quoted", what);
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	rc = parse_u64(buf, out);
	if (rc == -ERANGE) {
		return fail(c, line, "%s %s does not fit 64 bits", what, buf);
	}
	if (rc < 0) {
		return fail(
			c, line,
			parse_leading_zero(buf)
				? "%s %s: a leading 0 is ambiguous (octal to some tools): write "
				  "it in 0x hex"
				: "%s %s is not a decimal or 0x hex number",
			what, buf);
	}
	return 0;
}

static int
get_bool(const struct ctx *c, const struct entry *e, bool *out)
{
	int rc = check_plain_node(c, e->value, e->line, e->key);
	if (rc < 0) {
		return rc;
	}
	size_t len = 0;
	const char *text = fy_node_is_scalar(e->value) && fy_node_get_style(e->value) == FYNS_PLAIN
				   ? fy_node_get_scalar(e->value, &len)
				   : NULL;
	if (text && len == 4 && memcmp(text, "true", 4) == 0) {
		*out = true;
	} else if (text && len == 5 && memcmp(text, "false", 5) == 0) {
		*out = false;
	} else {
		return fail(c, e->line, "%s must be true or false", e->key);
	}
	return 0;
}

static int
get_access(const struct ctx *c, const struct entry *e, enum regmap_access *out)
{
	int rc = check_plain_node(c, e->value, e->line, e->key);
	if (rc < 0) {
		return rc;
	}
	size_t len = 0;
	const char *text = fy_node_is_scalar(e->value) ? fy_node_get_scalar(e->value, &len) : NULL;
	char buf[8] = "";
	if (text && len < sizeof(buf)) {
		memcpy(buf, text, len);
		buf[len] = '\0';
	}
	int kind = text && len < sizeof(buf) ? regmap_access_parse(buf) : -1;
	if (kind < 0) {
		return fail(c, e->line,
			    "unknown access kind '%.*s': ro, wo, rw, w1c, w1s or rc (read clears)",
			    text ? (int)(len < 32 ? len : 32) : 0, text ? text : "");
	}
	*out = (enum regmap_access)kind;
	return 0;
}

/*
 * Reads mapping n's keys into entries[i] for the key named keys[i] (NULL-terminated); an
 * unknown key, a key that is not a plain string, or a node that is not a mapping fails.
 */
static int
read_mapping(const struct ctx *c, struct fy_node *n, int line, const char *what,
	     const char *const *keys, struct entry *entries)
{
	for (size_t i = 0; keys[i]; i++) {
		entries[i] = (struct entry){.key = keys[i], .line = line};
	}
	int rc = check_plain_node(c, n, line, what);
	if (rc < 0) {
		return rc;
	}
	if (!fy_node_is_mapping(n)) {
		return fail(c, line, "%s must be a mapping (key: value)", what);
	}
	void *it = NULL;
	struct fy_node_pair *p;
	while ((p = fy_node_mapping_iterate(n, &it))) {
		struct fy_node *k = fy_node_pair_key(p);
		int at = node_line(k, line);
		size_t len = 0;
		const char *name = k && fy_node_is_scalar(k) && !fy_node_is_alias(k)
					   ? fy_node_get_scalar(k, &len)
					   : NULL;
		size_t i = 0;
		for (; name && keys[i]; i++) {
			if (strlen(keys[i]) == len && memcmp(keys[i], name, len) == 0) {
				break;
			}
		}
		if (!name || !keys[i]) {
			char shown[40];
			(void)snprintf(shown, sizeof(shown), "%.*s",
				       name ? (int)(len < 32 ? len : 32) : 0, name ? name : "");
			char known[200] = "";
			for (size_t j = 0; keys[j]; j++) {
				size_t used = strlen(known);
				(void)snprintf(known + used, sizeof(known) - used, "%s%s",
					       j ? ", " : "", keys[j]);
			}
			return fail(c, at, "unknown key '%s' in %s (known: %s)", shown, what,
				    known);
		}
		entries[i].value = fy_node_pair_value(p);
		entries[i].line = at;
	}
	return 0;
}

/* "MSB:LSB" or "BIT", decimal without leading zeros, each below 64. */
static int
get_bits(const struct ctx *c, const struct entry *e, struct regmap_field *f)
{
	int rc = check_plain_node(c, e->value, e->line, e->key);
	if (rc < 0) {
		return rc;
	}
	size_t len = 0;
	const char *text = fy_node_is_scalar(e->value) ? fy_node_get_scalar(e->value, &len) : NULL;
	unsigned v[2] = {0, 0};
	unsigned n = 0;
	bool ok = text && len > 0 && len <= 5;
	for (size_t i = 0; ok && i < len && n < 2;) {
		size_t start = i;
		unsigned x = 0;
		for (; i < len && text[i] >= '0' && text[i] <= '9' && i - start < 2; i++) {
			x = x * 10 + (unsigned)(text[i] - '0');
		}
		ok = i > start && !(text[start] == '0' && i - start > 1) && x < 64;
		v[n++] = x;
		if (ok && i < len) {
			ok = text[i] == ':' && n == 1 && i + 1 < len;
			i++;
		}
	}
	if (!ok) {
		return fail(c, e->line,
			    "bits must be \"MSB:LSB\" or \"BIT\" (decimal, 0..63, MSB >= LSB)");
	}
	f->msb = v[0];
	f->lsb = n == 2 ? v[1] : v[0];
	if (f->msb < f->lsb) {
		return fail(c, e->line, "bits \"%u:%u\": MSB comes first, MSB >= LSB", f->msb,
			    f->lsb);
	}
	return 0;
}

static int
parse_values(const struct ctx *c, const struct entry *e, struct regmap_field *f)
{
	int rc = check_plain_node(c, e->value, e->line, "values");
	if (rc < 0) {
		return rc;
	}
	if (!fy_node_is_mapping(e->value)) {
		return fail(c, e->line, "values must be a mapping { NAME: number, ... }");
	}
	void *it = NULL;
	struct fy_node_pair *p;
	while ((p = fy_node_mapping_iterate(e->value, &it))) {
		struct fy_node *k = fy_node_pair_key(p);
		struct entry key = {
			.key = "a value's name", .value = k, .line = node_line(k, e->line)};
		struct regmap_value v = {.line = key.line};
		if ((rc = get_name(c, &key, v.name)) < 0 ||
		    (rc = get_number(c, fy_node_pair_value(p), key.line, v.name, &v.value)) < 0) {
			return rc;
		}
		rc = regmap_add_value(f, &v);
		if (rc == -E2BIG) {
			return fail(c, key.line, "at most %d values in a field", REGMAP_MAX_VALUES);
		}
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

enum { F_NAME, F_BITS, F_ACCESS, F_DESCRIPTION, F_VALUES, F_N };

static int
parse_field(const struct ctx *c, struct fy_node *n, int line, struct regmap_register *r)
{
	static const char *const keys[] = {"name", "bits", "access", "description", "values", NULL};
	struct entry e[F_N];
	int rc = read_mapping(c, n, line, "a field", keys, e);
	if (rc < 0) {
		return rc;
	}
	if (!e[F_NAME].value || !e[F_BITS].value) {
		return fail(c, line, "a field needs name and bits");
	}
	struct regmap_field *f;
	rc = regmap_add_field(r, &f);
	if (rc == -E2BIG) {
		return fail(c, line, "%s: at most %d fields in a register", r->name,
			    REGMAP_MAX_FIELDS);
	}
	if (rc < 0) {
		return rc;
	}
	f->line = line;
	if ((rc = get_name(c, &e[F_NAME], f->name)) < 0 || (rc = get_bits(c, &e[F_BITS], f)) < 0) {
		return rc;
	}
	if (e[F_ACCESS].value) {
		f->has_access = true;
		if ((rc = get_access(c, &e[F_ACCESS], &f->access)) < 0) {
			return rc;
		}
	}
	if (e[F_DESCRIPTION].value &&
	    (rc = get_description(c, &e[F_DESCRIPTION], &f->description)) < 0) {
		return rc;
	}
	return e[F_VALUES].value ? parse_values(c, &e[F_VALUES], f) : 0;
}

enum {
	R_NAME,
	R_OFFSET,
	R_ACCESS,
	R_RESET,
	R_DESCRIPTION,
	R_FIELDS,
	R_WIDTH,
	R_COUNT,
	R_STRIDE,
	R_SIDE_EFFECTS,
	R_WIDTHS,
	R_N
};

/* Register numbers that must fit an unsigned: width. */
static int
get_width(const struct ctx *c, const struct entry *e, unsigned *out)
{
	uint64_t v = 0;
	int rc = get_number(c, e->value, e->line, e->key, &v);
	if (rc < 0) {
		return rc;
	}
	if (v != 8 && v != 16 && v != 32 && v != 64) {
		return fail(c, e->line, "width %llu: a register is 8, 16, 32 or 64 bits",
			    (unsigned long long)v);
	}
	*out = (unsigned)v;
	return 0;
}

/* widths: [32] or [8, 32]: the access widths a register takes (regmap_validate: not wider). */
static int
get_widths(const struct ctx *c, const struct entry *e, struct regmap_register *r)
{
	int rc = check_plain_node(c, e->value, e->line, "widths");
	if (rc < 0) {
		return rc;
	}
	if (!fy_node_is_sequence(e->value) || fy_node_sequence_item_count(e->value) == 0) {
		return fail(c, e->line, "widths must be a list of bit widths: [32] or [8, 32]");
	}
	r->widths_line = e->line;
	void *it = NULL;
	struct fy_node *w;
	while ((w = fy_node_sequence_iterate(e->value, &it))) {
		uint64_t bits = 0;
		if ((rc = get_number(c, w, e->line, "widths", &bits)) < 0) {
			return rc;
		}
		if (bits != 8 && bits != 16 && bits != 32 && bits != 64) {
			return fail(c, e->line, "widths: %llu is not 8, 16, 32 or 64",
				    (unsigned long long)bits);
		}
		r->widths |= (unsigned)(bits / 8); /* 1, 2, 4, 8: core/regrules.h's bits */
	}
	return 0;
}

static int
parse_register(const struct ctx *c, struct fy_node *n, int line, struct regmap *map)
{
	static const char *const keys[] = {"name",        "offset",       "access", "reset",
					   "description", "fields",       "width",  "count",
					   "stride",      "side_effects", "widths", NULL};
	struct entry e[R_N];
	int rc = read_mapping(c, n, line, "a register", keys, e);
	if (rc < 0) {
		return rc;
	}
	if (!e[R_NAME].value || !e[R_OFFSET].value) {
		return fail(c, line, "a register needs name and offset");
	}
	struct regmap_register *r;
	rc = regmap_add_register(map, &r);
	if (rc == -E2BIG) {
		return fail(c, line, "at most %d registers in a map", REGMAP_MAX_REGISTERS);
	}
	if (rc < 0) {
		return rc;
	}
	r->line = line;
	r->offset_line = e[R_OFFSET].line;
	if ((rc = get_name(c, &e[R_NAME], r->name)) < 0 ||
	    (rc = get_number(c, e[R_OFFSET].value, e[R_OFFSET].line, "offset", &r->offset)) < 0) {
		return rc;
	}
	if (e[R_ACCESS].value) {
		r->has_access = true;
		if ((rc = get_access(c, &e[R_ACCESS], &r->access)) < 0) {
			return rc;
		}
	}
	if (e[R_RESET].value) {
		r->has_reset = true;
		r->reset_line = e[R_RESET].line;
		if ((rc = get_number(c, e[R_RESET].value, e[R_RESET].line, "reset", &r->reset)) <
		    0) {
			return rc;
		}
	}
	if (e[R_WIDTH].value) {
		r->width_line = e[R_WIDTH].line;
		if ((rc = get_width(c, &e[R_WIDTH], &r->width)) < 0) {
			return rc;
		}
	}
	if (e[R_COUNT].value) {
		r->count_line = e[R_COUNT].line;
		if ((rc = get_number(c, e[R_COUNT].value, e[R_COUNT].line, "count", &r->count)) <
		    0) {
			return rc;
		}
	}
	if (e[R_STRIDE].value &&
	    (rc = get_number(c, e[R_STRIDE].value, e[R_STRIDE].line, "stride", &r->stride)) < 0) {
		return rc;
	}
	if (r->count > 1 && !e[R_STRIDE].value) {
		return fail(c, e[R_COUNT].line, "%s: an array (count > 1) needs stride", r->name);
	}
	if (e[R_SIDE_EFFECTS].value &&
	    (rc = get_bool(c, &e[R_SIDE_EFFECTS], &r->side_effects)) < 0) {
		return rc;
	}
	if (e[R_DESCRIPTION].value &&
	    (rc = get_description(c, &e[R_DESCRIPTION], &r->description)) < 0) {
		return rc;
	}
	if (e[R_WIDTHS].value && (rc = get_widths(c, &e[R_WIDTHS], r)) < 0) {
		return rc;
	}
	struct fy_node *fields = e[R_FIELDS].value;
	if (!fields) {
		return 0;
	}
	if ((rc = check_plain_node(c, fields, e[R_FIELDS].line, "fields")) < 0) {
		return rc;
	}
	if (!fy_node_is_sequence(fields)) {
		return fail(c, e[R_FIELDS].line,
			    "fields must be a list (- { name: ..., bits: ... })");
	}
	void *it = NULL;
	struct fy_node *f;
	while ((f = fy_node_sequence_iterate(fields, &it))) {
		/* r may move when fields are added elsewhere; not here: one register at a time. */
		if ((rc = parse_field(c, f, node_line(f, e[R_FIELDS].line), r)) < 0) {
			return rc;
		}
	}
	return 0;
}

enum { M_NAME, M_WIDTH, M_REGISTERS, M_DESCRIPTION, M_N };

static int
parse_root(const struct ctx *c, struct fy_node *root, struct regmap *map)
{
	static const char *const keys[] = {"name", "width", "registers", "description", NULL};
	struct entry e[M_N];
	map->line = node_line(root, 1);
	int rc = read_mapping(c, root, map->line, "the map", keys, e);
	if (rc < 0) {
		return rc;
	}
	if (!e[M_NAME].value || !e[M_WIDTH].value || !e[M_REGISTERS].value) {
		return fail(c, map->line, "a map needs name, width and registers");
	}
	if ((rc = get_name(c, &e[M_NAME], map->name)) < 0 ||
	    (rc = get_width(c, &e[M_WIDTH], &map->width)) < 0) {
		return rc;
	}
	if (e[M_DESCRIPTION].value &&
	    (rc = get_description(c, &e[M_DESCRIPTION], &map->description)) < 0) {
		return rc;
	}
	struct fy_node *regs = e[M_REGISTERS].value;
	if ((rc = check_plain_node(c, regs, e[M_REGISTERS].line, "registers")) < 0) {
		return rc;
	}
	if (!fy_node_is_sequence(regs)) {
		return fail(c, e[M_REGISTERS].line, "registers must be a list (- name: ...)");
	}
	void *it = NULL;
	struct fy_node *r;
	while ((r = fy_node_sequence_iterate(regs, &it))) {
		if ((rc = parse_register(c, r, node_line(r, e[M_REGISTERS].line), map)) < 0) {
			return rc;
		}
	}
	return 0;
}

/* libfyaml's first error, as FILE:LINE: message. */
static int
yaml_error(const struct ctx *c, struct fy_diag *diag)
{
	void *it = NULL;
	struct fy_diag_error *e = diag ? fy_diag_errors_iterate(diag, &it) : NULL;
	if (!e) {
		(void)snprintf(c->err, c->errlen, "%s: not a YAML document", c->path);
		return -EINVAL;
	}
	return fail(c, e->line > 0 ? e->line : 1, "%s", e->msg ? e->msg : "YAML syntax error");
}

int
regmap_yaml_parse(const char *text, size_t len, const char *path, struct regmap **out, char *err,
		  size_t errlen)
{
	const struct ctx c = {.path = path, .err = err, .errlen = errlen};
	*out = NULL;
	if (!text) {
		text = "";
		len = 0;
	}
	if (len > REGMAP_MAX_FILE_BYTES) {
		(void)snprintf(err, errlen, "%s: over %u KiB: too big for a map file", path,
			       REGMAP_MAX_FILE_BYTES / 1024);
		return -EINVAL;
	}
	if (len && memchr(text, '\0', len)) {
		return fail(&c, 1, "a NUL byte: not a text file");
	}
	struct fy_diag_cfg dcfg;
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	struct fy_diag *diag = fy_diag_create(&dcfg);
	if (!diag) {
		return -ENOMEM;
	}
	fy_diag_set_collect_errors(diag, true);
	const struct fy_parse_cfg pcfg = {.flags = FYPCF_QUIET, .diag = diag};
	struct fy_parser *fyp = fy_parser_create(&pcfg);
	struct regmap *map = regmap_new();
	struct fy_document *doc = NULL;
	int rc = fyp && map ? 0 : -ENOMEM;
	if (rc == 0 && fy_parser_set_string(fyp, text, len) != 0) {
		rc = -ENOMEM;
	}
	if (rc == 0) {
		doc = fy_parse_load_document(fyp);
		if (!doc) {
			rc = fy_diag_got_error(diag) ? yaml_error(&c, diag)
						     : fail(&c, 1, "no map in the file");
		}
	}
	if (rc == 0) {
		struct fy_document *more = fy_parse_load_document(fyp);
		if (more || fy_diag_got_error(diag)) {
			int line = node_line(more ? fy_document_root(more) : NULL, 1);
			rc = more ? fail(&c, line, "one map per file: a second YAML document")
				  : yaml_error(&c, diag);
			fy_parse_document_destroy(fyp, more);
		}
	}
	if (rc == 0) {
		struct fy_node *root = fy_document_root(doc);
		rc = root ? parse_root(&c, root, map) : fail(&c, 1, "no map in the file");
	}
	if (rc == 0) {
		rc = regmap_yaml_check(path, map, 0, err, errlen);
	}
	fy_parse_document_destroy(fyp, doc);
	fy_parser_destroy(fyp);
	fy_diag_destroy(diag);
	if (rc < 0) {
		regmap_free(map);
		return rc;
	}
	*out = map;
	return 0;
}

int
regmap_yaml_check(const char *path, const struct regmap *map, uint64_t region_size, char *err,
		  size_t errlen)
{
	struct regmap_error e = {0};
	int rc = regmap_validate(map, region_size, &e);
	if (rc == -EINVAL) {
		(void)snprintf(err, errlen, "%s:%d: %s", path, e.line, e.message);
	}
	return rc;
}

/* All of path, at most REGMAP_MAX_FILE_BYTES + 1 bytes (one more tells it is too big). */
static int
read_file(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		return errno ? -errno : -EIO;
	}
	struct stat st;
	int rc = fstat(fileno(f), &st) == 0 ? 0 : -errno;
	if (rc == 0 && !S_ISREG(st.st_mode)) {
		rc = -EINVAL;
	}
	size_t cap = (size_t)REGMAP_MAX_FILE_BYTES + 1;
	char *buf = rc == 0 ? malloc(cap) : NULL;
	if (rc == 0 && !buf) {
		rc = -ENOMEM;
	}
	size_t n = 0;
	while (rc == 0 && n < cap) {
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			rc = ferror(f) ? -EIO : 0;
			break;
		}
	}
	(void)fclose(f); /* opened for reading: a failed close loses nothing */
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*text = buf;
	*len = n;
	return 0;
}

int
regmap_yaml_load(const char *path, struct regmap **out, char *err, size_t errlen)
{
	*out = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc = read_file(path, &text, &len);
	if (rc < 0) {
		(void)snprintf(err, errlen, "%s: %s", path,
			       rc == -EINVAL ? "not a regular file" : strerror(-rc));
		return rc == -ENOMEM ? -ENOMEM : -ENOENT;
	}
	rc = regmap_yaml_parse(text, len, path, out, err, errlen);
	free(text);
	return rc;
}
