/*
 * The simulated cloud: struct cloud's five operations over the world model.
 * A call records what was asked, counts the AWS calls it stands for, draws
 * the scenario's faults for each of them and queues a completion; nothing is
 * answered inside the call. cloud_sim_deliver answers the completions that
 * are due from the world as it is at that moment and runs their callbacks in
 * the order the calls were made (a fault's latency moves one later).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/cloud_sim.h"
#include "qscale/ecs_throttle.h"
#include "qscale/strindex.h"
#include "qscale/xalloc.h"

enum op {
	OP_QUEUE,
	OP_SERVICES,
	OP_INSTANCES,
	OP_TASK,
	OP_UPDATE,
};

/* One call waiting for its answer. */
struct completion {
	uint64_t due_ms;
	uint64_t seq;
	enum op op;
	const char *subject; /* queue URL, cluster or task definition (interned) */
	const char *service; /* UpdateService (interned) */
	const char **names; /* DescribeServices (the array owned, the names interned) */
	size_t n_names;
	int32_t desired;
	const struct scenario_fault *fault; /* the error this call gets, or NULL */
	enum scenario_fault_target target;
	void (*cb)(void);
	void *arg;
};

/* A name looked up in the world before: its index, or that it is not there. */
struct lookup {
	size_t index;
	bool found;
	bool named; /* a service found by its name (that text), not its ARN */
};

/*
 * A lookup remembered by the addresses of its names, in front of the
 * string-keyed table: the controller asks with the same strings every
 * cycle, and hashing those bytes (queue URLs, every service name) on every
 * call was most of the cost of a call.
 */
struct memo {
	const char *a; /* NULL: an empty slot */
	const char *b;
	char kind;
	const char *interned; /* kind 'i': the interned copy of a */
	size_t index;
	bool found;
	bool named; /* kind 's': as in struct lookup */
};

/* A category's bucket (ecs_throttle.h) and the virtual second its peak counts. */
struct bucket {
	struct ecs_token_bucket tokens;
	uint64_t second;
	uint32_t second_count;
};

struct cloud_sim {
	struct cloud cloud;
	struct world *w;
	uint64_t timeout_ms;
	struct completion *pending; /* a heap by (due_ms, seq) up to n_heap, then the newest */
	size_t n_pending;
	size_t n_heap;
	/*
	 * Completions taken in order after the last one here, oldest first: a
	 * ring (cap a power of two) beside the heap. Most calls are due when
	 * asked and arrive in order, so they never need the heap.
	 */
	struct completion *fifo;
	size_t fifo_head;
	size_t fifo_len;
	size_t fifo_cap;
	size_t cap_pending;
	uint64_t seq;
	uint64_t calls[CLOUD_SIM_CALLS];
	uint64_t faulted;
	struct cloud_sim_limit limits[CLOUD_SIM_CATEGORIES];
	struct bucket buckets[CLOUD_SIM_CATEGORIES];
	uint64_t *updates; /* per world service */
	size_t n_services;
	/* Scratch for answers, grown as needed and kept. */
	struct cloud_service *services;
	size_t cap_services;
	struct cloud_instance *instances;
	size_t cap_instances;
	struct cloud_attribute *attributes;
	size_t cap_attributes;
	bool record;
	struct cloud_sim_update *log;
	size_t n_log;
	size_t cap_log;
	/* Names already resolved (queues, clusters, services never come or go in a world). */
	struct strindex names; /* lookup keys (kind letter + names), numbered */
	struct lookup *lookups; /* by the key's number */
	size_t cap_lookups;
	struct memo *memos;
	size_t cap_memos; /* a power of two */
	size_t n_memos;
};

/* Longest key a lookup remembers; longer names are looked up every time. */
#define LOOKUP_KEY_MAX 512

/* A remembered lookup of key, or NULL. */
static const struct lookup *lookup_get(const struct cloud_sim *cs, const char *key)
{
	size_t n;

	return strindex_find(&cs->names, key, &n) ? &cs->lookups[n] : NULL;
}

/* Remember a lookup of key; the key's number. */
static size_t lookup_put(struct cloud_sim *cs, const char *key, bool found, size_t index)
{
	size_t n = strindex_add(&cs->names, key);

	if (n >= cs->cap_lookups) {
		cs->cap_lookups = cs->cap_lookups ? 2 * cs->cap_lookups : 64;
		cs->lookups = xreallocarray(cs->lookups, cs->cap_lookups, sizeof(*cs->lookups));
	}
	cs->lookups[n] = (struct lookup){.index = index, .found = found};
	return n;
}

/* Build a lookup key from a kind letter and one or two names; false when too long. */
static bool lookup_key(char key[LOOKUP_KEY_MAX], char kind, const char *a, const char *b)
{
	size_t na = strlen(a), nb = b != NULL ? strlen(b) : 0;

	if (na + nb + 3 > LOOKUP_KEY_MAX)
		return false;
	key[0] = kind;
	memcpy(key + 1, a, na);
	key[1 + na] = '\0';
	if (b != NULL) {
		key[1 + na] = 0x1f;
		memcpy(key + 2 + na, b, nb);
		key[2 + na + nb] = '\0';
	}
	return true;
}

/* The memo slot of (kind, a, b), or the empty slot where it would go. */
static struct memo *memo_slot(
	struct memo *slots, size_t cap, char kind, const char *a, const char *b)
{
	uint64_t h = ((uint64_t)(uintptr_t)a * 0x9e3779b97f4a7c15ULL) ^
		((uint64_t)(uintptr_t)b * 0xc2b2ae3d27d4eb4fULL) ^ (uint64_t)(unsigned char)kind;
	size_t i = (size_t)(h ^ (h >> 29)) & (cap - 1);

	while (slots[i].a != NULL && (slots[i].a != a || slots[i].b != b || slots[i].kind != kind))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

/* A remembered memo of (kind, a, b), or NULL. */
static struct memo *memo_get(const struct cloud_sim *cs, char kind, const char *a, const char *b)
{
	struct memo *m;

	if (cs->cap_memos == 0)
		return NULL;
	m = memo_slot(cs->memos, cs->cap_memos, kind, a, b);
	return m->a != NULL ? m : NULL;
}

/*
 * Remember (kind, a, b) (the table stays at most half full). Its slot; NULL
 * when the table is full of names the caller no longer holds, and is emptied.
 */
static struct memo *memo_put(struct cloud_sim *cs, char kind, const char *a, const char *b)
{
	struct memo *m;

	if (2 * (cs->n_memos + 1) > cs->cap_memos) {
		size_t cap = cs->cap_memos ? cs->cap_memos * 2 : 64;
		struct memo *slots;

		/* A caller that keeps making new strings must not grow it forever. */
		if (cap > 8 * strindex_count(&cs->names) + 256) {
			memset(cs->memos, 0, cs->cap_memos * sizeof(*cs->memos));
			cs->n_memos = 0;
			return NULL;
		}
		slots = xcalloc(cap, sizeof(*slots));
		for (size_t i = 0; i < cs->cap_memos; i++) {
			struct memo *o = &cs->memos[i];

			if (o->a != NULL)
				*memo_slot(slots, cap, o->kind, o->a, o->b) = *o;
		}
		free(cs->memos);
		cs->memos = slots;
		cs->cap_memos = cap;
	}
	m = memo_slot(cs->memos, cs->cap_memos, kind, a, b);
	if (m->a == NULL) {
		m->a = a;
		m->b = b;
		m->kind = kind;
		cs->n_memos++;
	}
	return m;
}

/*
 * The one copy of s the cloud keeps while it lives: calls come with the same
 * few names every cycle, so a completion holds them without copying each time.
 * The copy is remembered by s's address too, and taken from there when the
 * text there is still the same (the caller's string may have been freed and
 * its memory used again for another name).
 */
static const char *intern(struct cloud_sim *cs, const char *s)
{
	char small[LOOKUP_KEY_MAX], *key = small;
	struct memo *m = memo_get(cs, 'i', s, NULL);
	const char *out;
	size_t n;

	if (m != NULL && strcmp(m->interned, s) == 0)
		return m->interned;
	if (!lookup_key(small, 'i', s, NULL))
		key = xasprintf("i%s", s);
	if (!strindex_find(&cs->names, key, &n))
		n = lookup_put(cs, key, true, 0);
	out = strindex_key(&cs->names, n) + 1;
	if (key != small)
		free(key);
	if ((m = memo_put(cs, 'i', s, NULL)) != NULL)
		m->interned = out;
	return out;
}

/*
 * Names resolved in the world, remembered by their interned addresses (each
 * name's only copy while the cloud lives, so an address is its text): the
 * world's answer for a kind of name, or false when not remembered yet.
 */
static bool resolved(const struct cloud_sim *cs, char kind, const char *a, const char *b,
	bool *found, size_t *index)
{
	const struct memo *m = memo_get(cs, kind, a, b);

	if (m == NULL)
		return false;
	*found = m->found;
	*index = m->index;
	return true;
}

/* Remember how an interned name resolved; the memo, or NULL when not kept. */
static struct memo *remember(
	struct cloud_sim *cs, char kind, const char *a, const char *b, bool found, size_t index)
{
	struct memo *m = memo_put(cs, kind, a, b);

	if (m != NULL) {
		m->found = found;
		m->index = index;
	}
	return m;
}

/* A queue's index by (interned) URL or name. */
static bool find_queue(struct cloud_sim *cs, const char *url, size_t *out)
{
	char key[LOOKUP_KEY_MAX];
	const struct lookup *l;
	struct world_queue_info info;
	bool cacheable;
	bool found;
	size_t index;

	if (resolved(cs, 'q', url, NULL, &found, &index)) {
		*out = index;
		return found;
	}
	/* The key is built only for a name not remembered by its address. */
	cacheable = lookup_key(key, 'q', url, NULL);
	if (cacheable && (l = lookup_get(cs, key)) != NULL) {
		*out = l->index;
		remember(cs, 'q', url, NULL, l->found, l->index);
		return l->found;
	}
	found = world_queue_get(cs->w, url, &info) == 0;
	if (cacheable)
		lookup_put(cs, key, found, found ? info.index : 0);
	remember(cs, 'q', url, NULL, found, found ? info.index : 0);
	*out = found ? info.index : 0;
	return found;
}

/*
 * A cluster's index and registered instances by (interned) name or ARN. Not
 * its whole info: that sums the tasks of every service in the world, and no
 * answer here reads them.
 */
static bool find_cluster(
	struct cloud_sim *cs, const char *cluster, size_t *index_out, size_t *instance_count)
{
	char key[LOOKUP_KEY_MAX];
	const struct lookup *l;
	struct world_cluster_info info;
	bool cacheable;
	bool found;
	size_t index;

	if (resolved(cs, 'c', cluster, NULL, &found, &index)) {
		found = found && index < world_cluster_count(cs->w);
	} else {
		/* The key is built only for a name not remembered by its address. */
		cacheable = lookup_key(key, 'c', cluster, NULL);
		if (cacheable && (l = lookup_get(cs, key)) != NULL) {
			remember(cs, 'c', cluster, NULL, l->found, l->index);
			index = l->index;
			found = l->found && index < world_cluster_count(cs->w);
		} else {
			found = world_cluster_get(cs->w, cluster, &info) == WORLD_ECS_OK;
			index = found ? info.index : 0;
			if (cacheable)
				lookup_put(cs, key, found, index);
			remember(cs, 'c', cluster, NULL, found, index);
		}
	}
	if (found) {
		*index_out = index;
		*instance_count = world_cluster_instance_count(cs->w, index);
	}
	return found;
}

/*
 * A service's info by (interned) cluster and name (or ARNs), and whether it
 * was found by its name: the name answered is then the very text asked.
 */
static bool find_service(struct cloud_sim *cs, const char *cluster, const char *service,
	struct world_service_info *out, bool *named)
{
	char key[LOOKUP_KEY_MAX];
	const struct memo *m = memo_get(cs, 's', cluster, service);
	const struct lookup *l;
	struct memo *kept;
	bool cacheable;
	bool found;

	if (m != NULL) {
		*named = m->named;
		return m->found && world_service_at(cs->w, m->index, out) == WORLD_ECS_OK;
	}
	/* The key is built only for a name not remembered by its address. */
	cacheable = lookup_key(key, 's', cluster, service);
	if (cacheable && (l = lookup_get(cs, key)) != NULL) {
		if ((kept = remember(cs, 's', cluster, service, l->found, l->index)) != NULL)
			kept->named = l->named;
		*named = l->named;
		return l->found && world_service_at(cs->w, l->index, out) == WORLD_ECS_OK;
	}
	found = world_service_get(cs->w, cluster, service, out) == WORLD_ECS_OK;
	*named = found && strcmp(out->name, service) == 0;
	if (cacheable)
		cs->lookups[lookup_put(cs, key, found, found ? out->index : 0)].named = *named;
	if ((kept = remember(cs, 's', cluster, service, found, found ? out->index : 0)) != NULL)
		kept->named = *named;
	return found;
}

static const char *const call_names[CLOUD_SIM_CALLS] = {
	[CLOUD_SIM_GET_QUEUE_ATTRIBUTES] = "GetQueueAttributes",
	[CLOUD_SIM_DESCRIBE_SERVICES] = "DescribeServices",
	[CLOUD_SIM_LIST_CONTAINER_INSTANCES] = "ListContainerInstances",
	[CLOUD_SIM_DESCRIBE_CONTAINER_INSTANCES] = "DescribeContainerInstances",
	[CLOUD_SIM_DESCRIBE_TASK_DEFINITION] = "DescribeTaskDefinition",
	[CLOUD_SIM_UPDATE_SERVICE] = "UpdateService",
};

/* The ECS category (ecs_throttle.h) each reported category is. */
static const enum ecs_throttle_category ecs_category[CLOUD_SIM_CATEGORIES] = {
	[CLOUD_SIM_SERVICE_READ] = ECS_THROTTLE_SERVICE_READ,
	[CLOUD_SIM_SERVICE_MODIFY] = ECS_THROTTLE_SERVICE_MODIFY,
	[CLOUD_SIM_CLUSTER_RESOURCE_READ] = ECS_THROTTLE_CLUSTER_RESOURCE_READ,
	[CLOUD_SIM_TASK_DEFINITION_READ] = ECS_THROTTLE_TASK_DEFINITION_READ,
};

const char *cloud_sim_call_name(enum cloud_sim_call call)
{
	return (unsigned)call < CLOUD_SIM_CALLS ? call_names[call] : "?";
}

/* Take one token of a category at now_ms; record the peak second. */
static void bucket_take(struct cloud_sim *cs, enum cloud_sim_category cat, uint64_t now_ms)
{
	struct cloud_sim_limit *l = &cs->limits[cat];
	struct bucket *b = &cs->buckets[cat];

	if (ecs_token_bucket_take(&b->tokens, now_ms) > 0)
		l->over++;
	l->calls++;
	if (now_ms / 1000 != b->second) {
		b->second = now_ms / 1000;
		b->second_count = 0;
	}
	if (++b->second_count > l->peak_per_s)
		l->peak_per_s = b->second_count;
}

/*
 * Count one AWS call of a kind and draw its faults. An error fault already
 * drawn for an earlier call of the same operation wins; latency adds up.
 */
static void count_call(struct cloud_sim *cs, enum cloud_sim_call call, struct completion *c)
{
	enum ecs_throttle_category ecs = call == CLOUD_SIM_GET_QUEUE_ATTRIBUTES
		? ECS_THROTTLE_NONE
		: ecs_throttle_category_of(call_names[call]);
	uint64_t now_ms = world_now_ms(cs->w);
	struct world_fault_hit hit;

	cs->calls[call]++;
	for (int cat = 0; cat < CLOUD_SIM_CATEGORIES; cat++)
		if (ecs != ECS_THROTTLE_NONE && ecs_category[cat] == ecs)
			bucket_take(cs, (enum cloud_sim_category)cat, now_ms);
	if (!world_fault_pick(cs->w, c->target, call_names[call], &hit))
		return;
	c->due_ms += hit.latency_ms;
	if (c->fault == NULL)
		c->fault = hit.fault;
}

int cloud_sim_create(struct world *w, uint64_t timeout_ms, struct cloud_sim **out)
{
	struct cloud_sim *cs;

	if (w == NULL || out == NULL)
		return -EINVAL;
	cs = xcalloc(1, sizeof(*cs));
	cs->w = w;
	cs->timeout_ms = timeout_ms;
	for (size_t i = 0; i < CLOUD_SIM_CATEGORIES; i++) {
		struct cloud_sim_limit *l = &cs->limits[i];

		l->name = ecs_throttle_category_name(ecs_category[i]);
		ecs_throttle_limits(ecs_category[i], &l->bucket, &l->refill_per_s);
		ecs_token_bucket_init(&cs->buckets[i].tokens, l->bucket, l->refill_per_s, 0);
	}
	cs->n_services = world_service_count(w);
	cs->updates = xcalloc(cs->n_services + 1, sizeof(*cs->updates));
	*out = cs;
	return 0;
}

/* Free what a completion holds. */
static void completion_free(struct completion *c)
{
	free(c->names);
}

void cloud_sim_destroy(struct cloud_sim *cs)
{
	if (cs == NULL)
		return;
	for (size_t i = 0; i < cs->n_pending; i++)
		completion_free(&cs->pending[i]);
	for (size_t i = 0; i < cs->fifo_len; i++)
		completion_free(&cs->fifo[(cs->fifo_head + i) & (cs->fifo_cap - 1)]);
	free(cs->pending);
	free(cs->fifo);
	free(cs->updates);
	free(cs->services);
	free(cs->instances);
	free(cs->attributes);
	strindex_finish(&cs->names);
	free(cs->lookups);
	free(cs->memos);
	free(cs->log);
	free(cs);
}

/* A new completion at the end of the queue, due now. */
static struct completion *push(struct cloud_sim *cs, enum op op, enum scenario_fault_target target,
	void (*cb)(void), void *arg)
{
	struct completion *c;

	if (cs->n_pending == cs->cap_pending) {
		cs->cap_pending = cs->cap_pending ? cs->cap_pending * 2 : 16;
		cs->pending = xreallocarray(cs->pending, cs->cap_pending, sizeof(*cs->pending));
	}
	c = &cs->pending[cs->n_pending++];
	memset(c, 0, sizeof(*c));
	c->due_ms = world_now_ms(cs->w);
	c->seq = cs->seq++;
	c->op = op;
	c->target = target;
	c->cb = cb;
	c->arg = arg;
	return c;
}

/* Requests into a partition fail when the client gives up; so do answers slower than that. */
static void settle_due(struct cloud_sim *cs, struct completion *c)
{
	uint64_t now_ms = world_now_ms(cs->w);

	if (c->fault != NULL && c->fault->kind == SCENARIO_FAULT_PARTITION)
		c->due_ms = now_ms + cs->timeout_ms;
	else if (c->due_ms - now_ms > cs->timeout_ms)
		c->due_ms = now_ms + cs->timeout_ms;
}

static int sim_queue_counts(void *ctx, const char *queue_url, cloud_queue_cb cb, void *arg)
{
	struct cloud_sim *cs = ctx;
	struct completion *c;

	if (queue_url == NULL || cb == NULL)
		return -EINVAL;
	c = push(cs, OP_QUEUE, SCENARIO_TARGET_SQS, (void (*)(void))cb, arg);
	c->subject = intern(cs, queue_url);
	count_call(cs, CLOUD_SIM_GET_QUEUE_ATTRIBUTES, c);
	settle_due(cs, c);
	return 0;
}

static int sim_describe_services(void *ctx, const char *cluster, const char *const *services,
	size_t n_services, cloud_services_cb cb, void *arg)
{
	struct cloud_sim *cs = ctx;
	struct completion *c;

	if (cluster == NULL || (services == NULL && n_services > 0) || cb == NULL)
		return -EINVAL;
	c = push(cs, OP_SERVICES, SCENARIO_TARGET_ECS, (void (*)(void))cb, arg);
	c->subject = intern(cs, cluster);
	c->names = xcalloc(n_services + 1, sizeof(*c->names));
	for (size_t i = 0; i < n_services; i++)
		c->names[i] = intern(cs, services[i]);
	c->n_names = n_services;
	/* One DescribeServices per ten services. */
	for (size_t i = 0; i == 0 || i < n_services; i += 10)
		count_call(cs, CLOUD_SIM_DESCRIBE_SERVICES, c);
	settle_due(cs, c);
	return 0;
}

static int sim_list_instances(void *ctx, const char *cluster, cloud_instances_cb cb, void *arg)
{
	struct cloud_sim *cs = ctx;
	struct completion *c;
	size_t index, n = 0;

	if (cluster == NULL || cb == NULL)
		return -EINVAL;
	c = push(cs, OP_INSTANCES, SCENARIO_TARGET_ECS, (void (*)(void))cb, arg);
	c->subject = intern(cs, cluster);
	if (!find_cluster(cs, c->subject, &index, &n))
		n = 0;
	/* Pages of a hundred: at least one List, one Describe per non-empty page. */
	for (size_t i = 0; i == 0 || i < n; i += 100)
		count_call(cs, CLOUD_SIM_LIST_CONTAINER_INSTANCES, c);
	for (size_t i = 0; i < n; i += 100)
		count_call(cs, CLOUD_SIM_DESCRIBE_CONTAINER_INSTANCES, c);
	settle_due(cs, c);
	return 0;
}

static int sim_task_reservation(void *ctx, const char *task_definition, cloud_task_cb cb, void *arg)
{
	struct cloud_sim *cs = ctx;
	struct completion *c;

	if (task_definition == NULL || cb == NULL)
		return -EINVAL;
	c = push(cs, OP_TASK, SCENARIO_TARGET_ECS, (void (*)(void))cb, arg);
	c->subject = intern(cs, task_definition);
	count_call(cs, CLOUD_SIM_DESCRIBE_TASK_DEFINITION, c);
	settle_due(cs, c);
	return 0;
}

static int sim_update_service(void *ctx, const char *cluster, const char *service, int32_t desired,
	cloud_update_cb cb, void *arg)
{
	struct cloud_sim *cs = ctx;
	struct completion *c;

	if (cluster == NULL || service == NULL || cb == NULL)
		return -EINVAL;
	c = push(cs, OP_UPDATE, SCENARIO_TARGET_ECS, (void (*)(void))cb, arg);
	c->subject = intern(cs, cluster);
	c->service = intern(cs, service);
	c->desired = desired;
	count_call(cs, CLOUD_SIM_UPDATE_SERVICE, c);
	settle_due(cs, c);
	return 0;
}

static const struct cloud_ops sim_ops = {
	.queue_counts = sim_queue_counts,
	.describe_services = sim_describe_services,
	.list_instances = sim_list_instances,
	.task_reservation = sim_task_reservation,
	.update_service = sim_update_service,
};

const struct cloud *cloud_sim_cloud(struct cloud_sim *cs)
{
	cs->cloud.ops = &sim_ops;
	cs->cloud.ctx = cs;
	return &cs->cloud;
}

/* The error a fault makes of a call, as the AWS client would classify it. */
static void fault_error(
	const struct scenario_fault *f, enum scenario_fault_target target, struct aws_error *e)
{
	bool sqs = target == SCENARIO_TARGET_SQS;

	memset(e, 0, sizeof(*e));
	e->err = -EIO;
	e->error_class = AWS_ERROR_TRANSIENT;
	e->retryable = true;
	switch (f->kind) {
	case SCENARIO_FAULT_THROTTLING:
		e->http_status = sqs ? 403 : 400;
		snprintf(e->code, sizeof(e->code), "%s",
			sqs ? "RequestThrottled" : "ThrottlingException");
		snprintf(e->message, sizeof(e->message), "Rate exceeded");
		e->error_class = AWS_ERROR_THROTTLING;
		break;
	case SCENARIO_FAULT_ERROR500:
		e->http_status = 500;
		snprintf(e->code, sizeof(e->code), "%s", sqs ? "InternalError" : "ServerException");
		snprintf(e->message, sizeof(e->message), "Internal error");
		break;
	case SCENARIO_FAULT_ERROR503:
		e->http_status = 503;
		snprintf(e->code, sizeof(e->code), "ServiceUnavailable");
		snprintf(e->message, sizeof(e->message), "Service unavailable");
		break;
	case SCENARIO_FAULT_MALFORMED:
		e->err = -EPROTO;
		e->http_status = 200;
		e->error_class = AWS_ERROR_FATAL;
		e->retryable = false;
		snprintf(e->message, sizeof(e->message), "response is not valid JSON");
		break;
	case SCENARIO_FAULT_PARTITION:
		e->err = -ETIMEDOUT;
		snprintf(e->message, sizeof(e->message), "request timed out");
		break;
	case SCENARIO_FAULT_DROP:
	case SCENARIO_FAULT_LATENCY:
	default:
		snprintf(e->message, sizeof(e->message), "connection closed without a response");
		break;
	}
}

/* An ECS error answer as the AWS client would hand it over (not retried). */
static void ecs_error(enum world_ecs_error we, struct aws_error *e)
{
	memset(e, 0, sizeof(*e));
	e->err = -EIO;
	e->http_status = 400;
	e->error_class = AWS_ERROR_FATAL;
	snprintf(e->code, sizeof(e->code), "%s", world_ecs_error_code(we));
	snprintf(e->message, sizeof(e->message), "%s", world_ecs_error_message(we));
}

/* Answer GetQueueAttributes. */
static void answer_queue(struct cloud_sim *cs, const struct completion *c)
{
	cloud_queue_cb cb = (cloud_queue_cb)c->cb;
	struct world_queue_info info;
	struct cloud_queue_counts counts;
	struct aws_error e;
	size_t index;

	if (!find_queue(cs, c->subject, &index) || world_queue_at(cs->w, index, &info) < 0) {
		memset(&e, 0, sizeof(e));
		e.err = -EIO;
		e.http_status = 400;
		e.error_class = AWS_ERROR_FATAL;
		snprintf(e.code, sizeof(e.code), "AWS.SimpleQueueService.NonExistentQueue");
		snprintf(e.message, sizeof(e.message),
			"The specified queue does not exist for this wsdl version.");
		cb(e.err, &e, NULL, c->arg);
		return;
	}
	counts.visible = (int64_t)info.reported.visible;
	counts.in_flight = (int64_t)info.reported.in_flight;
	counts.delayed = (int64_t)info.reported.delayed;
	cb(0, NULL, &counts, c->arg);
}

/* Answer DescribeServices: every name asked, found or not. */
static void answer_services(struct cloud_sim *cs, const struct completion *c)
{
	cloud_services_cb cb = (cloud_services_cb)c->cb;
	size_t cluster, instances;
	struct aws_error e;

	if (!find_cluster(cs, c->subject, &cluster, &instances)) {
		ecs_error(WORLD_ECS_CLUSTER_NOT_FOUND, &e);
		cb(e.err, &e, NULL, 0, c->arg);
		return;
	}
	if (c->n_names > cs->cap_services) {
		cs->cap_services = c->n_names;
		cs->services = xreallocarray(cs->services, cs->cap_services, sizeof(*cs->services));
	}
	for (size_t i = 0; i < c->n_names; i++) {
		struct cloud_service *s = &cs->services[i];
		struct world_service_info info;
		bool named;

		memset(s, 0, sizeof(*s));
		if (!find_service(cs, c->subject, c->names[i], &info, &named)) {
			s->name = c->names[i];
			s->as_asked = true;
			continue;
		}
		s->as_asked = named;
		s->found = true;
		s->name = info.name;
		s->arn = info.arn;
		s->status = info.status;
		s->task_definition = info.task_definition_arn;
		s->desired = (int32_t)info.desired_count;
		s->running = (int32_t)info.running_count;
		s->pending = (int32_t)info.pending_count;
	}
	cb(0, NULL, cs->services, c->n_names, c->arg);
}

/* Answer ListContainerInstances + DescribeContainerInstances: the ACTIVE ones. */
static void answer_instances(struct cloud_sim *cs, const struct completion *c)
{
	cloud_instances_cb cb = (cloud_instances_cb)c->cb;
	size_t cluster, instances;
	size_t n = 0, n_attr = 0;
	struct aws_error e;

	if (!find_cluster(cs, c->subject, &cluster, &instances)) {
		ecs_error(WORLD_ECS_CLUSTER_NOT_FOUND, &e);
		cb(e.err, &e, NULL, 0, c->arg);
		return;
	}
	if (instances > cs->cap_instances) {
		cs->cap_instances = instances;
		cs->instances =
			xreallocarray(cs->instances, cs->cap_instances, sizeof(*cs->instances));
	}
	for (size_t pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < instances; i++) {
			struct world_instance_info in;
			struct cloud_instance *ci;

			if (world_instance_at(cs->w, cluster, i, &in) != WORLD_ECS_OK ||
				in.status != WORLD_INSTANCE_ACTIVE)
				continue;
			if (pass == 0) {
				n_attr += in.attribute_count;
				continue;
			}
			ci = &cs->instances[n++];
			memset(ci, 0, sizeof(*ci));
			ci->arn = in.arn;
			ci->ec2_instance_id = in.ec2_instance_id;
			ci->status = world_instance_status_name(in.status);
			ci->agent_connected = in.agent_connected;
			ci->registered_cpu_units = (int32_t)in.registered_cpu_units;
			ci->registered_memory_mib = (int32_t)in.registered_memory_mib;
			ci->remaining_cpu_units = (int32_t)in.remaining_cpu_units;
			ci->remaining_memory_mib = (int32_t)in.remaining_memory_mib;
			ci->taken_tcp_ports = in.remaining_ports_tcp;
			ci->n_taken_tcp_ports = in.remaining_ports_tcp_count;
			ci->taken_udp_ports = in.remaining_ports_udp;
			ci->n_taken_udp_ports = in.remaining_ports_udp_count;
			ci->attributes = cs->attributes + n_attr;
			ci->n_attributes = in.attribute_count;
			for (size_t k = 0; k < in.attribute_count; k++) {
				cs->attributes[n_attr + k].name = in.attributes[k].name;
				cs->attributes[n_attr + k].value = in.attributes[k].value;
			}
			n_attr += in.attribute_count;
		}
		if (pass == 0) {
			if (n_attr > cs->cap_attributes) {
				cs->cap_attributes = n_attr;
				cs->attributes = xreallocarray(
					cs->attributes, n_attr, sizeof(*cs->attributes));
			}
			n_attr = 0;
		}
	}
	cb(0, NULL, cs->instances, n, c->arg);
}

/* Answer DescribeTaskDefinition with what one task reserves. */
static void answer_task(struct cloud_sim *cs, const struct completion *c)
{
	cloud_task_cb cb = (cloud_task_cb)c->cb;
	const struct scenario_task_definition *td;
	enum world_ecs_error we = world_task_definition_get(cs->w, c->subject, &td);
	struct scenario_reservation r;
	struct cloud_task_reservation out;
	struct aws_error e;

	if (we != WORLD_ECS_OK) {
		ecs_error(we, &e);
		cb(e.err, &e, NULL, c->arg);
		return;
	}
	scenario_task_definition_reservation(td, &r);
	out.cpu_units = (int32_t)r.cpu_units;
	out.memory_mib = (int32_t)r.memory_mib;
	out.tcp_ports = r.ports_tcp;
	out.n_tcp_ports = r.ports_tcp_count;
	out.udp_ports = r.ports_udp;
	out.n_udp_ports = r.ports_udp_count;
	cb(0, NULL, &out, c->arg);
}

/* Answer UpdateService: set the desired count now; lost: then lose the answer. */
static void answer_update(struct cloud_sim *cs, const struct completion *c, bool lost)
{
	cloud_update_cb cb = (cloud_update_cb)c->cb;
	struct world_service_info info, before;
	struct cloud_service s;
	bool named;
	bool known = cs->record && find_service(cs, c->subject, c->service, &before, &named);
	enum world_ecs_error we =
		world_service_set_desired(cs->w, c->subject, c->service, c->desired, &info);
	struct aws_error e;

	if (we != WORLD_ECS_OK) {
		ecs_error(we, &e);
		cb(e.err, &e, NULL, c->arg);
		return;
	}
	if (info.index < cs->n_services)
		cs->updates[info.index]++;
	if (known) {
		if (cs->n_log == cs->cap_log) {
			cs->cap_log = cs->cap_log ? cs->cap_log * 2 : 64;
			cs->log = xreallocarray(cs->log, cs->cap_log, sizeof(*cs->log));
		}
		cs->log[cs->n_log++] = (struct cloud_sim_update){world_now_ms(cs->w), info.index,
			(int32_t)before.desired_count, (int32_t)info.desired_count};
	}
	if (lost) {
		fault_error(c->fault, c->target, &e);
		cb(e.err, &e, NULL, c->arg);
		return;
	}
	memset(&s, 0, sizeof(s));
	s.found = true;
	s.name = info.name;
	s.arn = info.arn;
	s.status = info.status;
	s.task_definition = info.task_definition_arn;
	s.desired = (int32_t)info.desired_count;
	s.running = (int32_t)info.running_count;
	s.pending = (int32_t)info.pending_count;
	cb(0, NULL, &s, c->arg);
}

/*
 * An instance fault on a listing: the error cloud_aws makes of the answer
 * the emulator would give (an incomplete fleet), when the fault hits an
 * instance of the cluster; false when it hits none (the answer is whole).
 */
static bool instance_fault_error(
	struct cloud_sim *cs, const struct completion *c, struct aws_error *e)
{
	const struct scenario_fault *f = c->fault;
	size_t cluster, instances;

	if (!find_cluster(cs, c->subject, &cluster, &instances))
		return false;
	for (size_t i = 0; i < instances; i++) {
		struct world_instance_info in;

		if (world_instance_at(cs->w, cluster, i, &in) != WORLD_ECS_OK ||
			in.status != WORLD_INSTANCE_ACTIVE ||
			!scenario_fault_hits_instance(f, in.ec2_instance_id))
			continue;
		memset(e, 0, sizeof(*e));
		e->err = -EPROTO;
		e->error_class = AWS_ERROR_FATAL;
		if (f->kind == SCENARIO_FAULT_INSTANCE_FAILURE)
			snprintf(e->message, sizeof(e->message),
				"incomplete fleet: instance %.200s in failures (%.64s%s)", in.arn,
				f->reason,
				strcmp(f->reason, "MISSING") == 0 ? ", still listed" : "");
		else
			snprintf(e->message, sizeof(e->message),
				"incomplete fleet: instance %.200s: remainingResources lacks %s",
				in.ec2_instance_id,
				f->resource == SCENARIO_RESOURCE_CPU ? "CPU" : "MEMORY");
		return true;
	}
	return false;
}

/* A fault that shapes an answer rather than replacing it; true when it was answered. */
static bool answer_shaped(struct cloud_sim *cs, const struct completion *c)
{
	struct aws_error e;

	switch (c->fault->kind) {
	case SCENARIO_FAULT_INSTANCE_FAILURE:
	case SCENARIO_FAULT_MISSING_RESOURCE:
		if (c->op != OP_INSTANCES)
			return false;
		if (!instance_fault_error(cs, c, &e))
			answer_instances(cs, c);
		else
			((cloud_instances_cb)c->cb)(e.err, &e, NULL, 0, c->arg);
		return true;
	case SCENARIO_FAULT_LOST_ANSWER:
		if (c->op != OP_UPDATE)
			return false;
		/* Carried out, then the answer is lost as a dropped connection. */
		answer_update(cs, c, true);
		return true;
	default:
		return false;
	}
}

/* Deliver one completion: a fault's error, or the world's answer. */
static void answer(struct cloud_sim *cs, const struct completion *c)
{
	struct aws_error e;

	if (c->fault != NULL && answer_shaped(cs, c)) {
		cs->faulted++;
		return;
	}
	if (c->fault != NULL) {
		cs->faulted++;
		fault_error(c->fault, c->target, &e);
		switch (c->op) {
		case OP_QUEUE:
			((cloud_queue_cb)c->cb)(e.err, &e, NULL, c->arg);
			break;
		case OP_SERVICES:
			((cloud_services_cb)c->cb)(e.err, &e, NULL, 0, c->arg);
			break;
		case OP_INSTANCES:
			((cloud_instances_cb)c->cb)(e.err, &e, NULL, 0, c->arg);
			break;
		case OP_TASK:
			((cloud_task_cb)c->cb)(e.err, &e, NULL, c->arg);
			break;
		case OP_UPDATE:
			((cloud_update_cb)c->cb)(e.err, &e, NULL, c->arg);
			break;
		}
		return;
	}
	switch (c->op) {
	case OP_QUEUE:
		answer_queue(cs, c);
		break;
	case OP_SERVICES:
		answer_services(cs, c);
		break;
	case OP_INSTANCES:
		answer_instances(cs, c);
		break;
	case OP_TASK:
		answer_task(cs, c);
		break;
	case OP_UPDATE:
		answer_update(cs, c, false);
		break;
	}
}

/* Whether completion a is answered before b: due first, then asked first. */
static bool earlier(const struct completion *a, const struct completion *b)
{
	return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->seq < b->seq);
}

/* Move the completion at i up the heap to its place. */
static void heap_up(struct completion *h, size_t i)
{
	while (i > 0 && earlier(&h[i], &h[(i - 1) / 2])) {
		struct completion t = h[i];

		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

/* Move the completion at i down the heap of n to its place. */
static void heap_down(struct completion *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct completion t;

		if (l < n && earlier(&h[l], &h[m]))
			m = l;
		if (r < n && earlier(&h[r], &h[m]))
			m = r;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* The newest completion of the ring (fifo_len > 0). */
static const struct completion *fifo_back(const struct cloud_sim *cs)
{
	return &cs->fifo[(cs->fifo_head + cs->fifo_len - 1) & (cs->fifo_cap - 1)];
}

/* Append a completion to the ring, growing it (and unwrapping) when full. */
static void fifo_push(struct cloud_sim *cs, const struct completion *c)
{
	if (cs->fifo_len == cs->fifo_cap) {
		size_t cap = cs->fifo_cap ? cs->fifo_cap * 2 : 64;

		cs->fifo = xring_grow(cs->fifo, sizeof(*cs->fifo), cs->fifo_cap, cs->fifo_head,
			cs->fifo_len, cap);
		cs->fifo_cap = cap;
		cs->fifo_head = 0;
	}
	cs->fifo[(cs->fifo_head + cs->fifo_len) & (cs->fifo_cap - 1)] = *c;
	cs->fifo_len++;
}

/*
 * Take the completions pushed since the last time: each that comes after
 * the ring's newest in (due_ms, seq) goes to the ring's end, which stays in
 * that order; any other into the heap. The earliest of all is then the
 * earlier of the ring's oldest and the heap's top: (due_ms, seq) orders
 * every pair, so the answers come in the same order as from one heap.
 */
static void take_pushed(struct cloud_sim *cs)
{
	size_t n = cs->n_heap;

	for (size_t i = cs->n_heap; i < cs->n_pending; i++) {
		if (cs->fifo_len == 0 || earlier(fifo_back(cs), &cs->pending[i])) {
			fifo_push(cs, &cs->pending[i]);
			continue;
		}
		/* n <= i: the array is read ahead of where it is written */
		if (n != i)
			cs->pending[n] = cs->pending[i];
		heap_up(cs->pending, n++);
	}
	cs->n_pending = cs->n_heap = n;
}

/*
 * Answer what is due, earliest first (ties in the order asked), callbacks
 * included that ask again. The calls wait in a ring when they come in
 * order and in a heap when not, so that a cycle's hundreds of calls are not
 * each found by a scan of all the others; completions are pushed at the
 * end, and taken into the ring or the heap here, once push's caller has set
 * their due time.
 */
size_t cloud_sim_deliver(struct cloud_sim *cs, uint64_t now_ms)
{
	size_t delivered = 0;

	for (;;) {
		const struct completion *front;
		struct completion c;

		take_pushed(cs);
		front = cs->fifo_len > 0 ? &cs->fifo[cs->fifo_head] : NULL;
		if (cs->n_heap > 0 && (front == NULL || earlier(&cs->pending[0], front)))
			front = &cs->pending[0];
		if (front == NULL || front->due_ms > now_ms)
			break;
		/* Out of the queue first: the callback may queue more. */
		c = *front;
		if (front == &cs->pending[0]) {
			cs->pending[0] = cs->pending[--cs->n_pending];
			cs->n_heap = cs->n_pending;
			heap_down(cs->pending, cs->n_heap, 0);
		} else {
			cs->fifo_head = (cs->fifo_head + 1) & (cs->fifo_cap - 1);
			cs->fifo_len--;
		}
		answer(cs, &c);
		completion_free(&c);
		delivered++;
	}
	return delivered;
}

uint64_t cloud_sim_next_due_ms(const struct cloud_sim *cs)
{
	uint64_t next = UINT64_MAX;

	/* the ring's oldest is due first of the ring */
	if (cs->fifo_len > 0)
		next = cs->fifo[cs->fifo_head].due_ms;
	for (size_t i = 0; i < cs->n_pending; i++) {
		if (cs->pending[i].due_ms < next)
			next = cs->pending[i].due_ms;
	}
	return next;
}

uint64_t cloud_sim_calls(const struct cloud_sim *cs, enum cloud_sim_call call)
{
	return (unsigned)call < CLOUD_SIM_CALLS ? cs->calls[call] : 0;
}

const struct cloud_sim_limit *cloud_sim_limit(
	const struct cloud_sim *cs, enum cloud_sim_category category)
{
	return (unsigned)category < CLOUD_SIM_CATEGORIES ? &cs->limits[category] : NULL;
}

uint64_t cloud_sim_updates(const struct cloud_sim *cs, size_t service)
{
	return service < cs->n_services ? cs->updates[service] : 0;
}

uint64_t cloud_sim_faulted(const struct cloud_sim *cs)
{
	return cs->faulted;
}

void cloud_sim_record_updates(struct cloud_sim *cs, bool on)
{
	cs->record = on;
}

const struct cloud_sim_update *cloud_sim_update_log(const struct cloud_sim *cs, size_t *n)
{
	*n = cs->n_log;
	return cs->log;
}
