#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "restart_state.h"

#define STATE_MAGIC "mmiodst"
/* Far above any real state (thousands of connections fit in a few MiB): a bound for the read. */
#define STATE_MAX_BYTES (256u << 20)

struct state_header {
	char magic[8];
	uint32_t format;
	uint32_t flags; /* none yet; written 0 */
	uint64_t len;   /* of the packed message after the header */
	uint64_t sum;   /* FNV-1a 64 of those bytes */
};

static uint64_t
fnv1a64(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u;
	for (size_t i = 0; i < n; i++) {
		h = (h ^ p[i]) * 0x100000001b3u;
	}
	return h;
}

int
restart_state_write_at(int fd, const void *buf, size_t n, uint64_t off)
{
	const uint8_t *p = buf;
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			return w < 0 ? -errno : -EIO;
		}
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

int
restart_state_pack(const MmiodState__State *st, uint8_t **out, size_t *out_len)
{
	size_t len = mmiod_state__state__get_packed_size(st);
	struct state_header h = {.format = RESTART_STATE_FORMAT, .len = len};
	uint8_t *buf = malloc(sizeof(h) + len);
	if (!buf) {
		return -ENOMEM;
	}
	mmiod_state__state__pack(st, buf + sizeof(h));
	h.sum = fnv1a64(buf + sizeof(h), len);
	memcpy(h.magic, STATE_MAGIC, sizeof(h.magic));
	memcpy(buf, &h, sizeof(h));
	*out = buf;
	*out_len = sizeof(h) + len;
	return 0;
}

int
restart_state_write(const MmiodState__State *st)
{
	uint8_t *buf;
	size_t len;
	int rc = restart_state_pack(st, &buf, &len);
	if (rc < 0) {
		return rc;
	}
	int fd = memfd_create("mmiod-state", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	rc = fd < 0 ? -errno : restart_state_write_at(fd, buf, len, 0);
	/* Sealed: whoever holds it later (systemd's store) reads exactly what was written. */
	if (rc == 0 &&
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		rc = -errno;
	}
	free(buf);
	if (rc < 0) {
		if (fd >= 0) {
			close(fd);
		}
		return rc;
	}
	return fd;
}

int
restart_state_read_at(int fd, uint64_t off, bool whole_file, MmiodState__State **out, char *err,
		      size_t errlen)
{
	struct stat st;
	struct state_header h;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < off + sizeof(h) ||
	    pread(fd, &h, sizeof(h), (off_t)off) != (ssize_t)sizeof(h) ||
	    memcmp(h.magic, STATE_MAGIC, sizeof(h.magic)) != 0) {
		snprintf(err, errlen, "not a state (no header)");
		return -EPROTO;
	}
	if (h.format > RESTART_STATE_FORMAT || h.flags != 0) {
		snprintf(err, errlen, "format %u (flags 0x%x) is newer than this mmiod's %u",
			 h.format, h.flags, RESTART_STATE_FORMAT);
		return -EPROTONOSUPPORT;
	}
	uint64_t room = (uint64_t)st.st_size - off - sizeof(h);
	if (h.len > STATE_MAX_BYTES || h.len > room || (whole_file && h.len != room)) {
		snprintf(err, errlen, "torn: %llu bytes, the header says %llu",
			 (unsigned long long)room + sizeof(h),
			 (unsigned long long)sizeof(h) + h.len);
		return -EPROTO;
	}
	uint8_t *buf = malloc(h.len ? h.len : 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int rc = 0;
	if (pread(fd, buf, h.len, (off_t)(off + sizeof(h))) != (ssize_t)h.len) {
		snprintf(err, errlen, "short read");
		rc = -EPROTO;
	} else if (fnv1a64(buf, h.len) != h.sum) {
		snprintf(err, errlen, "checksum mismatch: corrupted");
		rc = -EPROTO;
	} else if (!(*out = mmiod_state__state__unpack(NULL, h.len, buf))) {
		snprintf(err, errlen, "does not decode");
		rc = -EPROTO;
	}
	free(buf);
	return rc;
}

int
restart_state_read(int fd, MmiodState__State **out, char *err, size_t errlen)
{
	return restart_state_read_at(fd, 0, true, out, err, errlen);
}
