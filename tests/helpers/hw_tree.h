/*
 * Stand-ins for hardware under a mkdtemp directory in /tmp: regular files as
 * /dev/mem, sysfs attribute files and /dev/uioN, directories as the sysfs
 * tree. The backends run the same open, read and mmap code on them as on the
 * real thing. Failures end the test (cmocka assertions).
 */
#ifndef MMIO_TEST_HW_TREE_H
#define MMIO_TEST_HW_TREE_H

#include <stddef.h>
#include <stdint.h>

struct hw_tree {
	char root[64];
};

/* Creates an empty tree under /tmp. */
void hw_tree_create(struct hw_tree *t);

/* Removes the tree and everything in it. */
void hw_tree_destroy(struct hw_tree *t);

/* root/rel in buf (which must hold it); returns buf. */
char *hw_tree_path(const struct hw_tree *t, const char *rel, char *buf, size_t len);

/* Creates directory root/rel and its parents. */
void hw_tree_mkdir(const struct hw_tree *t, const char *rel);

/* Writes text to root/rel, creating its parents. */
void hw_tree_write(const struct hw_tree *t, const char *rel, const char *text);

/* Creates root/rel with size bytes; byte i is hw_pattern(i). */
void hw_tree_file(const struct hw_tree *t, const char *rel, uint64_t size);

/* The little-endian value of width bytes at off of root/rel. */
uint64_t hw_tree_bytes(const struct hw_tree *t, const char *rel, uint64_t off, unsigned width);

uint8_t hw_pattern(uint64_t i);

/* The little-endian value of width pattern bytes from off. */
uint64_t hw_pattern_bytes(uint64_t off, unsigned width);

/* The lowest free fd: it moves if a failed open leaks one. */
int hw_lowest_free_fd(void);

#endif
