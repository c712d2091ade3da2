/*
 * What mmioctl.c (argv, the command table), mmioctl_report.c (failures and
 * usage errors), mmioctl_json.c (JSON output) and the files of the commands
 * share: mmioctl_list.c (regions, leases, revoke), mmioctl_stats.c,
 * mmioctl_register.c (read, write, modify, poll), mmioctl_dump.c,
 * mmioctl_irq.c (wait-irq), mmioctl_run.c, mmioctl_connect.c (the
 * connection, and why there is none), mmioctl_address.c (-a/--address) and
 * mmioctl_regmap.c (regmap import).
 */
#ifndef MMIOCTL_H
#define MMIOCTL_H

#include <stdbool.h>
#include <stdint.h>

struct command;
struct mmio_client;

/*
 * Exit statuses: a request was refused or failed; the command line was wrong;
 * mmiod could not be reached at all (UNAVAILABLE: no socket, nothing listening
 * on it, not allowed to connect).
 */
#define MMIOCTL_EXIT_FAILURE     1
#define MMIOCTL_EXIT_USAGE       2
#define MMIOCTL_EXIT_UNAVAILABLE 3

/* The most hints one error carries. */
#define MMIOCTL_MAX_HINTS 3

/* -o/--output: what a command prints on stdout. */
enum mmioctl_output {
	MMIOCTL_OUTPUT_TEXT,
	MMIOCTL_OUTPUT_JSON,       /* one JSON document, also for a failed request */
	MMIOCTL_OUTPUT_PROMETHEUS, /* stats only: the Prometheus text exposition format */
};

/* The -o/--output format of this run; set once by main() before the command runs. */
extern enum mmioctl_output mmioctl_output;

/* Prints s as a JSON string (quoted, escaped) to stdout. */
void mmioctl_json_string(const char *s);

/* Prints {"error": status, "detail": detail} and a newline to stdout, and flushes it. */
void mmioctl_json_error(const char *status, const char *detail);

/*
 * mmioctl_json_error() with, when not NULL, "socket": socket (the one tried)
 * and "hint": [hints...] (NULL-terminated, at most MMIOCTL_MAX_HINTS; none: no
 * key): what the user can do about it.
 */
void mmioctl_json_error_hints(const char *status, const char *detail, const char *socket,
			      const char *const *hints);

/* Prints each of hints (NULL-terminated) as "mmioctl: hint: ..." on stderr. */
void mmioctl_print_hints(const char *const *hints);

/*
 * Prints "mmioctl: <cmd>: <reason>" ("mmioctl: <reason>" for a NULL cmd) and
 * where to find help on stderr; with -o json also {"error": "USAGE",
 * "detail": ...} on stdout. Returns MMIOCTL_EXIT_USAGE.
 */
int mmioctl_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One parsed command line. */
struct invocation {
	const struct command *cmd; /* mmioctl.c's table entry */
	const char *socket_path;   /* NULL: the library's default */
	unsigned width;            /* bytes */
	bool keep_going;
	bool quiet;     /* -q: no header rows (regions, leases) and no end-offset line (dump) */
	bool verify;    /* write --verify: load the register back and compare */
	int timeout_ms; /* wait-irq: -1 waits forever; poll: -1 is the default */
	unsigned count; /* wait-irq: interrupts to wait for */
	unsigned interval_us; /* poll: 0 is mmiod's default */
	const char *address;  /* -a/--address as typed, standing for REGION OFFSET; else NULL */
	char **args;          /* positional arguments after the command name */
	int n_args;
	/* regmap import: -p/--peripheral NAME; else NULL */
	const char *peripheral;
};

/*
 * The daemon status name of err (a negative errno from libmmio-client), or
 * "ERROR" for an errno the library has no name for. Never NULL.
 */
const char *mmioctl_status_name(int err);

/*
 * What to print after the status name for err, the error of the last request
 * on client (NULL: none): the daemon's explanation, mmio_error_detail(), when
 * it gave one, else mmio_strerror(err). Valid until the next call on client.
 */
const char *mmioctl_error_detail(struct mmio_client *client, int err);

/*
 * Prints "mmioctl: <what>: STATUS_NAME: <detail>" to stderr for err, what
 * formatted from fmt, detail as mmioctl_error_detail(client, err) gives it,
 * and for CONFLICT a hint ('mmioctl leases'); with -o json also
 * {"error": STATUS_NAME, "detail": ...} to stdout. Returns
 * MMIOCTL_EXIT_FAILURE.
 */
int mmioctl_fail(struct mmio_client *client, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Parses text, the argument what of inv's command, as a decimal or 0x hex
 * number into *out. Returns 0, or prints a usage error and returns
 * MMIOCTL_EXIT_USAGE.
 */
int mmioctl_parse_number(const struct invocation *inv, const char *what, const char *text,
			 uint64_t *out);

/*
 * mmioctl_parse_number() for a value stored at inv's width: one that does
 * not fit in the width is a usage error too.
 */
int mmioctl_parse_value(const struct invocation *inv, const char *what, const char *text,
			uint64_t *out);

/*
 * Connects to mmiod at socket_path (NULL: the library's default), in
 * mmioctl_connect.c. Returns 0 and *out; or, when mmiod cannot be reached,
 * prints "mmioctl: connect PATH: UNAVAILABLE: reason" and hints (the socket
 * tried, systemctl, the socket's group) and returns MMIOCTL_EXIT_UNAVAILABLE;
 * or prints any other failure and returns MMIOCTL_EXIT_FAILURE.
 */
int mmioctl_connect(const char *socket_path, struct mmio_client **out);

/*
 * -a/--address (mmioctl_address.c): the region, of those mmiod lists to the
 * caller, whose device address range [ADDRESS, ADDRESS + SIZE) covers
 * address, into region (region_len bytes), and the offset of address in it.
 * Returns 0; or prints "mmioctl: <what>: NOT_FOUND" (no region covers it) or
 * "AMBIGUOUS" (several do: aliases, all named, with a hint using cmd) and
 * returns MMIOCTL_EXIT_FAILURE.
 */
int mmioctl_locate(struct mmio_client *client, const char *what, const char *cmd, uint64_t address,
		   char *region, size_t region_len, uint64_t *offset);

/* The help line of -a/--address, for the commands that take it. */
extern const char mmioctl_address_help[];

/*
 * The one-register commands, mmioctl_register.c: each leases exactly the
 * register at inv's width, makes its request, releases the lease and prints
 * the value loaded (read), the old value (modify) or the last one (poll).
 * Return 0, or the exit status after printing why not.
 */
extern const char mmioctl_read_help[];
extern const char mmioctl_write_help[];
extern const char mmioctl_modify_help[];
extern const char mmioctl_poll_help[];
int mmioctl_read(const struct invocation *inv);
int mmioctl_write(const struct invocation *inv);
int mmioctl_modify(const struct invocation *inv);
int mmioctl_poll(const struct invocation *inv);

/* `regions`, `leases`, `revoke`: mmioctl_list.c. */
extern const char mmioctl_regions_help[];
extern const char mmioctl_leases_help[];
extern const char mmioctl_revoke_help[];
int mmioctl_regions(const struct invocation *inv);
int mmioctl_leases(const struct invocation *inv);
int mmioctl_revoke(const struct invocation *inv);

/* `wait-irq`: subscribe, wait, print, acknowledge; mmioctl_irq.c. */
extern const char mmioctl_wait_irq_help[];
int mmioctl_wait_irq(const struct invocation *inv);

/*
 * `mmioctl dump REGION RANGE` (mmioctl_dump.c): leases the range and prints it
 * like 'hexdump -C'. Returns 0, or the exit status after printing why not.
 */
extern const char mmioctl_dump_help[];
int mmioctl_dump(const struct invocation *inv);

/* `stats`: the daemon's figures as text, JSON or Prometheus; mmioctl_stats.c. */
extern const char mmioctl_stats_help[];
int mmioctl_stats(const struct invocation *inv);

/* `regmap import [-p NAME] FILE.svd`: an SVD file to a map file; mmioctl_regmap.c. */
extern const char mmioctl_regmap_help[];
int mmioctl_regmap(const struct invocation *inv);

/* The body of `mmioctl run --help`: the script language. */
extern const char mmioctl_run_help[];

/*
 * `mmioctl run`: executes the script in path ("-": stdin) on one connection,
 * line by line as lines arrive, printing one result line per command to
 * stdout and flushing it at once. Stops at the first failing line unless
 * keep_going. Returns 0 if every line succeeded, else MMIOCTL_EXIT_FAILURE.
 */
int mmioctl_run(const char *path, const char *socket_path, bool keep_going);

#endif
