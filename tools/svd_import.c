/*
 * SVD to a register map: the device, its peripherals, clusters and registers. Fields and
 * their values are svd_fields.c's, access kinds svd_access.c's; registers that overlap are
 * svd_overlap.c's. An element the map cannot hold is left out with a warning.
 */
#include "svd_import.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svd_access.h"
#include "svd_derive.h"
#include "svd_dim.h"
#include "svd_fields.h"
#include "svd_overlap.h"
#include "svd_xml.h"

/* How deep clusters nest: beyond this, one is left out. */
#define MAX_CLUSTER_DEPTH 8

/* Longer than any name a map takes, so that an over-long one is seen and told. */
#define NAME_BUF 160

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

/* The register properties SVD hands down: device, peripheral, cluster, register. */
struct props {
	uint64_t size; /* bits; 0: not given */
	enum svd_access access;
	bool has_reset;
	uint64_t reset;
	int reset_line; /* of the resetValue element */
};

/* Where the registers of a cluster (or the peripheral) go in the map. */
struct place {
	char prefix[NAME_BUF]; /* put before each name: the clusters', "CH_" */
	uint64_t base;         /* added to each addressOffset */
	uint64_t count;        /* > 1: every register is an array of that many (a cluster array) */
	uint64_t stride;
};

struct import {
	struct regmap *map;
	struct svd_overlap overlap; /* what each register is for svd_overlap.c */
	uint64_t instances;         /* of the registers in the map, arrays counted whole */
	svd_warn_fn *warn;
	void *warn_arg;
	struct regmap_error *err;
};

/* Tells of an element left out: the message in *err, then why. */
static void
left_out(const struct import *imp)
{
	char msg[sizeof(imp->err->message) + 16];
	(void)snprintf(msg, sizeof(msg), "%s: left out", imp->err->message);
	imp->warn(imp->warn_arg, imp->err->line, msg);
}

/* Applies the properties the element of view v gives itself over p. */
static int
read_props(const struct svd_view *v, struct props *p, struct regmap_error *err)
{
	char text[64];
	const xmlNode *n = svd_view_child(v, "size");
	if (n && (svd_text(n, text, sizeof(text)) < 0 || svd_number(text, &p->size) < 0)) {
		return fail(err, svd_line(n), "size \"%.40s\" is not a number", text);
	}
	n = svd_view_child(v, "access");
	if (n) {
		int a = svd_text(n, text, sizeof(text)) == 0 ? svd_access_parse(text) : -1;
		if (a < 0) {
			return fail(err, svd_line(n),
				    "access \"%.40s\": not read-only, write-only, read-write, "
				    "writeOnce or read-writeOnce",
				    text);
		}
		p->access = (enum svd_access)a;
	}
	n = svd_view_child(v, "resetValue");
	if (n) {
		if (svd_text(n, text, sizeof(text)) < 0 || svd_number(text, &p->reset) < 0) {
			return fail(err, svd_line(n), "resetValue \"%.40s\" is not a number", text);
		}
		p->has_reset = true;
		p->reset_line = svd_line(n);
	}
	return 0;
}

/* A name child of the view, as given: "-ENOENT" when missing is an error here. */
static int
read_name(const struct svd_view *v, const char *what, char *buf, size_t len,
	  struct regmap_error *err)
{
	int rc = svd_view_text(v, "name", buf, len);
	if (rc == -ENOENT || (rc == 0 && !buf[0])) {
		return fail(err, svd_line(v->chain[0]), "a %s without a name", what);
	}
	if (rc < 0) {
		return fail(err, svd_line(v->chain[0]), "a %s name longer than %zu bytes", what,
			    len - 1);
	}
	return 0;
}

static int
read_offset(const struct svd_view *v, const char *what, const char *name, uint64_t base,
	    uint64_t *out, struct regmap_error *err)
{
	char text[64];
	const xmlNode *n = svd_view_child(v, "addressOffset");
	if (!n) {
		return fail(err, svd_line(v->chain[0]), "%s %s has no addressOffset", what, name);
	}
	uint64_t off = 0;
	if (svd_text(n, text, sizeof(text)) < 0 || svd_number(text, &off) < 0) {
		return fail(err, svd_line(n), "%s %s: addressOffset \"%.40s\" is not a number",
			    what, name, text);
	}
	if (off > UINT64_MAX - base) {
		return fail(err, svd_line(n), "%s %s: addressOffset past 2^64", what, name);
	}
	*out = base + off;
	return 0;
}

/* prefix + part into out, which must then be a map's register name. */
static int
full_name(const char *prefix, const char *part, char *out, size_t len, int line,
	  struct regmap_error *err)
{
	int n = snprintf(out, len, "%s%s", prefix, part);
	if (n < 0 || (size_t)n >= len || !regmap_name_valid(out)) {
		return fail(err, line,
			    "register name '%.80s%.80s' is not [A-Za-z_][A-Za-z0-9_]* of at most "
			    "%d",
			    prefix, part, REGMAP_MAX_NAME);
	}
	return 0;
}

/* The register's line in the SVD file: its own element's. */
static int
view_line(const struct svd_view *v)
{
	return svd_line(v->chain[0]);
}

/* Removes the map's last register (one just added that is left out). */
static void
drop_last(struct regmap *map)
{
	struct regmap_register *r = &map->registers[--map->n_registers];
	for (unsigned j = 0; j < r->n_fields; j++) {
		free(r->fields[j].description);
		free(r->fields[j].values);
	}
	free(r->fields);
	free(r->description);
}

/* Checks the register just added on its own (all of regmap_validate but across registers). */
static int
check_alone(const struct import *imp, struct regmap_register *r)
{
	struct regmap alone = *imp->map;
	alone.registers = r;
	alone.n_registers = 1;
	alone.cap_registers = 1;
	int rc = regmap_validate(&alone, 0, imp->err);
	if (rc == -EINVAL) {
		return rc;
	}
	for (unsigned i = 0; rc == 0 && i + 1 < imp->map->n_registers; i++) {
		const struct regmap_register *o = &imp->map->registers[i];
		if (strcmp(o->name, r->name) == 0) {
			rc = fail(imp->err, r->line, "register %s named twice (line %d)", r->name,
				  o->line);
		}
	}
	return rc;
}

/* Fills register r from view v; its name and place are set. */
static int
fill_register(struct import *imp, struct regmap_register *r, const struct svd_view *v,
	      const struct props *p)
{
	int line = view_line(v);
	unsigned width = (unsigned)p->size;
	r->width = width == imp->map->width ? 0 : width;
	struct svd_kind kind;
	int rc = svd_kind_read(v, p->access, &kind, imp->err);
	if (rc < 0) {
		return rc;
	}
	if (kind.warning[0]) {
		imp->warn(imp->warn_arg, line, kind.warning);
	}
	r->has_access = kind.access != REGMAP_RW;
	r->access = kind.access;
	r->side_effects = kind.side_effects;
	if (p->has_reset) {
		uint64_t mask = width >= 64 ? UINT64_MAX : (UINT64_C(1) << width) - 1;
		r->has_reset = true;
		r->reset = p->reset & mask;
		r->reset_line = p->reset_line;
	}
	char *text = svd_text_clean(svd_view_child(v, "description"), REGMAP_MAX_DESCRIPTION);
	if (!text) {
		return -ENOMEM;
	}
	if (text[0]) {
		r->description = text;
	} else {
		free(text);
	}
	struct svd_field_ctx fc = {
		.reg = r,
		.width = width,
		.reg_svd_access = p->access,
		.warn = imp->warn,
		.warn_arg = imp->warn_arg,
	};
	return svd_fields_read(&fc, v, imp->err);
}

/*
 * One register of the map: view v named name (prefix included) at offset, count instances
 * stride apart. -EINVAL: left out, told in *err.
 */
static int
add_register(struct import *imp, const struct svd_view *v, const struct props *inherited,
	     const char *name, uint64_t offset, uint64_t count, uint64_t stride)
{
	struct props p = *inherited;
	int line = view_line(v);
	int rc = read_props(v, &p, imp->err);
	if (rc < 0) {
		return rc;
	}
	if (p.size != 8 && p.size != 16 && p.size != 32 && p.size != 64) {
		return fail(imp->err, line,
			    "register %s: size %llu: a map's registers are 8, 16, "
			    "32 or 64 bits",
			    name, (unsigned long long)p.size);
	}
	if (p.has_reset && p.size < 64 && p.reset >> p.size && svd_view_child(v, "resetValue")) {
		/* Its own reset value is cut (one handed down to narrower registers silently). */
		imp->warn(imp->warn_arg, p.reset_line,
			  "resetValue does not fit the register's size: its low bits are kept");
	}
	struct regmap_register *r;
	rc = regmap_add_register(imp->map, &r);
	if (rc == -E2BIG) {
		return -E2BIG;
	}
	if (rc < 0) {
		return rc;
	}
	(void)snprintf(r->name, sizeof(r->name), "%s", name);
	r->line = line;
	r->offset = offset;
	r->count = count;
	r->stride = count > 1 ? stride : 0;
	const xmlNode *off = svd_view_child(v, "addressOffset");
	r->offset_line = off ? svd_line(off) : line;
	rc = fill_register(imp, r, v, &p);
	if (rc == 0) {
		rc = check_alone(imp, r);
	}
	if (rc == 0 && count > REGMAP_MAX_INSTANCES - imp->instances) {
		rc = fail(imp->err, line,
			  "register %s: more than %d registers with all array "
			  "instances in the map",
			  name, REGMAP_MAX_INSTANCES);
	}
	if (rc == 0) {
		rc = svd_overlap_add(&imp->overlap, svd_view_child(v, "alternateRegister") ||
							    svd_view_child(v, "alternateGroup"));
	}
	if (rc < 0) {
		drop_last(imp->map);
		return rc;
	}
	imp->instances += count;
	return 0;
}

/*
 * The map name of a register: prefix, then the template with "[%s]" dropped (i is
 * NO_INSTANCE) or the name of instance i put in.
 */
#define NO_INSTANCE UINT64_MAX
static int
register_name(const struct import *imp, const struct place *at, const struct svd_dim *dim,
	      const char *tmpl, uint64_t i, char *name, int line)
{
	char part[NAME_BUF];
	int rc = i == NO_INSTANCE ? svd_dim_subst(tmpl, "", part, sizeof(part))
				  : svd_dim_name(dim, tmpl, i, part, sizeof(part));
	if (rc < 0) {
		return fail(imp->err, line, "register name %.80s: longer than %d", tmpl,
			    REGMAP_MAX_NAME);
	}
	return full_name(at->prefix, part, name, NAME_BUF, line, imp->err);
}

/* A register element at place at: one register, an array, or (%s) one per index. */
static int
read_register(struct import *imp, const struct svd_view *v, const struct props *props,
	      const struct place *at)
{
	char tmpl[NAME_BUF];
	uint64_t offset = 0;
	int rc = read_name(v, "register", tmpl, sizeof(tmpl), imp->err);
	if (rc == 0) {
		rc = read_offset(v, "register", tmpl, at->base, &offset, imp->err);
	}
	struct svd_dim dim = {0};
	if (rc == 0) {
		rc = svd_dim_read(v, tmpl, REGMAP_MAX_INSTANCES, &dim, imp->err);
	}
	if (rc < 0) {
		return rc;
	}
	char name[NAME_BUF];
	int line = view_line(v);
	if (dim.count == 0 || dim.bracket) {
		/* Inside a cluster array a register has no dim (arrayable()). */
		rc = register_name(imp, at, &dim, tmpl, NO_INSTANCE, name, line);
		if (rc == 0) {
			rc = add_register(imp, v, props, name, offset,
					  dim.count ? dim.count : at->count,
					  dim.count ? dim.increment : at->stride);
		}
		svd_dim_free(&dim);
		return rc;
	}
	for (uint64_t i = 0; i < dim.count && (rc == 0 || rc == -EINVAL); i++) {
		if (rc == -EINVAL) {
			left_out(imp);
		}
		rc = register_name(imp, at, &dim, tmpl, i, name, line);
		if (rc == 0 && dim.increment && i > (UINT64_MAX - offset) / dim.increment) {
			rc = fail(imp->err, line, "register %s: past 2^64", name);
		}
		if (rc == 0) {
			rc = add_register(imp, v, props, name, offset + i * dim.increment,
					  at->count, at->stride);
		}
	}
	svd_dim_free(&dim);
	return rc;
}

static int read_items(struct import *imp, const struct svd_view *holder, const char *container,
		      const struct props *props, const struct place *at, unsigned depth);

/* Whether a cluster array can make each of its registers an array: plain registers only. */
static bool
arrayable(const struct svd_view *cluster)
{
	static const char *const tags[] = {"register", "cluster", NULL};
	xmlNode **items = NULL;
	size_t n = 0;
	if (svd_view_items(cluster, NULL, tags, false, &items, &n) < 0) {
		return false;
	}
	bool ok = n > 0;
	for (size_t i = 0; ok && i < n; i++) {
		struct svd_view v;
		struct regmap_error ignored;
		ok = svd_is(items[i], "register") && svd_view(items[i], &v, &ignored) == 0 &&
		     !svd_view_child(&v, "dim");
	}
	free(items);
	return ok;
}

/* The prefix of the registers in a cluster (or instance) named part: OUTER_PART_. */
static int
cluster_prefix(const struct place *at, const char *part, struct place *next)
{
	int n = snprintf(next->prefix, sizeof(next->prefix), "%s%s_", at->prefix, part);
	return n >= 0 && (size_t)n < sizeof(next->prefix) ? 0 : -E2BIG;
}

/* NOLINTBEGIN(misc-no-recursion): clusters nest, at most MAX_CLUSTER_DEPTH deep */

/* A cluster's registers with prefix and base of instance (or array) next. */
static int
read_cluster_at(struct import *imp, const struct svd_view *v, const struct props *p,
		const struct place *next, unsigned depth)
{
	if (strlen(next->prefix) > REGMAP_MAX_NAME) {
		return fail(imp->err, view_line(v), "cluster %.80s: names longer than %d",
			    next->prefix, REGMAP_MAX_NAME);
	}
	return read_items(imp, v, NULL, p, next, depth + 1);
}

/*
 * A cluster, flattened: its registers named CLUSTER_REG at the cluster's offset plus theirs.
 * An array CL[%s] of plain registers makes each an array CL_REG[i]; any other array of
 * clusters is written out, CL0_REG, CL1_REG, ...
 */
static int
read_cluster(struct import *imp, const struct svd_view *v, const struct props *props,
	     const struct place *at, unsigned depth)
{
	char tmpl[NAME_BUF];
	uint64_t offset = 0;
	int line = view_line(v);
	if (depth >= MAX_CLUSTER_DEPTH) {
		return fail(imp->err, line, "clusters nested more than %d deep", MAX_CLUSTER_DEPTH);
	}
	struct props p = *props;
	int rc = read_name(v, "cluster", tmpl, sizeof(tmpl), imp->err);
	if (rc == 0) {
		rc = read_offset(v, "cluster", tmpl, at->base, &offset, imp->err);
	}
	if (rc == 0) {
		rc = read_props(v, &p, imp->err);
	}
	struct svd_dim dim = {0};
	if (rc == 0) {
		rc = svd_dim_read(v, tmpl, REGMAP_MAX_INSTANCES, &dim, imp->err);
	}
	if (rc < 0) {
		return rc;
	}
	struct place next = *at;
	next.base = offset;
	char part[NAME_BUF];
	if (dim.count == 0 || (dim.bracket && at->count == 1 && arrayable(v))) {
		if (dim.count) {
			next.count = dim.count;
			next.stride = dim.increment;
		}
		rc = svd_dim_subst(tmpl, "", part, sizeof(part));
		rc = rc == 0 ? cluster_prefix(at, part, &next) : rc;
		rc = rc == 0 ? read_cluster_at(imp, v, &p, &next, depth)
			     : fail(imp->err, line, "cluster name %.80s too long", tmpl);
		svd_dim_free(&dim);
		return rc;
	}
	for (uint64_t i = 0; i < dim.count && (rc == 0 || rc == -EINVAL); i++) {
		if (rc == -EINVAL) {
			left_out(imp);
		}
		rc = svd_dim_name(&dim, tmpl, i, part, sizeof(part));
		rc = rc == 0 ? cluster_prefix(at, part, &next) : rc;
		if (rc == 0 && dim.increment && i > (UINT64_MAX - offset) / dim.increment) {
			rc = fail(imp->err, line, "cluster %s: past 2^64", part);
		}
		if (rc == 0) {
			next.base = offset + i * dim.increment;
			rc = read_cluster_at(imp, v, &p, &next, depth);
		} else if (rc == -E2BIG) {
			rc = fail(imp->err, line, "cluster name %.80s too long", tmpl);
		}
	}
	svd_dim_free(&dim);
	return rc;
}

/*
 * The registers and clusters of holder (a peripheral's <registers>, a cluster itself). An
 * element that fails with -EINVAL is left out and told; anything else ends the import.
 */
static int
read_items(struct import *imp, const struct svd_view *holder, const char *container,
	   const struct props *props, const struct place *at, unsigned depth)
{
	static const char *const tags[] = {"register", "cluster", NULL};
	xmlNode **items = NULL;
	size_t n = 0;
	int rc = svd_view_items(holder, container, tags, false, &items, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct svd_view v;
		rc = svd_view(items[i], &v, imp->err);
		if (rc == 0 && svd_is(items[i], "register")) {
			rc = read_register(imp, &v, props, at);
		} else if (rc == 0) {
			rc = read_cluster(imp, &v, props, at, depth);
		}
		if (rc == -EINVAL) {
			left_out(imp);
			rc = 0;
		}
	}
	free(items);
	if (rc == -E2BIG) {
		rc = fail(imp->err, svd_line(holder->chain[0]),
			  "more than %d registers: a map holds no more", REGMAP_MAX_REGISTERS);
	}
	return rc;
}

/* NOLINTEND(misc-no-recursion) */

/* The name of instance i of a peripheral array, or the peripheral's. */
static int
add_peripheral(struct svd_peripherals *list, size_t *cap, xmlNode *node, const char *name,
	       struct regmap_error *err)
{
	if (list->n == *cap) {
		size_t want = *cap ? *cap * 2 : 16;
		struct svd_peripheral *grown = realloc(list->items, want * sizeof(*grown));
		if (!grown) {
			return -ENOMEM;
		}
		list->items = grown;
		*cap = want;
	}
	struct svd_peripheral *p = &list->items[list->n];
	if (strlen(name) > REGMAP_MAX_NAME) {
		return fail(err, svd_line(node), "peripheral name %.80s... longer than %d", name,
			    REGMAP_MAX_NAME);
	}
	(void)snprintf(p->name, sizeof(p->name), "%s", name);
	p->node = node;
	p->line = svd_line(node);
	list->n++;
	return 0;
}

/* One <peripheral>: itself, or each instance of its dim. */
static int
list_peripheral(struct svd_peripherals *list, size_t *cap, xmlNode *node, struct regmap_error *err)
{
	struct svd_view v = {.chain = {node}, .n = 1}; /* a peripheral's own dim and name */
	char tmpl[NAME_BUF];
	int rc = read_name(&v, "peripheral", tmpl, sizeof(tmpl), err);
	struct svd_dim dim = {0};
	if (rc == 0) {
		rc = svd_dim_read(&v, tmpl, REGMAP_MAX_REGISTERS, &dim, err);
	}
	if (rc == 0 && dim.count == 0) {
		rc = add_peripheral(list, cap, node, tmpl, err);
	}
	for (uint64_t i = 0; rc == 0 && i < dim.count; i++) {
		char name[NAME_BUF];
		rc = svd_dim_name(&dim, tmpl, i, name, sizeof(name));
		rc = rc == 0 ? add_peripheral(list, cap, node, name, err)
			     : fail(err, svd_line(node), "peripheral name %.80s too long", tmpl);
	}
	svd_dim_free(&dim);
	return rc;
}

int
svd_list_peripherals(xmlDoc *doc, struct svd_peripherals *out, struct regmap_error *err)
{
	*out = (struct svd_peripherals){0};
	xmlNode *root = xmlDocGetRootElement(doc);
	if (!svd_is(root, "device")) {
		return fail(err, root ? svd_line(root) : 1,
			    "not a CMSIS-SVD file: the root element is <%.40s>, not <device>",
			    root ? (const char *)root->name : "");
	}
	char text[64];
	const xmlNode *unit = svd_child(root, "addressUnitBits");
	uint64_t bits = 8;
	if (unit &&
	    (svd_text(unit, text, sizeof(text)) < 0 || svd_number(text, &bits) < 0 || bits != 8)) {
		return fail(err, svd_line(unit),
			    "addressUnitBits %.40s: only byte-addressed devices (8) are mapped",
			    text);
	}
	const xmlNode *all = svd_child(root, "peripherals");
	xmlNode *p = svd_child(all, "peripheral");
	if (!p) {
		return fail(err, svd_line(all ? all : root), "no peripherals in the file");
	}
	size_t cap = 0;
	int rc = 0;
	for (; p && rc == 0; p = svd_next(p, "peripheral")) {
		rc = list_peripheral(out, &cap, p, err);
	}
	if (rc < 0) {
		svd_peripherals_free(out);
	}
	return rc;
}

void
svd_peripherals_free(struct svd_peripherals *list)
{
	free(list->items);
	*list = (struct svd_peripherals){0};
}

/* The map itself: name, width, description, from the peripheral and what it derives from. */
static int
start_map(struct import *imp, const struct svd_peripheral *per, const struct svd_view *v,
	  struct props *p)
{
	xmlNode *root = xmlDocGetRootElement(per->node->doc);
	struct svd_view device = {.chain = {root}, .n = 1};
	int rc = read_props(&device, p, imp->err);
	if (rc == 0) {
		rc = read_props(v, p, imp->err);
	}
	if (rc < 0) {
		return rc;
	}
	if (p->size == 0) {
		p->size = 32; /* what SVD tools assume when neither gives one */
	}
	if (p->size != 8 && p->size != 16 && p->size != 32 && p->size != 64) {
		return fail(imp->err, per->line,
			    "peripheral %s: size %llu: a map's width is 8, 16, 32 or 64 bits",
			    per->name, (unsigned long long)p->size);
	}
	if (!regmap_name_valid(per->name)) {
		return fail(imp->err, per->line,
			    "peripheral name '%s' is not [A-Za-z_][A-Za-z0-9_]*: not a map name",
			    per->name);
	}
	(void)snprintf(imp->map->name, sizeof(imp->map->name), "%s", per->name);
	imp->map->width = (unsigned)p->size;
	imp->map->line = per->line;
	char *text = svd_text_clean(svd_view_child(v, "description"), REGMAP_MAX_DESCRIPTION);
	if (!text) {
		return -ENOMEM;
	}
	if (text[0]) {
		imp->map->description = text;
	} else {
		free(text);
	}
	return 0;
}

int
svd_import(const struct svd_peripheral *per, svd_warn_fn *warn, void *arg, struct regmap **out,
	   struct regmap_error *err)
{
	*out = NULL;
	struct import imp = {.map = regmap_new(), .warn = warn, .warn_arg = arg, .err = err};
	if (!imp.map) {
		return -ENOMEM;
	}
	struct svd_view v;
	struct props p = {.access = SVD_READ_WRITE};
	int rc = svd_view(per->node, &v, err);
	if (rc == 0) {
		rc = start_map(&imp, per, &v, &p);
	}
	if (rc == 0) {
		const struct place top = {.prefix = "", .base = 0, .count = 1, .stride = 0};
		rc = read_items(&imp, &v, "registers", &p, &top, 0);
	}
	if (rc == 0) {
		rc = svd_overlap_resolve(&imp.overlap, imp.map, warn, arg);
	}
	if (rc == 0 && imp.map->n_registers == 0) {
		rc = fail(err, per->line, "peripheral %s: no registers%s", per->name,
			  svd_view_child(&v, "registers") ? " left" : "");
	}
	if (rc == 0) {
		rc = regmap_validate(imp.map, 0, err);
	}
	svd_overlap_free(&imp.overlap);
	if (rc < 0) {
		regmap_free(imp.map);
		return rc;
	}
	*out = imp.map;
	return 0;
}
