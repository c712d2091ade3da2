/* The SVD file as libxml2 reads it, hardened; see svd_xml.h. */
#include "svd_xml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/parser.h>

/* What the parse met; the parser's _private while it runs. */
struct parse_state {
	int doctype_line; /* of a DOCTYPE refused; 0: none */
	int error_line;   /* of the first fatal error; 0: none */
	char error[200];
};

/*
 * The DOCTYPE's start: the parser stops here, before it reads a single declaration of the
 * internal subset or looks at the external one. SVD has no use for either.
 */
static void
refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id)
{
	(void)name;
	(void)external_id;
	(void)system_id;
	xmlParserCtxt *parser = ctx;
	struct parse_state *state = parser->_private;
	state->doctype_line = parser->input && parser->input->line > 0 ? parser->input->line : 1;
	xmlStopParser(parser);
}

/*
 * The first fatal error is the one to tell: later ones follow from it ("premature end of
 * data"). Lesser ones (an undeclared namespace prefix) leave a document that is read.
 */
static void
keep_first_error(void *ctx, xmlError *e)
{
	xmlParserCtxt *parser = ctx;
	struct parse_state *state = parser->_private;
	if (state->error_line || !e || e->level < XML_ERR_FATAL) {
		return;
	}
	const char *msg = e->message ? e->message : "not well-formed XML";
	size_t n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) {
		n--;
	}
	state->error_line = e->line > 0 ? e->line : 1;
	(void)snprintf(state->error, sizeof(state->error), "%.*s", (int)n, msg);
}

int
svd_xml_parse(const char *text, size_t len, const char *path, xmlDoc **out, char *err,
	      size_t errlen)
{
	*out = NULL;
	if (len > SVD_MAX_FILE_BYTES) {
		(void)snprintf(err, errlen, "%s: over %u MiB: too big for an SVD file", path,
			       SVD_MAX_FILE_BYTES >> 20);
		return -EINVAL;
	}
	xmlParserCtxt *parser = xmlNewParserCtxt();
	if (!parser || !parser->sax) {
		xmlFreeParserCtxt(parser);
		return -ENOMEM;
	}
	struct parse_state state = {0};
	parser->_private = &state;
	parser->sax->internalSubset = refuse_doctype;
	parser->sax->serror = keep_first_error;
	/*
	 * No XML_PARSE_NOENT, DTDLOAD, DTDATTR, XINCLUDE or HUGE: nothing is substituted, loaded
	 * or included, and libxml2's own limits (depth, text size) hold. BIG_LINES: line numbers
	 * past 65535 in messages. Errors come to keep_first_error, not stderr.
	 */
	const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
			    XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES;
	xmlDoc *doc = xmlCtxtReadMemory(parser, text ? text : "", (int)len, path, NULL, options);
	int rc = 0;
	if (state.doctype_line) {
		(void)snprintf(err, errlen,
			       "%s:%d: a DOCTYPE: SVD files have none, and its entities are not "
			       "read (refused)",
			       path, state.doctype_line);
		rc = -EINVAL;
	} else if (!doc) {
		(void)snprintf(err, errlen, "%s:%d: %s", path,
			       state.error_line ? state.error_line : 1,
			       state.error_line ? state.error : "not well-formed XML");
		rc = -EINVAL;
	}
	xmlFreeParserCtxt(parser);
	if (rc < 0) {
		xmlFreeDoc(doc);
		return rc;
	}
	*out = doc;
	return 0;
}

/* All of a regular file of at most SVD_MAX_FILE_BYTES; -EFBIG past that. */
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
	if (rc == 0 && st.st_size > (off_t)SVD_MAX_FILE_BYTES) {
		rc = -EFBIG;
	}
	/* One byte more than allowed tells a file that grew since fstat. */
	size_t cap = rc == 0 ? (size_t)st.st_size + 1 : 0;
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
	if (rc == 0 && n > SVD_MAX_FILE_BYTES) {
		rc = -EFBIG;
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
svd_xml_load(const char *path, xmlDoc **out, char *err, size_t errlen)
{
	*out = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc = read_file(path, &text, &len);
	if (rc == -EFBIG) {
		(void)snprintf(err, errlen, "%s: over %u MiB: too big for an SVD file", path,
			       SVD_MAX_FILE_BYTES >> 20);
		return -EINVAL;
	}
	if (rc < 0) {
		(void)snprintf(err, errlen, "%s: %s", path,
			       rc == -EINVAL ? "not a regular file" : strerror(-rc));
		return rc == -ENOMEM ? -ENOMEM : -ENOENT;
	}
	rc = svd_xml_parse(text, len, path, out, err, errlen);
	free(text);
	return rc;
}

int
svd_line(const xmlNode *node)
{
	long line = node ? xmlGetLineNo(node) : 0;
	return line > 0 && line <= INT32_MAX ? (int)line : 0;
}

bool
svd_is(const xmlNode *node, const char *tag)
{
	return node && node->type == XML_ELEMENT_NODE && strcmp((const char *)node->name, tag) == 0;
}

xmlNode *
svd_next(const xmlNode *node, const char *tag)
{
	for (xmlNode *n = node ? node->next : NULL; n; n = n->next) {
		if (svd_is(n, tag)) {
			return n;
		}
	}
	return NULL;
}

xmlNode *
svd_child(const xmlNode *node, const char *tag)
{
	for (xmlNode *n = node ? node->children : NULL; n; n = n->next) {
		if (svd_is(n, tag)) {
			return n;
		}
	}
	return NULL;
}

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Calls each(text, arg) for every text or CDATA child of node, in order; stops at non-zero. */
static int
each_text(const xmlNode *node, int (*each)(const char *text, void *arg), void *arg)
{
	for (const xmlNode *n = node ? node->children : NULL; n; n = n->next) {
		if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content) {
			int rc = each((const char *)n->content, arg);
			if (rc != 0) {
				return rc;
			}
		}
	}
	return 0;
}

struct text_buf {
	char *buf;
	size_t len, used;
};

static int
append_text(const char *text, void *arg)
{
	struct text_buf *t = arg;
	size_t n = strlen(text);
	if (n >= t->len - t->used) {
		return -E2BIG;
	}
	memcpy(t->buf + t->used, text, n + 1);
	t->used += n;
	return 0;
}

int
svd_text(const xmlNode *node, char *buf, size_t len)
{
	struct text_buf t = {buf, len, 0};
	buf[0] = '\0';
	int rc = each_text(node, append_text, &t);
	if (rc < 0) {
		return rc;
	}
	size_t start = 0;
	while (is_space((unsigned char)buf[start])) {
		start++;
	}
	size_t end = t.used;
	while (end > start && is_space((unsigned char)buf[end - 1])) {
		end--;
	}
	memmove(buf, buf + start, end - start);
	buf[end - start] = '\0';
	return 0;
}

/* A collapsed description being built: at most max bytes, a blank pending between words. */
struct clean_buf {
	char *buf;
	size_t max, used;
	bool blank;
	bool full;
};

/* The length of the UTF-8 sequence at s (valid: libxml2 checked it) and its code point. */
static size_t
utf8_next(const unsigned char *s, unsigned *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	unsigned v = s[0] & (0x7fu >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = 0xfffd; /* not UTF-8 after all: dropped below */
			return i;
		}
		v = (v << 6) | (s[i] & 0x3fu);
	}
	*cp = v;
	return n;
}

/* What YAML carries as is: the printable set of YAML 1.2 less the line and paragraph separators. */
static bool
yaml_printable(unsigned cp)
{
	return (cp >= 0x20 && cp < 0x7f) || cp == 0x85 || (cp >= 0xa0 && cp <= 0xd7ff) ||
	       (cp >= 0xe000 && cp <= 0xfffd && cp != 0xfeff) || (cp >= 0x10000 && cp <= 0x10ffff);
}

static int
append_clean(const char *text, void *arg)
{
	struct clean_buf *c = arg;
	const unsigned char *s = (const unsigned char *)text;
	while (*s && !c->full) {
		unsigned cp;
		size_t n = utf8_next(s, &cp);
		if (is_space(*s) || cp == 0x85 || cp == 0x2028 || cp == 0x2029) {
			c->blank = c->used > 0;
		} else if (yaml_printable(cp) && cp != 0xfffd) {
			size_t need = n + (c->blank ? 1 : 0);
			if (c->used + need > c->max) {
				c->full = true;
				break;
			}
			if (c->blank) {
				c->buf[c->used++] = ' ';
				c->blank = false;
			}
			memcpy(c->buf + c->used, s, n);
			c->used += n;
		}
		s += n;
	}
	return 0;
}

char *
svd_text_clean(const xmlNode *node, size_t max)
{
	struct clean_buf c = {malloc(max + 1), max, 0, false, false};
	if (!c.buf) {
		return NULL;
	}
	(void)each_text(node, append_clean, &c);
	c.buf[c.used] = '\0';
	return c.buf;
}

/* Digits of base at *p (x for do-not-care when dont_care), into *out. */
static int
parse_digits(const char *p, unsigned base, bool dont_care, uint64_t *out)
{
	if (!*p) {
		return -EINVAL;
	}
	uint64_t v = 0;
	bool any_x = false;
	for (; *p; p++) {
		unsigned d;
		char c = *p;
		if (c >= '0' && c <= '9') {
			d = (unsigned)(c - '0');
		} else if (base == 16 && c >= 'a' && c <= 'f') {
			d = (unsigned)(c - 'a' + 10);
		} else if (base == 16 && c >= 'A' && c <= 'F') {
			d = (unsigned)(c - 'A' + 10);
		} else if (base == 2 && dont_care && (c == 'x' || c == 'X')) {
			any_x = true;
			d = 0;
		} else {
			return -EINVAL;
		}
		if (d >= base) {
			return -EINVAL;
		}
		if (v > (UINT64_MAX - d) / base) {
			return -ERANGE;
		}
		v = v * base + d;
	}
	*out = v;
	return any_x ? -EDOM : 0;
}

static int
parse_svd_number(const char *text, bool dont_care, uint64_t *out)
{
	const char *p = text;
	if (*p == '+') {
		p++;
	}
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		return parse_digits(p + 2, 16, false, out);
	}
	if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) {
		return parse_digits(p + 2, 2, dont_care, out);
	}
	if (p[0] == '#') {
		return parse_digits(p + 1, 2, dont_care, out);
	}
	return parse_digits(p, 10, false, out);
}

int
svd_number(const char *text, uint64_t *out)
{
	return parse_svd_number(text, false, out);
}

int
svd_enum_value(const char *text, uint64_t *out)
{
	return parse_svd_number(text, true, out);
}
