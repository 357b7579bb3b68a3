/*
 * The control cycle against a scripted cloud: every call is queued and answered
 * only when the test pumps the queue (never inside the call, as struct cloud
 * requires), from a small in-memory model of queues, services, instances and
 * task definitions; failures are injected per operation. Checks what is called
 * (and how often), what is set, and what is held.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/controller.h"
#include "qscale/log.h"
#include "qscale/policy.h"
#include "qscale/xalloc.h"

enum op { OP_QUEUE, OP_SERVICES, OP_INSTANCES, OP_TASK, OP_UPDATE, OP_COUNT };

struct fake_service {
	const char *cluster;
	const char *name;
	const char *status;
	const char *task_definition;
	int32_t desired, running, pending;
};

struct fake_instance {
	const char *cluster;
	const char *id;
	const char *site; /* attribute site, NULL for none */
	bool agent_connected;
	int32_t remaining_cpu_units, remaining_memory_mib;
};

struct fake_update {
	char cluster[32];
	char service[64];
	int32_t desired;
};

/* The callback of a queued call, by operation. */
union callback {
	cloud_queue_cb queue;
	cloud_services_cb services;
	cloud_instances_cb instances;
	cloud_task_cb task;
	cloud_update_cb update;
};

struct call {
	enum op op;
	char a[256];
	char b[10][64];
	size_t n_b;
	int32_t desired;
	union callback cb;
	void *arg;
};

struct fake {
	int64_t visible;
	/* Per queue (by the URL's last part), instead of visible. */
	const char *queue_names[4];
	int64_t queue_visible[4];
	bool negative_counts;
	struct fake_service services[8];
	size_t n_services;
	struct fake_instance instances[8];
	size_t n_instances;
	int32_t task_cpu_units, task_memory_mib;
	int fail[OP_COUNT]; /* errno to answer with, 0: succeed */
	bool lose_update; /* UpdateService answers are lost (no HTTP status) */
	bool lost_applies; /* ... after the change was made */
	int refuse[OP_COUNT]; /* errno to return at once, 0: accept */
	unsigned calls[OP_COUNT];
	struct call queue[64];
	size_t n_queue;
	struct fake_update updates[64];
	size_t n_updates;
	struct fake_update sent[64]; /* every UpdateService started (the first 64) */
	size_t n_sent;
};

/* Queue a call (answered by pump). */
static int enqueue(struct fake *f, enum op op, const char *a, union callback cb, void *arg)
{
	struct call *c;

	f->calls[op]++;
	if (f->refuse[op] != 0)
		return f->refuse[op];
	assert_true(f->n_queue < 64);
	c = &f->queue[f->n_queue++];
	memset(c, 0, sizeof(*c));
	c->op = op;
	snprintf(c->a, sizeof(c->a), "%s", a);
	c->cb = cb;
	c->arg = arg;
	return 0;
}

static int fake_queue_counts(void *ctx, const char *url, cloud_queue_cb cb, void *arg)
{
	return enqueue(ctx, OP_QUEUE, url, (union callback){.queue = cb}, arg);
}

static int fake_describe_services(void *ctx, const char *cluster, const char *const *services,
	size_t n, cloud_services_cb cb, void *arg)
{
	struct fake *f = ctx;
	int rc = enqueue(f, OP_SERVICES, cluster, (union callback){.services = cb}, arg);

	if (rc == 0) {
		struct call *c = &f->queue[f->n_queue - 1];

		assert_true(n <= 10);
		for (size_t i = 0; i < n; i++)
			snprintf(c->b[i], sizeof(c->b[i]), "%s", services[i]);
		c->n_b = n;
	}
	return rc;
}

static int fake_list_instances(void *ctx, const char *cluster, cloud_instances_cb cb, void *arg)
{
	return enqueue(ctx, OP_INSTANCES, cluster, (union callback){.instances = cb}, arg);
}

static int fake_task_reservation(void *ctx, const char *arn, cloud_task_cb cb, void *arg)
{
	return enqueue(ctx, OP_TASK, arn, (union callback){.task = cb}, arg);
}

static int fake_update_service(void *ctx, const char *cluster, const char *service, int32_t desired,
	cloud_update_cb cb, void *arg)
{
	struct fake *f = ctx;
	int rc = enqueue(f, OP_UPDATE, cluster, (union callback){.update = cb}, arg);

	if (rc == 0) {
		snprintf(f->queue[f->n_queue - 1].b[0], 64, "%s", service);
		f->queue[f->n_queue - 1].desired = desired;
	}
	if (f->n_sent < 64) {
		snprintf(f->sent[f->n_sent].cluster, 32, "%.31s", cluster);
		snprintf(f->sent[f->n_sent].service, 64, "%.63s", service);
		f->sent[f->n_sent++].desired = desired;
	}
	return rc;
}

static const struct cloud_ops fake_ops = {
	.queue_counts = fake_queue_counts,
	.describe_services = fake_describe_services,
	.list_instances = fake_list_instances,
	.task_reservation = fake_task_reservation,
	.update_service = fake_update_service,
};

static struct fake_service *find_service(struct fake *f, const char *cluster, const char *name)
{
	for (size_t i = 0; i < f->n_services; i++) {
		if (strcmp(f->services[i].cluster, cluster) == 0 &&
			strcmp(f->services[i].name, name) == 0)
			return &f->services[i];
	}
	return NULL;
}

/* Answer one queued call from the model. */
static void answer(struct fake *f, struct call *c)
{
	struct aws_error error = {.err = -EIO, .http_status = 400};
	int err = f->fail[c->op];

	snprintf(error.code, sizeof(error.code), "ThrottlingException");
	snprintf(error.message, sizeof(error.message), "Rate exceeded");
	switch (c->op) {
	case OP_QUEUE: {
		struct cloud_queue_counts q = {f->visible, f->negative_counts ? -5 : 0, 0};
		const char *name = strrchr(c->a, '/');

		for (size_t i = 0; i < 4 && name != NULL; i++) {
			if (f->queue_names[i] != NULL && strcmp(f->queue_names[i], name + 1) == 0)
				q.visible = f->queue_visible[i];
		}

		c->cb.queue(err, err ? &error : NULL, err ? NULL : &q, c->arg);
		break;
	}
	case OP_SERVICES: {
		struct cloud_service out[10];
		size_t n = 0;

		for (size_t i = 0; i < c->n_b; i++) {
			struct fake_service *s = find_service(f, c->a, c->b[i]);

			out[n++] = (struct cloud_service){
				.name = c->b[i],
				.found = s != NULL,
				.status = s ? s->status : NULL,
				.task_definition = s ? s->task_definition : NULL,
				.desired = s ? s->desired : 0,
				.running = s ? s->running : 0,
				.pending = s ? s->pending : 0,
			};
		}
		c->cb.services(err, err ? &error : NULL, err ? NULL : out, err ? 0 : n, c->arg);
		break;
	}
	case OP_INSTANCES: {
		struct cloud_instance out[8];
		struct cloud_attribute attrs[8];
		size_t n = 0;

		for (size_t i = 0; i < f->n_instances; i++) {
			const struct fake_instance *in = &f->instances[i];

			if (strcmp(in->cluster, c->a) != 0)
				continue;
			attrs[n] = (struct cloud_attribute){"site", in->site};
			out[n] = (struct cloud_instance){
				.arn = in->id,
				.ec2_instance_id = in->id,
				.status = "ACTIVE",
				.agent_connected = in->agent_connected,
				.remaining_cpu_units = in->remaining_cpu_units,
				.remaining_memory_mib = in->remaining_memory_mib,
				.attributes = in->site ? &attrs[n] : NULL,
				.n_attributes = in->site ? 1 : 0,
			};
			n++;
		}
		c->cb.instances(err, err ? &error : NULL, err ? NULL : out, err ? 0 : n, c->arg);
		break;
	}
	case OP_TASK: {
		struct cloud_task_reservation r = {
			.cpu_units = f->task_cpu_units, .memory_mib = f->task_memory_mib};

		c->cb.task(err, err ? &error : NULL, err ? NULL : &r, c->arg);
		break;
	}
	case OP_UPDATE: {
		struct fake_service *s = find_service(f, c->a, c->b[0]);
		struct cloud_service out = {0};

		assert_non_null(s);
		if (f->lose_update) {
			struct aws_error lost = {.err = -EIO, .error_class = AWS_ERROR_TRANSIENT};

			snprintf(lost.message, sizeof(lost.message), "connection reset");
			if (f->lost_applies) {
				s->desired = c->desired;
				snprintf(f->updates[f->n_updates].cluster, 32, "%.31s", c->a);
				snprintf(f->updates[f->n_updates].service, 64, "%.63s", c->b[0]);
				f->updates[f->n_updates++].desired = c->desired;
			}
			c->cb.update(-EIO, &lost, NULL, c->arg);
			break;
		}
		if (err == 0) {
			s->desired = c->desired;
			assert_true(f->n_updates < 64);
			snprintf(f->updates[f->n_updates].cluster, 32, "%.31s", c->a);
			snprintf(f->updates[f->n_updates].service, 64, "%.63s", c->b[0]);
			f->updates[f->n_updates++].desired = c->desired;
			out = (struct cloud_service){
				.name = s->name, .found = true, .desired = s->desired};
		}
		c->cb.update(err, err ? &error : NULL, err ? NULL : &out, c->arg);
		break;
	}
	case OP_COUNT:
		break;
	}
}

/* Answer every queued call, and those they cause, until none is left. */
static void pump(struct fake *f)
{
	while (f->n_queue > 0) {
		struct call c = f->queue[0];

		memmove(&f->queue[0], &f->queue[1], (f->n_queue - 1) * sizeof(f->queue[0]));
		f->n_queue--;
		answer(f, &c);
	}
}

/* A test's world: a fake cloud, a manual clock, a controller. */
struct world {
	struct fake fake;
	struct cloud cloud;
	struct clock_manual clock;
	struct controller *ctl;
	unsigned cycles_done;
	unsigned decisions;
	enum controller_outcome last_outcome;
	uint64_t last_missed;
};

static void on_decision(const struct controller_report *r, void *arg)
{
	struct world *w = arg;

	w->decisions++;
	w->last_outcome = r->outcome;
	w->last_missed = r->missed;
}

static void on_cycle(const struct controller_cycle_report *r, void *arg)
{
	struct world *w = arg;

	(void)r;
	w->cycles_done++;
}

/* One policy block; extra is appended inside it (e.g. a burst section). */
static char *policy_yaml(const char *name, const char *interval, const char *queue,
	const char *cluster, int priority, const char *extra)
{
	return xasprintf("  - name: %s\n"
			 "    interval: %s\n"
			 "    queue: {url: 'http://127.0.0.1:1/000000000000/%s'}\n"
			 "    target: {backlog_per_task: 10}\n"
			 "    local: {cluster: %s, service: %s-local, min_tasks: 1, max_tasks: 20,"
			 " priority: %d, reserve: {cpu: 0, memory: 0}}\n"
			 "    behavior:\n"
			 "      scale_out: {stabilization: 0s, max_tasks: 0, max_percent: 0}\n"
			 "      scale_in: {stabilization: 0s, max_tasks: 0, max_percent: 0}\n"
			 "%s",
		name, interval, queue, cluster, name, priority, extra);
}

/* Load a config from inline policies (NULL-terminated list of blocks, freed). */
static struct qscale_config *config_of(const char *first, ...)
{
	char *text = xstrdup("region: us-east-1\ninterval: 10s\npolicies:\n");
	struct qscale_config *cfg = NULL;
	struct diag diag;
	va_list ap;

	va_start(ap, first);
	for (const char *p = first; p != NULL; p = va_arg(ap, const char *)) {
		char *next = xasprintf("%s%s", text, p);

		free(text);
		free((char *)(uintptr_t)p);
		text = next;
	}
	va_end(ap);
	if (qscale_config_parse("test.yaml", text, strlen(text), QSCALE_CONFIG_NO_POLICIES_DIR,
		    &cfg, &diag) != 0) {
		diag_print(&diag, stderr);
		fail();
	}
	free(text);
	return cfg;
}

static void add_service(struct fake *f, const char *cluster, const char *name, int32_t desired)
{
	f->services[f->n_services++] = (struct fake_service){cluster, name, "ACTIVE",
		"arn:aws:ecs:us-east-1:0:task-definition/t:1", desired, desired, 0};
}

static void add_instance(
	struct fake *f, const char *cluster, const char *id, const char *site, int32_t cpu_units)
{
	f->instances[f->n_instances++] =
		(struct fake_instance){cluster, id, site, true, cpu_units, 8192};
}

static int setup(void **state)
{
	struct world *w = xcalloc(1, sizeof(*w));
	struct controller_hooks hooks = {on_decision, on_cycle, w};

	clock_manual_init(&w->clock, 1000, 1700000000000ULL);
	w->cloud = (struct cloud){&fake_ops, &w->fake};
	w->fake.task_cpu_units = 256;
	w->fake.task_memory_mib = 512;
	assert_int_equal(controller_create(&w->cloud, &w->clock.clock, &hooks, &w->ctl), 0);
	controller_set_quiet(w->ctl, true);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	controller_destroy(w->ctl);
	free(w);
	return 0;
}

/* Run one cycle at the clock's time: tick, answer everything. */
static int cycle(struct world *w)
{
	int n = controller_tick(w->ctl, w->clock.mono_ms);

	pump(&w->fake);
	assert_false(controller_busy(w->ctl));
	return n;
}

/* The count last set on a service, -1 when none was. */
static int32_t last_desired(const struct fake *f, const char *service)
{
	for (size_t i = f->n_updates; i-- > 0;) {
		if (strcmp(f->updates[i].service, service) == 0)
			return f->updates[i].desired;
	}
	return -1;
}

static const char *burst_yaml =
	"    burst: {cluster: cloud, service: orders-burst, max_tasks: 40}\n";

/* Backlog past local capacity: local takes what fits, burst the rest. */
static void test_spike_splits_local_and_burst(void **state)
{
	struct world *w = *state;
	const struct controller_policy_status *st;

	add_service(&w->fake, "onprem", "orders-local", 1);
	add_service(&w->fake, "cloud", "orders-burst", 0);
	add_instance(&w->fake, "onprem", "mi-1", "dc1", 1024); /* 4 tasks of 256 */
	add_instance(&w->fake, "onprem", "mi-2", "dc1", 512); /* 2 */
	w->fake.visible = 300; /* 30 tasks wanted: 1 placed + 6 fit locally, 23 burst */
	assert_int_equal(
		controller_set_config(w->ctl,
			config_of(policy_yaml("orders", "5s", "orders", "onprem", 0, burst_yaml),
				NULL)),
		0);
	assert_int_equal(cycle(w), 1);
	assert_int_equal(last_desired(&w->fake, "orders-local"), 7);
	assert_int_equal(last_desired(&w->fake, "orders-burst"), 23);
	st = controller_policy_status(w->ctl, 0);
	assert_int_equal(st->outcome, CONTROLLER_SCALED);
	assert_int_equal(st->decision.local_capacity, 7);
	assert_int_equal(st->consecutive_failures, 0);
	assert_int_equal(st->local_instances, 2);
	assert_true(st->last_success_ms > 0);
	assert_int_equal(w->cycles_done, 1);
	assert_int_equal(w->decisions, 1);
}

/* Policies sharing a queue and a cluster share the calls of one cycle. */
static void test_shared_calls_once_per_cycle(void **state)
{
	struct world *w = *state;

	add_service(&w->fake, "onprem", "a-local", 1);
	add_service(&w->fake, "onprem", "b-local", 1);
	add_instance(&w->fake, "onprem", "mi-1", "dc1", 4096);
	w->fake.visible = 20;
	controller_set_config(w->ctl,
		config_of(policy_yaml("a", "5s", "q", "onprem", 0, ""),
			policy_yaml("b", "5s", "q", "onprem", 0, ""), NULL));
	assert_int_equal(cycle(w), 2);
	assert_int_equal(w->fake.calls[OP_QUEUE], 1);
	assert_int_equal(w->fake.calls[OP_SERVICES], 1);
	assert_int_equal(w->fake.calls[OP_INSTANCES], 1);
	assert_int_equal(w->fake.calls[OP_TASK], 1);
	/* The task definition is cached: the next cycle does not fetch it again. */
	clock_manual_advance(&w->clock, 5000);
	assert_int_equal(cycle(w), 2);
	assert_int_equal(w->fake.calls[OP_INSTANCES], 2);
	assert_int_equal(w->fake.calls[OP_TASK], 1);
	/* A new revision is fetched. */
	w->fake.services[0].task_definition = "arn:aws:ecs:us-east-1:0:task-definition/t:2";
	clock_manual_advance(&w->clock, 5000);
	cycle(w);
	assert_int_equal(w->fake.calls[OP_TASK], 2);
}

/* Each failing observation holds the counts, for that cycle only, with the error kept. */
static void test_fail_static_per_operation(void **state)
{
	struct world *w = *state;
	static const enum op ops[] = {OP_QUEUE, OP_SERVICES, OP_INSTANCES, OP_TASK};
	static const char *const names[] = {"GetQueueAttributes", "DescribeServices",
		"ListContainerInstances", "DescribeTaskDefinition"};

	add_service(&w->fake, "onprem", "orders-local", 5);
	add_instance(&w->fake, "onprem", "mi-1", "dc1", 4096);
	w->fake.visible = 0; /* wants 1: would shrink 5 -> 1 */
	controller_set_config(
		w->ctl, config_of(policy_yaml("orders", "5s", "orders", "onprem", 0, ""), NULL));
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		const struct controller_policy_status *st;

		/* A fresh controller each time: the task definition must not be cached. */
		controller_destroy(w->ctl);
		struct controller_hooks hooks = {on_decision, on_cycle, w};
		assert_int_equal(controller_create(&w->cloud, &w->clock.clock, &hooks, &w->ctl), 0);
		controller_set_quiet(w->ctl, true);
		controller_set_config(w->ctl,
			config_of(policy_yaml("orders", "5s", "orders", "onprem", 0, ""), NULL));
		memset(w->fake.fail, 0, sizeof(w->fake.fail));
		w->fake.fail[ops[i]] = -EIO;
		cycle(w);
		st = controller_policy_status(w->ctl, 0);
		assert_int_equal(w->fake.n_updates, 0);
		assert_int_equal(st->outcome, CONTROLLER_HELD);
		assert_int_equal(st->consecutive_failures, 1);
		assert_non_null(strstr(st->last_error, names[i]));
	}
	/* Recovery: the next cycle with everything answering scales in. */
	memset(w->fake.fail, 0, sizeof(w->fake.fail));
	clock_manual_advance(&w->clock, 5000);
	cycle(w);
	assert_int_equal(last_desired(&w->fake, "orders-local"), 1);
	assert_int_equal(controller_policy_status(w->ctl, 0)->consecutive_failures, 0);
	assert_string_equal(controller_policy_status(w->ctl, 0)->last_error, "");
}

/* A failure on one cluster holds only the policies on it. */
static void test_failure_only_affects_policies_needing_it(void **state)
{
	struct world *w = *state;

	add_service(&w->fake, "onprem", "a-local", 1);
	add_service(&w->fake, "other", "b-local", 1);
	add_instance(&w->fake, "onprem", "mi-1", "dc1", 4096);
	add_instance(&w->fake, "other", "mi-2", "dc1", 4096);
	w->fake.visible = 50;
	controller_set_config(w->ctl,
		config_of(policy_yaml("a", "5s", "qa", "onprem", 0, ""),
			policy_yaml("b", "5s", "qb", "other", 0, ""), NULL));
	w->fake.instances[0].remaining_cpu_units = -1; /* hostile answer for onprem */
	cycle(w);
	assert_int_equal(controller_policy_status(w->ctl, 0)->outcome, CONTROLLER_HELD);
	assert_non_null(strstr(controller_policy_status(w->ctl, 0)->last_error, "implausible"));
	assert_int_equal(controller_policy_status(w->ctl, 1)->outcome, CONTROLLER_SCALED);
	assert_int_equal(last_desired(&w->fake, "a-local"), -1);
	assert_int_equal(last_desired(&w->fake, "b-local"), 5);
}

/* Hostile counts are an error for that cycle: nothing is set. */
static void test_negative_counts_hold(void **state)
{
	struct world *w = *state;

	add_service(&w->fake, "onprem", "orders-local", 2);
	add_instance(&w->fake, "onprem", "mi-1", "dc1", 4096);
	w->fake.visible = 100;
	w->fake.negative_counts = true;
	controller_set_config(
		w->ctl, config_of(policy_yaml("orders", "5s", "orders", "onprem", 0, ""), NULL));
	cycle(w);
	assert_int_equal(w->fake.n_updates, 0);
	assert_int_equal(controller_policy_status(w->ctl, 0)->outcome, CONTROLLER_HELD);
	w->fake.services[0].desired = -3;
	w->fake.negative_counts = false;
	clock_manual_advance(&w->clock, 5000);
	cycle(w);
	assert_int_equal(w->fake.n_updates, 0);
	assert_non_null(strstr(controller_policy_status(w->ctl, 0)->last_error, "out of range"));
}

/* Dry-run decides and reports but never calls UpdateService. */
static void test_dry_run_never_updates(void **state)
{
	struct world *w = *state;

	add_service(&w->fake, "onprem", "orders-local", 1);
	add_instance(&w->fake, "onprem", "mi-1", "dc1", 4096);
	w->fake.visible = 100;
	controller_set_config(
		w->ctl, config_of(policy_yaml("orders", "5s", "orders", "onprem", 0, ""), NULL));
	controller_set_dry_run(w->ctl, true);
	for (int i = 0; i < 3; i++) {
		cycle(w);
		clock_manual_advance(&w->clock, 5000);
	}
	assert_int_equal(w->fake.calls[OP_UPDATE], 0);
	assert_int_equal(controller_policy_status(w->ctl, 0)->outcome, CONTROLLER_SCALED);
	assert_int_equal(controller_policy_status(w->ctl, 0)->decision.local_desired, 10);
}

/* A may_act predicate: the policies it names are held (as by the HA lease). */
struct holds {
	const char *allowed;
	int asked;
	uint64_t asked_at;
};

static bool holds_policy(const struct policy *policy, uint64_t now_ms, void *arg)
{
	struct holds *h = arg;

	h->asked++;
	h->asked_at = now_ms;
	return h->allowed != NULL && strcmp(policy->name, h->allowed) == 0;
}

/* A standby decides as the leader does and never calls UpdateService; its history sees no change.
 */
static void test_may_act_gates_only_updates(void **state)
{
	struct world *w = *state;
	struct holds h = {0};

	add_service(&w->fake, "onprem", "orders-local", 1);
	add_instance(&w->fake, "onprem", "mi-1", "dc1", 4096);
	w->fake.visible = 100;
	controller_set_config(
		w->ctl, config_of(policy_yaml("orders", "5s", "orders", "onprem", 0, ""), NULL));
	controller_set_may_act(w->ctl, holds_policy, &h);
	cycle(w);
	assert_int_equal(w->fake.calls[OP_UPDATE], 0);
	assert_int_equal(h.asked, 1);
	assert_true(w->fake.calls[OP_QUEUE] > 0);
	assert_int_equal(controller_policy_status(w->ctl, 0)->decision.local_desired, 10);
	/* Nothing to set: not even asked. */
	w->fake.visible = 0;
	h.asked = 0;
	clock_manual_advance(&w->clock, 5000);
	cycle(w);
	/* The lease is taken: the next change is made. */
	w->fake.visible = 100;
	h.allowed = "orders";
	clock_manual_advance(&w->clock, 5000);
	cycle(w);
	assert_int_equal(last_desired(&w->fake, "orders-local"), 10);
	assert_int_equal(h.asked_at, clock_mono_ms(&w->clock.clock));
	/* Removed again: no further update. */
	h.allowed = NULL;
	w->fake.visible = 200;
	int before = w->fake.calls[OP_UPDATE];
	clock_manual_advance(&w->clock, 5000);
	cycle(w);
	assert_int_equal(w->fake.calls[OP_UPDATE], before);
}

/* The higher priority is sized first on a shared cluster. */
static void test_priority_shares_capacity(void **state)
{
	struct world *w = *state;

	add_service(&w->fake, "onprem", "low-local", 0);
	add_service(&w->fake, "onprem", "high-local", 0);
	add_instance(&w->fake, "onprem", "mi-1", "dc1", 1024); /* 4 tasks in all */
	w->fake.visible = 100; /* each wants 10 */
	controller_set_config(w->ctl,
		config_of(policy_yaml("low", "5s", "q", "onprem", 1, ""),
			policy_yaml("high", "5s", "q", "onprem", 9, ""), NULL));
	cycle(w);
	/* high takes the 4 that fit; low keeps its minimum of 1 (it cannot be placed). */
	assert_int_equal(last_desired(&w->fake, "high-local"), 4);
	assert_int_equal(last_desired(&w->fake, "low-local"), 1);
}

/* A policy not due still has its last claim deducted before others are sized. */
static void test_not_due_claims_still_count(void **state)
{
	struct world *w = *state;

	add_service(&w->fake, "onprem", "slow-local", 0);
	add_service(&w->fake, "onprem", "fast-local", 1);
	add_instance(&w->fake, "onprem", "mi-1", "dc1", 2048); /* 8 tasks */
	w->fake.visible = 60; /* each wants 6 */
	controller_set_config(w->ctl,
		config_of(policy_yaml("slow", "60s", "q", "onprem", 9, ""),
			policy_yaml("fast", "5s", "q", "onprem", 1, ""), NULL));
	cycle(w);
	assert_int_equal(last_desired(&w->fake, "slow-local"), 6);
	/* fast: 1 placed + 2 left after slow's 6 = 3 */
	assert_int_equal(last_desired(&w->fake, "fast-local"), 3);
	/* slow's tasks are not placed yet; fast alone is due: it must not take their room. */
	clock_manual_advance(&w->clock, 5000);
	assert_int_equal(cycle(w), 1);
	assert_int_equal(last_desired(&w->fake, "fast-local"), 3);
	assert_int_equal(controller_policy_status(w->ctl, 1)->outcome, CONTROLLER_UNCHANGED);
}

/* The instance filter is evaluated client-side, per policy. */
static void test_instance_filter(void **state)
{
	struct world *w = *state;
	char *p;

	add_service(&w->fake, "onprem", "orders-local", 0);
	add_instance(&w->fake, "onprem", "mi-1", "dc1", 1024); /* 4 */
	add_instance(&w->fake, "onprem", "mi-2", "dc2", 4096); /* excluded */
	add_instance(&w->fake, "onprem", "mi-3", NULL, 4096); /* excluded */
	w->fake.visible = 100;
	p = policy_yaml("orders", "5s", "orders", "onprem", 0, "");
	/* Put the filter into the local mapping. */
	{
		char *at = strstr(p, "reserve:");
		char *q = xasprintf(
			"%.*sinstance_filter: \"attribute:site == dc1\", %s", (int)(at - p), p, at);

		free(p);
		p = q;
	}
	controller_set_config(w->ctl, config_of(p, NULL));
	cycle(w);
	assert_int_equal(last_desired(&w->fake, "orders-local"), 4);
	/* A disconnected agent takes its capacity away. */
	w->fake.instances[0].agent_connected = false;
	clock_manual_advance(&w->clock, 5000);
	cycle(w);
	assert_int_equal(controller_policy_status(w->ctl, 0)->decision.fit, 0);
}

/* A tick while a cycle runs starts nothing; the missed interval is skipped, not doubled. */
static void test_never_doubled(void **state)
{
	struct world *w = *state;
	const struct controller_policy_status *st;

	add_service(&w->fake, "onprem", "orders-local", 1);
	add_instance(&w->fake, "onprem", "mi-1", "dc1", 4096);
	controller_set_config(
		w->ctl, config_of(policy_yaml("orders", "5s", "orders", "onprem", 0, ""), NULL));
	assert_int_equal(controller_next_due_ms(w->ctl), 0);
	assert_int_equal(controller_tick(w->ctl, 1000), 1);
	assert_true(controller_busy(w->ctl));
	assert_int_equal(controller_next_due_ms(w->ctl), UINT64_MAX);
	assert_int_equal(controller_tick(w->ctl, 6000), 0);
	assert_int_equal(controller_tick(w->ctl, 17000), 0);
	clock_manual_advance(&w->clock, 16000);
	pump(&w->fake);
	assert_int_equal(w->cycles_done, 1);
	assert_int_equal(w->last_missed, 0);
	assert_int_equal(controller_next_due_ms(w->ctl), 6000);
	assert_int_equal(controller_tick(w->ctl, 17000), 1);
	pump(&w->fake);
	/* The report of the late cycle says how many slots it missed (for the metric). */
	assert_int_equal(w->last_missed, 2);
	st = controller_policy_status(w->ctl, 0);
	assert_int_equal(st->cycles, 2);
	assert_int_equal(st->skipped, 2);
	assert_int_equal(controller_next_due_ms(w->ctl), 21000);
	assert_int_equal(w->fake.calls[OP_INSTANCES], 2);
}

/* A config set during a cycle waits for its end; histories and counters carry by name. */
static void test_reload_during_cycle(void **state)
{
	struct world *w = *state;

	add_service(&w->fake, "onprem", "orders-local", 1);
	add_service(&w->fake, "onprem", "new-local", 1);
	add_instance(&w->fake, "onprem", "mi-1", "dc1", 4096);
	controller_set_config(
		w->ctl, config_of(policy_yaml("orders", "5s", "orders", "onprem", 0, ""), NULL));
	controller_tick(w->ctl, 1000);
	controller_set_config(w->ctl,
		config_of(policy_yaml("orders", "7s", "orders", "onprem", 0, ""),
			policy_yaml("new", "5s", "q2", "onprem", 0, ""), NULL));
	assert_int_equal(controller_policy_count(w->ctl), 1);
	pump(&w->fake);
	assert_int_equal(controller_policy_count(w->ctl), 2);
	assert_int_equal(controller_config(w->ctl)->policies[0].interval_ms, 7000);
	assert_int_equal(controller_policy_status(w->ctl, 0)->cycles, 1);
	assert_int_equal(controller_policy_status(w->ctl, 1)->cycles, 0);
	/* The new policy is due at once, the kept one at its schedule. */
	assert_int_equal(cycle(w), 1);
	assert_int_equal(controller_policy_status(w->ctl, 1)->cycles, 1);
}

/* A failed UpdateService is a failure of that cycle; it is retried next time. */
static void test_update_failure(void **state)
{
	struct world *w = *state;
	const struct controller_policy_status *st;

	add_service(&w->fake, "onprem", "orders-local", 1);
	add_instance(&w->fake, "onprem", "mi-1", "dc1", 4096);
	w->fake.visible = 50;
	controller_set_config(
		w->ctl, config_of(policy_yaml("orders", "5s", "orders", "onprem", 0, ""), NULL));
	w->fake.fail[OP_UPDATE] = -EIO;
	cycle(w);
	st = controller_policy_status(w->ctl, 0);
	assert_int_equal(st->outcome, CONTROLLER_FAILED);
	assert_non_null(strstr(st->last_error, "UpdateService orders-local: ThrottlingException"));
	w->fake.fail[OP_UPDATE] = 0;
	clock_manual_advance(&w->clock, 5000);
	cycle(w);
	assert_int_equal(last_desired(&w->fake, "orders-local"), 5);
	assert_int_equal(controller_policy_status(w->ctl, 0)->outcome, CONTROLLER_SCALED);
}

/* Calls refused at once: the cycle ends (held) inside the tick. */
static void test_refused_calls(void **state)
{
	struct world *w = *state;

	add_service(&w->fake, "onprem", "orders-local", 1);
	controller_set_config(
		w->ctl, config_of(policy_yaml("orders", "5s", "orders", "onprem", 0, ""), NULL));
	for (int i = 0; i < OP_COUNT; i++)
		w->fake.refuse[i] = -ENOMEM;
	assert_int_equal(controller_tick(w->ctl, 1000), 1);
	assert_false(controller_busy(w->ctl));
	assert_int_equal(w->cycles_done, 1);
	assert_int_equal(controller_policy_status(w->ctl, 0)->outcome, CONTROLLER_HELD);
}

/* A policy with its own behaviour and limits; extra goes inside it (e.g. burst). */
static char *policy_with(const char *name, const char *cluster, int min, int max,
	const char *behavior, const char *extra)
{
	return xasprintf("  - name: %s\n"
			 "    interval: 5s\n"
			 "    queue: {url: 'http://127.0.0.1:1/000000000000/%s'}\n"
			 "    target: {backlog_per_task: 10}\n"
			 "    local: {cluster: %s, service: %s-local, min_tasks: %d, max_tasks: %d,"
			 " reserve: {cpu: 0, memory: 0}}\n"
			 "    behavior:\n%s"
			 "%s",
		name, name, cluster, name, min, max, behavior, extra);
}

static const char *no_limits =
	"      scale_out: {stabilization: 0s, max_tasks: 0, max_percent: 0}\n"
	"      scale_in: {stabilization: 0s, max_tasks: 0, max_percent: 0}\n";

/* Held for missing data, counts outside their bounds are still brought inside at once. */
static void test_held_brings_counts_into_bounds(void **state)
{
	struct world *w = *state;
	const struct controller_policy_status *st;

	add_service(&w->fake, "onprem", "orders-local", 25);
	add_service(&w->fake, "cloud", "orders-burst", 9);
	add_instance(&w->fake, "onprem", "mi-1", "dc1", 4096);
	controller_set_config(w->ctl,
		config_of(policy_with("orders", "onprem", 1, 20, no_limits,
				  "    burst: {cluster: cloud, service: orders-burst, max_tasks: "
				  "5}\n"),
			NULL));
	w->fake.fail[OP_QUEUE] = -EIO;
	cycle(w);
	st = controller_policy_status(w->ctl, 0);
	assert_int_equal(st->outcome, CONTROLLER_HELD);
	assert_int_equal(last_desired(&w->fake, "orders-local"), 20);
	assert_int_equal(last_desired(&w->fake, "orders-burst"), 5);
	{
		char why[ENGINE_REASON_MAX];

		assert_non_null(strstr(
			engine_decision_reason(&st->decision, why, sizeof(why)), "lowered to max"));
	}
	/* Nothing else moves while the queue stays unreadable. */
	clock_manual_advance(&w->clock, 5000);
	cycle(w);
	assert_int_equal(w->fake.n_updates, 2);
	/* A count below the minimum is raised to it (raising is not shrinking). */
	w->fake.services[0].desired = 0;
	clock_manual_advance(&w->clock, 5000);
	cycle(w);
	assert_int_equal(last_desired(&w->fake, "orders-local"), 1);
	assert_int_equal(controller_policy_status(w->ctl, 0)->outcome, CONTROLLER_HELD);
}

static const char *out_4_per_60s =
	"      scale_out: {stabilization: 0s, period: 60s, max_tasks: 4, max_percent: 0}\n"
	"      scale_in: {stabilization: 0s, period: 60s, max_tasks: 4, max_percent: 0}\n";

/* An update applied whose answer was lost counts against the scale-out limit. */
static void test_lost_answer_counts_as_made(void **state)
{
	struct world *w = *state;

	add_service(&w->fake, "onprem", "orders-local", 2);
	add_instance(&w->fake, "onprem", "mi-1", "dc1", 8192);
	w->fake.visible = 200; /* wants 20 */
	controller_set_config(
		w->ctl, config_of(policy_with("orders", "onprem", 1, 20, out_4_per_60s, ""), NULL));
	w->fake.lose_update = true;
	w->fake.lost_applies = true;
	cycle(w);
	assert_int_equal(controller_policy_status(w->ctl, 0)->outcome, CONTROLLER_FAILED);
	assert_int_equal(w->fake.services[0].desired, 6);
	w->fake.lose_update = false;
	/* 5 s later DescribeServices shows 6: the period's 4 tasks are spent. */
	clock_manual_advance(&w->clock, 5000);
	cycle(w);
	assert_int_equal(w->fake.services[0].desired, 6);
	assert_int_equal(w->fake.n_updates, 1);
	/* A period after the change, 4 more. */
	clock_manual_advance(&w->clock, 60000);
	cycle(w);
	assert_int_equal(w->fake.services[0].desired, 10);
}

/* The same for scale-in: a lost answer does not open a second period's worth of removal. */
static void test_lost_answer_counts_for_scale_in(void **state)
{
	struct world *w = *state;

	add_service(&w->fake, "onprem", "orders-local", 20);
	add_instance(&w->fake, "onprem", "mi-1", "dc1", 8192);
	w->fake.visible = 0; /* wants 1 */
	controller_set_config(
		w->ctl, config_of(policy_with("orders", "onprem", 1, 20, out_4_per_60s, ""), NULL));
	w->fake.lose_update = true;
	w->fake.lost_applies = true;
	cycle(w);
	assert_int_equal(w->fake.services[0].desired, 16);
	w->fake.lose_update = false;
	clock_manual_advance(&w->clock, 5000);
	cycle(w);
	assert_int_equal(w->fake.services[0].desired, 16);
}

/* An update whose answer was lost before it was made is taken back once the count shows it. */
static void test_lost_answer_not_made_is_forgotten(void **state)
{
	struct world *w = *state;

	add_service(&w->fake, "onprem", "orders-local", 2);
	add_instance(&w->fake, "onprem", "mi-1", "dc1", 8192);
	w->fake.visible = 200;
	controller_set_config(
		w->ctl, config_of(policy_with("orders", "onprem", 1, 20, out_4_per_60s, ""), NULL));
	w->fake.lose_update = true;
	w->fake.lost_applies = false;
	cycle(w);
	assert_int_equal(w->fake.services[0].desired, 2);
	w->fake.lose_update = false;
	/* DescribeServices still shows 2: nothing was made, the period's 4 are free. */
	clock_manual_advance(&w->clock, 5000);
	cycle(w);
	assert_int_equal(w->fake.services[0].desired, 6);
	/* ...and only those 4. */
	clock_manual_advance(&w->clock, 5000);
	cycle(w);
	assert_int_equal(w->fake.services[0].desired, 6);
}

/* A cluster written as an ARN is the same cluster: its capacity is shared, not claimed twice. */
static void test_arn_cluster_shares_capacity(void **state)
{
	struct world *w = *state;

	add_service(&w->fake, "onprem", "a-local", 0);
	add_service(&w->fake, "onprem", "b-local", 0);
	add_instance(&w->fake, "onprem", "mi-1", "dc1", 1024); /* 4 tasks in all */
	w->fake.visible = 100; /* each wants 10 */
	controller_set_config(w->ctl,
		config_of(policy_yaml("a", "5s", "q", "onprem", 9, ""),
			policy_yaml("b", "5s", "q",
				"'arn:aws:ecs:us-east-1:000000000000:cluster/onprem'", 1, ""),
			NULL));
	cycle(w);
	assert_int_equal(w->fake.calls[OP_INSTANCES], 1);
	assert_int_equal(last_desired(&w->fake, "a-local"), 4);
	/* b keeps its minimum of 1, which cannot be placed: 4 slots, not 8. */
	assert_int_equal(last_desired(&w->fake, "b-local"), 1);
}

/* Priority wins over the schedule: a lower-priority policy not due keeps no room from a higher one.
 */
static void test_priority_over_schedule(void **state)
{
	struct world *w = *state;

	add_service(&w->fake, "onprem", "low-local", 0);
	add_service(&w->fake, "onprem", "high-local", 0);
	add_instance(&w->fake, "onprem", "mi-1", "dc1", 2048); /* 8 tasks */
	w->fake.queue_names[0] = "ql";
	w->fake.queue_names[1] = "qh";
	w->fake.queue_visible[0] = 60; /* low wants 6 */
	w->fake.queue_visible[1] = 0; /* high wants its minimum of 1 */
	controller_set_config(w->ctl,
		config_of(policy_yaml("low", "60s", "ql", "onprem", 1, ""),
			policy_yaml("high", "5s", "qh", "onprem", 9, ""), NULL));
	assert_int_equal(cycle(w), 2);
	assert_int_equal(last_desired(&w->fake, "high-local"), 1);
	assert_int_equal(last_desired(&w->fake, "low-local"), 6);
	/* high's backlog jumps while low is not due and its 6 tasks are not placed yet. */
	w->fake.queue_visible[1] = 80;
	clock_manual_advance(&w->clock, 5000);
	assert_int_equal(cycle(w), 1);
	assert_int_equal(last_desired(&w->fake, "high-local"), 8);
	/* Both due: high keeps its 8, low is cut to its minimum. */
	clock_manual_advance(&w->clock, 55000);
	assert_int_equal(cycle(w), 2);
	assert_int_equal(last_desired(&w->fake, "high-local"), 8);
	assert_int_equal(last_desired(&w->fake, "low-local"), 1);
}

/* After an outage longer than the scale-in window, scale-in waits for a full window of readings. */
static void test_outage_longer_than_window(void **state)
{
	struct world *w = *state;
	static const char *window_5m =
		"      scale_out: {stabilization: 0s, max_tasks: 0, max_percent: 0}\n"
		"      scale_in: {stabilization: 5m, max_tasks: 0, max_percent: 0}\n";

	add_service(&w->fake, "onprem", "orders-local", 1);
	add_instance(&w->fake, "onprem", "mi-1", "dc1", 8192);
	w->fake.visible = 150; /* wants 15 */
	controller_set_config(
		w->ctl, config_of(policy_with("orders", "onprem", 1, 20, window_5m, ""), NULL));
	cycle(w);
	assert_int_equal(last_desired(&w->fake, "orders-local"), 15);
	w->fake.fail[OP_QUEUE] = -EIO;
	for (int i = 0; i < 72; i++) { /* six minutes of 5 s cycles */
		clock_manual_advance(&w->clock, 5000);
		cycle(w);
	}
	w->fake.fail[OP_QUEUE] = 0;
	w->fake.visible = 0;
	clock_manual_advance(&w->clock, 5000);
	cycle(w);
	assert_int_equal(w->fake.services[0].desired, 15);
	for (int i = 0; i < 58; i++) {
		clock_manual_advance(&w->clock, 5000);
		cycle(w);
	}
	assert_int_equal(w->fake.services[0].desired, 15);
	clock_manual_advance(&w->clock, 5000);
	cycle(w);
	assert_int_equal(w->fake.services[0].desired, 1);
}

/* local.min_tasks above what fits on-prem: burst covers what cannot be placed. */
static void test_min_above_local_capacity(void **state)
{
	struct world *w = *state;

	add_service(&w->fake, "onprem", "orders-local", 2);
	add_service(&w->fake, "cloud", "orders-burst", 0);
	add_instance(&w->fake, "onprem", "mi-1", "dc1", 0); /* full: capacity is the 2 placed */
	w->fake.visible = 80; /* wants 8 */
	controller_set_config(w->ctl,
		config_of(policy_with("orders", "onprem", 5, 20, no_limits,
				  "    burst: {cluster: cloud, service: orders-burst, max_tasks: "
				  "40}\n"),
			NULL));
	cycle(w);
	assert_int_equal(last_desired(&w->fake, "orders-local"), 5);
	assert_int_equal(last_desired(&w->fake, "orders-burst"), 6);
	/* Nothing changes while the room stays as it is. */
	clock_manual_advance(&w->clock, 5000);
	cycle(w);
	assert_int_equal(w->fake.n_updates, 2);
}

/* splitmix64: the randomised test's generator, seeded per case. */
static uint64_t rand_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A whole number in [lo, hi]. */
static int32_t rand_in(uint64_t *state, int32_t lo, int32_t hi)
{
	return lo + (int32_t)(rand_next(state) % (uint64_t)(hi - lo + 1));
}

/* One randomised policy's bounds and limits. */
struct rand_policy {
	int32_t min, max, burst_max; /* burst_max 0: no burst */
	int32_t out_tasks, in_tasks;
	int period_s, window_s;
};

static struct qscale_config *rand_config(const struct rand_policy *r)
{
	char *behavior = xasprintf(
		"      scale_out: {stabilization: 0s, period: %ds, max_tasks: %d, max_percent: 0}\n"
		"      scale_in: {stabilization: %ds, period: %ds, max_tasks: %d, max_percent: "
		"0}\n",
		r->period_s, r->out_tasks, r->window_s, r->period_s, r->in_tasks);
	char *burst = r->burst_max > 0
		? xasprintf("    burst: {cluster: cloud, service: orders-burst, max_tasks: %d}\n",
			  r->burst_max)
		: xstrdup("");
	struct qscale_config *cfg =
		config_of(policy_with("orders", "onprem", r->min, r->max, behavior, burst), NULL);

	free(behavior);
	free(burst);
	return cfg;
}

/* The local count after every applied update up to t_ms (HPA's period start). */
struct applied {
	uint64_t t_ms[512];
	int32_t to[512];
	size_t n;
	int32_t start;
};

static int32_t applied_at(const struct applied *a, uint64_t t_ms)
{
	int32_t v = a->start;

	for (size_t i = 0; i < a->n && a->t_ms[i] <= t_ms; i++)
		v = a->to[i];
	return v;
}

/* Check the promises over one cycle's updates; from = counts before the cycle. */
static void check_cycle(struct world *w, const struct rand_policy *r, int32_t from_local,
	int32_t from_burst, struct applied *a, uint64_t seed)
{
	const struct controller_policy_status *st = controller_policy_status(w->ctl, 0);
	bool held = st->decision.flags & ENGINE_MISSING_DATA;

	for (size_t i = 0; i < w->fake.n_sent; i++) {
		const struct fake_update *u = &w->fake.sent[i];
		bool local = strcmp(u->service, "orders-local") == 0;
		int32_t max = local ? r->max : r->burst_max;
		int32_t from = local ? from_local : from_burst;
		bool into_bounds = (u->desired == max && from > max) ||
			(local && u->desired == r->min && from < r->min);

		if (u->desired > max || u->desired < 0)
			fail_msg("seed %llu: %s set to %d, max %d", (unsigned long long)seed,
				u->service, u->desired, max);
		if (held && u->desired < from && !into_bounds)
			fail_msg("seed %llu: held cycle lowered %s %d -> %d",
				(unsigned long long)seed, u->service, from, u->desired);
		if (held && !into_bounds)
			fail_msg("seed %llu: held cycle moved %s %d -> %d",
				(unsigned long long)seed, u->service, from, u->desired);
	}
	/* Read above its max, the count is lowered in that cycle, held or not, if ECS lets it. */
	if (w->fake.fail[OP_SERVICES] == 0 && w->fake.fail[OP_UPDATE] == 0 &&
		(!w->fake.lose_update || w->fake.lost_applies) && from_local > r->max &&
		w->fake.services[0].desired > r->max)
		fail_msg("seed %llu: local %d above max %d left at %d", (unsigned long long)seed,
			from_local, r->max, w->fake.services[0].desired);
	/* Per-period limits over the counts applied (local only: no burst, no cover). */
	if (r->burst_max == 0 && w->fake.services[0].desired != from_local) {
		int32_t to = w->fake.services[0].desired;
		uint64_t now = w->clock.mono_ms;
		uint64_t back = now >= (uint64_t)r->period_s * 1000
			? now - (uint64_t)r->period_s * 1000
			: 0;
		int32_t base = applied_at(a, back);
		const struct engine_decision *d = &controller_policy_status(w->ctl, 0)->decision;
		char why[ENGINE_REASON_MAX];
		/* The limits bind the wanted total; the split may hold local at its capacity. */
		bool bound = to == r->min || to == r->max ||
			((d->flags & ENGINE_BOUND_CAPACITY) && to == d->local_capacity);

		if (!bound && to > base + r->out_tasks && to > from_local)
			fail_msg("seed %llu: %d -> %d, period start %d, limit +%d: %s",
				(unsigned long long)seed, from_local, to, base, r->out_tasks,
				engine_decision_reason(d, why, sizeof(why)));
		if (!bound && to < base - r->in_tasks && to < from_local)
			fail_msg("seed %llu: %d -> %d, period start %d, limit -%d: %s",
				(unsigned long long)seed, from_local, to, base, r->in_tasks,
				engine_decision_reason(d, why, sizeof(why)));
		assert_true(a->n < 512);
		a->t_ms[a->n] = now;
		a->to[a->n++] = to;
	}
}

/* One random fleet, policy and run of cycles with faults and reloads. */
static void random_run(struct world *w, uint64_t seed)
{
	uint64_t rs = seed;
	struct rand_policy r;
	struct applied a = {0};

	r.min = rand_in(&rs, 0, 4);
	r.max = rand_in(&rs, r.min > 0 ? r.min : 1, 30);
	r.burst_max = rand_in(&rs, 0, 1) ? rand_in(&rs, 1, 20) : 0;
	r.out_tasks = rand_in(&rs, 1, 6);
	r.in_tasks = rand_in(&rs, 1, 6);
	r.period_s = rand_in(&rs, 5, 60);
	r.window_s = rand_in(&rs, 0, 1) ? rand_in(&rs, 5, 60) : 0;
	add_service(&w->fake, "onprem", "orders-local", rand_in(&rs, 0, 40));
	add_service(&w->fake, "cloud", "orders-burst", rand_in(&rs, 0, 30));
	for (int i = rand_in(&rs, 1, 3); i > 0; i--)
		add_instance(&w->fake, "onprem", i == 1 ? "mi-1" : "mi-2", "dc1",
			256 * rand_in(&rs, 0, 12));
	a.start = w->fake.services[0].desired;
	controller_set_config(w->ctl, rand_config(&r));
	for (int c = 0; c < 40; c++) {
		int32_t from_local = w->fake.services[0].desired;
		int32_t from_burst = w->fake.services[1].desired;

		w->fake.visible = rand_in(&rs, 0, 600);
		for (int op = 0; op < OP_UPDATE; op++)
			w->fake.fail[op] = rand_in(&rs, 0, 99) < 12 ? -EIO : 0;
		w->fake.fail[OP_UPDATE] = rand_in(&rs, 0, 99) < 8 ? -EIO : 0;
		w->fake.lose_update = rand_in(&rs, 0, 99) < 10;
		w->fake.lost_applies = rand_in(&rs, 0, 1);
		w->fake.n_sent = 0;
		w->fake.n_updates = 0;
		if (rand_in(&rs, 0, 99) < 7) {
			/* A reload moves the bounds; history and schedule are kept. */
			r.min = rand_in(&rs, 0, 4);
			r.max = rand_in(&rs, r.min > 0 ? r.min : 1, 30);
			if (r.burst_max > 0)
				r.burst_max = rand_in(&rs, 1, 20);
			controller_set_config(w->ctl, rand_config(&r));
		}
		cycle(w);
		check_cycle(w, &r, from_local, from_burst, &a, seed);
		clock_manual_advance(&w->clock, 5000);
	}
}

/*
 * Random fleets, observations, faults (errors, lost answers applied or not)
 * and reloads at the controller, asserting over the counts sent: never above
 * a maximum, a held cycle moves a count only into its bounds, and the local
 * count applied keeps the per-period limits.
 */
static void test_random_safety(void **state)
{
	for (uint64_t seed = 1; seed <= 500; seed++) {
		struct world *w = *state;

		random_run(w, seed);
		teardown(state);
		setup(state);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spike_splits_local_and_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_calls_once_per_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_static_per_operation, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_failure_only_affects_policies_needing_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_negative_counts_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_never_updates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_may_act_gates_only_updates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_priority_shares_capacity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_due_claims_still_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_instance_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_doubled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_during_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_held_brings_counts_into_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_answer_counts_as_made, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_lost_answer_counts_for_scale_in, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_lost_answer_not_made_is_forgotten, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arn_cluster_shares_capacity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_priority_over_schedule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outage_longer_than_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_min_above_local_capacity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_safety, setup, teardown),
	};

	log_set_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests_name("controller", tests, NULL, NULL);
}
