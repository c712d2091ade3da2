/*
 * The config file: literals libconfig 1.5 would read otherwise than written
 * (and @include) are refused before it parses the text, then the top-level
 * settings are read; conf_region.c reads each region. Also the command line's
 * --region and --user.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <libconfig.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "config/conf.h"
#include "config/conf_parse.h"
#include "core/limits.h"
#include "parse.h"

void
conf_init(struct mmiod_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->socket_mode = 0660;
	cfg->socket_gid = (gid_t)-1;
	cfg->uid = (uid_t)-1;
	cfg->gid = (gid_t)-1;
	cfg->log_level = -1;
	cfg->limits = (struct limits){
		.max_connections = MMIO_MAX_CONNS,
		.max_connections_per_uid = MMIO_MAX_CONNS_PER_UID,
		.max_leases_per_connection = MMIO_MAX_LEASES_PER_CONN,
		.max_frame = MMIO_MAX_FRAME,
		.max_queued_bytes = MMIO_MAX_QUEUED_BYTES,
		.handshake_timeout_ms = MMIO_HANDSHAKE_TIMEOUT_MS,
		.max_rings = MMIO_MAX_RINGS,
		.max_unread_fds = MMIO_MAX_UNREAD_FDS,
	};
}

void
conf_finish(struct mmiod_config *cfg)
{
	for (unsigned i = 0; i < cfg->n_regions; i++) {
		region_spec_finish(&cfg->regions[i].spec);
		policy_finish(&cfg->regions[i].policy);
		regmap_free(cfg->regions[i].regmap);
		cfg->regions[i].regmap = NULL;
		park_seq_finish(&cfg->regions[i].park);
	}
	cfg->n_regions = 0;
	free(cfg->socket_path);
	free(cfg->user);
	cfg->socket_path = NULL;
	cfg->user = NULL;
}

static int
parse_socket(const struct parse *p, const config_setting_t *s, struct mmiod_config *cfg)
{
	static const char *const keys[] = {"path", "mode", "group", NULL};
	if (!config_setting_is_group(s)) {
		return conf_fail_at(p, s,
				    "socket is a group: { path = \"...\"; mode = \"0660\"; }");
	}
	int rc = conf_check_keys(p, s, keys);
	const char *path;
	const char *mode;
	if (rc < 0 || (rc = conf_get_string(p, s, "path", &path)) < 0 ||
	    (rc = conf_get_string(p, s, "mode", &mode)) < 0) {
		return rc;
	}
	if (path) {
		if (path[0] != '/') {
			return conf_fail_at(p, conf_member_or(s, "path"),
					    "socket path must be absolute");
		}
		free(cfg->socket_path);
		if (!(cfg->socket_path = strdup(path))) {
			return -ENOMEM;
		}
	}
	if (mode) {
		char *end;
		unsigned long m = strtoul(mode, &end, 8);
		if (!mode[0] || *end || m > 0777) {
			return conf_fail_at(p, conf_member_or(s, "mode"),
					    "mode must be an octal string such as \"0660\"");
		}
		cfg->socket_mode = (mode_t)m;
	}
	const config_setting_t *group = config_setting_get_member(s, "group");
	if (group) {
		uint32_t gid;
		if ((rc = conf_resolve_id(p, group, true, &gid, NULL)) < 0) {
			return rc;
		}
		cfg->socket_gid = gid;
	}
	return 0;
}

static int
parse_limits(const struct parse *p, const config_setting_t *s, struct limits *l)
{
	static const char *const keys[] = {"max_connections",
					   "max_connections_per_uid",
					   "max_leases_per_connection",
					   "max_frame",
					   "max_queued_bytes",
					   "handshake_timeout_ms",
					   "max_rings",
					   NULL};
	if (!config_setting_is_group(s)) {
		return conf_fail_at(p, s, "limits is a group: { max_connections = 64; }");
	}
	enum { N_LIMITS = 7 };
	uint64_t v[N_LIMITS] = {
		l->max_connections, l->max_connections_per_uid, l->max_leases_per_connection,
		l->max_frame,       l->max_queued_bytes,        l->handshake_timeout_ms,
		l->max_rings};
	/* max_rings may be 0: no ring offered. */
	static const uint64_t min[N_LIMITS] = {1, 1, 1, 1, 1, 1, 0};
	static const uint64_t max[N_LIMITS] = {65536,    65536,   65536, MMIO_MAX_FRAME,
					       1u << 30, 3600000, 65536};
	int rc = conf_check_keys(p, s, keys);
	for (int i = 0; rc == 0 && i < N_LIMITS; i++) {
		rc = conf_get_uint_range(p, s, keys[i], min[i], max[i], &v[i]);
	}
	if (rc < 0) {
		return rc;
	}
	if (v[3] < 256) {
		return conf_fail_at(p, config_setting_get_member(s, "max_frame"),
				    "max_frame must be at least 256");
	}
	*l = (struct limits){(unsigned)v[0], (unsigned)v[1], (unsigned)v[2], (size_t)v[3],
			     (size_t)v[4],   (unsigned)v[5], (unsigned)v[6], l->max_unread_fds};
	return 0;
}

static int
parse_root(const struct parse *p, config_t *cf, struct mmiod_config *cfg)
{
	static const char *const keys[] = {"socket",  "user",      "admin_group", "limits",
					   "regions", "log_level", NULL};
	config_setting_t *root = config_root_setting(cf);
	int rc = conf_check_keys(p, root, keys);
	if (rc < 0) {
		return rc;
	}
	const config_setting_t *s;
	if ((s = config_setting_get_member(root, "socket")) && (rc = parse_socket(p, s, cfg)) < 0) {
		return rc;
	}
	if ((s = config_setting_get_member(root, "limits")) &&
	    (rc = parse_limits(p, s, &cfg->limits)) < 0) {
		return rc;
	}
	if ((s = config_setting_get_member(root, "log_level"))) {
		const char *name = config_setting_get_string(s);
		cfg->log_level = name ? log_level_parse(name) : -1;
		if (cfg->log_level < 0) {
			return conf_fail_at(p, s,
					    "log_level must be \"error\", \"warn\", \"info\" or "
					    "\"debug\"");
		}
	}
	if ((s = config_setting_get_member(root, "user"))) {
		uint32_t uid;
		gid_t gid;
		if ((rc = conf_resolve_id(p, s, false, &uid, &gid)) < 0) {
			return rc;
		}
		if (uid == 0) {
			return conf_fail_at(p, s, "user must not be root: mmiod drops to it");
		}
		char number[16];
		snprintf(number, sizeof(number), "%u", uid);
		free(cfg->user);
		cfg->user = strdup(config_setting_type(s) == CONFIG_TYPE_STRING
					   ? config_setting_get_string(s)
					   : number);
		if (!cfg->user) {
			return -ENOMEM;
		}
		cfg->uid = uid;
		cfg->gid = gid;
	}
	if ((s = config_setting_get_member(root, "admin_group"))) {
		uint32_t gid;
		if ((rc = conf_resolve_id(p, s, true, &gid, NULL)) < 0) {
			return rc;
		}
		cfg->has_admin_gid = true;
		cfg->admin_gid = gid;
	}
	const config_setting_t *regions = config_setting_get_member(root, "regions");
	if (!regions) {
		return 0;
	}
	if (!config_setting_is_list(regions)) {
		return conf_fail_at(p, regions, "regions is a list: ( { ... }, { ... } )");
	}
	for (int i = 0; i < config_setting_length(regions); i++) {
		const config_setting_t *r = config_setting_get_elem(regions, (unsigned)i);
		if (cfg->n_regions == MMIO_MAX_REGIONS) {
			return conf_fail_at(p, r, "at most %d regions", MMIO_MAX_REGIONS);
		}
		struct region_config *rc_out = &cfg->regions[cfg->n_regions++];
		rc_out->line = config_setting_source_line(r);
		if ((rc = conf_parse_region(p, r, rc_out)) < 0) {
			return rc;
		}
		if (conf_find_region(cfg, rc_out->spec.name) != rc_out) {
			return conf_fail_at(p, r, "region '%s' is defined twice",
					    rc_out->spec.name);
		}
	}
	return 0;
}

/* One number as libconfig 1.5's scanner (lib/scanner.l) takes it. */
struct literal {
	size_t len;         /* the whole token: sign, 0x, digits, fraction, L */
	const char *digits; /* the integer's digits, without sign, 0x or L */
	size_t n_digits;
	bool is_float;
	bool is_hex;
	bool is_long; /* L or LL: a 64-bit integer */
	bool negative;
};

/*
 * Matches the number at c the way flex does, longest match first: integer
 * [-+]?[0-9]+, hex 0[Xx][0-9A-Fa-f]+ (no sign), either with L or LL, and float
 * (a '.', or an exponent after digits). Returns 0 if c starts none (a lone sign).
 */
static size_t
scan_number(const char *c, struct literal *lit)
{
	*lit = (struct literal){.negative = *c == '-'};
	const char *p = c + (*c == '-' || *c == '+');
	if (p == c && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
	    isxdigit((unsigned char)p[2])) {
		lit->is_hex = true;
		lit->digits = p += 2;
		while (isxdigit((unsigned char)*p)) {
			p++;
		}
	} else {
		lit->digits = p;
		while (isdigit((unsigned char)*p)) {
			p++;
		}
		const char *q = p;
		if (*q == '.') {
			lit->is_float = true;
			for (q++; isdigit((unsigned char)*q); q++) {
			}
		}
		if ((lit->is_float || q > lit->digits) && (*q == 'e' || *q == 'E')) {
			const char *e = q + 1 + (q[1] == '-' || q[1] == '+');
			if (isdigit((unsigned char)*e)) {
				lit->is_float = true;
				for (q = e; isdigit((unsigned char)*q); q++) {
				}
			}
		}
		if (lit->is_float) {
			lit->len = (size_t)(q - c);
			return lit->len;
		}
		if (p == lit->digits) {
			return 0;
		}
	}
	lit->n_digits = (size_t)(p - lit->digits);
	if (*p == 'L') {
		lit->is_long = true;
		p += 1 + (p[1] == 'L');
	}
	lit->len = (size_t)(p - c);
	return lit->len;
}

/* The magnitude of an integer literal; false if it does not fit 64 bits. */
static bool
literal_magnitude(const struct literal *lit, uint64_t *out)
{
	unsigned base = lit->is_hex ? 16 : 10;
	uint64_t v = 0;
	for (size_t i = 0; i < lit->n_digits; i++) {
		int ch = tolower((unsigned char)lit->digits[i]);
		unsigned d = (unsigned)(isdigit(ch) ? ch - '0' : ch - 'a' + 10);
		if (v > (UINT64_MAX - d) / base) {
			return false;
		}
		v = v * base + d;
	}
	*out = v;
	return true;
}

/*
 * An integer libconfig would read otherwise than written: a leading zero (C
 * reads octal, libconfig decimal), more than 32 bits without L (truncated),
 * more than 64 with it (clamped). Writes "path:line: message"; 0 or -EINVAL.
 */
static int
literal_refused(const struct parse *p, int line, const char *c, const struct literal *lit)
{
	if (lit->is_float) {
		return 0; /* atof: decimal, as anyone reads it */
	}
	int n = (int)lit->len;
	uint64_t v = 0;
	bool fits = literal_magnitude(lit, &v);
	if (!lit->is_hex && lit->n_digits > 1 && lit->digits[0] == '0') {
		snprintf(p->err, p->errlen,
			 "%s:%d: %.*s has a leading zero: libconfig reads it as decimal, C as "
			 "octal; write it without the zero, or in 0x hex",
			 p->path, line, n, c);
		return -EINVAL;
	}
	if (!lit->is_long && (!fits || v > (lit->negative ? 1ull << 31 : (uint64_t)INT32_MAX))) {
		snprintf(p->err, p->errlen,
			 "%s:%d: %.*s does not fit 32 bits: write it with an L suffix (%.*sL)",
			 p->path, line, n, c, n, c);
		return -EINVAL;
	}
	if (lit->is_long && (!fits || v > (lit->negative ? 1ull << 63 : (uint64_t)INT64_MAX))) {
		snprintf(p->err, p->errlen, "%s:%d: %.*s does not fit a signed 64-bit integer",
			 p->path, line, n, c);
		return -EINVAL;
	}
	return 0;
}

/*
 * libconfig 1.5 (Debian 12) reads integers in ways a reader of the file would
 * not: without the L suffix it keeps 32 bits and silently drops the rest
 * (4294967552 reads as 256), past 64 bits it clamps, and it reads 0755 as
 * decimal 755 where C (and strtoull base 0) reads octal, so 04294967296 reads
 * as 0. A grant could then cover other registers than written. Scanning as
 * libconfig's lexer does (strings and comments skipped), refuse every such
 * literal before libconfig sees it, and @include, whose file this check would
 * not see. Returns 0 or -EINVAL.
 */
static int
check_wide_literals(const struct parse *p, const char *text)
{
	int line = 1;
	for (const char *c = text; *c; c++) {
		struct literal lit;
		if (*c == '\n') {
			line++;
		} else if (*c == '"') {
			for (c++; *c && *c != '"'; c++) {
				line += *c == '\n';
				c += *c == '\\' && c[1];
			}
			if (!*c) {
				return 0;
			}
		} else if (*c == '#' || (*c == '/' && c[1] == '/')) {
			while (c[1] && c[1] != '\n') {
				c++;
			}
		} else if (*c == '/' && c[1] == '*') {
			for (c += 2; *c && !(*c == '*' && c[1] == '/'); c++) {
				line += *c == '\n';
			}
			if (!*c) {
				return 0;
			}
			c++;
		} else if (strncmp(c, "@include", 8) == 0) {
			snprintf(p->err, p->errlen,
				 "%s:%d: @include is not supported: put every setting in this file",
				 p->path, line);
			return -EINVAL;
		} else if (isalpha((unsigned char)*c) || *c == '*') {
			/* A name ([A-Za-z*][-A-Za-z0-9_*]*): its digits are not a number. */
			while (isalnum((unsigned char)c[1]) || c[1] == '-' || c[1] == '_' ||
			       c[1] == '*') {
				c++;
			}
		} else if (strchr("-+.0123456789", *c) && scan_number(c, &lit) > 0) {
			if (literal_refused(p, line, c, &lit) < 0) {
				return -EINVAL;
			}
			c += lit.len - 1;
		}
	}
	return 0;
}

/* A config is small: a bigger file is not one (and would only cost memory to parse). */
#define CONF_MAX_BYTES (1u << 20)

/*
 * All of path as a NUL-terminated heap string, or NULL with *why -EFBIG (over
 * CONF_MAX_BYTES), -ENOMEM, or the negative errno of open or read.
 */
static char *
read_text(const char *path, int *why)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		*why = errno ? -errno : -EIO;
		return NULL;
	}
	size_t len = 0;
	size_t cap = 8192;
	char *text = malloc(cap);
	int rc = text ? 0 : -ENOMEM;
	while (rc == 0) {
		if (cap - len < 4096 + 1) {
			size_t want = cap * 2;
			char *grown = realloc(text, want);
			if (!grown) {
				rc = -ENOMEM;
				break;
			}
			text = grown;
			cap = want;
		}
		size_t n = fread(text + len, 1, 4096, f);
		len += n;
		if (len > CONF_MAX_BYTES) {
			rc = -EFBIG;
			break;
		}
		if (n < 4096) {
			rc = ferror(f) ? (errno ? -errno : -EIO) : 0;
			break;
		}
	}
	(void)fclose(f); /* opened for reading: a failed close loses nothing */
	if (rc < 0) {
		free(text);
		*why = rc;
		return NULL;
	}
	text[len] = '\0';
	return text;
}

int
conf_load(struct mmiod_config *cfg, const char *path, char *err, size_t errlen)
{
	struct parse p = {.path = path, .err = err, .errlen = errlen, .skip_maps = cfg->skip_maps};
	int read_rc = 0;
	char *text = read_text(path, &read_rc);
	if (!text && read_rc == -EFBIG) {
		snprintf(err, errlen, "%s: over %u KiB: too big for a config file", path,
			 CONF_MAX_BYTES / 1024);
		return -EINVAL;
	}
	if (!text) {
		snprintf(err, errlen, "%s: %s", path, strerror(-read_rc));
		return read_rc == -ENOMEM ? -ENOMEM : -ENOENT;
	}
	int rc = check_wide_literals(&p, text);
	if (rc < 0) {
		free(text);
		return rc;
	}
	config_t cf;
	config_init(&cf);
	if (config_read_string(&cf, text) != CONFIG_TRUE) {
		snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&cf),
			 config_error_text(&cf));
		config_destroy(&cf);
		free(text);
		return -EINVAL;
	}
	free(text);
	rc = parse_root(&p, &cf, cfg);
	config_destroy(&cf);
	return rc;
}

int
conf_add_region(struct mmiod_config *cfg, const char *text, char *err, size_t errlen)
{
	if (cfg->n_regions == MMIO_MAX_REGIONS) {
		snprintf(err, errlen, "at most %d regions", MMIO_MAX_REGIONS);
		return -EINVAL;
	}
	struct region_config *r = &cfg->regions[cfg->n_regions++];
	int rc = region_spec_parse(text, &r->spec, err, errlen);
	if (rc == 0 && conf_find_region(cfg, r->spec.name) != r) {
		snprintf(err, errlen, "region '%s' is defined twice", r->spec.name);
		rc = -EINVAL;
	}
	return rc;
}

int
conf_set_user(struct mmiod_config *cfg, const char *name, char *err, size_t errlen)
{
	uint64_t id;
	struct passwd *pw =
		parse_u64(name, &id) == 0 && id < UINT32_MAX ? getpwuid((uid_t)id) : getpwnam(name);
	if (!pw) {
		snprintf(err, errlen, "no user '%s'", name);
		return -EINVAL;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "user must not be root: mmiod drops to it");
		return -EINVAL;
	}
	free(cfg->user);
	if (!(cfg->user = strdup(pw->pw_name))) {
		return -ENOMEM;
	}
	cfg->uid = pw->pw_uid;
	cfg->gid = pw->pw_gid;
	return 0;
}

const struct region_config *
conf_find_region(const struct mmiod_config *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->n_regions; i++) {
		if (strcmp(cfg->regions[i].spec.name, name) == 0) {
			return &cfg->regions[i];
		}
	}
	return NULL;
}
