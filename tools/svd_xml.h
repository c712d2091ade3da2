/*
 * A CMSIS-SVD file read with libxml2, as hostile input: no network, no DTD at all (a DOCTYPE
 * is refused before its declarations are read, so no entity is ever declared, expanded or
 * fetched: no XXE, no billion laughs), a capped size. And what the importer asks of an
 * element: its children by tag, their text, its line, and the SVD number syntax.
 */
#ifndef MMIOCTL_SVD_XML_H
#define MMIOCTL_SVD_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

/* The largest SVD file read: vendors' biggest are tens of MiB. */
#define SVD_MAX_FILE_BYTES (64u << 20)

/*
 * Parses len bytes of text (an SVD file; path only names it in messages) into *out (free with
 * xmlFreeDoc). 0, or -EINVAL with "path:line: message" in err (malformed XML, a DOCTYPE, too
 * big), -ENOMEM.
 */
int svd_xml_parse(const char *text, size_t len, const char *path, xmlDoc **out, char *err,
		  size_t errlen);

/*
 * svd_xml_parse() of the file at path: a regular file of at most SVD_MAX_FILE_BYTES. Also
 * -ENOENT with "path: why" in err when it cannot be read.
 */
int svd_xml_load(const char *path, xmlDoc **out, char *err, size_t errlen);

/* The line of an element, 0 if not known. */
int svd_line(const xmlNode *node);

/* Whether node is an element named tag. */
bool svd_is(const xmlNode *node, const char *tag);

/* The first child element of node named tag, or NULL. */
xmlNode *svd_child(const xmlNode *node, const char *tag);

/* The next sibling element after node named tag (NULL: none). */
xmlNode *svd_next(const xmlNode *node, const char *tag);

/*
 * The text of node (its text and CDATA children, nothing else), with leading and trailing
 * white space dropped, into buf. 0, or -E2BIG when it does not fit len - 1 bytes.
 */
int svd_text(const xmlNode *node, char *buf, size_t len);

/*
 * The text of node with every run of white space one blank, ends trimmed, and characters that
 * YAML cannot carry (controls, U+0080..U+009F, U+2028/9, U+FFFE/F) dropped; cut at a character
 * boundary to at most max bytes. NULL if out of memory. Free with free().
 */
char *svd_text_clean(const xmlNode *node, size_t max);

/*
 * An SVD number (scaledNonNegativeInteger without a scale letter): decimal, 0x hex, 0b or #
 * binary, an optional leading +. 0, -EINVAL or -ERANGE (over 64 bits).
 */
int svd_number(const char *text, uint64_t *out);

/*
 * An enumeratedValue's value: as svd_number(), but binary digits may be x (do not care): then
 * -EDOM, since such a value is not one number.
 */
int svd_enum_value(const char *text, uint64_t *out);

#endif
