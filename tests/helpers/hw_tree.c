#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hw_tree.h"

void
hw_tree_create(struct hw_tree *t)
{
	snprintf(t->root, sizeof(t->root), "/tmp/mmiod-test-hw-XXXXXX");
	assert_non_null(mkdtemp(t->root));
}

static int
remove_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
hw_tree_destroy(struct hw_tree *t)
{
	if (t->root[0]) {
		nftw(t->root, remove_cb, 16, FTW_DEPTH | FTW_PHYS);
		t->root[0] = '\0';
	}
}

char *
hw_tree_path(const struct hw_tree *t, const char *rel, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", t->root, rel);
	assert_true(n > 0 && (size_t)n < len);
	return buf;
}

void
hw_tree_mkdir(const struct hw_tree *t, const char *rel)
{
	char path[512];
	hw_tree_path(t, rel, path, sizeof(path));
	for (char *p = path + strlen(t->root) + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
			*p = '/';
		}
	}
	assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
}

/* Creates the parent directories of root/rel. */
static void
make_parents(const struct hw_tree *t, const char *rel)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s", rel);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		hw_tree_mkdir(t, dir);
	}
}

void
hw_tree_write(const struct hw_tree *t, const char *rel, const char *text)
{
	char path[512];
	make_parents(t, rel);
	FILE *fp = fopen(hw_tree_path(t, rel, path, sizeof(path)), "w");
	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

uint8_t
hw_pattern(uint64_t i)
{
	return (uint8_t)(i * 7 + (i >> 8) + (i >> 16) + 1);
}

uint64_t
hw_pattern_bytes(uint64_t off, unsigned width)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < width; i++) {
		v |= (uint64_t)hw_pattern(off + i) << (8 * i);
	}
	return v;
}

void
hw_tree_file(const struct hw_tree *t, const char *rel, uint64_t size)
{
	char path[512];
	make_parents(t, rel);
	int fd = open(hw_tree_path(t, rel, path, sizeof(path)),
		      O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	uint8_t buf[4096];
	for (uint64_t off = 0; off < size; off += sizeof(buf)) {
		size_t n = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);
		for (size_t i = 0; i < n; i++) {
			buf[i] = hw_pattern(off + i);
		}
		assert_int_equal(pwrite(fd, buf, n, (off_t)off), (ssize_t)n);
	}
	close(fd);
}

uint64_t
hw_tree_bytes(const struct hw_tree *t, const char *rel, uint64_t off, unsigned width)
{
	char path[512];
	uint8_t buf[8];
	int fd = open(hw_tree_path(t, rel, path, sizeof(path)), O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, width, (off_t)off), (ssize_t)width);
	close(fd);
	uint64_t v = 0;
	for (unsigned i = 0; i < width; i++) {
		v |= (uint64_t)buf[i] << (8 * i);
	}
	return v;
}

int
hw_lowest_free_fd(void)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);
	assert_true(fd >= 0);
	close(fd);
	return fd;
}
