/*
 * libFuzzer target for the scenario loader: any bytes either load or fail
 * with a diagnostic, never crash; a scenario that loads also builds a world
 * and runs it for a few model seconds.
 */
#include <stddef.h>
#include <stdint.h>

#include "qscale/scenario.h"
#include "qscale/world.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scenario *sc = NULL;
	struct diag diag;
	struct world *w = NULL;
	size_t instances = 0;

	if (scenario_load_text("fuzz.yaml", (const char *)data, size, &sc, &diag) < 0)
		return 0;
	for (size_t i = 0; i < sc->cluster_count; i++)
		instances += sc->clusters[i].instance_count;
	/* keep each run short: huge fleets are the benchmark's business */
	if (instances <= 1000 && sc->service_count <= 100 && world_create(sc, 0, &w) == 0) {
		struct world_fault_hit hit;

		world_advance(w, 2500);
		world_fault_pick(w, SCENARIO_TARGET_SQS, "GetQueueAttributes", &hit);
		world_service_set_desired(w, NULL, "x", 3, NULL);
		world_advance(w, 5000);
		world_destroy(w);
	}
	scenario_destroy(sc);
	return 0;
}
