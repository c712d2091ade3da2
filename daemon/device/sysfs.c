#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "device/sysfs.h"
#include "parse.h"

int
sysfs_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int
sysfs_read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		return -errno;
	}
	size_t len = 0;
	int rc = 0;
	while (len < size) {
		ssize_t n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0) {
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	if (rc == 0 && len >= size) {
		rc = -EFBIG;
	}
	if (rc < 0) {
		if (size) {
			buf[0] = '\0';
		}
		return rc;
	}
	buf[len] = '\0';
	return (int)len;
}

int
sysfs_read_u64(const char *path, uint64_t *out)
{
	char buf[64];
	int rc = sysfs_read_text(path, buf, sizeof(buf));
	if (rc < 0) {
		return rc == -EFBIG ? -EINVAL : rc;
	}
	/* One trailing newline, as the kernel prints it; nothing else. */
	size_t len = (size_t)rc;
	if (len > 0 && buf[len - 1] == '\n') {
		buf[--len] = '\0';
	}
	if (strlen(buf) != len) {
		return -EINVAL;
	}
	return parse_u64(buf, out);
}
