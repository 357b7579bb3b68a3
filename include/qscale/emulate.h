/*
 * qscale emulate: a local AWS endpoint serving the subset of SQS (AWS JSON
 * 1.0) and ECS (AWS JSON 1.1) that qscale calls, backed by the simulated
 * world. The HTTP server lives on the caller's libevent base; the protocol
 * layer (emulate_dispatch, emulate_auth_verify) is pure and usable without it.
 */
#ifndef QSCALE_EMULATE_H
#define QSCALE_EMULATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct world;
struct scenario_fault;

/* Largest request body accepted, in bytes. */
#define EMULATE_MAX_BODY (1024 * 1024)

/* The credentials accepted when a scenario names none (they guard nothing real). */
#define EMULATE_DEFAULT_KEY_ID "AKIDQSCALEEMULATOR"
#define EMULATE_DEFAULT_SECRET "qscale-emulator-secret"

/* Entries kept in the request and update logs (older ones are dropped). */
#define EMULATE_LOG_ENTRIES 4096

enum emulate_service {
	EMULATE_SERVICE_NONE,
	EMULATE_SERVICE_SQS,
	EMULATE_SERVICE_ECS,
	EMULATE_SERVICE_STS, /* Query protocol: form POST, XML answers */
	EMULATE_SERVICE_SSO, /* GetRoleCredentials: GET with a bearer token */
};

/* One request header as received. */
struct emulate_header {
	const char *name;
	const char *value;
};

/* An AWS request as it arrived, before any checks. */
struct emulate_http_request {
	const char *method;
	const char *uri; /* as on the wire: path and optional ?query */
	const struct emulate_header *headers;
	size_t n_headers;
	const char *body;
	size_t body_len;
};

/* An AWS error as the protocol layer describes it. */
struct emulate_error {
	int http_status;
	char type[96]; /* the body's __type, e.g. "com.amazonaws.sqs#QueueDoesNotExist" */
	char code[64]; /* the short code for logs, e.g. "QueueDoesNotExist" */
	char query_error[96]; /* x-amzn-query-error value, "" for none */
	char message[256];
};

/* What to send back; body is owned by the reply. */
struct emulate_reply {
	int http_status;
	const char *content_type;
	char *body;
	size_t body_len;
	char error_code[64]; /* "" on success, else the short code (for the log) */
	char query_error[96]; /* x-amzn-query-error value, "" for none */
	/* Set by an UpdateService that named a desiredCount (for the update log). */
	bool scaled;
	char scaled_cluster[256];
	char scaled_service[256];
	uint32_t scaled_from;
	uint32_t scaled_to;
};

/* The signing identity the emulator accepts. */
struct emulate_auth {
	const char *access_key_id;
	const char *secret_access_key;
	const char *region;
};

/* Which service and operation an X-Amz-Target names; NULL target gives NONE. */
enum emulate_service emulate_target_service(const char *target, const char **operation);

/* The SigV4 signing name of a service ("sqs", "ecs", "sts"). */
const char *emulate_service_signing_name(enum emulate_service service);

/*
 * The access key id req's Authorization names ("" when none), cut to size;
 * meaningful once emulate_auth_verify accepted req.
 */
void emulate_auth_key_id(const struct emulate_http_request *req, char *out, size_t size);

/*
 * Verify req's SigV4 Authorization for service against auth, with now_ms the
 * emulator's wall clock. The key is auth's access key id or a sub-key of it
 * (that id followed by 1 to 16 capital letters or digits, same secret). 0 when valid; -EACCES with
 * *err filled as AWS would answer (UnrecognizedClientException, InvalidSignatureException, ...).
 */
int emulate_auth_verify(const struct emulate_auth *auth, enum emulate_service service,
	const struct emulate_http_request *req, uint64_t now_ms, struct emulate_error *err);

/* Shape err as the service's JSON error reply into *reply. */
void emulate_reply_error(
	enum emulate_service service, const struct emulate_error *err, struct emulate_reply *reply);

/* Fill err with status, type and printf message; the short code is taken from type. */
void emulate_error_set(struct emulate_error *err, int http_status, const char *type,
	const char *query_error, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Answer one authenticated AWS request against world at simulated wall time
 * now_ms: route by X-Amz-Target, validate, run, shape the JSON reply.
 * Always fills *reply (free it with emulate_reply_finish).
 */
void emulate_dispatch(struct world *world, const struct emulate_auth *auth,
	const struct emulate_http_request *req, struct emulate_reply *reply);

/*
 * The same under a fault that shapes the answer rather than replacing it
 * (instance_failure, missing_resource: DescribeContainerInstances); NULL or
 * any other fault answers as emulate_dispatch.
 */
void emulate_dispatch_fault(struct world *world, const struct emulate_auth *auth,
	const struct emulate_http_request *req, const struct scenario_fault *fault,
	struct emulate_reply *reply);

/* Free a reply's body; accepts a zeroed reply. */
void emulate_reply_finish(struct emulate_reply *reply);

/* The value of header name (case-insensitive) in req, or NULL. */
const char *emulate_request_header(const struct emulate_http_request *req, const char *name);

/* Fastest --speed: a simulated day in under nine seconds. */
#define EMULATE_SPEED_MAX 10000.0

/* The server certificate emulate generates: a good one, or one clients must refuse. */
enum emulate_tls_cert {
	EMULATE_TLS_CERT_GOOD, /* for 127.0.0.1, ::1 and localhost, valid now */
	EMULATE_TLS_CERT_EXPIRED, /* expired yesterday */
	EMULATE_TLS_CERT_WRONG_HOST, /* for not-this-host.invalid only */
};

/* HTTPS: the operator's certificate and key, or a generated private CA. */
struct emulate_tls_config {
	bool enabled;
	const char *cert_path; /* PEM chain; with key_path. NULL: generate */
	const char *key_path;
	const char *ca_out; /* generated: where the CA certificate (PEM) is written */
	enum emulate_tls_cert cert; /* generated: which kind of server certificate */
};

struct emulate_config {
	const char *listen; /* "127.0.0.1:0" style; NULL for 127.0.0.1:0 */
	double speed; /* simulated seconds per wall second, (0, EMULATE_SPEED_MAX] */
	struct emulate_tls_config tls;
};

struct emulate;

/*
 * Serve world (borrowed; it must outlive the emulator) on base. Binds at
 * once; -EINVAL for a bad address or speed, -EINVAL for a TLS setting that
 * cannot be used (logged with its cause), -EADDRINUSE or another negative
 * errno when binding fails.
 */
int emulate_create(struct event_base *base, struct world *world, const struct emulate_auth *auth,
	const struct emulate_config *config, struct emulate **out);

/* The bound address as "http://127.0.0.1:PORT" or "https://..." (owned by the emulator). */
const char *emulate_url(const struct emulate *em);

/* Stop serving, drop pending replies and free; accepts NULL. */
void emulate_destroy(struct emulate *em);

#endif
