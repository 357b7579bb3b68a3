/*
 * What the emulator's files share among themselves: JSON reading and
 * writing helpers over yajl, and the per-service operation handlers.
 */
#ifndef QSCALE_EMULATE_PRIV_H
#define QSCALE_EMULATE_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "qscale/emulate.h"

/* Deepest JSON nesting accepted in a request body. */
#define EMULATE_JSON_MAX_DEPTH 32
/* Most items one array or object of a request may hold (ECS takes at most 100). */
#define EMULATE_JSON_MAX_ITEMS 5000

/* Everything an operation handler needs. */
struct emulate_call {
	struct world *world;
	const struct emulate_auth *auth;
	enum emulate_service service;
	const char *operation;
	yajl_val body; /* the parsed request object */
	struct emulate_error err; /* filled by a handler that fails */
	struct emulate_reply *reply; /* for side facts such as the update log */
	const struct scenario_fault *fault; /* a fault shaping the answer, or NULL */
};

/* A handler returns 0 with *gen holding the reply object, or -1 with call->err set. */
typedef int (*emulate_op_cb)(struct emulate_call *call, yajl_gen gen);

/*
 * The secret of a session key the emulator issued (STS, SSO): token is the
 * request's X-Amz-Security-Token. 0 with secret and principal (the
 * assumed-role ARN) filled; -EKEYEXPIRED past its expiry; -EACCES when the
 * emulator never issued it.
 */
int emulate_session_lookup(const struct emulate_auth *auth, const char *key_id, const char *token,
	uint64_t now_ms, char secret[41], char principal[512]);

/* STS for a form POST, SSO for GET /federation/credentials, else NONE. */
enum emulate_service emulate_sts_service(const struct emulate_http_request *req);

/* Whether an STS request must be signed (all but AssumeRoleWithWebIdentity). */
bool emulate_sts_signed(const struct emulate_http_request *req);

/* Answer an (authenticated) STS call at wall time now_ms; always fills *reply. */
void emulate_sts_dispatch(struct world *world, const struct emulate_auth *auth,
	const struct emulate_http_request *req, uint64_t now_ms, struct emulate_reply *reply);

/* Answer SSO GetRoleCredentials; always fills *reply. */
void emulate_sso_dispatch(const struct emulate_auth *auth, const struct emulate_http_request *req,
	uint64_t now_ms, struct emulate_reply *reply);

/* Shape err as STS's XML ErrorResponse into *reply. */
void emulate_sts_error(const struct emulate_error *err, struct emulate_reply *reply);

/* Look up an operation of a service; NULL when unknown. */
emulate_op_cb emulate_sqs_operation(const char *operation);
emulate_op_cb emulate_ecs_operation(const char *operation);

/*
 * Parse a request body into a JSON object (an empty body is {}); -EINVAL for
 * junk, a non-object, nesting deeper than EMULATE_JSON_MAX_DEPTH or more than
 * EMULATE_JSON_MAX_ITEMS items in one array or object (util/json_tree.c).
 */
int emulate_json_parse(const char *body, size_t len, yajl_val *out);

/*
 * Typed members. Each returns 0 and writes *out when key is present with the
 * right type, 1 (leaving *out) when absent or null, -EINVAL for a wrong type.
 */
int emulate_json_string(yajl_val obj, const char *key, const char **out);
int emulate_json_int(yajl_val obj, const char *key, long long *out);
int emulate_json_array(yajl_val obj, const char *key, yajl_val *out);

/* Fill call->err as a SerializationException about key; returns -1. */
int emulate_fail_serialization(struct emulate_call *call, const char *key);

/* Writers: a string, a JSON number from an integer, from epoch ms as seconds. */
void emulate_gen_string(yajl_gen gen, const char *s);
void emulate_gen_key(yajl_gen gen, const char *key);
void emulate_gen_int(yajl_gen gen, long long v);
void emulate_gen_epoch_seconds(yajl_gen gen, uint64_t ms);

/* One line of the request log. */
struct emulate_log_request {
	uint64_t wall_ms; /* the emulator's wall clock */
	uint64_t t_ms; /* the world's time */
	char target[80]; /* X-Amz-Target, or the admin path */
	int http_status; /* 0: no answer (partition, dropped) */
	char error_code[64];
	char fault[16]; /* fault applied, "" for none */
	uint64_t latency_ms; /* added delay */
};

/* One line of the update log: an UpdateService that set desiredCount. */
struct emulate_log_update {
	uint64_t wall_ms;
	uint64_t t_ms;
	char cluster[256];
	char service[256];
	uint32_t from;
	uint32_t to;
	char access_key_id[64]; /* who asked */
};

/* A ring of the last EMULATE_LOG_ENTRIES entries. */
struct emulate_log {
	void *entries;
	size_t entry_size;
	size_t head; /* next slot to write */
	size_t count;
	uint64_t total; /* every entry ever added */
};

void emulate_log_init(struct emulate_log *log, size_t entry_size);
void emulate_log_finish(struct emulate_log *log);
/* The slot for a new entry (zeroed); overwrites the oldest when full. */
void *emulate_log_add(struct emulate_log *log);
/* Entry i, oldest first (i < count). */
const void *emulate_log_at(const struct emulate_log *log, size_t i);

/* Connections the server accepted, and over TLS its handshakes. */
struct emulate_tls_stats {
	uint64_t connections; /* accepted, TLS or not */
	uint64_t handshakes; /* TLS handshakes completed */
	uint64_t resumed; /* of which resumed a session (no full handshake) */
};

/* The emulator's state the server and the admin API share. */
struct emulate_state {
	struct emulate_tls_stats conn;
	bool tls;
	struct world *world;
	double speed;
	uint64_t start_mono_ms; /* when serving began */
	uint64_t skipped_ms; /* world time added by POST /_qscale/advance */
	const char *url;
	struct emulate_log requests;
	struct emulate_log updates;
};

/* Bring the world up to the current time; returns the world's time. */
uint64_t emulate_state_sync(struct emulate_state *st);

/*
 * Answer an admin request (method, path and query, body); fills status and
 * a JSON body the caller frees.
 */
void emulate_admin_handle(struct emulate_state *st, const char *method, const char *uri,
	const char *body, size_t body_len, int *status, char **reply_body);

struct ssl_ctx_st;

/*
 * An HTTPS server context as cfg says (cfg->enabled assumed). -EINVAL with
 * err filled when a file cannot be read or written or OpenSSL fails. Caller
 * frees with SSL_CTX_free.
 */
int emulate_tls_context(
	const struct emulate_tls_config *cfg, struct ssl_ctx_st **out, char *err, size_t err_size);

/* Copy ctx's handshake and resumption counts into stats. */
void emulate_tls_count(struct ssl_ctx_st *ctx, struct emulate_tls_stats *stats);

/*
 * Turn an error-like fault (throttling, 500, 503) into the service's error
 * reply; false for other kinds.
 */
bool emulate_fault_reply(enum emulate_service service, int kind, struct emulate_reply *reply);

#endif
