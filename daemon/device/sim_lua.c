/*
 * A device model's Lua state (sim_lua.h): the capped allocator, the budget's count hook, the
 * sandbox and the device table.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "core/regmap.h"
#include "core/width.h"
#include "device/sim_lua.h"
#include "device/sim_model.h"
#include "text.h"

static struct sim_lua *
device_of(lua_State *L)
{
	void *ud = NULL;
	lua_getallocf(L, &ud);
	return ud;
}

/* Lua's allocator, counting the state's bytes against SIM_MODEL_MAX_MEMORY. */
static void *
capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct sim_lua *dev = ud;
	size_t old = ptr ? osize : 0; /* with ptr NULL, osize is a type tag */
	if (nsize == 0) {
		free(ptr);
		dev->mem_used -= old;
		return NULL;
	}
	if (nsize > old && nsize - old > SIM_MODEL_MAX_MEMORY - dev->mem_used) {
		dev->mem_refused = true;
		return NULL;
	}
	void *p = realloc(ptr, nsize);
	if (!p) {
		if (nsize <= old) {
			return ptr; /* Lua assumes shrinking never fails: keep the bigger block */
		}
		dev->mem_refused = true;
		return NULL;
	}
	dev->mem_used = dev->mem_used - old + nsize;
	return p;
}

lua_State *
sim_lua_new(struct sim_lua *dev)
{
	return lua_newstate(capped_alloc, dev);
}

void
sim_lua_close(struct sim_lua *dev, lua_State *L)
{
	if (L) {
		lua_close(L);
	}
	dev->mem_used = 0;
	dev->n_timers = 0;
}

void
sim_lua_arm(struct sim_lua *dev)
{
	dev->mem_refused = false;
	dev->budget_spent = false;
}

/*
 * The count hook: the budget is spent. From now on it fires on every instruction, so a model
 * that catches the error with pcall fails again at its next instruction, all the way out.
 */
static void
budget_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	device_of(L)->budget_spent = true;
	lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
	luaL_error(L, "instruction budget exceeded");
}

void
sim_lua_budget(lua_State *L)
{
	lua_sethook(L, budget_hook, LUA_MASKCOUNT, SIM_MODEL_MAX_INSTRUCTIONS);
}

/* --- the device table --- */

/* Resolves name (argument 1) in the map, or raises an error. */
static struct regmap_ref
check_name(lua_State *L, const struct sim_lua *dev, const char *fn)
{
	const char *name = luaL_checkstring(L, 1);
	struct regmap_ref ref;
	if (!dev->map) {
		luaL_error(L, "device.%s(\"%s\"): the region has no register map", fn, name);
	}
	int rc = regmap_lookup(dev->map, name, &ref);
	if (rc == -ENOENT) {
		luaL_error(L, "device.%s(\"%s\"): no such register or field", fn, name);
	} else if (rc < 0) {
		luaL_error(L, "device.%s(\"%s\"): not a name REG, REG.FIELD or ARR[i].FIELD", fn,
			   name);
	}
	return ref;
}

/* device.get(name): the register's raw value, or the field's (shifted down). */
static int
device_get(lua_State *L)
{
	struct sim_lua *dev = device_of(L);
	struct regmap_ref ref = check_name(L, dev, "get");
	uint64_t value = dev->host.get(dev->host.ctx, ref.offset, ref.width / 8);
	if (ref.field) {
		value = regmap_field_decode(ref.field, value);
	}
	lua_pushinteger(L, (lua_Integer)value);
	return 1;
}

/* device.set(name, value): value an integer, or a field's value name ("8BIT"). */
static int
device_set(lua_State *L)
{
	struct sim_lua *dev = device_of(L);
	struct regmap_ref ref = check_name(L, dev, "set");
	const char *name = lua_tostring(L, 1);
	uint64_t value;
	if (lua_type(L, 2) == LUA_TSTRING) {
		const char *value_name = lua_tostring(L, 2);
		const struct regmap_value *v =
			ref.field ? regmap_value_find(ref.field, value_name) : NULL;
		if (!v) {
			return luaL_error(L, "device.set(\"%s\"): no value named %s", name,
					  value_name);
		}
		value = v->value;
	} else {
		value = (uint64_t)luaL_checkinteger(L, 2);
	}
	unsigned bytes = ref.width / 8;
	if (ref.field) {
		uint64_t in_place;
		if (regmap_field_encode(ref.field, 0, value, &in_place) < 0) {
			return luaL_error(L, "device.set(\"%s\", %I): does not fit %d bits", name,
					  (lua_Integer)value,
					  (int)(ref.field->msb - ref.field->lsb + 1));
		}
		dev->host.set(dev->host.ctx, ref.offset, bytes, regmap_field_mask(ref.field),
			      in_place);
	} else {
		if (!width_value_fits(bytes, value)) {
			return luaL_error(L, "device.set(\"%s\", %I): does not fit %d bits", name,
					  (lua_Integer)value, (int)ref.width);
		}
		dev->host.set(dev->host.ctx, ref.offset, bytes, width_mask(bytes), value);
	}
	return 0;
}

/* device.irq(): raises the region's interrupt. */
static int
device_irq(lua_State *L)
{
	struct sim_lua *dev = device_of(L);
	dev->host.irq(dev->host.ctx);
	return 0;
}

/* device.after(ms, fn): fn() once, ms milliseconds from now. */
static int
device_after(lua_State *L)
{
	struct sim_lua *dev = device_of(L);
	lua_Integer ms = luaL_checkinteger(L, 1);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	if (ms < 0 || (uint64_t)ms > SIM_MODEL_MAX_DELAY_MS) {
		return luaL_error(L, "device.after(%I): the delay is 0..%I ms", ms,
				  (lua_Integer)SIM_MODEL_MAX_DELAY_MS);
	}
	if (dev->n_timers >= SIM_MODEL_MAX_TIMERS) {
		return luaL_error(L, "device.after: %d timers pending already",
				  SIM_MODEL_MAX_TIMERS);
	}
	uint64_t token = ++dev->next_token;
	lua_getfield(L, LUA_REGISTRYINDEX, SIM_LUA_TIMERS);
	lua_pushvalue(L, 2);
	lua_rawseti(L, -2, (lua_Integer)token);
	int rc = dev->host.after(dev->host.ctx, (uint64_t)ms, token);
	if (rc < 0) {
		lua_pushnil(L);
		lua_rawseti(L, -2, (lua_Integer)token);
		return luaL_error(L, "device.after: %s", strerror(-rc));
	}
	dev->n_timers++;
	return 0;
}

/* Logs text through the host: cut to SIM_MODEL_MAX_LOG bytes, printable. */
static void
log_text(const struct sim_lua *dev, const char *text)
{
	char line[SIM_MODEL_MAX_LOG + 1];
	dev->host.log(dev->host.ctx, text_copy_printable(line, sizeof(line), text));
}

/* device.log(text) */
static int
device_log(lua_State *L)
{
	log_text(device_of(L), luaL_checkstring(L, 1));
	return 0;
}

/* print(...): as the stand-alone interpreter's, but space-separated (a tab is not printable)
 * and to the host's log. */
static int
model_print(lua_State *L)
{
	int n = lua_gettop(L);
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		if (i > 1) {
			luaL_addchar(&b, ' ');
		}
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	log_text(device_of(L), lua_tostring(L, -1));
	return 0;
}

/*
 * setmetatable without finalizers: Lua runs __gc with hooks off, where the budget cannot stop
 * a loop, and at lua_close. Otherwise the base library's.
 */
static int
model_setmetatable(lua_State *L)
{
	int t = lua_type(L, 2);
	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
	if (t == LUA_TTABLE) {
		lua_pushliteral(L, "__gc");
		if (lua_rawget(L, 2) != LUA_TNIL) {
			return luaL_error(L,
					  "setmetatable: a model may not have finalizers (__gc)");
		}
		lua_pop(L, 1);
	}
	if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) {
		return luaL_error(L, "cannot change a protected metatable");
	}
	lua_settop(L, 2);
	lua_setmetatable(L, 1);
	return 1;
}

void
sim_lua_open(lua_State *L)
{
	static const luaL_Reg libs[] = {
		{LUA_GNAME, luaopen_base},       {LUA_STRLIBNAME, luaopen_string},
		{LUA_TABLIBNAME, luaopen_table}, {LUA_MATHLIBNAME, luaopen_math},
		{LUA_UTF8LIBNAME, luaopen_utf8},
	};
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
		luaL_requiref(L, libs[i].name, libs[i].func, 1);
		lua_pop(L, 1);
	}
	/* Files, code from strings (source or bytecode), the collector's knobs, and warn (a
	 * channel to stderr): none is a model's business. No coroutine library either: a new
	 * coroutine starts with a fresh instruction count of its own. */
	static const char *const removed[] = {"dofile",  "loadfile",       "load",
					      "require", "collectgarbage", "warn"};
	lua_pushglobaltable(L);
	for (size_t i = 0; i < sizeof(removed) / sizeof(removed[0]); i++) {
		lua_pushnil(L);
		lua_setfield(L, -2, removed[i]);
	}
	lua_pushcfunction(L, model_print);
	lua_setfield(L, -2, "print");
	lua_pushcfunction(L, model_setmetatable);
	lua_setfield(L, -2, "setmetatable");
	lua_getfield(L, -1, LUA_STRLIBNAME);
	lua_pushnil(L);
	lua_setfield(L, -2, "dump"); /* bytecode out: no use without load, and not a model's */
	lua_pop(L, 1);

	static const luaL_Reg device[] = {
		{"get", device_get},     {"set", device_set}, {"irq", device_irq},
		{"after", device_after}, {"log", device_log}, {NULL, NULL},
	};
	luaL_newlib(L, device);
	lua_setfield(L, -2, "device");
	lua_pop(L, 1);

	lua_newtable(L);
	lua_setfield(L, LUA_REGISTRYINDEX, SIM_LUA_TIMERS);
}
