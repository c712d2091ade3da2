/*
 * mmioctl: the command-line client of mmiod. argv and the one-shot commands;
 * `dump` is in mmioctl_dump.c, `run` in mmioctl_run.c. It talks to the daemon
 * only through libmmio-client.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmio/client.h>

#include "mmioctl.h"
#include "parse.h"

/* Per-command options a command accepts besides -s and -h. */
#define OPT_WIDTH      0x1u
#define OPT_KEEP_GOING 0x2u
#define OPT_IRQ        0x4u /* --timeout, --count */

struct command {
	const char *name;
	const char *synopsis;
	int min_args;
	int max_args;
	unsigned options;
	const char *help;
	int (*run)(const struct invocation *inv);
};

static const char usage_text[] =
	"Usage: mmioctl [-s SOCKET] COMMAND [ARGS...]\n"
	"Inspect mmiod and access device registers through leases it grants.\n"
	"\n"
	"Options:\n"
	"  -s, --socket SOCKET  mmiod's socket (default: $MMIOD_SOCKET, else\n"
	"                       " MMIO_DEFAULT_SOCKET_PATH ")\n"
	"  -h, --help           show this help\n"
	"  -V, --version        show the version\n"
	"\n"
	"Commands:\n"
	"  regions                               list the regions you may lease from\n"
	"  leases                                list live leases (every one for admins)\n"
	"  revoke ID                             release any client's lease (admins)\n"
	"  wait-irq REGION [-t MS] [-n N]        wait for a region's interrupt\n"
	"  read REGION OFFSET [-w WIDTH]         load one register and print it\n"
	"  write REGION OFFSET VALUE [-w WIDTH]  store one register\n"
	"  dump REGION OFFSET LENGTH [-w WIDTH]  print a range like 'hexdump -C'\n"
	"  run [FILE|-] [--keep-going]           run a lease script on one connection\n"
	"\n"
	"Numbers are decimal or 0x hex. WIDTH is 8, 16, 32 or 64 bits (default 32).\n"
	"'mmioctl COMMAND --help' describes a command; -s and -h also work after it.\n"
	"\n"
	"Exit status: 0 success, 1 a request was refused or failed (the reason, with\n"
	"the daemon's status name, goes to stderr), 2 usage error.\n";

static const char regions_help[] =
	"List the regions of mmiod you may lease something of: name, backend type,\n"
	"size in bytes and absolute device address of offset 0 (both hex), and\n"
	"ACCESS, one of your grants on it: 'rw' (loads and stores) or 'ro' (loads\n"
	"only), followed by 0xOFFSET+0xLENGTH when the grant covers only that range\n"
	"of the region. Each further grant of a region is on a row of its own with\n"
	"the first four columns blank. Without a grant a region is not listed; root\n"
	"may lease every region whole.\n";

static const char leases_help[] =
	"List live leases: lease id, region, start offset in the region and length\n"
	"(hex), holder's pid and uid, and ACCESS: 'rw', or 'ro' for a lease granted\n"
	"read-only (its stores are refused with PERMISSION_DENIED). Root and the\n"
	"daemon's admin group see every client's leases, anyone else only their own.\n";

static const char revoke_help[] =
	"Release lease ID of any client (the first column of 'mmioctl leases'). Its\n"
	"holder's next use of it fails with NOT_FOUND. Only root and the daemon's\n"
	"admin group may revoke; anyone else gets PERMISSION_DENIED. Prints nothing\n"
	"on success; NOT_FOUND if there is no lease ID.\n";

static const char read_help[] =
	"Lease WIDTH/8 bytes of REGION at OFFSET, load them with one access of\n"
	"exactly WIDTH bits, release the lease, and print the value as 0x and hex\n"
	"digits zero-padded to the width (0x0000abcd for 32 bits). The device\n"
	"address must be aligned to the width (else UNALIGNED).\n"
	"\n"
	"  -w, --width WIDTH    8, 16, 32 or 64 bits (default 32)\n";

static const char write_help[] =
	"Lease WIDTH/8 bytes of REGION at OFFSET, store VALUE with one access of\n"
	"exactly WIDTH bits, and release the lease. Prints nothing on success. A\n"
	"VALUE that does not fit in WIDTH bits is a usage error.\n"
	"\n"
	"  -w, --width WIDTH    8, 16, 32 or 64 bits (default 32)\n";

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
	fprintf(stderr, ": %s: %s\n", mmioctl_status_name(err), mmioctl_error_detail(client, err));
	return MMIOCTL_EXIT_FAILURE;
}

/*
 * Prints "mmioctl: <cmd>: <reason>" ("mmioctl: <reason>" for a NULL cmd) and
 * a hint; returns the usage exit status.
 */
static int
usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "mmioctl: %s%s", cmd ? cmd : "", cmd ? ": " : "");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'mmioctl %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
	return MMIOCTL_EXIT_USAGE;
}

/* A getopt complaint about arg; for an unknown short option optopt names it. */
static int
option_error(const char *cmd, const char *problem, const char *arg)
{
	if (optopt != 0 && strcmp(problem, "is unknown") == 0) {
		return usage_error(cmd, "option '-%c' %s", optopt, problem);
	}
	return usage_error(cmd, "option '%s' %s", arg, problem);
}

int
mmioctl_parse_number(const struct invocation *inv, const char *what, const char *text,
		     uint64_t *out)
{
	int rc = parse_u64(text, out);
	if (rc == -ERANGE) {
		return usage_error(inv->cmd->name, "%s '%s': does not fit in 64 bits", what, text);
	}
	if (rc < 0) {
		return usage_error(inv->cmd->name, "%s '%s': expected a decimal or 0x hex number",
				   what, text);
	}
	return 0;
}

int
mmioctl_connect(const char *socket_path, struct mmio_client **out)
{
	int rc = mmio_connect(socket_path, out);
	if (rc == 0) {
		return 0;
	}
	const char *path = socket_path ? socket_path : getenv("MMIOD_SOCKET");
	if (!path) {
		path = MMIO_DEFAULT_SOCKET_PATH;
	}
	/* Errors of the connect(2) call itself read best in libc's words. */
	if (rc == -EPROTONOSUPPORT || rc == -EPROTO || rc == -ECONNRESET || rc == -ENOMEM) {
		return mmioctl_fail(NULL, rc, "connect %s", path);
	}
	fprintf(stderr, "mmioctl: connect %s: %s\n", path, strerror(-rc));
	return MMIOCTL_EXIT_FAILURE;
}

/* Column width: the wider of w and text. */
static int
widest(int w, const char *text)
{
	int len = (int)strlen(text);
	return len > w ? len : w;
}

/* "0x" and the hex digits of v, in buf (at least 19 bytes). */
static const char *
hex(char *buf, uint64_t v)
{
	sprintf(buf, "0x%" PRIx64, v);
	return buf;
}

static const char *
access_name(enum mmio_access access)
{
	return access == MMIO_ACCESS_RW ? "rw" : "ro";
}

/*
 * The ACCESS cell of grant g of region r, in buf (at least 48 bytes): "rw" or
 * "ro" for a grant of the whole region, else also its range as 0xOFFSET+0xLENGTH.
 */
static const char *
grant_text(char *buf, const struct mmio_region_info *r, const struct mmio_grant *g)
{
	if (g->offset == 0 && g->length == r->size) {
		return access_name(g->access);
	}
	sprintf(buf, "%s 0x%" PRIx64 "+0x%" PRIx64, access_name(g->access), g->offset, g->length);
	return buf;
}

static int
cmd_regions(const struct invocation *inv)
{
	struct mmio_client *client;
	int rc = mmioctl_connect(inv->socket_path, &client);
	if (rc != 0) {
		return rc;
	}
	struct mmio_region_info *r = NULL;
	int n = mmio_list_regions(client, &r);
	if (n < 0) {
		rc = mmioctl_fail(client, n, "regions");
		goto out;
	}
	char size[20], address[20];
	int w_name = 4, w_type = 4, w_size = 4, w_address = 7;
	for (int i = 0; i < n; i++) {
		w_name = widest(w_name, r[i].name);
		w_type = widest(w_type, r[i].type);
		w_size = widest(w_size, hex(size, r[i].size));
		w_address = widest(w_address, hex(address, r[i].address));
	}
	printf("%-*s  %-*s  %-*s  %-*s  %s\n", w_name, "NAME", w_type, "TYPE", w_size, "SIZE",
	       w_address, "ADDRESS", "ACCESS");
	for (int i = 0; i < n; i++) {
		char access[48];
		/* The library promises at least one grant; show a region without any as "-". */
		const char *first =
			r[i].n_grants ? grant_text(access, &r[i], &r[i].grants[0]) : "-";
		printf("%-*s  %-*s  %-*s  %-*s  %s", w_name, r[i].name, w_type, r[i].type, w_size,
		       hex(size, r[i].size), w_address, hex(address, r[i].address), first);
		if (r[i].faults) {
			printf("  FAULTED (%llu device faults)", (unsigned long long)r[i].faults);
		}
		putchar('\n');
		/* Further grants of the region: continuation rows, the first four columns blank. */
		for (size_t g = 1; g < r[i].n_grants; g++) {
			printf("%-*s  %-*s  %-*s  %-*s  %s\n", w_name, "", w_type, "", w_size, "",
			       w_address, "", grant_text(access, &r[i], &r[i].grants[g]));
		}
	}
	rc = 0;
out:
	free(r);
	mmio_disconnect(client);
	return rc;
}

static int
cmd_leases(const struct invocation *inv)
{
	struct mmio_client *client;
	int rc = mmioctl_connect(inv->socket_path, &client);
	if (rc != 0) {
		return rc;
	}
	struct mmio_lease_info *l = NULL;
	int n = mmio_list_leases(client, &l);
	if (n < 0) {
		rc = mmioctl_fail(client, n, "leases");
		goto out;
	}
	char start[20], length[20], uid[24];
	int w_region = 6, w_start = 5, w_length = 6, w_uid = 3;
	for (int i = 0; i < n; i++) {
		w_region = widest(w_region, l[i].region);
		w_start = widest(w_start, hex(start, l[i].start));
		w_length = widest(w_length, hex(length, l[i].length));
		sprintf(uid, "%lu", (unsigned long)l[i].uid);
		w_uid = widest(w_uid, uid);
	}
	printf("%6s  %-*s  %-*s  %-*s  %8s  %-*s  %s\n", "ID", w_region, "REGION", w_start, "START",
	       w_length, "LENGTH", "PID", w_uid, "UID", "ACCESS");
	for (int i = 0; i < n; i++) {
		sprintf(uid, "%lu", (unsigned long)l[i].uid);
		printf("%6" PRIu64 "  %-*s  %-*s  %-*s  %8ld  %-*s  %s\n", l[i].id, w_region,
		       l[i].region, w_start, hex(start, l[i].start), w_length,
		       hex(length, l[i].length), (long)l[i].pid, w_uid, uid,
		       access_name(l[i].access));
	}
	rc = 0;
out:
	free(l);
	mmio_disconnect(client);
	return rc;
}

static int
cmd_revoke(const struct invocation *inv)
{
	uint64_t id;
	int rc = mmioctl_parse_number(inv, "lease id", inv->args[0], &id);
	if (rc != 0) {
		return rc;
	}
	struct mmio_client *client;
	rc = mmioctl_connect(inv->socket_path, &client);
	if (rc != 0) {
		return rc;
	}
	rc = mmio_revoke(client, id);
	if (rc < 0) {
		rc = mmioctl_fail(client, rc, "revoke %s", inv->args[0]);
	}
	mmio_disconnect(client);
	return rc;
}

/*
 * read and write: lease exactly the register, access it once at the given
 * width, release. value is in for a store (is_store), out for a load.
 */
static int
access_register(const struct invocation *inv, bool is_store, uint64_t *value)
{
	const char *region = inv->args[0];
	uint64_t offset;
	int rc = mmioctl_parse_number(inv, "offset", inv->args[1], &offset);
	if (rc != 0) {
		return rc;
	}
	if (is_store) {
		rc = mmioctl_parse_number(inv, "value", inv->args[2], value);
		if (rc != 0) {
			return rc;
		}
		if (inv->width < 8 && *value >> (inv->width * 8) != 0) {
			return usage_error(inv->cmd->name, "value '%s' does not fit in %u bits",
					   inv->args[2], inv->width * 8);
		}
	}
	struct mmio_client *client;
	rc = mmioctl_connect(inv->socket_path, &client);
	if (rc != 0) {
		return rc;
	}
	struct mmio_lease *lease;
	rc = mmio_acquire(client, region, offset, inv->width, &lease);
	if (rc < 0) {
		rc = mmioctl_fail(client, rc, "%s %s %s", inv->cmd->name, region, inv->args[1]);
		goto out;
	}
	if (is_store) {
		rc = mmio_store(lease, 0, inv->width, *value);
	} else {
		rc = mmio_load(lease, 0, inv->width, value);
	}
	if (rc < 0) {
		rc = mmioctl_fail(client, rc, "%s %s %s", inv->cmd->name, region, inv->args[1]);
		mmio_release(lease);
		goto out;
	}
	rc = mmio_release(lease);
	if (rc < 0) {
		rc = mmioctl_fail(client, rc, "%s %s %s: release", inv->cmd->name, region,
				  inv->args[1]);
		goto out;
	}
	rc = 0;
out:
	mmio_disconnect(client);
	return rc;
}

static int
cmd_read(const struct invocation *inv)
{
	uint64_t value;
	int rc = access_register(inv, false, &value);
	if (rc == 0) {
		printf("0x%0*" PRIx64 "\n", (int)inv->width * 2, value);
	}
	return rc;
}

static int
cmd_write(const struct invocation *inv)
{
	uint64_t value;
	return access_register(inv, true, &value);
}

static int
cmd_run(const struct invocation *inv)
{
	return mmioctl_run(inv->n_args > 0 ? inv->args[0] : "-", inv->socket_path, inv->keep_going);
}

static const struct command commands[] = {
	{"regions", "", 0, 0, 0, regions_help, cmd_regions},
	{"leases", "", 0, 0, 0, leases_help, cmd_leases},
	{"revoke", " ID", 1, 1, 0, revoke_help, cmd_revoke},
	{"read", " REGION OFFSET [-w WIDTH]", 2, 2, OPT_WIDTH, read_help, cmd_read},
	{"write", " REGION OFFSET VALUE [-w WIDTH]", 3, 3, OPT_WIDTH, write_help, cmd_write},
	{"dump", " REGION OFFSET LENGTH [-w WIDTH]", 3, 3, OPT_WIDTH, mmioctl_dump_help,
	 mmioctl_dump},
	{"run", " [FILE|-] [-k|--keep-going]", 0, 1, OPT_KEEP_GOING, mmioctl_run_help, cmd_run},
	{"wait-irq", " REGION [-t|--timeout MS] [-n|--count N]", 1, 1, OPT_IRQ,
	 mmioctl_wait_irq_help, mmioctl_wait_irq},
};

static void
print_command_help(const struct command *cmd)
{
	printf("Usage: mmioctl [-s SOCKET] %s%s\n", cmd->name, cmd->synopsis);
	fputs(cmd->help, stdout);
	printf("\n  -s, --socket SOCKET  mmiod's socket (default: $MMIOD_SOCKET, else\n"
	       "                       %s)\n"
	       "  -h, --help           show this help\n",
	       MMIO_DEFAULT_SOCKET_PATH);
}

/*
 * Parses the command's own options and arguments (argv[0] is the command
 * name) into inv. Returns 0 to run it, -1 when help was printed, or the usage
 * exit status.
 */
static int
parse_command(int argc, char **argv, struct invocation *inv)
{
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 's'},
		{"width", required_argument, NULL, 'w'},
		{"keep-going", no_argument, NULL, 'k'},
		{"timeout", required_argument, NULL, 't'},
		{"count", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const struct command *cmd = inv->cmd;
	int c;
	optind = 0; /* glibc: start over on this argv */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:w:kt:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
		case 'n': {
			uint64_t v;
			if (!(cmd->options & OPT_IRQ)) {
				return usage_error(cmd->name, "takes no -%c option", c);
			}
			if (parse_u64(optarg, &v) < 0 || v > INT32_MAX || (c == 'n' && v == 0)) {
				return usage_error(cmd->name, "%s '%s': expected %s",
						   c == 't' ? "timeout" : "count", optarg,
						   c == 't' ? "milliseconds"
							    : "a count of at least 1");
			}
			if (c == 't') {
				inv->timeout_ms = (int)v;
			} else {
				inv->count = (unsigned)v;
			}
			break;
		}
		case 's':
			inv->socket_path = optarg;
			break;
		case 'w': {
			uint64_t bits;
			if (!(cmd->options & OPT_WIDTH)) {
				return usage_error(cmd->name, "takes no -w/--width option");
			}
			if (parse_u64(optarg, &bits) < 0 ||
			    (bits != 8 && bits != 16 && bits != 32 && bits != 64)) {
				return usage_error(cmd->name,
						   "width '%s': expected 8, 16, 32 or 64", optarg);
			}
			inv->width = (unsigned)bits / 8;
			break;
		}
		case 'k':
			if (!(cmd->options & OPT_KEEP_GOING)) {
				return usage_error(cmd->name, "takes no -k/--keep-going option");
			}
			inv->keep_going = true;
			break;
		case 'h':
			print_command_help(cmd);
			return -1;
		case ':':
			return option_error(cmd->name, "needs an argument", argv[optind - 1]);
		default:
			return option_error(cmd->name, "is unknown", argv[optind - 1]);
		}
	}
	inv->args = argv + optind;
	inv->n_args = argc - optind;
	if (inv->n_args < cmd->min_args) {
		return usage_error(cmd->name, "missing arguments; usage: mmioctl %s%s", cmd->name,
				   cmd->synopsis);
	}
	if (inv->n_args > cmd->max_args) {
		return usage_error(cmd->name, "unexpected argument '%s'", inv->args[cmd->max_args]);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"socket", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct invocation inv = {.width = 4, .timeout_ms = -1, .count = 1};
	int c;
	opterr = 0;
	/* '+': stop at the command name; its options are parsed per command. */
	while ((c = getopt_long(argc, argv, "+:s:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			inv.socket_path = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("mmioctl %s\n", MMIOD_VERSION);
			return 0;
		case ':':
			return option_error(NULL, "needs an argument", argv[optind - 1]);
		default:
			return option_error(NULL, "is unknown", argv[optind - 1]);
		}
	}
	if (optind == argc) {
		return usage_error(NULL, "missing command");
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			inv.cmd = &commands[i];
		}
	}
	if (!inv.cmd) {
		return usage_error(NULL, "unknown command '%s'", argv[optind]);
	}
	int rc = parse_command(argc - optind, argv + optind, &inv);
	if (rc != 0) {
		return rc < 0 ? 0 : rc;
	}
	rc = inv.cmd->run(&inv);
	if (fflush(stdout) != 0 && rc == 0) {
		fprintf(stderr, "mmioctl: stdout: %s\n", strerror(errno));
		rc = MMIOCTL_EXIT_FAILURE;
	}
	return rc;
}
