/*
 * A bump allocator for protobuf-c unpacking: a decoded message lives only
 * until its reply is built, so its pieces come from a fixed buffer reset per
 * message instead of malloc/free each (a measurable share of a 4 us round
 * trip). What does not fit falls back to malloc and is freed normally.
 */
#ifndef MMIO_ARENA_H
#define MMIO_ARENA_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#define ARENA_SIZE 4096

struct arena {
	ProtobufCAllocator allocator; /* pass &arena->allocator to ..._unpack/_free_unpacked */
	size_t used;
	_Alignas(16) unsigned char buf[ARENA_SIZE];
};

/* Prepares a for use; call again (or arena_reset) before each message. */
void arena_init(struct arena *a);

/* Forgets every arena allocation; call after ..._free_unpacked. */
void arena_reset(struct arena *a);

#endif
