/*
 * A simulated device's Lua model (sim_model.h, mmiod-model(5)). Every call into Lua goes
 * through lua_pcall of a C function that does the work (run_protected): even pushing a string
 * can raise an out-of-memory error, and a model may put metamethods on its globals, so nothing
 * touches the state unprotected and lua_atpanic is never reached.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>
#include <lua.h>

#include "core/regmap.h"
#include "core/width.h"
#include "device/sim_lua.h"
#include "device/sim_model.h"
#include "text.h"

/* The registry key of the compiled chunk, until it runs. */
#define KEY_CHUNK "mmiod.chunk"

/* An access covers at most 8 bytes, and registers do not share bytes. */
#define MAX_TOUCHED 8

struct sim_model {
	struct sim_lua dev; /* the map, the host and the state's accounts */
	lua_State *L;       /* NULL while faulted: the state is closed at the fault */
	char *text;         /* the model's source, kept for the fresh state of each reset */
	size_t text_len;
	char *chunkname; /* "@path": Lua's messages then say "path:line:" */
	bool started;
	bool running;    /* inside Lua: a host callback calling back in is refused */
	char where[128]; /* what runs: "on_load(LSR)", for the fault message */
	char fault[512]; /* "" while healthy */
};

/* One register instance an access touches. */
struct touched {
	const struct regmap_register *reg;
	uint64_t index;
	uint64_t off;
	unsigned bytes;
};

enum hook_kind { HOOK_LOAD, HOOK_STORE, HOOK_DEVICE_SET, HOOK_DEVICE_GET };

/* An access and the register instances it touches, for run_access_hooks. */
struct access_call {
	enum hook_kind kind;
	uint64_t off;
	unsigned width;
	uint64_t value; /* load: in and out; store: written */
	uint64_t old;   /* store, device_set */
	struct touched touched[MAX_TOUCHED];
	unsigned n_touched;
};

/* --- the protected call and faults --- */

typedef void (*protected_fn)(lua_State *L, struct sim_model *m, void *arg);

struct protected_call {
	protected_fn fn;
	struct sim_model *m;
	void *arg;
};

static int
protected_trampoline(lua_State *L)
{
	const struct protected_call *call = lua_touserdata(L, 1);
	lua_settop(L, 0);
	call->fn(L, call->m, call->arg);
	return 0;
}

static void
close_state(struct sim_model *m)
{
	sim_lua_close(&m->dev, m->L);
	m->L = NULL;
}

/* Faults the model: the reason (printable) kept, the state closed with its timers. */
static void
set_fault(struct sim_model *m, const char *why)
{
	char line[sizeof(m->fault)];
	if (m->where[0]) {
		snprintf(line, sizeof(line), "%s: %s", m->where, why);
	} else {
		snprintf(line, sizeof(line), "%s", why);
	}
	text_copy_printable(m->fault, sizeof(m->fault), line);
	close_state(m);
}

/* Why the call that returned status failed, from the flags and the error object on top. */
static void
describe_error(struct sim_model *m, int status, char *buf, size_t len)
{
	lua_State *L = m->L;
	if (m->dev.budget_spent) {
		snprintf(buf, len, "instruction budget exceeded (%d instructions)",
			 SIM_MODEL_MAX_INSTRUCTIONS);
	} else if (status == LUA_ERRMEM) {
		snprintf(buf, len, "out of memory (a model may use %u bytes)",
			 (unsigned)SIM_MODEL_MAX_MEMORY);
	} else if (lua_type(L, -1) == LUA_TSTRING) {
		/* Only a string as it is: converting a number would allocate, unprotected. */
		snprintf(buf, len, "%s", lua_tostring(L, -1));
	} else {
		snprintf(buf, len, "error object is a %s value", luaL_typename(L, -1));
	}
}

/* Runs fn(L, m, arg) protected. 0, or -EIO with the model faulted. */
static int
run_protected(struct sim_model *m, protected_fn fn, void *arg)
{
	lua_State *L = m->L;
	struct protected_call call = {.fn = fn, .m = m, .arg = arg};
	lua_settop(L, 0);
	lua_pushcfunction(L, protected_trampoline);
	lua_pushlightuserdata(L, &call);
	sim_lua_arm(&m->dev);
	m->where[0] = '\0';
	m->running = true;
	int status = lua_pcall(L, 1, 0, 0);
	m->running = false;
	if (status != LUA_OK) {
		char why[sizeof(m->fault)];
		describe_error(m, status, why, sizeof(why));
		set_fault(m, why);
		return -EIO;
	}
	lua_settop(L, 0);
	return 0;
}

/* Sets up the sandbox and compiles the text (source only) into the registry. */
static void
compile_chunk(lua_State *L, struct sim_model *m, void *arg)
{
	(void)arg;
	sim_lua_open(L);
	if (luaL_loadbufferx(L, m->text, m->text_len, m->chunkname, "t") != LUA_OK) {
		lua_error(L);
	}
	lua_setfield(L, LUA_REGISTRYINDEX, KEY_CHUNK);
}

/*
 * A new state with the chunk compiled, not run, in m->L. 0; -ENOMEM; -EINVAL (a syntax error)
 * with the message in err. Faults the model on failure.
 */
static int
new_state(struct sim_model *m, char *err, size_t errlen)
{
	close_state(m);
	m->where[0] = '\0';
	m->L = sim_lua_new(&m->dev);
	if (!m->L) {
		snprintf(err, errlen, "out of memory");
		set_fault(m, err);
		return -ENOMEM;
	}
	if (run_protected(m, compile_chunk, NULL) < 0) {
		snprintf(err, errlen, "%s", m->fault);
		return m->dev.mem_refused ? -ENOMEM : -EINVAL;
	}
	return 0;
}

/* --- calling the model --- */

/* The global function name, raw (no metamethod decides which function runs), or false. */
static bool
push_hook(lua_State *L, const char *name)
{
	lua_pushglobaltable(L);
	lua_pushstring(L, name);
	int type = lua_rawget(L, -2);
	lua_remove(L, -2);
	if (type != LUA_TFUNCTION) {
		lua_pop(L, 1);
		return false;
	}
	return true;
}

/* Calls the function below its nargs arguments under a fresh budget. */
static void
call_budgeted(lua_State *L, int nargs, int nresults)
{
	sim_lua_budget(L);
	lua_call(L, nargs, nresults);
}

/* The chunk's top level, then on_reset(). */
static void
run_chunk(lua_State *L, struct sim_model *m, void *arg)
{
	(void)arg;
	snprintf(m->where, sizeof(m->where), "the chunk");
	lua_getfield(L, LUA_REGISTRYINDEX, KEY_CHUNK);
	lua_pushnil(L);
	lua_setfield(L, LUA_REGISTRYINDEX, KEY_CHUNK);
	call_budgeted(L, 0, 0);
	if (push_hook(L, "on_reset")) {
		snprintf(m->where, sizeof(m->where), "on_reset()");
		call_budgeted(L, 0, 0);
	}
}

static int
start_state(struct sim_model *m, char *err, size_t errlen)
{
	m->fault[0] = '\0';
	m->started = true;
	if (run_protected(m, run_chunk, NULL) < 0) {
		snprintf(err, errlen, "%s", m->fault);
		return -EIO;
	}
	return 0;
}

/* Reads the whole regular file at path, at most SIM_MODEL_MAX_FILE_BYTES, as regmap_yaml.c does. */
static int
read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		int rc = errno ? -errno : -EIO;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	struct stat st;
	int rc = fstat(fileno(f), &st) == 0 ? 0 : -errno;
	if (rc == 0 && !S_ISREG(st.st_mode)) {
		rc = -EINVAL;
	}
	/* Read to the end, not to st_size: the file may change; one byte more is too big. */
	size_t cap = (size_t)SIM_MODEL_MAX_FILE_BYTES + 1;
	char *buf = rc == 0 ? malloc(cap) : NULL;
	if (rc == 0 && !buf) {
		rc = -ENOMEM;
	}
	size_t n = 0;
	while (rc == 0 && buf && n < cap) {
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			rc = ferror(f) ? -EIO : 0;
			break;
		}
	}
	(void)fclose(f); /* opened for reading: a failed close loses nothing */
	if (rc == 0 && n == cap) {
		rc = -EFBIG;
	}
	if (rc < 0 || !buf) {
		if (rc == -EINVAL) {
			snprintf(err, errlen, "%s: not a regular file", path);
		} else if (rc == -EFBIG) {
			snprintf(err, errlen, "%s: bigger than %u bytes", path,
				 (unsigned)SIM_MODEL_MAX_FILE_BYTES);
			rc = -EINVAL;
		} else {
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		}
		free(buf);
		return rc;
	}
	*text = buf;
	*len = n;
	return 0;
}

int
sim_model_open(const char *path, const struct regmap *map, const struct sim_model_host *host,
	       struct sim_model **out, char *err, size_t errlen)
{
	if (!host->get || !host->set || !host->irq || !host->after || !host->log) {
		snprintf(err, errlen, "a model host needs every callback");
		return -EINVAL;
	}
	struct sim_model *m = calloc(1, sizeof(*m));
	size_t name_len = strlen(path) + 2;
	if (!m || !(m->chunkname = malloc(name_len))) {
		free(m);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(m->chunkname, name_len, "@%s", path);
	m->dev.map = map;
	m->dev.host = *host;
	int rc = read_file(path, &m->text, &m->text_len, err, errlen);
	if (rc == 0 && m->text_len > 0 && m->text[0] == LUA_SIGNATURE[0]) {
		/* mode "t" refuses it anyway; this says so in words the operator knows */
		snprintf(err, errlen, "%s: a compiled Lua chunk (bytecode): a model is source text",
			 path);
		rc = -EINVAL;
	}
	if (rc == 0) {
		rc = new_state(m, err, errlen);
	}
	if (rc < 0) {
		sim_model_close(m);
		return rc;
	}
	snprintf(m->fault, sizeof(m->fault), "not started");
	*out = m;
	return 0;
}

int
sim_model_start(struct sim_model *m, char *err, size_t errlen)
{
	if (m->running) {
		snprintf(err, errlen, "called from inside the model");
		return -EBUSY;
	}
	if (m->started) {
		snprintf(err, errlen, "the model started already");
		return -EALREADY;
	}
	return start_state(m, err, errlen);
}

int
sim_model_reset(struct sim_model *m, char *err, size_t errlen)
{
	if (m->running) {
		snprintf(err, errlen, "called from inside the model");
		return -EBUSY;
	}
	int rc = new_state(m, err, errlen);
	if (rc < 0) {
		return rc;
	}
	return start_state(m, err, errlen);
}

/* Checks an access before a hook runs: 0, or the error the hook returns. */
static int
check_call(const struct sim_model *m, uint64_t off, unsigned width)
{
	if (m->running) {
		return -EBUSY;
	}
	if (width != 1 && width != 2 && width != 4 && width != 8) {
		return -EINVAL;
	}
	if (off > UINT64_MAX - (width - 1)) {
		return -EINVAL;
	}
	return m->fault[0] ? -EIO : 0;
}

/* The register instances that [off, off + width) touches, in increasing offset. */
static void
find_touched(const struct regmap *map, struct access_call *call)
{
	uint64_t first = call->off;
	uint64_t last = call->off + (call->width - 1);
	call->n_touched = 0;
	for (unsigned r = 0; map && r < map->n_registers; r++) {
		const struct regmap_register *reg = &map->registers[r];
		unsigned bytes = regmap_reg_width(map, reg) / 8;
		uint64_t count = reg->count > 1 ? reg->count : 1;
		uint64_t i = 0;
		/* The first instance ending at or after first (instances never overlap). */
		if (count > 1 && reg->offset + (bytes - 1) < first) {
			uint64_t gap = first - (reg->offset + (bytes - 1));
			i = gap / reg->stride + (gap % reg->stride != 0);
		}
		for (; i < count; i++) {
			uint64_t start = reg->offset + i * reg->stride;
			if (start > last) {
				break;
			}
			if (start + (bytes - 1) < first || call->n_touched == MAX_TOUCHED) {
				continue;
			}
			struct touched t = {.reg = reg, .index = i, .off = start, .bytes = bytes};
			unsigned k = call->n_touched++;
			for (; k > 0 && call->touched[k - 1].off > start; k--) {
				call->touched[k] = call->touched[k - 1];
			}
			call->touched[k] = t;
		}
	}
}

/* An integer of width bytes as its bytes in memory, and back: the state is in host order. */
static void
value_to_bytes(uint64_t value, unsigned width, uint8_t *out)
{
	uint8_t v8 = (uint8_t)value;
	uint16_t v16 = (uint16_t)value;
	uint32_t v32 = (uint32_t)value;
	switch (width) {
	case 1:
		memcpy(out, &v8, 1);
		break;
	case 2:
		memcpy(out, &v16, 2);
		break;
	case 4:
		memcpy(out, &v32, 4);
		break;
	default:
		memcpy(out, &value, 8);
		break;
	}
}

static uint64_t
bytes_to_value(const uint8_t *in, unsigned width)
{
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;
	switch (width) {
	case 1:
		memcpy(&v8, in, 1);
		return v8;
	case 2:
		memcpy(&v16, in, 2);
		return v16;
	case 4:
		memcpy(&v32, in, 4);
		return v32;
	default:
		memcpy(&v64, in, 8);
		return v64;
	}
}

/*
 * dst (dst_width bytes at dst_off) with the bytes it shares with src (src_width bytes at
 * src_off) taken from src.
 */
static uint64_t
overlay(uint64_t dst, uint64_t dst_off, unsigned dst_width, uint64_t src, uint64_t src_off,
	unsigned src_width)
{
	uint8_t d[8];
	uint8_t s[8];
	value_to_bytes(dst, dst_width, d);
	value_to_bytes(src, src_width, s);
	uint64_t lo = dst_off > src_off ? dst_off : src_off;
	uint64_t dst_last = dst_off + (dst_width - 1);
	uint64_t src_last = src_off + (src_width - 1);
	uint64_t hi = dst_last < src_last ? dst_last : src_last;
	for (uint64_t a = lo; a <= hi; a++) {
		d[a - dst_off] = s[a - src_off];
	}
	return bytes_to_value(d, dst_width);
}

/* on_load's result: nil keeps *reg_value; an integer that fits replaces it. */
static void
take_load_result(lua_State *L, const char *where, unsigned bytes, uint64_t *reg_value)
{
	int type = lua_type(L, -1);
	if (type != LUA_TNIL) {
		int is_int = 0;
		lua_Integer v = type == LUA_TNUMBER ? lua_tointegerx(L, -1, &is_int) : 0;
		if (!is_int || !width_value_fits(bytes, (uint64_t)v)) {
			luaL_error(L, "%s returned %s: want nil or an integer of %d bits", where,
				   type == LUA_TNUMBER ? "a number that is not one"
						       : lua_typename(L, type),
				   (int)bytes * 8);
		}
		*reg_value = (uint64_t)v;
	}
	lua_pop(L, 1);
}

static const char *const hook_names[] = {
	[HOOK_LOAD] = "on_load",
	[HOOK_STORE] = "on_store",
	[HOOK_DEVICE_SET] = "on_device_set",
	[HOOK_DEVICE_GET] = "on_device_get",
};

/* One hook call per touched register; the values spliced between the access and the state. */
static void
run_access_hooks(lua_State *L, struct sim_model *m, void *arg)
{
	struct access_call *call = arg;
	const char *hook = hook_names[call->kind];
	for (unsigned k = 0; k < call->n_touched; k++) {
		const struct touched *t = &call->touched[k];
		if (!push_hook(L, hook)) {
			return; /* checked each time: a hook may define or remove one */
		}
		char name[REGMAP_MAX_NAME + 24];
		if (t->reg->count > 1) {
			snprintf(name, sizeof(name), "%s[%" PRIu64 "]", t->reg->name, t->index);
		} else {
			snprintf(name, sizeof(name), "%s", t->reg->name);
		}
		snprintf(m->where, sizeof(m->where), "%s(%s)", hook, name);
		uint64_t now = m->dev.host.get(m->dev.host.ctx, t->off, t->bytes);
		lua_pushstring(L, name);
		if (call->kind == HOOK_LOAD || call->kind == HOOK_DEVICE_GET) {
			uint64_t reg_value =
				overlay(now, t->off, t->bytes, call->value, call->off, call->width);
			lua_pushinteger(L, (lua_Integer)reg_value);
			call_budgeted(L, 2, 1);
			take_load_result(L, m->where, t->bytes, &reg_value);
			call->value = overlay(call->value, call->off, call->width, reg_value,
					      t->off, t->bytes);
			continue;
		}
		uint64_t old = overlay(now, t->off, t->bytes, call->old, call->off, call->width);
		lua_pushinteger(L, (lua_Integer)now);
		lua_pushinteger(L, (lua_Integer)old);
		if (call->kind == HOOK_STORE) {
			uint64_t written =
				overlay(now, t->off, t->bytes, call->value, call->off, call->width);
			lua_pushinteger(L, (lua_Integer)written);
			call_budgeted(L, 4, 0);
		} else {
			call_budgeted(L, 3, 0);
		}
	}
}

static int
access_hooks(struct sim_model *m, struct access_call *call)
{
	int rc = check_call(m, call->off, call->width);
	if (rc < 0) {
		return rc;
	}
	find_touched(m->dev.map, call);
	if (call->n_touched == 0) {
		return 0;
	}
	return run_protected(m, run_access_hooks, call);
}

int
sim_model_load(struct sim_model *m, uint64_t off, unsigned width, uint64_t *value)
{
	struct access_call call = {.kind = HOOK_LOAD, .off = off, .width = width, .value = *value};
	int rc = access_hooks(m, &call);
	if (rc == 0) {
		*value = call.value;
	}
	return rc;
}

int
sim_model_store(struct sim_model *m, uint64_t off, unsigned width, uint64_t written, uint64_t old)
{
	struct access_call call = {
		.kind = HOOK_STORE, .off = off, .width = width, .value = written, .old = old};
	return access_hooks(m, &call);
}

int
sim_model_device_set(struct sim_model *m, uint64_t off, unsigned width, uint64_t old)
{
	struct access_call call = {.kind = HOOK_DEVICE_SET, .off = off, .width = width, .old = old};
	return access_hooks(m, &call);
}

int
sim_model_device_get(struct sim_model *m, uint64_t off, unsigned width, uint64_t *value)
{
	struct access_call call = {
		.kind = HOOK_DEVICE_GET, .off = off, .width = width, .value = *value};
	int rc = access_hooks(m, &call);
	if (rc == 0) {
		*value = call.value;
	}
	return rc;
}

/* The timer's function, if this state still has it: removed, then called. */
static void
run_timer(lua_State *L, struct sim_model *m, void *arg)
{
	const uint64_t *token_of_host = arg;
	lua_Integer token = (lua_Integer)*token_of_host;
	lua_getfield(L, LUA_REGISTRYINDEX, SIM_LUA_TIMERS);
	if (lua_rawgeti(L, -1, token) != LUA_TFUNCTION) {
		return; /* armed before a reset */
	}
	lua_pushnil(L);
	lua_rawseti(L, -3, token);
	m->dev.n_timers--;
	snprintf(m->where, sizeof(m->where), "a timer (device.after)");
	call_budgeted(L, 0, 0);
}

int
sim_model_timer(struct sim_model *m, uint64_t token)
{
	if (m->running) {
		return -EBUSY;
	}
	if (m->fault[0] || token == 0 || token > m->dev.next_token) {
		return 0; /* stale: the state that armed it is gone */
	}
	return run_protected(m, run_timer, &token);
}

const char *
sim_model_faulted(const struct sim_model *m)
{
	return m->fault[0] ? m->fault : NULL;
}

void
sim_model_close(struct sim_model *m)
{
	if (!m) {
		return;
	}
	close_state(m);
	free(m->text);
	free(m->chunkname);
	free(m);
}
