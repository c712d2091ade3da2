/*
 * How mmioctl tells of a failure: the daemon's status name and detail (or the
 * library's), hints, and the JSON error object under -o json. Every command
 * file reports through here; nothing here calls back into them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include <mmio/client.h>

#include "mmioctl.h"
#include "parse.h"

void
mmioctl_print_hints(const char *const *hints)
{
	for (int i = 0; hints && hints[i]; i++) {
		fprintf(stderr, "mmioctl: hint: %s\n", hints[i]);
	}
}

const char *
mmioctl_status_name(int err)
{
	const char *name = mmio_status_name(err);
	return name ? name : "ERROR";
}

const char *
mmioctl_error_detail(struct mmio_client *client, int err)
{
	const char *detail = client ? mmio_error_detail(client) : "";
	return detail[0] ? detail : mmio_strerror(err);
}

int
mmioctl_fail(struct mmio_client *client, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("mmioctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	const char *status = mmioctl_status_name(err);
	const char *detail = mmioctl_error_detail(client, err);
	fprintf(stderr, ": %s: %s\n", status, detail);
	/* A range someone holds: who it is, is one command away. */
	static const char *const conflict_hints[] = {"'mmioctl leases' lists the leases you may "
						     "see, with their holders' pid and uid; an "
						     "admin may end one with 'mmioctl revoke ID'",
						     NULL};
	const char *const *hints = err == -EBUSY ? conflict_hints : NULL;
	mmioctl_print_hints(hints);
	if (mmioctl_output == MMIOCTL_OUTPUT_JSON) {
		mmioctl_json_error_hints(status, detail, NULL, hints);
	}
	return MMIOCTL_EXIT_FAILURE;
}

int
mmioctl_usage_error(const char *cmd, const char *fmt, ...)
{
	char reason[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mmioctl: %s%s%s\nTry 'mmioctl %s%s--help'.\n", cmd ? cmd : "",
		cmd ? ": " : "", reason, cmd ? cmd : "", cmd ? " " : "");
	if (mmioctl_output == MMIOCTL_OUTPUT_JSON) {
		char detail[600];
		snprintf(detail, sizeof(detail), "%s%s%s", cmd ? cmd : "", cmd ? ": " : "", reason);
		mmioctl_json_error("USAGE", detail);
	}
	return MMIOCTL_EXIT_USAGE;
}

/* Numbers on the command line: at the bottom, as every command file parses them. */
int
mmioctl_parse_number(const struct invocation *inv, const char *what, const char *text,
		     uint64_t *out)
{
	int rc = parse_u64(text, out);
	if (rc == -ERANGE) {
		return mmioctl_usage_error(inv->cmd_name, "%s '%s': does not fit in 64 bits", what,
					   text);
	}
	if (rc < 0 && parse_leading_zero(text)) {
		return mmioctl_usage_error(
			inv->cmd_name,
			"%s '%s': a leading zero is ambiguous (octal to C and "
			"busybox devmem, decimal to others); write it without the "
			"zero, or in 0x hex",
			what, text);
	}
	if (rc < 0) {
		return mmioctl_usage_error(
			inv->cmd_name, "%s '%s': expected a decimal or 0x hex number", what, text);
	}
	return 0;
}

int
mmioctl_parse_value(const struct invocation *inv, const char *what, const char *text, uint64_t *out)
{
	int rc = mmioctl_parse_number(inv, what, text, out);
	if (rc == 0 && inv->width < 8 && *out >> (inv->width * 8) != 0) {
		return mmioctl_usage_error(inv->cmd_name, "%s '%s' does not fit in %u bits", what,
					   text, inv->width * 8);
	}
	return rc;
}
