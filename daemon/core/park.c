#include <stdlib.h>

#include "core/park.h"

bool
park_step_inside(const struct park_step *step, uint64_t start, uint64_t len)
{
	if (step->op == PARK_BARRIER || step->op == PARK_DELAY) {
		return true;
	}
	return step->offset >= start && step->offset - start <= len &&
	       len - (step->offset - start) >= step->width;
}

void
park_seq_finish(struct park_seq *seq)
{
	free(seq->steps);
	seq->steps = NULL;
	seq->n = 0;
}
