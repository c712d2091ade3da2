/*
 * The Lua side of a device model (sim_model.h): a Lua 5.4 state under a memory cap and an
 * instruction budget, with only the sandbox's libraries and the device table that reaches the
 * host. sim_model.c drives it; this file knows nothing of hooks or faults.
 */
#ifndef MMIOD_SIM_LUA_H
#define MMIOD_SIM_LUA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "core/regmap.h"
#include "device/sim_model.h"

/* The registry key of the table of pending timers: token -> function. */
#define SIM_LUA_TIMERS "mmiod.timers"

/* What a state knows of its device, and its accounts. One per model; it outlives its states. */
struct sim_lua {
	const struct regmap *map; /* may be NULL */
	struct sim_model_host host;
	size_t mem_used;     /* bytes the state holds */
	bool mem_refused;    /* the cap refused a block since sim_lua_arm() */
	bool budget_spent;   /* the budget ran out since sim_lua_arm() */
	uint64_t next_token; /* the last timer token handed out; never reset */
	unsigned n_timers;   /* pending in the current state */
};

/* A new, empty state on dev's accounts (lua_newstate), or NULL (out of memory). */
lua_State *sim_lua_new(struct sim_lua *dev);

/* Closes L (NULL is fine) and zeroes the accounts of its memory and timers. */
void sim_lua_close(struct sim_lua *dev, lua_State *L);

/*
 * Opens the sandbox in L: base (without dofile, loadfile, load, collectgarbage, warn; print to
 * the host's log; setmetatable without __gc), string (without dump), table, math, utf8, the
 * device table and the timers' table. May raise errors: call it protected.
 */
void sim_lua_open(lua_State *L);

/* Clears the flags for a new call from C. */
void sim_lua_arm(struct sim_lua *dev);

/* A fresh instruction budget (SIM_MODEL_MAX_INSTRUCTIONS) for the Lua call about to be made. */
void sim_lua_budget(lua_State *L);

#endif
