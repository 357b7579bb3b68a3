/*
 * Placeholder bodies for the world and scenario interfaces while the model is
 * written; every entry point reports that it is not implemented yet.
 */
#include <errno.h>
#include <stddef.h>

#include "qscale/scenario.h"
#include "qscale/world.h"

/* Not implemented yet. */
int scenario_load(const char *path, struct scenario **out, struct scenario_diag *diag)
{
	return -ENOSYS;
}

/* Not implemented yet. */
void scenario_destroy(struct scenario *sc)
{
}

/* Not implemented yet. */
int world_create(const struct scenario *sc, uint64_t start_wall_ms, struct world **out)
{
	return -ENOSYS;
}

/* Not implemented yet. */
void world_destroy(struct world *w)
{
}

/* Not implemented yet. */
int world_advance(struct world *w, uint64_t t_ms)
{
	return -ENOSYS;
}
