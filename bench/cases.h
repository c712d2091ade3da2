/* mmio-bench: the cases measured through libmmio-client against a running mmiod. */
#ifndef BENCH_CASES_H
#define BENCH_CASES_H

#include <stddef.h>
#include <sys/types.h>

#include "report.h"
#include "run.h"

int cases_run(const struct bench_target *t, const struct bench_params *p, struct report *rep);

#endif
