/*
 * Exact-width device accessors: one instruction of exactly the requested width
 * per call, never merged, split, elided or cached. On x86_64 the access goes
 * through a general-purpose register with a plain mov (KVM cannot emulate MMIO
 * done with vector registers); on arm64 register-only addressing, so no pair or
 * writeback forms a hypervisor cannot decode. Every asm clobbers "memory" so it
 * is also a compiler barrier.
 */
#ifndef MMIOD_ARCH_H
#define MMIOD_ARCH_H

#include <stdatomic.h>
#include <stdint.h>

#if defined(__x86_64__)

#define ARCH_LOAD(bits, suffix, reg_constraint)                                                    \
	static inline uint##bits##_t arch_load##bits(const volatile void *p)                       \
	{                                                                                          \
		uint##bits##_t v;                                                                  \
		__asm__ volatile("mov" suffix " %1, %0"                                            \
				 : "=" reg_constraint(v)                                           \
				 : "m"(*(const volatile uint##bits##_t *)p)                        \
				 : "memory");                                                      \
		return v;                                                                          \
	}
#define ARCH_STORE(bits, suffix, reg_constraint)                                                   \
	static inline void arch_store##bits(volatile void *p, uint##bits##_t v)                    \
	{                                                                                          \
		__asm__ volatile("mov" suffix " %1, %0"                                            \
				 : "=m"(*(volatile uint##bits##_t *)p)                             \
				 : reg_constraint(v)                                               \
				 : "memory");                                                      \
	}
ARCH_LOAD(8, "b", "q")
ARCH_LOAD(16, "w", "r")
ARCH_LOAD(32, "l", "r")
ARCH_LOAD(64, "q", "r")
ARCH_STORE(8, "b", "q")
ARCH_STORE(16, "w", "r")
ARCH_STORE(32, "l", "r")
ARCH_STORE(64, "q", "r")

static inline void
arch_write_barrier(void)
{
	__asm__ volatile("sfence" ::: "memory");
}

#elif defined(__aarch64__)

#define ARCH_LOAD(bits, insn, reg)                                                                 \
	static inline uint##bits##_t arch_load##bits(const volatile void *p)                       \
	{                                                                                          \
		uint##bits##_t v;                                                                  \
		__asm__ volatile(insn " %" reg "0, [%1]" : "=r"(v) : "r"(p) : "memory");           \
		return v;                                                                          \
	}
#define ARCH_STORE(bits, insn, reg)                                                                \
	static inline void arch_store##bits(volatile void *p, uint##bits##_t v)                    \
	{                                                                                          \
		__asm__ volatile(insn " %" reg "0, [%1]" : : "rZ"(v), "r"(p) : "memory");          \
	}
ARCH_LOAD(8, "ldrb", "w")
ARCH_LOAD(16, "ldrh", "w")
ARCH_LOAD(32, "ldr", "w")
ARCH_LOAD(64, "ldr", "x")
ARCH_STORE(8, "strb", "w")
ARCH_STORE(16, "strh", "w")
ARCH_STORE(32, "str", "w")
ARCH_STORE(64, "str", "x")

static inline void
arch_write_barrier(void)
{
	__asm__ volatile("dsb st" ::: "memory");
}

#else

#define ARCH_LOAD(bits)                                                                            \
	static inline uint##bits##_t arch_load##bits(const volatile void *p)                       \
	{                                                                                          \
		return *(const volatile uint##bits##_t *)p;                                        \
	}
#define ARCH_STORE(bits)                                                                           \
	static inline void arch_store##bits(volatile void *p, uint##bits##_t v)                    \
	{                                                                                          \
		*(volatile uint##bits##_t *)p = v;                                                 \
	}
ARCH_LOAD(8)
ARCH_LOAD(16)
ARCH_LOAD(32)
ARCH_LOAD(64)
ARCH_STORE(8)
ARCH_STORE(16)
ARCH_STORE(32)
ARCH_STORE(64)

static inline void
arch_write_barrier(void)
{
	atomic_thread_fence(memory_order_release);
	__asm__ volatile("" ::: "memory");
}

#endif

#undef ARCH_LOAD
#undef ARCH_STORE

#endif
