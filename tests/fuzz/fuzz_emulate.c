/*
 * libFuzzer target for the emulator's request handling: the first byte picks
 * an operation (or the SigV4 verifier), the rest is the body (or the
 * Authorization value). Every input must be answered with a well-formed
 * JSON reply or refused, never crash, against a small fixed world.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "qscale/emulate.h"
#include "qscale/scenario.h"
#include "qscale/world.h"
#include "qscale/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char scenario_text[] =
	"credentials: {access_key_id: AKIDFUZZ, secret_access_key: fuzz-secret}\n"
	"queues:\n"
	"  - {name: orders, initial_messages: 10, arrivals: {segments: [{at: 0s, rate: 1}]}}\n"
	"clusters:\n"
	"  - name: onprem\n"
	"    instances:\n"
	"      - {count: 3, cpu: 2048, memory: 4096, attributes: {site: dc1}}\n"
	"task_definitions:\n"
	"  - {family: worker, cpu: 256, memory: 512, containers: [{name: w, cpu: 256}]}\n"
	"services:\n"
	"  - {name: svc, cluster: onprem, launch_type: EXTERNAL, task_definition: worker,\n"
	"     desired: 1, queue: orders, messages_per_task: 1}\n";

static const char *const targets[] = {
	"AmazonSQS.GetQueueAttributes",
	"AmazonEC2ContainerServiceV20141113.DescribeServices",
	"AmazonEC2ContainerServiceV20141113.UpdateService",
	"AmazonEC2ContainerServiceV20141113.ListContainerInstances",
	"AmazonEC2ContainerServiceV20141113.DescribeContainerInstances",
	"AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition",
	"AmazonEC2ContainerServiceV20141113.Nope",
};

#define N_TARGETS (sizeof(targets) / sizeof(targets[0]))

static struct world *world;
static const struct emulate_auth auth = {"AKIDFUZZ", "fuzz-secret", "us-east-1"};

/* Build the world once; libFuzzer runs in one process. */
static void setup(void)
{
	struct scenario *sc = NULL;
	struct diag diag;

	if (world != NULL)
		return;
	if (scenario_load_text("fuzz", scenario_text, strlen(scenario_text), &sc, &diag) < 0 ||
		world_create(sc, 1764145200000ULL, &world) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	setup();

	size_t pick = data[0] % (N_TARGETS + 1);
	char *rest = xmalloc(size);

	memcpy(rest, data + 1, size - 1);
	rest[size - 1] = '\0';
	if (pick == N_TARGETS) {
		/* The verifier with the input as the Authorization header. */
		struct emulate_header h[4] = {
			{"Host", "127.0.0.1:1"},
			{"X-Amz-Date", "20251126T082000Z"},
			{"X-Amz-Target", targets[1]},
			{"Authorization", rest},
		};
		struct emulate_http_request req = {"POST", "/", h, 4, "{}", 2};
		struct emulate_error err;

		(void)emulate_auth_verify(&auth, EMULATE_SERVICE_ECS, &req, 1764145200000ULL, &err);
	} else {
		const char *ctype =
			pick == 0 ? "application/x-amz-json-1.0" : "application/x-amz-json-1.1";
		struct emulate_header h[2] = {
			{"X-Amz-Target", targets[pick]}, {"Content-Type", ctype}};
		struct emulate_http_request req = {"POST", "/", h, 2, rest, size - 1};
		struct emulate_reply reply;
		char errbuf[64];

		emulate_dispatch(world, &auth, &req, &reply);
		yajl_val v = yajl_tree_parse(reply.body, errbuf, sizeof(errbuf));

		if (v == NULL || reply.http_status == 0)
			abort();
		yajl_tree_free(v);
		emulate_reply_finish(&reply);
	}
	free(rest);
	return 0;
}
