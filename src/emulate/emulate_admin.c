/*
 * The emulator's admin API, on paths AWS never uses, for tests, demos and
 * scripts: GET /_qscale/state (the world now), GET /_qscale/requests (the
 * request log), GET /_qscale/updates (every UpdateService that set a count),
 * GET /_qscale/connections (connections accepted, TLS handshakes, resumed
 * sessions) and POST /_qscale/advance?ms=N (move the world forward). The logs are
 * bounded rings.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "emulate_priv.h"
#include "qscale/world.h"
#include "qscale/xalloc.h"

/* Largest jump POST /_qscale/advance accepts: one year. */
#define ADVANCE_MAX_MS (366ULL * 24 * 3600 * 1000)

void emulate_log_init(struct emulate_log *log, size_t entry_size)
{
	log->entries = xcalloc(EMULATE_LOG_ENTRIES, entry_size);
	log->entry_size = entry_size;
	log->head = 0;
	log->count = 0;
	log->total = 0;
}

void emulate_log_finish(struct emulate_log *log)
{
	free(log->entries);
	log->entries = NULL;
	log->count = 0;
}

void *emulate_log_add(struct emulate_log *log)
{
	char *slot = (char *)log->entries + log->head * log->entry_size;

	memset(slot, 0, log->entry_size);
	log->head = (log->head + 1) % EMULATE_LOG_ENTRIES;
	if (log->count < EMULATE_LOG_ENTRIES)
		log->count++;
	log->total++;
	return slot;
}

const void *emulate_log_at(const struct emulate_log *log, size_t i)
{
	size_t first = (log->head + EMULATE_LOG_ENTRIES - log->count) % EMULATE_LOG_ENTRIES;

	return (const char *)log->entries + ((first + i) % EMULATE_LOG_ENTRIES) * log->entry_size;
}

/* Write key: uint. */
static void gen_kv_uint(yajl_gen gen, const char *key, uint64_t v)
{
	emulate_gen_key(gen, key);
	yajl_gen_integer(gen, (long long)v);
}

/* Write key: string. */
static void gen_kv_string(yajl_gen gen, const char *key, const char *v)
{
	emulate_gen_key(gen, key);
	if (v != NULL)
		emulate_gen_string(gen, v);
	else
		yajl_gen_null(gen);
}

/* The queues part of the state. */
static void gen_queues(yajl_gen gen, const struct world *w)
{
	emulate_gen_key(gen, "queues");
	yajl_gen_array_open(gen);
	for (size_t i = 0; i < world_queue_count(w); i++) {
		struct world_queue_info q;

		if (world_queue_at(w, i, &q) < 0)
			continue;
		yajl_gen_map_open(gen);
		gen_kv_string(gen, "name", q.name);
		gen_kv_string(gen, "arn", q.arn);
		gen_kv_uint(gen, "visible", q.actual.visible);
		gen_kv_uint(gen, "in_flight", q.actual.in_flight);
		gen_kv_uint(gen, "delayed", q.actual.delayed);
		gen_kv_uint(gen, "reported_visible", q.reported.visible);
		gen_kv_uint(gen, "reported_in_flight", q.reported.in_flight);
		gen_kv_uint(gen, "reported_delayed", q.reported.delayed);
		yajl_gen_map_close(gen);
	}
	yajl_gen_array_close(gen);
}

/* The services part of the state. */
static void gen_services(yajl_gen gen, const struct world *w)
{
	emulate_gen_key(gen, "services");
	yajl_gen_array_open(gen);
	for (size_t i = 0; i < world_service_count(w); i++) {
		struct world_service_info s;

		if (world_service_at(w, i, &s) != WORLD_ECS_OK)
			continue;
		yajl_gen_map_open(gen);
		gen_kv_string(gen, "cluster", s.cluster_name);
		gen_kv_string(gen, "name", s.name);
		gen_kv_string(gen, "status", s.status);
		gen_kv_string(gen, "launch_type", s.launch_type_name);
		gen_kv_uint(gen, "desired", s.desired_count);
		gen_kv_uint(gen, "running", s.running_count);
		gen_kv_uint(gen, "pending", s.pending_count);
		gen_kv_uint(gen, "unplaced", s.unplaced_count);
		gen_kv_string(gen, "queue", s.queue_name);
		yajl_gen_map_close(gen);
	}
	yajl_gen_array_close(gen);
}

/* The instances part of the state, cluster by cluster. */
static void gen_instances(yajl_gen gen, const struct world *w)
{
	emulate_gen_key(gen, "instances");
	yajl_gen_array_open(gen);
	for (size_t c = 0; c < world_cluster_count(w); c++) {
		struct world_cluster_info ci;

		if (world_cluster_at(w, c, &ci) != WORLD_ECS_OK)
			continue;
		for (size_t i = 0; i < ci.instance_count; i++) {
			struct world_instance_info in;

			if (world_instance_at(w, c, i, &in) != WORLD_ECS_OK)
				continue;
			yajl_gen_map_open(gen);
			gen_kv_string(gen, "cluster", ci.name);
			gen_kv_string(gen, "id", in.container_instance_id);
			gen_kv_string(gen, "ec2_instance_id", in.ec2_instance_id);
			gen_kv_string(gen, "status", world_instance_status_name(in.status));
			emulate_gen_key(gen, "agent_connected");
			yajl_gen_bool(gen, in.agent_connected);
			gen_kv_uint(gen, "registered_cpu", in.registered_cpu_units);
			gen_kv_uint(gen, "remaining_cpu", in.remaining_cpu_units);
			gen_kv_uint(gen, "registered_memory_mib", in.registered_memory_mib);
			gen_kv_uint(gen, "remaining_memory_mib", in.remaining_memory_mib);
			gen_kv_uint(gen, "running_tasks", in.running_tasks);
			gen_kv_uint(gen, "pending_tasks", in.pending_tasks);
			yajl_gen_map_close(gen);
		}
	}
	yajl_gen_array_close(gen);
}

/* GET /_qscale/state. */
static void gen_state(yajl_gen gen, struct emulate_state *st)
{
	uint64_t t = emulate_state_sync(st);

	yajl_gen_map_open(gen);
	gen_kv_uint(gen, "t_ms", t);
	gen_kv_uint(gen, "wall_ms", world_start_wall_ms(st->world) + t);
	emulate_gen_key(gen, "speed");
	yajl_gen_double(gen, st->speed);
	gen_queues(gen, st->world);
	gen_services(gen, st->world);
	gen_instances(gen, st->world);
	yajl_gen_map_close(gen);
}

/* GET /_qscale/connections: what benchmarks read to see reuse and resumption. */
static void gen_connections(yajl_gen gen, const struct emulate_state *st)
{
	yajl_gen_map_open(gen);
	emulate_gen_key(gen, "tls");
	yajl_gen_bool(gen, st->tls);
	gen_kv_uint(gen, "connections", st->conn.connections);
	gen_kv_uint(gen, "tls_handshakes", st->conn.handshakes);
	gen_kv_uint(gen, "tls_resumed", st->conn.resumed);
	gen_kv_uint(gen, "requests", st->requests.total);
	yajl_gen_map_close(gen);
}

/* GET /_qscale/requests. */
static void gen_requests(yajl_gen gen, const struct emulate_state *st)
{
	yajl_gen_map_open(gen);
	gen_kv_uint(gen, "total", st->requests.total);
	emulate_gen_key(gen, "requests");
	yajl_gen_array_open(gen);
	for (size_t i = 0; i < st->requests.count; i++) {
		const struct emulate_log_request *e = emulate_log_at(&st->requests, i);

		yajl_gen_map_open(gen);
		gen_kv_uint(gen, "wall_ms", e->wall_ms);
		gen_kv_uint(gen, "t_ms", e->t_ms);
		gen_kv_string(gen, "target", e->target);
		gen_kv_uint(gen, "status", (uint64_t)e->http_status);
		gen_kv_string(gen, "error", e->error_code[0] != '\0' ? e->error_code : NULL);
		gen_kv_string(gen, "fault", e->fault[0] != '\0' ? e->fault : NULL);
		gen_kv_uint(gen, "latency_ms", e->latency_ms);
		yajl_gen_map_close(gen);
	}
	yajl_gen_array_close(gen);
	yajl_gen_map_close(gen);
}

/* GET /_qscale/updates. */
static void gen_updates(yajl_gen gen, const struct emulate_state *st)
{
	yajl_gen_map_open(gen);
	gen_kv_uint(gen, "total", st->updates.total);
	emulate_gen_key(gen, "updates");
	yajl_gen_array_open(gen);
	for (size_t i = 0; i < st->updates.count; i++) {
		const struct emulate_log_update *e = emulate_log_at(&st->updates, i);

		yajl_gen_map_open(gen);
		gen_kv_uint(gen, "wall_ms", e->wall_ms);
		gen_kv_uint(gen, "t_ms", e->t_ms);
		gen_kv_string(gen, "cluster", e->cluster);
		gen_kv_string(gen, "service", e->service);
		gen_kv_uint(gen, "from", e->from);
		gen_kv_uint(gen, "to", e->to);
		gen_kv_string(gen, "access_key_id", e->access_key_id);
		yajl_gen_map_close(gen);
	}
	yajl_gen_array_close(gen);
	yajl_gen_map_close(gen);
}

/* Parse "ms=N" out of a query string; -EINVAL when absent or not a number in range. */
static int parse_advance(const char *query, uint64_t *out)
{
	const char *p = query;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, "ms=", 3) == 0) {
			char *end = NULL;
			unsigned long long v;

			p += 3;
			if (*p < '0' || *p > '9')
				return -EINVAL;
			errno = 0;
			v = strtoull(p, &end, 10);
			if (errno != 0 || (*end != '\0' && *end != '&') || v > ADVANCE_MAX_MS)
				return -EINVAL;
			*out = v;
			return 0;
		}
		p = strchr(p, '&');
		if (p != NULL)
			p++;
	}
	return -EINVAL;
}

/* Write {"error": message}. */
static void gen_error(yajl_gen gen, const char *message)
{
	yajl_gen_map_open(gen);
	gen_kv_string(gen, "error", message);
	yajl_gen_map_close(gen);
}

void emulate_admin_handle(struct emulate_state *st, const char *method, const char *uri,
	const char *body, size_t body_len, int *status, char **reply_body)
{
	const char *q = strchr(uri, '?');
	size_t path_len = q != NULL ? (size_t)(q - uri) : strlen(uri);
	char *path = xstrndup(uri, path_len);
	bool get = strcmp(method, "GET") == 0;
	yajl_gen gen = yajl_gen_alloc(NULL);
	const unsigned char *text = NULL;
	size_t len = 0;

	*status = 200;
	if (get && strcmp(path, "/_qscale/state") == 0) {
		gen_state(gen, st);
	} else if (get && strcmp(path, "/_qscale/requests") == 0) {
		gen_requests(gen, st);
	} else if (get && strcmp(path, "/_qscale/updates") == 0) {
		gen_updates(gen, st);
	} else if (get && strcmp(path, "/_qscale/connections") == 0) {
		gen_connections(gen, st);
	} else if (strcmp(method, "POST") == 0 && strcmp(path, "/_qscale/advance") == 0) {
		uint64_t ms = 0;

		if (parse_advance(q != NULL ? q + 1 : "", &ms) < 0) {
			*status = 400;
			gen_error(gen, "advance needs ?ms=N (0 to one year)");
		} else {
			emulate_state_sync(st);
			st->skipped_ms += ms;
			gen_state(gen, st);
		}
	} else {
		*status = 404;
		gen_error(gen, "unknown admin path or method");
	}
	yajl_gen_get_buf(gen, &text, &len);
	*reply_body = xstrndup((const char *)text, len);
	yajl_gen_free(gen);
	free(path);
}
