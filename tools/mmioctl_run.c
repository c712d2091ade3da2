/*
 * mmioctl run: a line-oriented script of lease commands executed on one
 * connection, so leases live from one line to the next. Lines are executed as
 * they arrive and every result is flushed at once, so a driver can talk to it
 * through pipes.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <mmio/client.h>

#include "mmioctl.h"
#include "parse.h"

/* Values of one readblock/writeblock line: a result line stays readable. */
#define MAX_BLOCK_VALUES 64

/* Tokens kept per line: writeblock's 3 + MAX_BLOCK_VALUES, and one more to detect excess. */
#define MAX_TOKENS (3 + MAX_BLOCK_VALUES + 1)

/* A poll's timeout when its line gives none, and the longest mmio_poll() takes. */
#define POLL_DEFAULT_TIMEOUT_MS 1000
#define POLL_MAX_TIMEOUT_MS     60000

/* A script's name for one of its leases. */
struct label {
	LIST_ENTRY(label) link;
	struct mmio_lease *lease;
	char name[];
};

/* cppcheck-suppress unusedStructMember ; used, through LIST_FIRST() and LIST_FOREACH() */
LIST_HEAD(label_list, label);

struct script {
	struct mmio_client *client;
	struct label_list labels;
};

/* args holds the line's min_args..max_args arguments and a NULL. */
struct script_command {
	const char *name;
	int min_args, max_args;
	const char *synopsis;
	unsigned width; /* bytes, for accesses; 0: a NAME's, from the map */
	unsigned flags; /* block commands: MMIO_REPEAT for the fifo ones */
	int (*run)(struct script *s, const struct script_command *cmd, char **args);
};

const char mmioctl_run_help[] =
	"Run a script read from FILE (default, or '-': stdin) on one connection, so\n"
	"leases live from one line to the next. Lines are executed as they arrive.\n"
	"One command per line; blank lines and '#' comments print nothing. LABEL\n"
	"and NEW are names (letters, digits, '_') the script gives its leases. Access\n"
	"offsets are relative to the lease; numbers are decimal or 0x hex (a leading\n"
	"zero is refused: 010 is octal to C).\n"
	"\n"
	"  acquire LABEL REGION OFFSET LENGTH  lease [OFFSET, OFFSET+LENGTH) of REGION\n"
	"  split NEW LABEL MID        NEW takes the low MID bytes of LABEL; LABEL keeps\n"
	"                             the rest, its offset 0 being the old offset MID\n"
	"  release LABEL              release the lease and forget the label\n"
	"  loadW LABEL OFFSET         one W-bit load\n"
	"  storeW LABEL OFFSET VALUE  one W-bit store\n"
	"  modifyW LABEL OFFSET MASK VALUE\n"
	"                             load, then store (old & ~MASK) | (VALUE & MASK),\n"
	"                             in one request; prints the old value\n"
	"  pollW LABEL OFFSET MASK VALUE [TIMEOUT_MS]\n"
	"                             load every 100 us until (value & MASK) ==\n"
	"                             (VALUE & MASK), for up to TIMEOUT_MS (default\n"
	"                             1000, at most 60000; 0 checks once); prints the\n"
	"                             last value, or fails with TIMEOUT\n"
	"  readblockW LABEL OFFSET COUNT\n"
	"                             COUNT (1..64) loads upwards from OFFSET\n"
	"  writeblockW LABEL OFFSET VALUE [VALUE...]\n"
	"                             up to 64 stores upwards from OFFSET\n"
	"  readfifoW LABEL OFFSET COUNT, writefifoW LABEL OFFSET VALUE [VALUE...]\n"
	"                             the same, every access at OFFSET (a FIFO)\n"
	"  barrier LABEL              order the stores before it before those after\n"
	"\n"
	"W is the access width in bits, 8, 16, 32 or 64: load32, modify8, readfifo64.\n"
	"\n"
	"Wherever an OFFSET is taken, a NAME of a register of the region's map\n"
	"(anything not starting with a digit: LSR, LSR.DR, CH[3].EN) may stand\n"
	"instead: in acquire the register's offset in REGION, elsewhere its offset in\n"
	"the lease, which must hold it (else OUT_OF_RANGE). W must then be the map's\n"
	"width, or be left out: load, store, modify and poll without W take a NAME\n"
	"and its width. A field NAME loads (and polls, and modifies) just its bits,\n"
	"shifted down, MASK and VALUE being the field's; storeW to a field is one\n"
	"masked modify of its bits, VALUE a number or one of the field's value names.\n"
	"Block commands take a register, not a field.\n"
	"A block command checks every address and value before the first access.\n"
	"Each command prints one line, flushed at once: 'ok'; 'ok 0xVALUE' with the\n"
	"value loaded (the old one for modify, the last one for poll), zero-padded to\n"
	"the width; 'ok 0xV1 0xV2 ...' for readblock and readfifo; or\n"
	"'error STATUS_NAME: detail' (a bad line is 'error INVALID_ARGUMENT: ...').\n"
	"The first error ends the script unless --keep-going. Exit status 1 if any\n"
	"line failed, else 0.\n"
	"\n"
	"  -k, --keep-going     run the remaining lines after an error\n";

/* Prints "error STATUS: detail" as the line's result; returns -1. */
static int
print_error(const char *status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("error %s: ", status);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return -1;
}

/* A usage problem in the line itself. */
#define line_error(...) print_error("INVALID_ARGUMENT", __VA_ARGS__)

/* A refused or failed library call; client (NULL: none) made it. */
static int
print_failure(struct mmio_client *client, int err)
{
	return print_error(mmioctl_status_name(err), "%s", mmioctl_error_detail(client, err));
}

/* Labels are identifiers, so they can be echoed in messages as they are. */
static bool
valid_label(const char *name)
{
	if (!isalpha((unsigned char)name[0]) && name[0] != '_') {
		return false;
	}
	for (const char *p = name; *p; p++) {
		if (!isalnum((unsigned char)*p) && *p != '_') {
			return false;
		}
	}
	return true;
}

static struct label *
find_label(struct script *s, const char *name)
{
	struct label *l;
	LIST_FOREACH(l, &s->labels, link)
	{
		if (strcmp(l->name, name) == 0) {
			return l;
		}
	}
	return NULL;
}

/* The existing label name, or NULL after printing why there is none. */
static struct label *
lookup_label(struct script *s, const char *name)
{
	if (!valid_label(name)) {
		line_error("bad label (letters, digits and '_', not starting with a digit)");
		return NULL;
	}
	struct label *l = find_label(s, name);
	if (!l) {
		line_error("unknown label '%s'", name);
	}
	return l;
}

/* Checks that name can name a new lease; prints why not and returns -1. */
static int
check_new_label(struct script *s, const char *name)
{
	if (!valid_label(name)) {
		return line_error("bad label (letters, digits and '_', not starting with a digit)");
	}
	if (find_label(s, name)) {
		return line_error("label '%s' already in use", name);
	}
	return 0;
}

/* Binds name to lease; takes lease, releasing it if out of memory. */
static int
bind_label(struct script *s, const char *name, struct mmio_lease *lease)
{
	size_t len = strlen(name);
	struct label *l = malloc(sizeof(*l) + len + 1);
	if (!l) {
		mmio_release(lease);
		return print_failure(NULL, -ENOMEM);
	}
	memcpy(l->name, name, len + 1);
	l->lease = lease;
	LIST_INSERT_HEAD(&s->labels, l, link);
	return 0;
}

static void
unbind_label(struct label *l)
{
	LIST_REMOVE(l, link);
	free(l);
}

static int
parse_arg(const char *what, const char *text, uint64_t *out)
{
	int rc = parse_u64(text, out);
	if (rc == -ERANGE) {
		return line_error("%s does not fit in 64 bits", what);
	}
	if (rc < 0 && parse_leading_zero(text)) {
		return line_error("%s %s: a leading zero is ambiguous (octal to C); write it "
				  "without the zero, or in 0x hex",
				  what, text);
	}
	if (rc < 0) {
		return line_error("%s: expected a decimal or 0x hex number", what);
	}
	return 0;
}

/* parse_arg() for a value of width bytes: one that does not fit is a line error. */
static int
parse_value(const char *what, const char *text, unsigned width, uint64_t *out)
{
	if (parse_arg(what, text, out) < 0) {
		return -1;
	}
	if (width < 8 && *out >> (width * 8) != 0) {
		return line_error("%s %s does not fit in %u bits", what, text, width * 8);
	}
	return 0;
}

/* Prints the result line "ok 0xV1 0xV2 ..." of n values of width bytes; returns 1. */
static int
print_values(unsigned width, const uint64_t *values, size_t n)
{
	fputs("ok", stdout);
	for (size_t i = 0; i < n; i++) {
		printf(" 0x%0*" PRIx64, (int)width * 2, values[i]);
	}
	putchar('\n');
	return 1;
}

/*
 * OFFSET or NAME of a line on l's lease into *t: a NAME through the lease's register map
 * (offsets the lease's), whose width cmd's W must match; a number at cmd's W. A block command
 * (registers_only) takes no field. Returns 0, or -1 after printing why not.
 */
static int
resolve_target(struct script *s, const struct script_command *cmd, struct label *l,
	       const char *text, bool registers_only, struct mmioctl_target *t)
{
	if (!mmioctl_is_name(text)) {
		memset(t, 0, sizeof(*t));
		if (cmd->width == 0) {
			return line_error("%s takes a register NAME; an offset needs the width: "
					  "%s8, %s16, %s32 or %s64",
					  cmd->name, cmd->name, cmd->name, cmd->name, cmd->name);
		}
		if (parse_arg("offset", text, &t->offset) < 0) {
			return -1;
		}
		t->width = cmd->width;
		t->mask = cmd->width == 8 ? UINT64_MAX : (UINT64_C(1) << (cmd->width * 8)) - 1;
		return 0;
	}
	struct mmio_reg r = {0};
	int rc = mmio_reg_find(l->lease, text, &r);
	if (rc < 0) {
		return print_failure(s->client, rc);
	}
	mmioctl_target_from_reg(&r, t);
	if (cmd->width != 0 && cmd->width != r.width) {
		return line_error("%s is %u bits wide in the map, not %u: %.*s%u, or %.*s", t->name,
				  r.width * 8, cmd->width * 8,
				  (int)strcspn(cmd->name, "0123456789"), cmd->name, r.width * 8,
				  (int)strcspn(cmd->name, "0123456789"), cmd->name);
	}
	if (registers_only && r.is_field) {
		return line_error("%s is a field: %s takes a register", t->name, cmd->name);
	}
	return 0;
}

/* A MASK or VALUE for t (a field's unshifted), shifted into place. 0 or -1 after a line error. */
static int
parse_target_arg(const char *what, const char *text, const struct mmioctl_target *t, uint64_t *out)
{
	if (parse_arg(what, text, out) < 0) {
		return -1;
	}
	if (*out > t->mask >> t->lsb) {
		if (t->name[0]) {
			return line_error("%s %s does not fit %s (at most 0x%" PRIx64 ")", what,
					  text, t->name, t->mask >> t->lsb);
		}
		return line_error("%s %s does not fit in %u bits", what, text, t->width * 8);
	}
	*out <<= t->lsb;
	return 0;
}

/* "ok 0xV": the bits of t in a register value, zero-padded to their digits. Returns 1. */
static int
print_target_value(const struct mmioctl_target *t, uint64_t value)
{
	char hex[20];
	printf("ok %s\n", mmioctl_format_bits(hex, t, mmioctl_target_bits(t, value)));
	return 1;
}

static int
run_acquire(struct script *s, const struct script_command *cmd, char **args)
{
	(void)cmd;
	uint64_t offset;
	uint64_t length;
	if (check_new_label(s, args[0]) < 0) {
		return -1;
	}
	if (mmioctl_is_name(args[2])) {
		/* A register of the region's map: its offset in the region. */
		struct mmio_reg r = {0};
		int rc = mmio_regmap_find(s->client, args[1], args[2], &r);
		if (rc < 0) {
			return print_failure(s->client, rc);
		}
		offset = r.offset;
	} else if (parse_arg("offset", args[2], &offset) < 0) {
		return -1;
	}
	if (parse_arg("length", args[3], &length) < 0) {
		return -1;
	}
	struct mmio_lease *lease;
	int rc = mmio_acquire(s->client, args[1], offset, length, &lease);
	if (rc < 0) {
		return print_failure(s->client, rc);
	}
	return bind_label(s, args[0], lease);
}

static int
run_split(struct script *s, const struct script_command *cmd, char **args)
{
	(void)cmd;
	uint64_t mid;
	if (check_new_label(s, args[0]) < 0) {
		return -1;
	}
	struct label *l = lookup_label(s, args[1]);
	if (!l || parse_arg("mid", args[2], &mid) < 0) {
		return -1;
	}
	struct mmio_lease *low;
	int rc = mmio_split(l->lease, mid, &low);
	if (rc < 0) {
		return print_failure(s->client, rc);
	}
	return bind_label(s, args[0], low);
}

static int
run_release(struct script *s, const struct script_command *cmd, char **args)
{
	(void)cmd;
	struct label *l = lookup_label(s, args[0]);
	if (!l) {
		return -1;
	}
	/* mmio_release() frees the handle whatever the outcome: the label goes too. */
	struct mmio_lease *lease = l->lease;
	unbind_label(l);
	int rc = mmio_release(lease);
	return rc < 0 ? print_failure(s->client, rc) : 0;
}

static int
run_load(struct script *s, const struct script_command *cmd, char **args)
{
	struct mmioctl_target t = {0};
	uint64_t value;
	struct label *l = lookup_label(s, args[0]);
	if (!l || resolve_target(s, cmd, l, args[1], false, &t) < 0) {
		return -1;
	}
	int rc = mmio_load(l->lease, t.offset, t.width, &value);
	return rc < 0 ? print_failure(s->client, rc) : print_target_value(&t, value);
}

static int
run_store(struct script *s, const struct script_command *cmd, char **args)
{
	struct mmioctl_target t = {0};
	uint64_t value;
	struct label *l = lookup_label(s, args[0]);
	if (!l || resolve_target(s, cmd, l, args[1], false, &t) < 0) {
		return -1;
	}
	int rc;
	if (t.is_field) {
		/* A field: its value may be one of its names; one masked modify of its bits. */
		char assignment[256];
		snprintf(assignment, sizeof(assignment), "%s=%s", args[1], args[2]);
		const char *const one[] = {assignment};
		rc = mmio_reg_store_fields(l->lease, one, 1);
	} else if (parse_target_arg("value", args[2], &t, &value) < 0) {
		return -1;
	} else {
		rc = mmio_store(l->lease, t.offset, t.width, value);
	}
	return rc < 0 ? print_failure(s->client, rc) : 0;
}

static int
run_modify(struct script *s, const struct script_command *cmd, char **args)
{
	struct mmioctl_target t = {0};
	uint64_t mask;
	uint64_t value;
	uint64_t old;
	struct label *l = lookup_label(s, args[0]);
	if (!l || resolve_target(s, cmd, l, args[1], false, &t) < 0 ||
	    parse_target_arg("mask", args[2], &t, &mask) < 0 ||
	    parse_target_arg("value", args[3], &t, &value) < 0) {
		return -1;
	}
	int rc = mmio_modify(l->lease, t.offset, t.width, mask, value, &old);
	return rc < 0 ? print_failure(s->client, rc) : print_target_value(&t, old);
}

static int
run_poll(struct script *s, const struct script_command *cmd, char **args)
{
	struct mmioctl_target t = {0};
	uint64_t mask;
	uint64_t value;
	uint64_t last;
	uint64_t timeout_ms = POLL_DEFAULT_TIMEOUT_MS;
	struct label *l = lookup_label(s, args[0]);
	if (!l || resolve_target(s, cmd, l, args[1], false, &t) < 0 ||
	    parse_target_arg("mask", args[2], &t, &mask) < 0 ||
	    parse_target_arg("value", args[3], &t, &value) < 0 ||
	    (args[4] && parse_arg("timeout", args[4], &timeout_ms) < 0)) {
		return -1;
	}
	if (timeout_ms > POLL_MAX_TIMEOUT_MS) {
		return line_error("timeout %s: at most %d ms", args[4], POLL_MAX_TIMEOUT_MS);
	}
	int rc =
		mmio_poll(l->lease, t.offset, t.width, mask, value, (unsigned)timeout_ms, 0, &last);
	/* A TIMEOUT's detail from mmiod holds the last value. */
	return rc < 0 ? print_failure(s->client, rc) : print_target_value(&t, last);
}

/* readblockW and readfifoW LABEL OFFSET COUNT. */
static int
run_read_block(struct script *s, const struct script_command *cmd, char **args)
{
	struct mmioctl_target t = {0};
	uint64_t count;
	uint64_t values[MAX_BLOCK_VALUES];
	struct label *l = lookup_label(s, args[0]);
	if (!l || resolve_target(s, cmd, l, args[1], true, &t) < 0 ||
	    parse_arg("count", args[2], &count) < 0) {
		return -1;
	}
	if (count < 1 || count > MAX_BLOCK_VALUES) {
		return line_error("count %s: expected 1 to %d", args[2], MAX_BLOCK_VALUES);
	}
	int rc = mmio_read_block(l->lease, t.offset, cmd->width, values, count, cmd->flags);
	return rc < 0 ? print_failure(s->client, rc) : print_values(cmd->width, values, count);
}

/* writeblockW and writefifoW LABEL OFFSET VALUE...: every value checked before any is sent. */
static int
run_write_block(struct script *s, const struct script_command *cmd, char **args)
{
	struct mmioctl_target t = {0};
	uint64_t values[MAX_BLOCK_VALUES];
	struct label *l = lookup_label(s, args[0]);
	if (!l || resolve_target(s, cmd, l, args[1], true, &t) < 0) {
		return -1;
	}
	size_t n = 0;
	for (; args[2 + n]; n++) {
		if (parse_value("value", args[2 + n], cmd->width, &values[n]) < 0) {
			return -1;
		}
	}
	int rc = mmio_write_block(l->lease, t.offset, cmd->width, values, n, cmd->flags);
	return rc < 0 ? print_failure(s->client, rc) : 0;
}

static int
run_barrier(struct script *s, const struct script_command *cmd, char **args)
{
	(void)cmd;
	struct label *l = lookup_label(s, args[0]);
	if (!l) {
		return -1;
	}
	int rc = mmio_barrier(l->lease);
	return rc < 0 ? print_failure(s->client, rc) : 0;
}

/* The command name8, name16, name32 and name64, each at its width in bytes. */
#define SIZED_AT(cmd, bytes, min, max, syn, opt, fn)                                               \
	{                                                                                          \
		.name = (cmd), .min_args = (min), .max_args = (max), .synopsis = (syn),            \
		.width = (bytes), .flags = (opt), .run = (fn)                                      \
	}
#define SIZED(name, ...)                                                                           \
	SIZED_AT(name "8", 1, __VA_ARGS__), SIZED_AT(name "16", 2, __VA_ARGS__),                   \
		SIZED_AT(name "32", 4, __VA_ARGS__), SIZED_AT(name "64", 8, __VA_ARGS__)

static const struct script_command script_commands[] = {
	{"acquire", 4, 4, "LABEL REGION OFFSET LENGTH", 0, 0, run_acquire},
	{"split", 3, 3, "NEW LABEL MID", 0, 0, run_split},
	{"release", 1, 1, "LABEL", 0, 0, run_release},
	SIZED("load", 2, 2, "LABEL OFFSET", 0, run_load),
	SIZED("store", 3, 3, "LABEL OFFSET VALUE", 0, run_store),
	SIZED("modify", 4, 4, "LABEL OFFSET MASK VALUE", 0, run_modify),
	SIZED("poll", 4, 5, "LABEL OFFSET MASK VALUE [TIMEOUT_MS]", 0, run_poll),
	/* By NAME, at the map's width. */
	SIZED_AT("load", 0, 2, 2, "LABEL NAME", 0, run_load),
	SIZED_AT("store", 0, 3, 3, "LABEL NAME VALUE", 0, run_store),
	SIZED_AT("modify", 0, 4, 4, "LABEL NAME MASK VALUE", 0, run_modify),
	SIZED_AT("poll", 0, 4, 5, "LABEL NAME MASK VALUE [TIMEOUT_MS]", 0, run_poll),
	SIZED("readblock", 3, 3, "LABEL OFFSET COUNT", 0, run_read_block),
	SIZED("writeblock", 3, 2 + MAX_BLOCK_VALUES, "LABEL OFFSET VALUE [VALUE...]", 0,
	      run_write_block),
	SIZED("readfifo", 3, 3, "LABEL OFFSET COUNT", MMIO_REPEAT, run_read_block),
	SIZED("writefifo", 3, 2 + MAX_BLOCK_VALUES, "LABEL OFFSET VALUE [VALUE...]", MMIO_REPEAT,
	      run_write_block),
	{"barrier", 1, 1, "LABEL", 0, 0, run_barrier},
};

/*
 * Splits line in place into at most MAX_TOKENS whitespace-separated tokens,
 * dropping a '#' comment. Returns the number of tokens found, which may
 * exceed MAX_TOKENS (only the first MAX_TOKENS are stored).
 */
static int
tokenize(char *line, char **tokens)
{
	char *hash = strchr(line, '#');
	if (hash) {
		*hash = '\0';
	}
	int n = 0;
	char *save;
	for (char *t = strtok_r(line, " \t\r\n\v\f", &save); t;
	     t = strtok_r(NULL, " \t\r\n\v\f", &save)) {
		if (n < MAX_TOKENS) {
			tokens[n] = t;
		}
		n++;
	}
	return n;
}

/* Whether a command name is safe to echo: printable ASCII, not absurdly long. */
static bool
printable_word(const char *word)
{
	size_t len = strlen(word);
	if (len > 32) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (word[i] < 0x21 || word[i] > 0x7e) {
			return false;
		}
	}
	return true;
}

/*
 * Executes one line. Returns 0 if it held nothing to do (and printed
 * nothing), 1 if it succeeded, -1 if it failed; a command prints exactly one
 * result line.
 */
static int
run_line(struct script *s, char *line)
{
	char *tokens[MAX_TOKENS + 1];
	int n = tokenize(line, tokens);
	if (n == 0) {
		return 0;
	}
	const struct script_command *cmd = NULL;
	for (size_t i = 0; i < sizeof(script_commands) / sizeof(script_commands[0]); i++) {
		if (strcmp(tokens[0], script_commands[i].name) == 0) {
			cmd = &script_commands[i];
			break;
		}
	}
	if (!cmd) {
		if (printable_word(tokens[0])) {
			return line_error("unknown command '%s'", tokens[0]);
		}
		return line_error("unknown command");
	}
	if (n - 1 < cmd->min_args || n - 1 > cmd->max_args) {
		char takes[32];
		snprintf(takes, sizeof(takes), cmd->min_args == cmd->max_args ? "%d" : "%d to %d",
			 cmd->min_args, cmd->max_args);
		return line_error("wrong argument count: %s takes %s (%s %s)", tokens[0], takes,
				  tokens[0], cmd->synopsis);
	}
	tokens[n] = NULL;
	int rc = cmd->run(s, cmd, tokens + 1);
	if (rc == 0) {
		puts("ok");
	}
	return rc < 0 ? -1 : 1;
}

/*
 * Runs the script read line by line from in (name is used in messages) on
 * client. Returns 0 if every line succeeded, else MMIOCTL_EXIT_FAILURE (also
 * on a read error, reported on stderr).
 */
static int
run_script(struct mmio_client *client, FILE *in, const char *name, bool keep_going)
{
	struct script s = {.client = client};
	LIST_INIT(&s.labels);
	char *line = NULL;
	size_t cap = 0;
	unsigned long lineno = 0;
	bool failed = false;
	for (;;) {
		errno = 0;
		if (getline(&line, &cap, in) < 0) {
			if (ferror(in)) {
				int err = errno;
				fprintf(stderr, "mmioctl: run: %s: %s\n", name, strerror(err));
				failed = true;
			}
			break;
		}
		lineno++;
		int rc = run_line(&s, line);
		(void)fflush(stdout); /* errors stay in ferror(stdout), which main() checks */
		if (rc < 0) {
			failed = true;
			if (!keep_going) {
				fprintf(stderr,
					"mmioctl: run: %s:%lu: failed; stopping (--keep-going runs "
					"on)\n",
					name, lineno);
				break;
			}
		}
	}
	free(line);
	/* The handles belong to client: mmio_disconnect() frees them. */
	while (!LIST_EMPTY(&s.labels)) {
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): LIST_REMOVE did move the head */
		unbind_label(LIST_FIRST(&s.labels));
	}
	return failed ? MMIOCTL_EXIT_FAILURE : 0;
}

int
mmioctl_run(const char *path, const char *socket_path, bool keep_going)
{
	FILE *in = stdin;
	const char *name = "stdin";
	if (strcmp(path, "-") != 0) {
		in = fopen(path, "re");
		if (!in) {
			int err = errno;
			fprintf(stderr, "mmioctl: run: %s: %s\n", path, strerror(err));
			return MMIOCTL_EXIT_FAILURE;
		}
		name = path;
	}
	struct mmio_client *client;
	int rc = mmioctl_connect(socket_path, &client);
	if (rc == 0) {
		rc = run_script(client, in, name, keep_going);
		mmio_disconnect(client);
	}
	if (in != stdin) {
		(void)fclose(in); /* read only: a failed close loses nothing */
	}
	return rc;
}
