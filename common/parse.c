#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#include "parse.h"

bool
parse_leading_zero(const char *text)
{
	return text && text[0] == '0' && isdigit((unsigned char)text[1]);
}

int
parse_u64(const char *text, uint64_t *out)
{
	/* strtoull accepts leading blanks and a minus sign; a register address must not. */
	if (!text || !isxdigit((unsigned char)text[0]) || parse_leading_zero(text)) {
		return -EINVAL;
	}
	int base = 10;
	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
		base = 16;
		if (!isxdigit((unsigned char)text[2])) {
			return -EINVAL;
		}
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, base);
	if (errno == ERANGE) {
		return -ERANGE;
	}
	if (*end != '\0' || errno != 0) {
		return -EINVAL;
	}
	*out = v;
	return 0;
}
