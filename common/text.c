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
