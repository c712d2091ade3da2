/* Access kinds from SVD; see svd_access.h. */
#include "svd_access.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "svd_xml.h"

static const char *const access_names[] = {
	[SVD_READ_WRITE] = "read-write",          [SVD_READ_ONLY] = "read-only",
	[SVD_WRITE_ONLY] = "write-only",          [SVD_WRITE_ONCE] = "writeOnce",
	[SVD_READ_WRITE_ONCE] = "read-writeOnce",
};

int
svd_access_parse(const char *text)
{
	for (size_t i = 0; i < sizeof(access_names) / sizeof(access_names[0]); i++) {
		if (strcmp(text, access_names[i]) == 0) {
			return (int)i;
		}
	}
	return -1;
}

static enum regmap_access
plain_kind(enum svd_access a)
{
	switch (a) {
	case SVD_READ_ONLY:
		return REGMAP_RO;
	case SVD_WRITE_ONLY:
	case SVD_WRITE_ONCE:
		return REGMAP_WO;
	case SVD_READ_WRITE:
	case SVD_READ_WRITE_ONCE:
	default:
		return REGMAP_RW;
	}
}

/* The text of a child of the view: "" when there is none. -EINVAL when too long. */
static int
child_text(const struct svd_view *v, const char *tag, char *buf, size_t len,
	   struct regmap_error *err)
{
	int rc = svd_view_text(v, tag, buf, len);
	if (rc == -E2BIG) {
		err->line = svd_line(svd_view_child(v, tag));
		(void)snprintf(err->message, sizeof(err->message), "%s is too long", tag);
		return -EINVAL;
	}
	return 0;
}

int
svd_kind_read(const struct svd_view *v, enum svd_access inherited, struct svd_kind *out,
	      struct regmap_error *err)
{
	char access[32];
	char write[32];
	char read[32];
	int rc = child_text(v, "access", access, sizeof(access), err);
	if (rc == 0) {
		rc = child_text(v, "modifiedWriteValues", write, sizeof(write), err);
	}
	if (rc == 0) {
		rc = child_text(v, "readAction", read, sizeof(read), err);
	}
	if (rc < 0) {
		return rc;
	}
	enum svd_access a = inherited;
	if (access[0]) {
		int parsed = svd_access_parse(access);
		if (parsed < 0) {
			err->line = svd_line(svd_view_child(v, "access"));
			(void)snprintf(err->message, sizeof(err->message),
				       "access \"%s\": not read-only, write-only, read-write, "
				       "writeOnce or read-writeOnce",
				       access);
			return -EINVAL;
		}
		a = (enum svd_access)parsed;
	}
	*out = (struct svd_kind){.access = plain_kind(a)};
	out->side_effects = read[0] && strcmp(read, "clear") != 0;
	if (strcmp(read, "clear") == 0) {
		out->access = REGMAP_RC;
	} else if (strcmp(write, "oneToClear") == 0) {
		out->access = REGMAP_W1C;
	} else if (strcmp(write, "oneToSet") == 0) {
		out->access = REGMAP_W1S;
	} else if (write[0] && strcmp(write, "modify") != 0) {
		(void)snprintf(out->warning, sizeof(out->warning),
			       "modifiedWriteValues %s has no kind in a map: taken as %s", write,
			       regmap_access_name(out->access));
	}
	return 0;
}

bool
svd_kind_given(const struct svd_view *v)
{
	return svd_view_child(v, "access") || svd_view_child(v, "modifiedWriteValues") ||
	       svd_view_child(v, "readAction");
}
