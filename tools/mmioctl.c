/*
 * mmioctl: the command-line client of mmiod. argv and the one-shot commands;
 * `run` is in mmioctl_run.c. It talks to the daemon only through
 * libmmio-client.
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

/* Ops per mmio_batch request in dump; the library's cap. */
#define DUMP_CHUNK_OPS 4096

/* Per-command options a command accepts besides -s and -h. */
#define OPT_WIDTH      0x1u
#define OPT_KEEP_GOING 0x2u

struct invocation;

struct command {
	const char *name;
	const char *synopsis;
	int min_args;
	int max_args;
	unsigned options;
	const char *help;
	int (*run)(const struct invocation *inv);
};

/* One parsed command line. */
struct invocation {
	const struct command *cmd;
	const char *socket_path; /* NULL: the library's default */
	unsigned width;          /* bytes */
	bool keep_going;
	char **args; /* positional arguments after the command name */
	int n_args;
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
	"  regions                               list the regions mmiod serves\n"
	"  leases                                list every live lease\n"
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
	"List the regions mmiod serves: name, backend type, size in bytes and the\n"
	"absolute device address of offset 0 (both hex).\n";

static const char leases_help[] =
	"List every live lease of the daemon, of every client: lease id, region,\n"
	"start offset in the region and length (hex), holder's pid and uid.\n";

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

static const char dump_help[] =
	"Lease LENGTH bytes of REGION at OFFSET and print them like 'hexdump -C':\n"
	"lines of the region offset (at least 8 hex digits), 16 bytes in hex and\n"
	"the printable ASCII between |...|, then a line holding the end offset.\n"
	"Repeated lines are printed, not folded into '*'. Bytes are read with\n"
	"WIDTH-bit loads where the device address is aligned to the width and\n"
	"8-bit loads for an unaligned head or tail, in batches of up to 4096.\n"
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

/*
 * Prints "mmioctl: <what>: STATUS_NAME: <detail>" for err, detail as
 * mmioctl_error_detail() gives it; returns the failure exit status.
 */
static int __attribute__((format(printf, 3, 4)))
fail(struct mmio_client *client, int err, const char *fmt, ...)
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

static int
parse_number(const struct invocation *inv, const char *what, const char *text, uint64_t *out)
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
		return fail(NULL, rc, "connect %s", path);
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
		rc = fail(client, n, "regions");
		goto out;
	}
	char size[20];
	int w_name = 4, w_type = 4, w_size = 4;
	for (int i = 0; i < n; i++) {
		w_name = widest(w_name, r[i].name);
		w_type = widest(w_type, r[i].type);
		w_size = widest(w_size, hex(size, r[i].size));
	}
	printf("%-*s  %-*s  %-*s  %s\n", w_name, "NAME", w_type, "TYPE", w_size, "SIZE", "ADDRESS");
	for (int i = 0; i < n; i++) {
		printf("%-*s  %-*s  %-*s  0x%" PRIx64 "\n", w_name, r[i].name, w_type, r[i].type,
		       w_size, hex(size, r[i].size), r[i].address);
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
		rc = fail(client, n, "leases");
		goto out;
	}
	char start[20], length[20];
	int w_region = 6, w_start = 5, w_length = 6;
	for (int i = 0; i < n; i++) {
		w_region = widest(w_region, l[i].region);
		w_start = widest(w_start, hex(start, l[i].start));
		w_length = widest(w_length, hex(length, l[i].length));
	}
	printf("%6s  %-*s  %-*s  %-*s  %8s  %s\n", "ID", w_region, "REGION", w_start, "START",
	       w_length, "LENGTH", "PID", "UID");
	for (int i = 0; i < n; i++) {
		printf("%6" PRIu64 "  %-*s  %-*s  %-*s  %8ld  %lu\n", l[i].id, w_region,
		       l[i].region, w_start, hex(start, l[i].start), w_length,
		       hex(length, l[i].length), (long)l[i].pid, (unsigned long)l[i].uid);
	}
	rc = 0;
out:
	free(l);
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
	int rc = parse_number(inv, "offset", inv->args[1], &offset);
	if (rc != 0) {
		return rc;
	}
	if (is_store) {
		rc = parse_number(inv, "value", inv->args[2], value);
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
		rc = fail(client, rc, "%s %s %s", inv->cmd->name, region, inv->args[1]);
		goto out;
	}
	if (is_store) {
		rc = mmio_store(lease, 0, inv->width, *value);
	} else {
		rc = mmio_load(lease, 0, inv->width, value);
	}
	if (rc < 0) {
		rc = fail(client, rc, "%s %s %s", inv->cmd->name, region, inv->args[1]);
		mmio_release(lease);
		goto out;
	}
	rc = mmio_release(lease);
	if (rc < 0) {
		rc = fail(client, rc, "%s %s %s: release", inv->cmd->name, region, inv->args[1]);
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

/* The 'hexdump -C' line being filled. */
struct hexdump {
	uint64_t offset; /* region offset of line[0] */
	unsigned char line[16];
	unsigned fill;
};

static void
hexdump_flush(struct hexdump *h)
{
	if (h->fill == 0) {
		return;
	}
	printf("%08" PRIx64 " ", h->offset);
	for (unsigned i = 0; i < 16; i++) {
		if (i == 8) {
			putchar(' ');
		}
		if (i < h->fill) {
			printf(" %02x", h->line[i]);
		} else {
			fputs("   ", stdout);
		}
	}
	fputs("  |", stdout);
	for (unsigned i = 0; i < h->fill; i++) {
		unsigned char c = h->line[i];
		putchar(c >= 0x20 && c < 0x7f ? c : '.');
	}
	fputs("|\n", stdout);
	h->offset += h->fill;
	h->fill = 0;
}

static void
hexdump_add(struct hexdump *h, const unsigned char *bytes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h->line[h->fill++] = bytes[i];
		if (h->fill == 16) {
			hexdump_flush(h);
		}
	}
}

/* The absolute device address of region's offset 0, found through mmio_list_regions(). */
static int
region_address(struct mmio_client *client, const char *region, uint64_t *address)
{
	struct mmio_region_info *regions = NULL;
	int n = mmio_list_regions(client, &regions);
	if (n < 0) {
		return n;
	}
	int rc = -ENOENT;
	for (int i = 0; i < n; i++) {
		if (strcmp(regions[i].name, region) == 0) {
			*address = regions[i].address;
			rc = 0;
			break;
		}
	}
	free(regions);
	return rc;
}

/*
 * Reads the whole of lease (which starts at absolute device address base) in
 * batches, width-sized loads where aligned, feeding the bytes to h. Returns 0
 * or the first failing op's (or batch's) error.
 */
static int
dump_lease(struct mmio_client *client, struct mmio_lease *lease, uint64_t base, unsigned width,
	   struct hexdump *h)
{
	struct mmio_op *ops = calloc(DUMP_CHUNK_OPS, sizeof(*ops));
	if (!ops) {
		return -ENOMEM;
	}
	uint64_t length = mmio_lease_length(lease);
	uint64_t pos = 0;
	int rc = 0;
	while (pos < length) {
		size_t n = 0;
		for (; n < DUMP_CHUNK_OPS && pos < length; n++) {
			unsigned w = width;
			if ((base + pos) % width != 0 || length - pos < width) {
				w = 1;
			}
			ops[n] = (struct mmio_op){
				.lease = lease, .kind = MMIO_OP_LOAD, .width = w, .offset = pos};
			pos += w;
		}
		rc = mmio_batch(client, ops, n, MMIO_BATCH_STOP_ON_ERROR);
		if (rc > 0) {
			for (size_t i = 0; i < n; i++) {
				if (ops[i].status != 0) {
					rc = ops[i].status;
					break;
				}
			}
		}
		if (rc < 0) {
			break;
		}
		for (size_t i = 0; i < n; i++) {
			/* Lay the value out as memory holds it: the device's byte order is ours. */
			unsigned char bytes[8];
			for (unsigned b = 0; b < ops[i].width; b++) {
				bool le = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;
				unsigned shift = 8 * (le ? b : ops[i].width - 1 - b);
				bytes[b] = (unsigned char)(ops[i].value >> shift);
			}
			hexdump_add(h, bytes, ops[i].width);
		}
	}
	free(ops);
	return rc;
}

static int
cmd_dump(const struct invocation *inv)
{
	const char *region = inv->args[0];
	uint64_t offset, length;
	int rc = parse_number(inv, "offset", inv->args[1], &offset);
	if (rc == 0) {
		rc = parse_number(inv, "length", inv->args[2], &length);
	}
	if (rc != 0) {
		return rc;
	}
	struct mmio_client *client;
	rc = mmioctl_connect(inv->socket_path, &client);
	if (rc != 0) {
		return rc;
	}
	struct mmio_lease *lease;
	rc = mmio_acquire(client, region, offset, length, &lease);
	if (rc < 0) {
		rc = fail(client, rc, "dump %s %s %s", region, inv->args[1], inv->args[2]);
		goto out;
	}
	uint64_t address;
	rc = region_address(client, region, &address);
	if (rc < 0) {
		rc = fail(client, rc, "dump %s: region address", region);
		goto out;
	}
	struct hexdump h = {.offset = offset};
	rc = dump_lease(client, lease, address + offset, inv->width, &h);
	hexdump_flush(&h);
	if (rc < 0) {
		fflush(stdout);
		rc = fail(client, rc, "dump %s %s %s", region, inv->args[1], inv->args[2]);
		goto out;
	}
	if (length > 0) {
		printf("%08" PRIx64 "\n", offset + length);
	}
	rc = mmio_release(lease);
	if (rc < 0) {
		rc = fail(client, rc, "dump %s %s %s: release", region, inv->args[1], inv->args[2]);
		goto out;
	}
	rc = 0;
out:
	mmio_disconnect(client);
	return rc;
}

static int
cmd_run(const struct invocation *inv)
{
	return mmioctl_run(inv->n_args > 0 ? inv->args[0] : "-", inv->socket_path, inv->keep_going);
}

static const struct command commands[] = {
	{"regions", "", 0, 0, 0, regions_help, cmd_regions},
	{"leases", "", 0, 0, 0, leases_help, cmd_leases},
	{"read", " REGION OFFSET [-w WIDTH]", 2, 2, OPT_WIDTH, read_help, cmd_read},
	{"write", " REGION OFFSET VALUE [-w WIDTH]", 3, 3, OPT_WIDTH, write_help, cmd_write},
	{"dump", " REGION OFFSET LENGTH [-w WIDTH]", 3, 3, OPT_WIDTH, dump_help, cmd_dump},
	{"run", " [FILE|-] [-k|--keep-going]", 0, 1, OPT_KEEP_GOING, mmioctl_run_help, cmd_run},
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
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const struct command *cmd = inv->cmd;
	int c;
	optind = 0; /* glibc: start over on this argv */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:w:kh", longopts, NULL)) != -1) {
		switch (c) {
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
	struct invocation inv = {.width = 4};
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
