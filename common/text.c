#include <stdint.h>
#include <string.h>

#include "text.h"

char *
text_copy_printable(char *dst, size_t cap, const char *src)
{
	size_t i = 0;
	for (; src[i] && i + 1 < cap; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = src[i];
		if (c < 0x20 || c >= 0x7f) {
			dst[i] = '?';
		}
	}
	dst[i] = '\0';
	return dst;
}

unsigned
text_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a);
	size_t lb = strlen(b);
	if (la > TEXT_MAX_DISTANCE_NAME || lb > TEXT_MAX_DISTANCE_NAME) {
		return UINT32_MAX;
	}
	unsigned rows[3][TEXT_MAX_DISTANCE_NAME + 1];
	unsigned *prev2 = rows[0];
	unsigned *prev = rows[1];
	unsigned *cur = rows[2];
	for (size_t j = 0; j <= lb; j++) {
		prev[j] = (unsigned)j;
	}
	for (size_t i = 1; i <= la; i++) {
		cur[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned best = prev[j - 1] + (a[i - 1] != b[j - 1]);
			if (prev[j] + 1 < best) {
				best = prev[j] + 1;
			}
			if (cur[j - 1] + 1 < best) {
				best = cur[j - 1] + 1;
			}
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < best) {
				best = prev2[j - 2] + 1;
			}
			cur[j] = best;
		}
		unsigned *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

bool
text_is_slip(const char *name, const char *candidate)
{
	size_t len = strlen(name);
	unsigned limit = len <= 4 ? 1 : (len <= 8 ? 2 : 3);
	return text_edit_distance(name, candidate) <= limit;
}
