/*
 * status.c: the one table between wire Status and negative errno. Every value
 * the schema defines is walked through the generated enum descriptor, so a
 * status added to mmio.proto without a table entry fails here.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "status.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void
test_status_round_trip(void **state)
{
	(void)state;
	const ProtobufCEnumDescriptor *d = &mmio__status__descriptor;
	int seen[64];
	unsigned n = 0;

	assert_true(d->n_values <= ARRAY_LEN(seen));
	for (unsigned i = 0; i < d->n_values; i++) {
		Mmio__Status s = (Mmio__Status)d->values[i].value;
		if (s == MMIO__STATUS__STATUS_UNSPECIFIED) {
			continue;
		}
		int err = status_to_errno(s);
		if (s == MMIO__STATUS__OK) {
			assert_int_equal(err, 0);
		} else {
			assert_true(err < 0);
			/* -EPROTO is reserved for statuses we do not know. */
			assert_int_not_equal(err, -EPROTO);
		}
		assert_int_equal(status_from_errno(err), s);
		for (unsigned j = 0; j < n; j++) {
			if (seen[j] == err) {
				print_error("%s shares errno %d\n", d->values[i].name, err);
			}
			assert_int_not_equal(seen[j], err);
		}
		seen[n++] = err;
	}
	assert_int_equal(n, d->n_values - 1);
}

static void
test_status_unspecified_and_unknown_are_eproto(void **state)
{
	(void)state;
	assert_int_equal(status_to_errno(MMIO__STATUS__STATUS_UNSPECIFIED), -EPROTO);
	assert_int_equal(status_to_errno((Mmio__Status)999), -EPROTO);
	assert_int_equal(status_to_errno((Mmio__Status)-1), -EPROTO);
	/* The first value past the schema. */
	int max = 0;
	for (unsigned i = 0; i < mmio__status__descriptor.n_values; i++) {
		if (mmio__status__descriptor.values[i].value > max) {
			max = mmio__status__descriptor.values[i].value;
		}
	}
	assert_int_equal(status_to_errno((Mmio__Status)(max + 1)), -EPROTO);
}

static void
test_status_names(void **state)
{
	(void)state;
	static const struct {
		int err;
		const char *name;
	} names[] = {
		{-ERANGE, "OUT_OF_RANGE"},
		{-EFAULT, "UNALIGNED"},
		{-EBUSY, "CONFLICT"},
		{-ENOENT, "NOT_FOUND"},
		{-EACCES, "PERMISSION_DENIED"},
		{-EINVAL, "INVALID_ARGUMENT"},
		{-EIO, "IO_ERROR"},
		{-ENOSPC, "RESOURCE_EXHAUSTED"},
	};
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		const char *got = status_name_of_errno(names[i].err);
		assert_non_null(got);
		assert_string_equal(got, names[i].name);
	}
	/* Every wire status is named as in the schema: mmioctl prints these. */
	const ProtobufCEnumDescriptor *d = &mmio__status__descriptor;
	for (unsigned i = 0; i < d->n_values; i++) {
		Mmio__Status s = (Mmio__Status)d->values[i].value;
		if (s == MMIO__STATUS__STATUS_UNSPECIFIED) {
			continue;
		}
		const char *got = status_name_of_errno(status_to_errno(s));
		assert_non_null(got);
		assert_string_equal(got, d->values[i].name);
	}
	assert_null(status_name_of_errno(-EXDEV));
	assert_null(status_name_of_errno(12345));
}

static void
test_status_from_errno_fallbacks(void **state)
{
	(void)state;
	assert_int_equal(status_from_errno(0), MMIO__STATUS__OK);
	assert_int_equal(status_from_errno(-ENOMEM), MMIO__STATUS__RESOURCE_EXHAUSTED);
	assert_int_equal(status_from_errno(-EXDEV), MMIO__STATUS__IO_ERROR);
	assert_int_equal(status_from_errno(-EPIPE), MMIO__STATUS__IO_ERROR);
	assert_int_equal(status_from_errno(-99999), MMIO__STATUS__IO_ERROR);
}

static void
test_status_message_never_null(void **state)
{
	(void)state;
	for (int e = -200; e <= 200; e++) {
		const char *m = status_message(e);
		assert_non_null(m);
	}
	const ProtobufCEnumDescriptor *d = &mmio__status__descriptor;
	for (unsigned i = 0; i < d->n_values; i++) {
		const char *m = status_message(status_to_errno((Mmio__Status)d->values[i].value));
		assert_true(strlen(m) > 0);
	}
	assert_string_equal(status_name_of_errno(-EPROTO), "PROTOCOL_ERROR");
	assert_string_equal(status_name_of_errno(-ECONNRESET), "DISCONNECTED");
	/* Regression: negating INT_MIN was undefined behaviour (UBSan aborted). */
	assert_string_equal(status_message(INT_MIN), "unknown error");
	assert_non_null(status_message(INT_MAX));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_round_trip),
		cmocka_unit_test(test_status_unspecified_and_unknown_are_eproto),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_status_from_errno_fallbacks),
		cmocka_unit_test(test_status_message_never_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
