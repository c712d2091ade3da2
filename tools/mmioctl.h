/*
 * What mmioctl.c (argv, the command table), mmioctl_report.c (failures and
 * usage errors), mmioctl_json.c (JSON output) and the files of the commands
 * share: mmioctl_list.c (regions, leases, revoke), mmioctl_stats.c,
 * mmioctl_register.c (read, write, modify, poll), mmioctl_dump.c,
 * mmioctl_irq.c (wait-irq), mmioctl_sim.c (sim), mmioctl_trace.c (trace),
 * mmioctl_replay.c (replay), mmioctl_run.c, mmioctl_connect.c (the
 * connection, and why there is none), mmioctl_address.c (-a/--address),
 * mmioctl_names.c (registers by name), mmioctl_regs.c (regs, dump --decode) and
 * mmioctl_regmap.c (regmap import).
 */
#ifndef MMIOCTL_H
#define MMIOCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct command;
struct mmio_client;
struct mmio_reg;
struct mmio_regmap_field;
struct mmio_regmap_register;

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
	const char *cmd_name;      /* its name, for messages */
	const char *socket_path;   /* NULL: the library's default */
	unsigned width;            /* bytes */
	bool width_given;          /* -w/--width was on the command line */
	bool decode;               /* -d/--decode: read and dump print registers by their fields */
	bool keep_going;
	bool quiet;         /* -q: no header rows (regions, leases) and no end-offset line (dump) */
	bool verify;        /* write --verify: load the register back and compare */
	int timeout_ms;     /* wait-irq: -1 waits forever; poll: -1 is the default */
	unsigned count;     /* wait-irq: interrupts to wait for; trace: records to print */
	bool count_given;   /* -n/--count was on the command line */
	const char *region; /* replay --region */
	bool reset;         /* replay --reset */
	unsigned interval_us; /* poll: 0 is mmiod's default */
	const char *address;  /* -a/--address as typed, standing for REGION OFFSET; else NULL */
	const char *mask;     /* sim set --mask as typed; else NULL */
	unsigned grace_ms;    /* revoke --grace MS; 0 at once */
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
/*
 * `sim get` and `sim set` (the device side of a sim region): read's and write's arguments
 * (REGION OFFSET|NAME, VALUE or REG.FIELD=VALUE...), inv->args starting at REGION; the raw bits
 * through mmio_sim_get/mmio_sim_set, no lease. 0, or the exit status after printing why not.
 */
int mmioctl_sim_read(const struct invocation *inv);
int mmioctl_sim_write(const struct invocation *inv);

/*
 * Registers by name (mmioctl_names.c): a REGION's register given as a NAME (REG, REG.FIELD,
 * ARR[i], ARR[i].FIELD) or an OFFSET, and field assignments (REG.FIELD=VALUE), turned into
 * what one request needs (offset, width, mask, value) without touching the device, so that
 * any command can make its own request with them; and registers printed by their fields.
 */

/* Whether text names a register rather than giving an offset: it does not start with a digit. */
bool mmioctl_is_name(const char *text);

/* A register, or a field of one, that a command acts on. */
struct mmioctl_target {
	uint64_t
		offset; /* of the register in the region (or lease, from mmioctl_target_from_reg) */
	unsigned width; /* of the register, in bytes */
	uint64_t mask;  /* the bits named, in place: every bit for a register or an offset */
	unsigned lsb;   /* of the field named; 0 for a register */
	/* Its entry in the region's map (by name, or -d on an offset); else NULL. */
	const struct mmio_regmap_register *reg;
	const struct mmio_regmap_field *field; /* the field named, else NULL */
	bool is_field;                         /* a field named (field may be NULL: on a lease) */
	uint64_t index;                        /* the array instance */
	char name[160]; /* as the map names it: "LCR.DLAB", "CH[3]"; "" for a bare offset */
};

/*
 * text, REGION's register as a command takes it, into *t: an OFFSET at inv's width, or a
 * NAME resolved in the region's map at the map's width (a -w/--width that says otherwise is a
 * usage error). With inv->decode an OFFSET must be where the map has a register, which it
 * then stands for. client may be NULL for an OFFSET without inv->decode (no request made), so
 * a command can parse it before it connects. Returns 0, the usage exit status, or
 * MMIOCTL_EXIT_FAILURE after reporting as what why the map has no such register (NOT_FOUND,
 * with "did you mean").
 */
int mmioctl_resolve(struct mmio_client *client, const struct invocation *inv, const char *what,
		    const char *region, const char *text, struct mmioctl_target *t);

/* Instance index of the map's register reg, the whole of it, into *t (offsets the region's). */
void mmioctl_target_of(const struct mmio_regmap_register *reg, uint64_t index,
		       struct mmioctl_target *t);

/* A register or field mmio_reg_find() found on a lease (offsets the lease's) into *t. */
void mmioctl_target_from_reg(const struct mmio_reg *r, struct mmioctl_target *t);

/*
 * A number for t (a VALUE or MASK of a command, named what) into *out: it must fit t's bits
 * (a field's value unshifted). Returns 0 or the usage exit status.
 */
int mmioctl_parse_target_value(const struct invocation *inv, const char *what,
			       const struct mmioctl_target *t, const char *text, uint64_t *out);

/*
 * Field assignments REG.FIELD=VALUE (VALUE a number or one of the field's value names), all
 * fields of one register instance, encoded for one masked modify: *t the register, *mask and
 * *value in place. Returns 0, or MMIOCTL_EXIT_FAILURE after reporting as what the library's
 * NOT_FOUND or INVALID_ARGUMENT (two registers, a field twice, a value that does not fit).
 */
int mmioctl_encode_fields(struct mmio_client *client, const char *what, const char *region,
			  const char *const *assignments, size_t n, struct mmioctl_target *t,
			  uint64_t *mask, uint64_t *value);

/* The value of t's bits in a register value: (value & mask) >> lsb. */
uint64_t mmioctl_target_bits(const struct mmioctl_target *t, uint64_t value);

/* "0x" and the value of t's bits zero-padded to their hex digits, into buf (at least 19 bytes). */
const char *mmioctl_format_bits(char *buf, const struct mmioctl_target *t, uint64_t bits);

/*
 * Prints register t->reg holding value decoded, with every field (or only t->field, when
 * one was named) and the name of its value when the map has one. Text: "NAME (0xOFFSET) =
 * 0xVALUE", then a line per field; -o json: the members of one object, without braces,
 * "name", "offset", "width", "value" and "fields": [{"name", "msb", "lsb", "access",
 * "value", "enum"}] (each hex with its _int).
 */
void mmioctl_print_decoded(const struct mmioctl_target *t, uint64_t value);

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

/*
 * `regs REGION` (mmioctl_regs.c): the region's register map as a table or JSON. Returns 0 or
 * the exit status after printing why not.
 */
extern const char mmioctl_regs_help[];
int mmioctl_regs(const struct invocation *inv);

/*
 * `dump REGION [RANGE] --decode` (mmioctl_regs.c), for mmioctl_dump once connected and the
 * range parsed (has_range false: the whole map): every register of region's map in the range
 * that reading leaves alone, read through one lease in batches and printed decoded, and a
 * line (JSON: an entry of "skipped") for each other one, saying why (write-only, read clears
 * it or a field, side effects). what names the command in messages. Returns 0 or the exit
 * status after printing why not.
 */
int mmioctl_dump_decoded(struct mmio_client *client, const char *what, const char *region,
			 bool has_range, uint64_t offset, uint64_t length);

/* `stats`: the daemon's figures as text, JSON or Prometheus; mmioctl_stats.c. */
extern const char mmioctl_stats_help[];
int mmioctl_stats(const struct invocation *inv);

/* `sim get|set|irq|reset REGION ...`: a sim region's device side; mmioctl_sim.c. */
extern const char mmioctl_sim_help[];
int mmioctl_sim(const struct invocation *inv);

/* `regmap import [-p NAME] FILE.svd`: an SVD file to a map file; mmioctl_regmap.c. */
extern const char mmioctl_regmap_help[];
int mmioctl_regmap(const struct invocation *inv);

/* `trace REGION`: every access on a region as it happens; mmioctl_trace.c. */
extern const char mmioctl_trace_help[];
int mmioctl_trace(const struct invocation *inv);

/* `replay FILE --region SIMREGION`: a trace re-executed on a sim region; mmioctl_replay.c. */
extern const char mmioctl_replay_help[];
int mmioctl_replay(const struct invocation *inv);

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
