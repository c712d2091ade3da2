/*
 * mmioctl: the command-line client of mmiod. argv, the command table and the
 * error and usage messages every command shares; the commands themselves are
 * in mmioctl_list.c (regions, leases, revoke), mmioctl_stats.c,
 * mmioctl_register.c (read, write, modify, poll), mmioctl_dump.c,
 * mmioctl_irq.c (wait-irq), mmioctl_run.c and mmioctl_regmap.c (regmap
 * import, which needs no daemon). It talks to the daemon only through
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

/* Per-command options a command accepts besides -s and -h. */
#define OPT_WIDTH      0x1u
#define OPT_KEEP_GOING 0x2u
#define OPT_IRQ        0x4u /* -t/--timeout, -n/--count */
#define OPT_POLL       0x8u /* -t/--timeout, -i/--interval */
#define OPT_VERIFY     0x10u
#define OPT_NO_JSON    0x20u  /* run: keeps its line protocol */
#define OPT_PROMETHEUS 0x40u  /* -o prometheus */
#define OPT_ADDRESS    0x80u  /* -a/--address ADDR stands for REGION OFFSET */
#define OPT_MASK       0x100u /* --mask MASK (sim set) */
#define OPT_DECODE     0x200u /* -d/--decode: registers by their fields */
/* regmap import: -p/--peripheral, no -s (never connects); prints YAML (with OPT_NO_JSON). */
#define OPT_SVD    0x400u
#define OPT_GRACE  0x800u  /* --grace MS (revoke) */
#define OPT_COUNT  0x1000u /* -n/--count alone (trace) */
#define OPT_REPLAY 0x2000u /* --region SIMREGION, --reset */

/* Positional arguments -a/--address stands for: REGION and OFFSET (or RANGE). */
#define ADDRESS_ARGS 2

/* getopt_long values of --verify and --list-commands, which have no short form. */
#define OPT_LONG_VERIFY 256
#define OPT_LONG_LIST   257
#define OPT_LONG_MASK   258
#define OPT_LONG_GRACE  259
#define OPT_LONG_REGION 260
#define OPT_LONG_RESET  261

/* mmio_poll() lasts at most this long. */
#define POLL_MAX_TIMEOUT_MS 60000
#define GRACE_MAX_MS        60000 /* mmiod's MMIO_MAX_GRACE_MS */

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
	"  -q, --quiet          print only the values: read, modify and poll print the\n"
	"                       value alone (as they do anyway), regions and leases\n"
	"                       drop their header row, dump its end-offset line;\n"
	"                       errors still go to stderr\n"
	"  -o, --output FORMAT  text (default) or json: one JSON document on stdout,\n"
	"                       for a failed request or a usage error {\"error\":\n"
	"                       STATUS, \"detail\": ...} (every command but run);\n"
	"                       a value in a hex string (\"value\": \"0x..\") is also\n"
	"                       an exact integer beside it (\"value_int\": N);\n"
	"                       stats also takes prometheus\n"
	"  -h, --help           show this help\n"
	"  -V, --version        show the version\n"
	"      --list-commands  list the commands, each with the options it takes\n"
	"                       (for shell completion)\n"
	"\n"
	"Commands:\n"
	"  regions                               list the regions you may lease from\n"
	"  leases                                list live leases (every one for admins)\n"
	"  revoke ID [--grace MS]                end any client's lease (admins)\n"
	"  stats [-o text|json|prometheus]       mmiod's figures (connections, leases, ...)\n"
	"  wait-irq REGION [-t MS] [-n N]        wait for a region's interrupt\n"
	"  regs REGION                           list the region's register map\n"
	"  read REGION OFFSET|NAME [-w WIDTH] [-d]\n"
	"                                        load one register and print it (-d: by\n"
	"                                        its fields)\n"
	"  write REGION OFFSET|NAME VALUE [-w WIDTH] [--verify]\n"
	"                                        store one register (no read-back unless\n"
	"                                        --verify: a load may have side effects)\n"
	"  write REGION REG.FIELD=VALUE...       set fields of one register in one modify\n"
	"  modify REGION OFFSET MASK VALUE [-w WIDTH]\n"
	"                                        store VALUE's MASK bits, print the old value\n"
	"  poll REGION OFFSET MASK VALUE [-w WIDTH] [-t MS] [-i US]\n"
	"                                        load until (value & MASK) == (VALUE & MASK)\n"
	"  dump REGION RANGE [-w WIDTH]          print a range like 'hexdump -C'; RANGE is\n"
	"                                        A-B (bytes A up to, not including, B),\n"
	"                                        A+LENGTH, or A LENGTH\n"
	"  dump REGION [RANGE] --decode          print the registers of the map that a read\n"
	"                                        leaves alone, by their fields\n"
	"  run [FILE|-] [--keep-going]           run a lease script on one connection\n"
	"  sim get|set|irq|reset REGION ...      act as a sim region's device (raw bits,\n"
	"                                        its interrupt, reset)\n"
	"  regmap import [-p NAME] FILE.svd      convert a CMSIS-SVD peripheral into a\n"
	"                                        register map (YAML; needs no daemon)\n"
	"  trace REGION [-n N]                   print every access on a region (admins)\n"
	"  replay FILE --region SIMREGION [--reset]\n"
	"                                        re-run a trace (-o json) on a sim region\n"
	"                                        and report the first load that differs\n"
	"\n"
	"In read, write, modify, poll and dump, -a/--address ADDR stands for REGION\n"
	"OFFSET: the register by its device address (physical for devmem and uio, bus\n"
	"address for pci), in the one region listed whose range covers it.\n"
	"\n"
	"NAME is a register of the region's map (mmiod-regmap(5)): REG, REG.FIELD,\n"
	"ARR[i], ARR[i].FIELD; anything not starting with a digit is a NAME. Its width\n"
	"is the map's.\n"
	"\n"
	"Numbers are decimal or 0x hex; a leading zero (010: octal to C and busybox\n"
	"devmem) is refused. WIDTH is 8, 16, 32 or 64 bits (default 32).\n"
	"'mmioctl COMMAND --help' describes a command; -s, -q, -o and -h also work\n"
	"after it.\n"
	"\n"
	"Exit status: 0 success, 1 a request was refused or failed (the reason, with\n"
	"the daemon's status name, goes to stderr), 2 usage error, 3 mmiod could not\n"
	"be reached (UNAVAILABLE: no socket, nothing listening, no permission).\n";

/* A getopt complaint about arg; for an unknown short option optopt names it. */
static int
option_error(const char *cmd, const char *problem, const char *arg)
{
	if (optopt != 0 && strcmp(problem, "is unknown") == 0) {
		return mmioctl_usage_error(cmd, "option '-%c' %s", optopt, problem);
	}
	return mmioctl_usage_error(cmd, "option '%s' %s", arg, problem);
}

/* `run [FILE|-]`: the script from stdin without FILE. */
static int
cmd_run(const struct invocation *inv)
{
	return mmioctl_run(inv->n_args > 0 ? inv->args[0] : "-", inv->socket_path, inv->keep_going);
}

static const struct command commands[] = {
	{"regions", "", 0, 0, 0, mmioctl_regions_help, mmioctl_regions},
	{"leases", "", 0, 0, 0, mmioctl_leases_help, mmioctl_leases},
	{"revoke", " ID [--grace MS]", 1, 1, OPT_GRACE, mmioctl_revoke_help, mmioctl_revoke},
	{"stats", " [-o|--output text|json|prometheus]", 0, 0, OPT_PROMETHEUS, mmioctl_stats_help,
	 mmioctl_stats},
	{"regs", " REGION", 1, 1, 0, mmioctl_regs_help, mmioctl_regs},
	{"read", " REGION OFFSET|NAME|-a ADDR [-w WIDTH] [-d|--decode]", 2, 2,
	 OPT_WIDTH | OPT_ADDRESS | OPT_DECODE, mmioctl_read_help, mmioctl_read},
	/* REGION REG.FIELD=VALUE... takes as many arguments as fields: run_request counts. */
	{"write",
	 " REGION OFFSET|NAME|-a ADDR VALUE [-w WIDTH] [--verify] | REGION REG.FIELD=VALUE...", 2,
	 2 + 64, OPT_WIDTH | OPT_VERIFY | OPT_ADDRESS, mmioctl_write_help, mmioctl_write},
	{"modify", " REGION OFFSET|NAME|-a ADDR MASK VALUE [-w WIDTH]", 4, 4,
	 OPT_WIDTH | OPT_ADDRESS, mmioctl_modify_help, mmioctl_modify},
	{"poll",
	 " REGION OFFSET|NAME|-a ADDR MASK VALUE [-w WIDTH] [-t|--timeout MS] [-i|--interval US]",
	 4, 4, OPT_WIDTH | OPT_POLL | OPT_ADDRESS, mmioctl_poll_help, mmioctl_poll},
	/* --decode makes the range optional: mmioctl_dump checks. */
	{"dump",
	 " REGION A-B|A+LENGTH|OFFSET LENGTH | -a A-B|A+LENGTH|ADDR LENGTH [-w WIDTH] | REGION "
	 "[RANGE] -d|--decode",
	 1, 3, OPT_WIDTH | OPT_ADDRESS | OPT_DECODE, mmioctl_dump_help, mmioctl_dump},
	{"run", " [FILE|-] [-k|--keep-going]", 0, 1, OPT_KEEP_GOING | OPT_NO_JSON, mmioctl_run_help,
	 cmd_run},
	{"wait-irq", " REGION [-t|--timeout MS] [-n|--count N]", 1, 1, OPT_IRQ,
	 mmioctl_wait_irq_help, mmioctl_wait_irq},
	/* sim set REGION REG.FIELD=VALUE... takes as many arguments as fields, as write. */
	{"sim",
	 " get REGION OFFSET|NAME [-w WIDTH] [-d] | set REGION OFFSET|NAME VALUE [-w WIDTH] "
	 "[--mask MASK] | set REGION REG.FIELD=VALUE... | irq|reset REGION",
	 2, 3 + 64, OPT_WIDTH | OPT_MASK | OPT_DECODE, mmioctl_sim_help, mmioctl_sim},
	{"regmap", " import [-p|--peripheral NAME] FILE.svd", 2, 2, OPT_SVD | OPT_NO_JSON,
	 mmioctl_regmap_help, mmioctl_regmap},
	{"trace", " REGION [-n|--count N]", 1, 1, OPT_COUNT, mmioctl_trace_help, mmioctl_trace},
	{"replay", " FILE --region SIMREGION [--reset]", 1, 1, OPT_REPLAY, mmioctl_replay_help,
	 mmioctl_replay},
};

/*
 * The options after a command name, and which commands take them: what
 * parse_command() accepts, and what --list-commands tells shell completion.
 */
struct option_spec {
	int val;            /* getopt_long's */
	const char *short_; /* "-w", or NULL */
	const char *long_;  /* "--width" */
	unsigned needs;     /* a command takes it if it has one of these flags; 0: every command */
	unsigned refused;   /* ... unless it has one of these */
};

static const struct option_spec option_specs[] = {
	{'s', "-s", "--socket", 0, OPT_SVD},
	{'q', "-q", "--quiet", 0, OPT_NO_JSON},
	{'o', "-o", "--output", 0, OPT_NO_JSON},
	{'h', "-h", "--help", 0, 0},
	{'w', "-w", "--width", OPT_WIDTH, 0},
	{'a', "-a", "--address", OPT_ADDRESS, 0},
	{'d', "-d", "--decode", OPT_DECODE, 0},
	{OPT_LONG_VERIFY, NULL, "--verify", OPT_VERIFY, 0},
	{'t', "-t", "--timeout", OPT_IRQ | OPT_POLL, 0},
	{'n', "-n", "--count", OPT_IRQ | OPT_COUNT, 0},
	{OPT_LONG_REGION, NULL, "--region", OPT_REPLAY, 0},
	{OPT_LONG_RESET, NULL, "--reset", OPT_REPLAY, 0},
	{'i', "-i", "--interval", OPT_POLL, 0},
	{'k', "-k", "--keep-going", OPT_KEEP_GOING, 0},
	{OPT_LONG_MASK, NULL, "--mask", OPT_MASK, 0},
	{'p', "-p", "--peripheral", OPT_SVD, 0},
	{OPT_LONG_GRACE, NULL, "--grace", OPT_GRACE, 0},
};

/* mmioctl's own options, before the command name: main() parses them. */
static const struct option main_longopts[] = {
	{"socket", required_argument, NULL, 's'},
	{"quiet", no_argument, NULL, 'q'},
	{"output", required_argument, NULL, 'o'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{"list-commands", no_argument, NULL, OPT_LONG_LIST},
	{NULL, 0, NULL, 0},
};

/* Whether cmd takes option o. */
static bool
command_takes(const struct command *cmd, const struct option_spec *o)
{
	return (o->needs == 0 || (cmd->options & o->needs)) && !(cmd->options & o->refused);
}

/* The spec of getopt_long's value c, or NULL. */
static const struct option_spec *
option_spec_of(int c)
{
	for (size_t i = 0; i < sizeof(option_specs) / sizeof(option_specs[0]); i++) {
		if (option_specs[i].val == c) {
			return &option_specs[i];
		}
	}
	return NULL;
}

/*
 * --list-commands: "mmioctl OPTIONS..." for mmioctl's own options, then per
 * command "NAME OPTIONS..." (short and long forms), from the tables
 * parse_command() works by. Shell completion is tested against it.
 */
static void
list_commands(void)
{
	fputs("mmioctl", stdout);
	for (const struct option *o = main_longopts; o->name; o++) {
		if (o->val < OPT_LONG_VERIFY) {
			printf(" -%c", o->val);
		}
		printf(" --%s", o->name);
	}
	putchar('\n');
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		fputs(commands[i].name, stdout);
		for (size_t k = 0; k < sizeof(option_specs) / sizeof(option_specs[0]); k++) {
			const struct option_spec *o = &option_specs[k];
			if (command_takes(&commands[i], o)) {
				printf("%s%s %s", o->short_ ? " " : "", o->short_ ? o->short_ : "",
				       o->long_);
			}
		}
		putchar('\n');
	}
}

static void
print_command_help(const struct command *cmd)
{
	printf("Usage: mmioctl [-s SOCKET] %s%s\n", cmd->name, cmd->synopsis);
	fputs(cmd->help, stdout);
	if (cmd->options & OPT_ADDRESS) {
		fputs(mmioctl_address_help, stdout);
	}
	putchar('\n');
	if (!(cmd->options & OPT_SVD)) { /* never connects */
		printf("  -s, --socket SOCKET  mmiod's socket (default: $MMIOD_SOCKET, else\n"
		       "                       %s)\n",
		       MMIO_DEFAULT_SOCKET_PATH);
	}
	if (!(cmd->options & OPT_NO_JSON)) {
		fputs("  -q, --quiet          print only the value, if any; errors on stderr\n",
		      stdout);
	}
	if (!(cmd->options & (OPT_NO_JSON | OPT_PROMETHEUS))) {
		fputs("  -o, --output FORMAT  text (default) or json\n", stdout);
	}
	fputs("  -h, --help           show this help\n", stdout);
}

/*
 * -t/--timeout MS (wait-irq, poll), -n/--count N (wait-irq, trace) and -i/--interval
 * US (poll), options cmd takes: stores c's argument, text, in inv. Returns 0
 * or the usage exit status.
 */
static int
parse_timing_option(const struct command *cmd, int c, const char *text, struct invocation *inv)
{
	uint64_t v;
	bool ok = parse_u64(text, &v) == 0;
	if (c == 't') {
		bool poll = cmd->options & OPT_POLL;
		if (!ok || v > (poll ? POLL_MAX_TIMEOUT_MS : INT32_MAX)) {
			return mmioctl_usage_error(cmd->name,
						   "timeout '%s': expected milliseconds%s", text,
						   poll ? ", at most 60000" : "");
		}
		inv->timeout_ms = (int)v;
	} else if (c == 'n') {
		if (!ok || v == 0 || v > INT32_MAX) {
			return mmioctl_usage_error(
				cmd->name, "count '%s': expected a count of at least 1", text);
		}
		inv->count = (unsigned)v;
		inv->count_given = true;
	} else {
		if (!ok || v > UINT32_MAX) {
			return mmioctl_usage_error(cmd->name,
						   "interval '%s': expected microseconds", text);
		}
		inv->interval_us = (unsigned)v;
	}
	return 0;
}

/* -o/--output FORMAT into mmioctl_output; cmd NULL before the command name. 0 or usage status. */
static int
parse_output_option(const char *cmd, const char *text)
{
	if (strcmp(text, "text") == 0) {
		mmioctl_output = MMIOCTL_OUTPUT_TEXT;
	} else if (strcmp(text, "json") == 0) {
		mmioctl_output = MMIOCTL_OUTPUT_JSON;
	} else if (strcmp(text, "prometheus") == 0) {
		mmioctl_output = MMIOCTL_OUTPUT_PROMETHEUS;
	} else {
		return mmioctl_usage_error(cmd, "output '%s': expected text, json or prometheus",
					   text);
	}
	return 0;
}

/* Whether cmd can print in the chosen output format; 0 or the usage exit status. */
static int
check_output(const struct command *cmd)
{
	if (mmioctl_output == MMIOCTL_OUTPUT_PROMETHEUS && !(cmd->options & OPT_PROMETHEUS)) {
		return mmioctl_usage_error(cmd->name, "-o prometheus is for 'stats' only");
	}
	if (mmioctl_output != MMIOCTL_OUTPUT_TEXT && (cmd->options & OPT_NO_JSON)) {
		return mmioctl_usage_error(cmd->name, "prints its own %s: no -o %s",
					   cmd->options & OPT_SVD ? "YAML" : "line protocol",
					   mmioctl_output == MMIOCTL_OUTPUT_JSON ? "json"
										 : "prometheus");
	}
	return 0;
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
		{"interval", required_argument, NULL, 'i'},
		{"quiet", no_argument, NULL, 'q'},
		{"output", required_argument, NULL, 'o'},
		{"verify", no_argument, NULL, OPT_LONG_VERIFY},
		{"address", required_argument, NULL, 'a'},
		{"mask", required_argument, NULL, OPT_LONG_MASK},
		{"grace", required_argument, NULL, OPT_LONG_GRACE},
		{"decode", no_argument, NULL, 'd'},
		{"peripheral", required_argument, NULL, 'p'},
		{"region", required_argument, NULL, OPT_LONG_REGION},
		{"reset", no_argument, NULL, OPT_LONG_RESET},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const struct command *cmd = inv->cmd;
	int c;
	optind = 0; /* glibc: start over on this argv */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:w:kt:n:i:qo:a:dp:h", longopts, NULL)) != -1) {
		const struct option_spec *spec = option_spec_of(c);
		if (spec && !command_takes(cmd, spec)) {
			return mmioctl_usage_error(cmd->name, "takes no %s%s%s option",
						   spec->short_ ? spec->short_ : "",
						   spec->short_ ? "/" : "", spec->long_);
		}
		switch (c) {
		case 'a':
			inv->address = optarg;
			break;
		case 'd':
			inv->decode = true;
			break;
		case 'p':
			inv->peripheral = optarg;
			break;
		case 'q':
			inv->quiet = true;
			break;
		case 'o': {
			int rc = parse_output_option(cmd->name, optarg);
			if (rc != 0) {
				return rc;
			}
			break;
		}
		case OPT_LONG_VERIFY:
			inv->verify = true;
			break;
		case OPT_LONG_MASK:
			inv->mask = optarg;
			break;
		case OPT_LONG_GRACE: {
			uint64_t ms;
			if (parse_u64(optarg, &ms) < 0 || ms > GRACE_MAX_MS) {
				return mmioctl_usage_error(
					cmd->name, "grace '%s': expected milliseconds, at most %d",
					optarg, GRACE_MAX_MS);
			}
			inv->grace_ms = (unsigned)ms;
			break;
		}
		case OPT_LONG_REGION:
			inv->region = optarg;
			break;
		case OPT_LONG_RESET:
			inv->reset = true;
			break;
		case 't':
		case 'n':
		case 'i': {
			int rc = parse_timing_option(cmd, c, optarg, inv);
			if (rc != 0) {
				return rc;
			}
			break;
		}
		case 's':
			inv->socket_path = optarg;
			break;
		case 'w': {
			uint64_t bits;
			if (parse_u64(optarg, &bits) < 0 ||
			    (bits != 8 && bits != 16 && bits != 32 && bits != 64)) {
				return mmioctl_usage_error(
					cmd->name, "width '%s': expected 8, 16, 32 or 64", optarg);
			}
			inv->width = (unsigned)bits / 8;
			inv->width_given = true;
			break;
		}
		case 'k':
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
	int rc = check_output(cmd);
	if (rc != 0) {
		return rc;
	}
	inv->args = argv + optind;
	inv->n_args = argc - optind;
	/* -a ADDR stands for REGION OFFSET (dump: REGION and the range). */
	int dropped = inv->address ? ADDRESS_ARGS : 0;
	if (inv->n_args < cmd->min_args - dropped) {
		return mmioctl_usage_error(cmd->name, "missing arguments; usage: mmioctl %s%s",
					   cmd->name, cmd->synopsis);
	}
	if (inv->n_args > cmd->max_args - dropped) {
		return mmioctl_usage_error(cmd->name, "unexpected argument '%s'",
					   inv->args[cmd->max_args - dropped]);
	}
	return 0;
}

/*
 * Whether the last -o/--output of argv (before any "--") is json. main() asks
 * before parsing, so that a usage error found before the option is reached
 * (an unknown option, a missing argument) is a JSON object too.
 */
static bool
wants_json(int argc, char **argv)
{
	/* Long options that take an argument, but --output; short ones are in the cluster loop. */
	static const char *const with_arg[] = {"--socket", "--width",    "--timeout",
					       "--count",  "--interval", "--address",
					       "--mask",   "--grace",    "--region"};
	bool json = false;
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *a = argv[i];
		const char *value = NULL;
		if (strncmp(a, "--output=", 9) == 0) {
			value = a + 9;
		} else if (strcmp(a, "--output") == 0) {
			value = i + 1 < argc ? argv[++i] : NULL;
		} else if (a[0] == '-' && a[1] == '-') {
			for (size_t k = 0; k < sizeof(with_arg) / sizeof(with_arg[0]); k++) {
				i += strcmp(a, with_arg[k]) == 0;
			}
		} else if (a[0] == '-') {
			/* A cluster such as -qo json or -qojson; -s, -w, -t, -n, -i take the rest.
			 */
			for (const char *c = a + 1; *c; c++) {
				if (*c == 'o') {
					value = c[1] ? c + 1 : i + 1 < argc ? argv[++i] : NULL;
					break;
				}
				if (strchr("swtniap", *c)) {
					i += c[1] == '\0';
					break;
				}
			}
		}
		if (value) {
			json = strcmp(value, "json") == 0;
		}
	}
	return json;
}

int
main(int argc, char **argv)
{
	struct invocation inv = {.width = 4, .timeout_ms = -1, .count = 1};
	int c;
	if (wants_json(argc, argv)) {
		mmioctl_output = MMIOCTL_OUTPUT_JSON;
	}
	opterr = 0;
	/* '+': stop at the command name; its options are parsed per command. */
	while ((c = getopt_long(argc, argv, "+:s:qo:hV", main_longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			inv.socket_path = optarg;
			break;
		case 'q':
			inv.quiet = true;
			break;
		case 'o': {
			int rc = parse_output_option(NULL, optarg);
			if (rc != 0) {
				return rc;
			}
			break;
		}
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("mmioctl %s\n", MMIOD_VERSION);
			return 0;
		case OPT_LONG_LIST:
			list_commands();
			return 0;
		case ':':
			return option_error(NULL, "needs an argument", argv[optind - 1]);
		default:
			return option_error(NULL, "is unknown", argv[optind - 1]);
		}
	}
	if (optind == argc) {
		return mmioctl_usage_error(NULL, "missing command");
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			inv.cmd = &commands[i];
			inv.cmd_name = commands[i].name;
		}
	}
	if (!inv.cmd) {
		return mmioctl_usage_error(NULL, "unknown command '%s'", argv[optind]);
	}
	int rc = parse_command(argc - optind, argv + optind, &inv);
	if (rc != 0) {
		return rc < 0 ? 0 : rc;
	}
	rc = inv.cmd->run(&inv);
	/* Commands flush as they go; a write error there is only in the stream's error flag. */
	if ((fflush(stdout) != 0 || ferror(stdout)) && rc == 0) {
		fprintf(stderr, "mmioctl: stdout: %s\n", strerror(errno));
		rc = MMIOCTL_EXIT_FAILURE;
	}
	return rc;
}
