/* derivedFrom: views of SVD elements and the references between them; see svd_derive.h. */
#include "svd_derive.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svd_xml.h"

/* The most components of a dotted reference, and the longest name compared. */
#define MAX_PATH  8
#define NAME_SIZE 128

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

/* Whether the <name> of element node is name. */
static bool
named(const xmlNode *node, const char *name)
{
	char buf[NAME_SIZE];
	return svd_text(svd_child(node, "name"), buf, sizeof(buf)) == 0 && strcmp(buf, name) == 0;
}

/* Elements whose names make up a path: a peripheral's, a cluster's, a register's, a field's. */
static bool
path_element(const xmlNode *node)
{
	return svd_is(node, "peripheral") || svd_is(node, "cluster") || svd_is(node, "register") ||
	       svd_is(node, "field");
}

/* Whether the nearest path elements around node are named quals[n - 1], ..., quals[0]. */
static bool
path_matches(const xmlNode *node, char quals[][NAME_SIZE], unsigned n)
{
	const xmlNode *a = node->parent;
	for (unsigned k = n; k-- > 0;) {
		while (a && !path_element(a)) {
			a = a->parent;
		}
		if (!a || !named(a, quals[k])) {
			return false;
		}
		a = a->parent;
	}
	return true;
}

/* The next node after n in document order inside scope: n's children first if descend. */
static xmlNode *
walk_next(xmlNode *n, const xmlNode *scope, bool descend)
{
	if (descend && n->children) {
		return n->children;
	}
	while (n != scope) {
		if (n->next) {
			return n->next;
		}
		n = n->parent;
	}
	return NULL;
}

/*
 * Elements looked at to resolve derivedFrom in one document, at most: a hostile file (a long
 * list of registers, each derived from one at its far end) costs seconds, not hours.
 */
#define MAX_VISITS (32u << 20)

/* What one lookup asks for, and the document's running count of elements looked at. */
struct lookup {
	const xmlNode *self;
	const char *tag;
	char (*quals)[NAME_SIZE]; /* the path; its last is the name */
	unsigned n_quals;         /* of the path before the name */
	uintptr_t *visits;
};

/*
 * The first element under scope named as l asks, other than l->self, skipping the subtree of
 * skip (searched already). Only clusters hold their own kind: the inside of any other element
 * of the tag is not searched.
 */
static xmlNode *
find_in(xmlNode *scope, const xmlNode *skip, const struct lookup *l)
{
	bool nests = strcmp(l->tag, "cluster") == 0;
	xmlNode *n = scope->children;
	while (n && ++*l->visits <= MAX_VISITS) {
		bool same_tag = svd_is(n, l->tag);
		if (same_tag && n != l->self && named(n, l->quals[l->n_quals]) &&
		    path_matches(n, l->quals, l->n_quals)) {
			return n;
		}
		n = walk_next(n, scope, (!same_tag || nests) && n != skip);
	}
	return NULL;
}

/*
 * The element of tag named quals[n_quals] under path elements named quals[0..n_quals), nearest
 * to node first (from its parent out to the document), other than node; or NULL. The
 * document's count of elements looked at lives in its _private, as a number.
 */
static xmlNode *
find_nearest(xmlNode *node, const char *tag, char (*quals)[NAME_SIZE], unsigned n_quals)
{
	uintptr_t visits = (uintptr_t)node->doc->_private;
	const struct lookup l = {node, tag, quals, n_quals, &visits};
	const xmlNode *searched = node;
	xmlNode *found = NULL;
	for (xmlNode *scope = node->parent; scope && !found; scope = scope->parent) {
		if (scope->type == XML_ELEMENT_NODE) {
			found = find_in(scope, searched, &l);
			searched = scope;
		}
	}
	/* NOLINTNEXTLINE(performance-no-int-to-ptr): a count, kept where a pointer fits */
	node->doc->_private = (void *)visits;
	return found;
}

/*
 * The base of the peripheral named name, if it derives from a plain name (a peripheral's
 * derivedFrom is one; a dotted one is not followed here, so that two peripherals naming paths
 * through each other cannot send the lookup round for ever); else NULL.
 */
static xmlNode *
plain_base_peripheral(xmlNode *node, const char *name)
{
	char path[1][NAME_SIZE];
	snprintf(path[0], sizeof(path[0]), "%s", name);
	xmlNode *p = find_nearest(node, "peripheral", path, 0);
	xmlChar *ref = p ? xmlGetProp(p, (const xmlChar *)"derivedFrom") : NULL;
	const char *base = (const char *)ref;
	bool plain = base && base[0] && !strchr(base, '.') && strlen(base) < NAME_SIZE;
	if (plain) {
		snprintf(path[0], sizeof(path[0]), "%s", base);
	}
	xmlFree(ref);
	return plain ? find_nearest(p, "peripheral", path, 0) : NULL;
}

/* What node's derivedFrom names: the nearest match, from node's parent out to the document. */
static int
resolve(xmlNode *node, struct regmap_error *err, xmlNode **out)
{
	if (node->_private) {
		*out = node->_private; /* resolved before: views are made more than once */
		return 0;
	}
	const char *tag = (const char *)node->name;
	xmlChar *ref = xmlGetProp(node, (const xmlChar *)"derivedFrom");
	if (!ref) {
		return -ENOMEM;
	}
	char quals[MAX_PATH][NAME_SIZE];
	unsigned n = 0;
	bool ok = true;
	for (const char *p = (const char *)ref; ok;) {
		size_t len = strcspn(p, ".");
		ok = n < MAX_PATH && len > 0 && len < NAME_SIZE;
		if (ok) {
			memcpy(quals[n], p, len);
			quals[n++][len] = '\0';
		}
		if (!p[len]) {
			break;
		}
		p += len + 1;
	}
	int rc = 0;
	*out = NULL;
	if (!ok) {
		rc = fail(err, svd_line(node),
			  "derivedFrom=\"%.64s\" is not a name or a dotted path",
			  (const char *)ref);
	}
	if (rc == 0) {
		*out = find_nearest(node, tag, quals, n - 1);
	}
	/* A path through a peripheral that only derives names what it inherits: its base's. */
	for (unsigned hop = 0; rc == 0 && !*out && n > 1 && hop < SVD_MAX_DERIVE; hop++) {
		xmlNode *base = plain_base_peripheral(node, quals[0]);
		if (!base || svd_text(svd_child(base, "name"), quals[0], NAME_SIZE) < 0) {
			break;
		}
		*out = find_nearest(node, tag, quals, n - 1);
	}
	uintptr_t visits = (uintptr_t)node->doc->_private;
	if (rc == 0 && !*out) {
		rc = fail(
			err, svd_line(node),
			visits > MAX_VISITS
				? "derivedFrom=\"%.64s\": the file makes too many lookups (of a %s "
				  "and any more)"
				: "derivedFrom=\"%.64s\": no %s of that name",
			(const char *)ref, tag);
	}
	if (rc == 0) {
		node->_private = *out;
	}
	xmlFree(ref);
	return rc;
}

/* The message of a chain of derivedFrom from node that comes back to base. */
static int
loop(struct regmap_error *err, xmlNode *node, const xmlNode *base)
{
	xmlChar *ref = xmlGetProp(node, (const xmlChar *)"derivedFrom");
	const char *shown = ref ? (const char *)ref : "";
	int rc = base == node ? fail(err, svd_line(node),
				     "derivedFrom=\"%.64s\" leads back to itself: a loop", shown)
			      : fail(err, svd_line(node),
				     "derivedFrom=\"%.64s\" leads into a loop (through line %d)",
				     shown, svd_line(base));
	xmlFree(ref);
	return rc;
}

int
svd_view(xmlNode *node, struct svd_view *out, struct regmap_error *err)
{
	out->chain[0] = node;
	out->n = 1;
	while (xmlHasProp(out->chain[out->n - 1], (const xmlChar *)"derivedFrom")) {
		xmlNode *base = NULL;
		int rc = resolve(out->chain[out->n - 1], err, &base);
		if (rc < 0 || !base) {
			return rc < 0 ? rc : -EINVAL;
		}
		for (unsigned i = 0; i < out->n; i++) {
			if (out->chain[i] == base) {
				return loop(err, node, base);
			}
		}
		if (out->n == SVD_MAX_DERIVE) {
			return fail(err, svd_line(node), "derivedFrom more than %d deep",
				    SVD_MAX_DERIVE - 1);
		}
		out->chain[out->n++] = base;
	}
	return 0;
}

xmlNode *
svd_view_child(const struct svd_view *view, const char *tag)
{
	for (unsigned i = 0; i < view->n; i++) {
		xmlNode *c = svd_child(view->chain[i], tag);
		if (c) {
			return c;
		}
	}
	return NULL;
}

int
svd_view_text(const struct svd_view *view, const char *tag, char *buf, size_t len)
{
	const xmlNode *c = svd_view_child(view, tag);
	if (!c) {
		buf[0] = '\0';
		return -ENOENT;
	}
	return svd_text(c, buf, len);
}

static bool
tag_in(const xmlNode *n, const char *const *tags)
{
	for (size_t i = 0; tags[i]; i++) {
		if (svd_is(n, tags[i])) {
			return true;
		}
	}
	return false;
}

struct item_list {
	xmlNode **items;
	size_t n, cap;
};

static int
push(struct item_list *l, xmlNode *item)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointers, sized by element */
		xmlNode **grown = realloc(l->items, cap * sizeof(*grown));
		if (!grown) {
			return -ENOMEM;
		}
		l->items = grown;
		l->cap = cap;
	}
	l->items[l->n++] = item;
	return 0;
}

/* Lays the items of holder over l: same name replaces (in place), a new one is appended. */
static int
merge_level(struct item_list *l, const xmlNode *holder, const char *const *item_tags,
	    size_t inherited)
{
	for (xmlNode *c = holder->children; c; c = c->next) {
		if (!tag_in(c, item_tags)) {
			continue;
		}
		char name[NAME_SIZE];
		bool has_name = svd_text(svd_child(c, "name"), name, sizeof(name)) == 0 && name[0];
		size_t k = 0;
		/* Only what came from the base is replaced: two items of one level both stay. */
		for (; has_name && k < inherited; k++) {
			if (svd_is(l->items[k], (const char *)c->name) &&
			    named(l->items[k], name)) {
				break;
			}
		}
		if (has_name && k < inherited) {
			l->items[k] = c;
		} else if (push(l, c) < 0) {
			return -ENOMEM;
		}
	}
	return 0;
}

static const xmlNode *
holder_of(const xmlNode *element, const char *container)
{
	return container ? svd_child(element, container) : element;
}

static bool
has_items(const xmlNode *holder, const char *const *item_tags)
{
	for (const xmlNode *c = holder ? holder->children : NULL; c; c = c->next) {
		if (tag_in(c, item_tags)) {
			return true;
		}
	}
	return false;
}

int
svd_view_items(const struct svd_view *view, const char *container, const char *const *item_tags,
	       bool nearest, xmlNode ***items, size_t *n)
{
	struct item_list l = {0};
	unsigned from = view->n;
	if (nearest) {
		for (unsigned i = 0; i < view->n && from == view->n; i++) {
			if (has_items(holder_of(view->chain[i], container), item_tags)) {
				from = i;
			}
		}
	}
	/* From the base up: the element itself is laid over last. */
	for (unsigned i = view->n; i-- > 0;) {
		const xmlNode *holder = holder_of(view->chain[i], container);
		if (!holder || (nearest && i != from)) {
			continue;
		}
		if (merge_level(&l, holder, item_tags, l.n) < 0) {
			free(l.items);
			return -ENOMEM;
		}
	}
	*items = l.items;
	*n = l.n;
	return 0;
}
