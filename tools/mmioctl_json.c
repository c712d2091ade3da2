/* mmioctl's JSON output: string escaping and the error object. */
#include <stdio.h>

#include "mmioctl.h"

enum mmioctl_output mmioctl_output = MMIOCTL_OUTPUT_TEXT;

void
mmioctl_json_string(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			printf("\\%c", *p);
		} else if (*p == '\n') {
			fputs("\\n", stdout);
		} else if (*p < 0x20 || *p == 0x7f) {
			printf("\\u%04x", *p);
		} else {
			putchar(*p);
		}
	}
	putchar('"');
}

void
mmioctl_json_error_hints(const char *status, const char *detail, const char *socket,
			 const char *const *hints)
{
	fputs("{\"error\": ", stdout);
	mmioctl_json_string(status);
	fputs(", \"detail\": ", stdout);
	mmioctl_json_string(detail);
	if (socket) {
		fputs(", \"socket\": ", stdout);
		mmioctl_json_string(socket);
	}
	for (int i = 0; hints && hints[i]; i++) {
		fputs(i ? ", " : ", \"hint\": [", stdout);
		mmioctl_json_string(hints[i]);
	}
	fputs(hints && hints[0] ? "]}\n" : "}\n", stdout);
	(void)fflush(stdout); /* errors stay in ferror(stdout), which main() checks */
}

void
mmioctl_json_error(const char *status, const char *detail)
{
	mmioctl_json_error_hints(status, detail, NULL, NULL);
}
