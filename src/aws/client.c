/*
 * The AWS request pipeline. A call goes: wait for a rate-limit token (ECS),
 * get credentials, sign (SigV4, cached keys, clock offset applied), send over
 * the shared HTTP client, then classify the answer once and either hand it
 * back or retry after a jittered backoff, within the retry quota. Every step
 * is started from the event loop, so a callback never runs inside
 * aws_client_call, and a cancelled call is silently dropped at any step.
 */
#include <errno.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <event2/event.h>

#include "config.h"
#include "qscale/aws_client.h"
#include "qscale/aws_endpoint.h"
#include "qscale/aws_ini.h"
#include "qscale/aws_retry.h"
#include "qscale/aws_settings.h"
#include "qscale/credentials.h"
#include "qscale/ecs_throttle.h"
#include "qscale/http.h"
#include "qscale/log.h"
#include "qscale/sigv4.h"
#include "qscale/xalloc.h"

#define DEFAULT_TIMEOUT_MS 5000
/* An attempt with less time than this left before the call's deadline is not made. */
#define ATTEMPT_MIN_MS 50
#define DEFAULT_CONNECT_TIMEOUT_MS 3000

struct aws_call {
	struct aws_client *client;
	struct aws_call *prev, *next;
	enum aws_service service;
	char *operation;
	char *body;
	size_t body_len;
	char *url; /* origin + "/" */
	char *host;
	char *signing_region;
	char invocation_id[37];
	int attempt; /* attempts sent so far */
	int max_attempts; /* the client's, or fewer as the caller asked */
	uint64_t budget_deadline_ms; /* monotonic; 0: none (aws_call_opts.budget_ms) */
	int quota_cost; /* retry quota taken by this call's retries */
	bool auth_retried;
	bool bucket_token; /* the ECS category token of the next attempt is taken */
	enum ecs_throttle_category category; /* ECS_THROTTLE_NONE for SQS */
	uint64_t start_mono_ms;
	uint64_t send_mono_ms;
	uint64_t deadline_mono_ms; /* set when the first attempt is sent */
	struct event *timer;
	struct credentials_request *creds_req;
	struct http_request *http_req;
	aws_client_cb cb;
	void *arg;
};

struct aws_client {
	struct event_base *base;
	struct clock clock;
	struct http_client *http;
	struct credentials *creds;
	struct sigv4_key_cache *keys;
	struct aws_settings settings;
	char region[AWS_REGION_MAX];
	uint64_t timeout_ms;
	uint64_t connect_timeout_ms;
	int max_attempts;
	enum aws_retry_mode retry_mode;
	struct aws_retry_quota quota;
	struct aws_adaptive adaptive; /* the adaptive mode's client-side rate limiter */
	struct ecs_token_bucket buckets[ECS_THROTTLE_CATEGORY_COUNT];
	int64_t clock_offset_ms;
	struct aws_call *calls;
	struct aws_op_stats *stats;
	size_t n_stats;
	double (*rand01)(void *ctx);
	void *rand_ctx;
	uint64_t rng_state;
	/* Kernel random bytes fetched a batch at a time: each call needs 16. */
	unsigned char uuid_pool[256];
	size_t uuid_pool_used; /* bytes of uuid_pool handed out; a full pool is spent */
	aws_attempt_cb attempt_cb;
	void *attempt_arg;
};

static void attempt_begin(evutil_socket_t fd, short what, void *arg);

/* The monotonic clock in seconds, as the adaptive rate limiter counts. */
static double mono_s(const struct aws_client *client)
{
	return (double)clock_mono_ms(&client->clock) / 1000.0;
}

/* xorshift64*: jitter needs spread, not secrecy. */
static double default_rand01(void *ctx)
{
	uint64_t *s = ctx;

	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (double)((*s * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

/* Fill buf with random bytes, from the kernel when it can. */
static void random_bytes(struct aws_client *client, unsigned char *buf, size_t len)
{
	if (getrandom(buf, len, GRND_NONBLOCK) == (ssize_t)len)
		return;
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(default_rand01(&client->rng_state) * 256.0);
}

/*
 * 16 random bytes for an invocation id: from a pool of kernel random bytes
 * refilled every 16 calls, not one getrandom() per call.
 */
static void uuid_random(struct aws_client *client, unsigned char b[16])
{
	if (client->uuid_pool_used + 16 > sizeof(client->uuid_pool)) {
		random_bytes(client, client->uuid_pool, sizeof(client->uuid_pool));
		client->uuid_pool_used = 0;
	}
	memcpy(b, client->uuid_pool + client->uuid_pool_used, 16);
	/* Never handed out twice. */
	memset(client->uuid_pool + client->uuid_pool_used, 0, 16);
	client->uuid_pool_used += 16;
}

/* A version 4 UUID for amz-sdk-invocation-id. */
static void make_uuid(struct aws_client *client, char out[37])
{
	unsigned char b[16];

	uuid_random(client, b);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	/* 8-4-4-4-12 lowercase hex digits; by hand, as every call makes one. */
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (size_t i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[n++] = '-';
		out[n++] = hex[b[i] >> 4];
		out[n++] = hex[b[i] & 0xf];
	}
	out[n] = '\0';
}

/* The stats row of (service, operation), created on first use. */
static struct aws_op_stats *stats_for(
	struct aws_client *client, enum aws_service service, const char *operation)
{
	for (size_t i = 0; i < client->n_stats; i++)
		if (client->stats[i].service == service &&
			strcmp(client->stats[i].operation, operation) == 0)
			return &client->stats[i];
	client->stats = xreallocarray(client->stats, client->n_stats + 1, sizeof(*client->stats));
	struct aws_op_stats *s = &client->stats[client->n_stats++];
	memset(s, 0, sizeof(*s));
	s->service = service;
	snprintf(s->operation, sizeof(s->operation), "%s", operation);
	return s;
}

/* See qscale/aws_client.h. */
int aws_client_create(struct event_base *base, const struct aws_client_config *config,
	const struct clock *clock, struct aws_client **out)
{
	struct aws_client_config empty = {0};
	struct diag local_diag;
	int r;

	if (config == NULL)
		config = &empty;
	struct aws_settings_input in = {
		.region = config->region,
		.endpoint_sqs = config->endpoint_sqs,
		.endpoint_ecs = config->endpoint_ecs,
		.endpoint_dynamodb = config->endpoint_dynamodb,
		.profile = config->profile,
		.max_attempts = config->max_attempts,
	};
	struct aws_client *client = xcalloc(1, sizeof(*client));
	client->base = base;
	client->clock = *clock;
	r = aws_settings_load(
		&in, &client->settings, config->diag != NULL ? config->diag : &local_diag);
	if (r < 0) {
		free(client);
		return -EINVAL;
	}
	snprintf(client->region, sizeof(client->region), "%s", client->settings.region);
	struct http_client_config hc = {
		.ca_bundle = client->settings.ca_bundle,
		.max_connections = config->max_connections,
	};
	r = http_client_create(base, &hc, &client->http);
	if (r < 0) {
		aws_client_destroy(client);
		return r;
	}
	struct credentials_config cc = {
		.profile = config->profile,
		.imds_v1_disabled = client->settings.imds_v1_disabled,
		.use_fips = client->settings.use_fips,
		.use_dualstack = client->settings.use_dualstack,
		.ignore_configured_urls = client->settings.ignore_configured_urls,
		.region = client->region,
		.sts_timeout_ms = config->timeout_ms,
		.process_timeout_ms = config->credential_process_timeout_ms,
	};
	r = credentials_create(base, client->http, clock, &cc, &client->creds);
	if (r < 0) {
		aws_client_destroy(client);
		return r;
	}
	client->keys = sigv4_key_cache_create();
	client->timeout_ms = config->timeout_ms > 0 ? config->timeout_ms : DEFAULT_TIMEOUT_MS;
	client->connect_timeout_ms = config->connect_timeout_ms > 0 ? config->connect_timeout_ms
								    : DEFAULT_CONNECT_TIMEOUT_MS;
	if (client->connect_timeout_ms > client->timeout_ms)
		client->connect_timeout_ms = client->timeout_ms;
	client->max_attempts = client->settings.max_attempts;
	client->retry_mode = client->settings.retry_mode;
	aws_retry_quota_init(&client->quota);
	uint64_t now = clock_mono_ms(clock);
	aws_adaptive_init(&client->adaptive, (double)now / 1000.0);
	for (int c = 0; c < ECS_THROTTLE_CATEGORY_COUNT; c++) {
		double burst, refill;
		ecs_throttle_limits(c, &burst, &refill);
		ecs_token_bucket_init(&client->buckets[c], burst * AWS_RATE_HEADROOM,
			refill * AWS_RATE_HEADROOM, now);
	}
	random_bytes(client, (unsigned char *)&client->rng_state, sizeof(client->rng_state));
	client->rng_state |= 1;
	client->uuid_pool_used = sizeof(client->uuid_pool);
	client->rand01 = default_rand01;
	client->rand_ctx = &client->rng_state;
	log_debug("aws=client region=%s sqs=%s ecs=%s retry_mode=%s max_attempts=%d",
		client->region, client->settings.endpoint[0], client->settings.endpoint[1],
		aws_retry_mode_name(client->retry_mode), client->max_attempts);
	*out = client;
	return 0;
}

/* Unlink and free a call, stopping whatever it waits for. */
static void call_free(struct aws_call *call)
{
	struct aws_client *client = call->client;

	if (call->prev != NULL)
		call->prev->next = call->next;
	else
		client->calls = call->next;
	if (call->next != NULL)
		call->next->prev = call->prev;
	credentials_request_cancel(call->creds_req);
	http_request_cancel(call->http_req);
	event_free(call->timer);
	free(call->operation);
	free(call->body);
	free(call->url);
	free(call->host);
	free(call->signing_region);
	free(call);
}

/* See qscale/aws_client.h. */
void aws_client_destroy(struct aws_client *client)
{
	if (client == NULL)
		return;
	while (client->calls != NULL)
		call_free(client->calls);
	credentials_destroy(client->creds);
	http_client_destroy(client->http);
	sigv4_key_cache_destroy(client->keys);
	aws_settings_finish(&client->settings);
	free(client->stats);
	free(client);
}

/* Hand the final outcome to the caller and free the call. */
static void call_finish(struct aws_call *call, long status, const char *body, size_t body_len,
	const char *request_id, const struct aws_error *error)
{
	struct aws_client *client = call->client;
	struct aws_op_stats *st = stats_for(client, call->service, call->operation);
	struct aws_response resp = {
		.http_status = status,
		.body = body != NULL ? body : "",
		.body_len = body != NULL ? body_len : 0,
		.attempts = call->attempt,
		.latency_ms = clock_mono_ms(&client->clock) - call->start_mono_ms,
		.request_id = request_id != NULL ? request_id : "",
	};

	if (error != NULL)
		resp.error = *error;
	if (resp.error.err == 0) {
		st->calls_ok++;
		aws_retry_quota_release(&client->quota, call->quota_cost);
	} else {
		st->calls_failed[resp.error.error_class]++;
	}
	st->latency_ms_sum += resp.latency_ms;
	if (resp.latency_ms > st->latency_ms_max)
		st->latency_ms_max = resp.latency_ms;
	aws_client_cb cb = call->cb;
	void *arg = call->arg;
	call->http_req = NULL;
	call_free(call);
	cb(&resp, arg);
}

/* Arm the call's timer to begin the next attempt in delay_ms. */
static void schedule_attempt(struct aws_call *call, uint64_t delay_ms)
{
	struct timeval tv = {
		.tv_sec = (time_t)(delay_ms / 1000),
		.tv_usec = (suseconds_t)((delay_ms % 1000) * 1000),
	};

	evtimer_add(call->timer, &tv);
}

/* Tell the attempt observer what happened. */
static void report_attempt(struct aws_call *call, long status, const struct aws_error *error,
	bool will_retry, uint64_t delay_ms)
{
	struct aws_client *client = call->client;

	if (client->attempt_cb == NULL)
		return;
	struct aws_attempt_event ev = {
		.service = call->service,
		.operation = call->operation,
		.attempt = call->attempt,
		.http_status = status,
		.error = error,
		.will_retry = will_retry,
		.delay_ms = delay_ms,
	};
	client->attempt_cb(&ev, client->attempt_arg);
}

/* Track the server's clock; true when this response shows a skew worth correcting. */
static bool update_clock_offset(struct aws_call *call, const struct http_response *resp)
{
	struct aws_client *client = call->client;
	uint64_t now_wall = clock_wall_ms(&client->clock);
	uint64_t rtt = clock_mono_ms(&client->clock) - call->send_mono_ms;
	int64_t offset;

	if (!aws_clock_skew_from_response(resp->date, resp->age, now_wall, rtt, &offset))
		return false;
	int64_t delta = offset - client->clock_offset_ms;
	if (delta > -AWS_CLOCK_SKEW_RETRY_MS && delta < AWS_CLOCK_SKEW_RETRY_MS)
		return false;
	log_debug("aws=clock_skew offset_ms=%" PRId64, offset);
	client->clock_offset_ms = offset;
	return true;
}

/* The HTTP answer to one attempt: success, retry, or final failure. */
static void http_done(const struct http_response *resp, void *arg)
{
	struct aws_call *call = arg;
	struct aws_client *client = call->client;
	struct aws_op_stats *st = stats_for(client, call->service, call->operation);
	struct aws_error error;

	call->http_req = NULL;
	bool skew_corrected = resp->err == 0 && update_clock_offset(call, resp);
	if (resp->err != 0) {
		aws_error_from_transport(resp->err, resp->transport_error, &error);
	} else if (resp->status >= 200 && resp->status < 300) {
		if (client->retry_mode == AWS_RETRY_MODE_ADAPTIVE)
			aws_adaptive_on_response(&client->adaptive, mono_s(client), false);
		report_attempt(call, resp->status, &(struct aws_error){0}, false, 0);
		call_finish(call, resp->status, resp->body, resp->body_len, resp->request_id, NULL);
		return;
	} else {
		aws_error_parse(resp->status, resp->query_error, resp->error_type, resp->body,
			resp->body_len, &error);
	}
	if (error.error_class == AWS_ERROR_THROTTLING)
		st->throttles++;
	if (client->retry_mode == AWS_RETRY_MODE_ADAPTIVE)
		aws_adaptive_on_response(&client->adaptive, mono_s(client),
			error.error_class == AWS_ERROR_THROTTLING);

	bool retry = false;
	uint64_t delay_ms = 0;
	bool more = call->attempt < call->max_attempts;
	if (skew_corrected &&
		(error.error_class == AWS_ERROR_CLOCK_SKEW ||
			aws_error_is_skew_capable(error.code))) {
		/* Signed with a wrong clock: the offset is fixed now, so try again. */
		error.retryable = true;
		retry = more;
	} else if (error.error_class == AWS_ERROR_AUTH) {
		credentials_invalidate(client->creds);
		retry = more && !call->auth_retried;
		call->auth_retried = true;
	} else if (error.retryable && more && client->retry_mode == AWS_RETRY_MODE_LEGACY) {
		/* Legacy mode has no retry quota. */
		retry = true;
		delay_ms = aws_retry_legacy_delay_ms(
			call->attempt - 1, client->rand01(client->rand_ctx));
	} else if (error.retryable && more) {
		int cost = aws_retry_quota_acquire(
			&client->quota, error.error_class == AWS_ERROR_THROTTLING);
		if (cost > 0) {
			call->quota_cost += cost;
			retry = true;
			delay_ms = aws_retry_delay_ms(call->attempt - 1,
				error.error_class == AWS_ERROR_THROTTLING,
				client->rand01(client->rand_ctx), resp->amz_retry_after,
				resp->retry_after);
		}
	}
	/* A retry that could not start before the deadline is no retry. */
	if (retry &&
		clock_mono_ms(&client->clock) + delay_ms + ATTEMPT_MIN_MS >
			call->deadline_mono_ms) {
		retry = false;
		delay_ms = 0;
	}
	log_debug("aws=attempt op=%s attempt=%d status=%ld code=%s class=%s retry=%s "
		  "delay_ms=%" PRIu64,
		call->operation, call->attempt, resp->status, LOG_Q(error.code),
		aws_error_class_name(error.error_class), retry ? "yes" : "no", delay_ms);
	report_attempt(call, resp->status, &error, retry, delay_ms);
	if (!retry) {
		call_finish(call, resp->status, resp->err == 0 ? resp->body : NULL,
			resp->err == 0 ? resp->body_len : 0, resp->request_id, &error);
		return;
	}
	schedule_attempt(call, delay_ms);
}

/*
 * aws.timeout bounds the whole call, from its first attempt: the time this
 * attempt may take (what is left), false when too little is left to try.
 */
static bool attempt_budget(struct aws_call *call, uint64_t *timeout_ms)
{
	uint64_t now = clock_mono_ms(&call->client->clock);

	if (call->attempt == 0) {
		call->deadline_mono_ms = now + call->client->timeout_ms;
		/* A caller's budget counts from the call's start and may end sooner. */
		if (call->budget_deadline_ms != 0 &&
			call->budget_deadline_ms < call->deadline_mono_ms)
			call->deadline_mono_ms = call->budget_deadline_ms;
	}
	if (now + ATTEMPT_MIN_MS > call->deadline_mono_ms)
		return false;
	*timeout_ms = call->deadline_mono_ms - now;
	return true;
}

/* The chain gave no credentials: the call fails, naming the provider and its reason. */
static void fail_credentials(struct aws_call *call, int err)
{
	struct credentials_info info;
	struct aws_error error;

	credentials_get_info(call->client->creds, &info);
	aws_error_from_transport(err, "no usable AWS credentials", &error);
	/* Say which provider failed and why, not just an errno. */
	if (info.error_text[0] != '\0')
		snprintf(error.message, sizeof(error.message), "no usable AWS credentials: %.480s",
			info.error_text);
	error.error_class = AWS_ERROR_AUTH;
	error.retryable = false;
	call_finish(call, 0, NULL, 0, NULL, &error);
}

/* The JSON protocol of a service: its Content-Type and X-Amz-Target prefix. */
static void service_protocol(
	enum aws_service service, const char **content_type, const char **target_prefix)
{
	if (service == AWS_SERVICE_SQS) {
		*content_type = "application/x-amz-json-1.0";
		*target_prefix = "AmazonSQS";
	} else if (service == AWS_SERVICE_DYNAMODB) {
		*content_type = "application/x-amz-json-1.0";
		*target_prefix = "DynamoDB_20120810";
	} else {
		*content_type = "application/x-amz-json-1.1";
		*target_prefix = "AmazonEC2ContainerServiceV20141113";
	}
}

/*
 * Sign the attempt's signed_headers (n_signed of them) at the corrected
 * time and hand it to the HTTP client; a negative errno, with error filled,
 * when it could not be signed or started.
 */
static int sign_and_send(struct aws_call *call, const struct sigv4_credentials *creds,
	const struct sigv4_header *signed_headers, size_t n_signed, uint64_t attempt_timeout_ms,
	struct aws_error *error)
{
	struct aws_client *client = call->client;
	struct sigv4_request req = {
		.method = "POST",
		.path = "/",
		.query = NULL,
		.headers = signed_headers,
		.n_headers = n_signed,
		.body = call->body,
		.body_len = call->body_len,
	};
	int64_t now = (int64_t)clock_wall_ms(&client->clock) + client->clock_offset_ms;
	struct sigv4_params params = {
		.region = call->signing_region,
		.service = aws_service_name(call->service),
		.time_ms = now > 0 ? (uint64_t)now : 0,
		.normalize_path = true,
	};
	struct sigv4_signed sig = {0};
	int r = sigv4_sign(&req, creds, &params, client->keys, &sig);
	if (r < 0) {
		aws_error_from_transport(r, "request could not be signed", error);
		error->error_class = AWS_ERROR_FATAL;
		error->retryable = false;
		return r;
	}
	struct http_header headers[12];
	size_t n = 0;
	for (size_t i = 0; i < n_signed; i++)
		headers[n++] =
			(struct http_header){signed_headers[i].name, signed_headers[i].value};
	headers[n++] = (struct http_header){"X-Amz-Date", sig.amz_date};
	if (sig.security_token != NULL)
		headers[n++] = (struct http_header){"X-Amz-Security-Token", sig.security_token};
	headers[n++] = (struct http_header){"Authorization", sig.authorization};
	headers[n++] = (struct http_header){"User-Agent", "qscale/" QSCALE_VERSION};
	struct http_request_opts opts = {
		.method = "POST",
		.url = call->url,
		.headers = headers,
		.n_headers = n,
		.body = call->body,
		.body_len = call->body_len,
		.timeout_ms = attempt_timeout_ms,
		.connect_timeout_ms = client->connect_timeout_ms < attempt_timeout_ms
			? client->connect_timeout_ms
			: attempt_timeout_ms,
	};
	call->send_mono_ms = clock_mono_ms(&client->clock);
	struct aws_op_stats *st = stats_for(client, call->service, call->operation);
	st->attempts++;
	if (call->attempt > 1)
		st->retries++;
	r = http_request_start(client->http, &opts, http_done, call, &call->http_req);
	sigv4_signed_finish(&sig);
	if (r < 0)
		aws_error_from_transport(r, "request could not be started", error);
	return r;
}

/* Credentials are there (or not): sign and send one attempt. */
static void creds_ready(int err, const struct sigv4_credentials *creds, void *arg)
{
	struct aws_call *call = arg;
	struct aws_error error;
	char amz_request[64];
	const char *content_type, *target_prefix;
	uint64_t attempt_timeout_ms;

	call->creds_req = NULL;
	if (err != 0) {
		fail_credentials(call, err);
		return;
	}
	if (!attempt_budget(call, &attempt_timeout_ms)) {
		aws_error_from_transport(-ETIMEDOUT,
			call->attempt == 0
				? "the call's time budget ran out before its first attempt"
				: "aws.timeout passed before a retry",
			&error);
		call_finish(call, 0, NULL, 0, NULL, &error);
		return;
	}
	service_protocol(call->service, &content_type, &target_prefix);
	call->attempt++;
	snprintf(amz_request, sizeof(amz_request), "attempt=%d; max=%d", call->attempt,
		call->max_attempts);
	char *target = xasprintf("%s.%s", target_prefix, call->operation);
	struct sigv4_header signed_headers[] = {
		{"Host", call->host},
		{"Content-Type", content_type},
		{"X-Amz-Target", target},
		{"amz-sdk-invocation-id", call->invocation_id},
		{"amz-sdk-request", amz_request},
		{"x-amzn-query-mode", "true"},
	};
	/* x-amzn-query-mode is SQS's alone (AWS.md 1.1). */
	size_t n_signed = call->service == AWS_SERVICE_SQS ? 6 : 5;
	int r = sign_and_send(call, creds, signed_headers, n_signed, attempt_timeout_ms, &error);

	free(target);
	if (r < 0)
		call_finish(call, 0, NULL, 0, NULL, &error);
}

/* Timer: take a rate-limit token (or wait for one), then ask for credentials. */
static void attempt_begin(evutil_socket_t fd, short what, void *arg)
{
	struct aws_call *call = arg;
	struct aws_client *client = call->client;

	(void)fd;
	(void)what;
	if (call->category != ECS_THROTTLE_NONE && !call->bucket_token) {
		uint64_t wait_ms = ecs_token_bucket_take(
			&client->buckets[call->category], clock_mono_ms(&client->clock));
		if (wait_ms > 0) {
			/* Over our share of the API rate: delay, never fail. */
			schedule_attempt(call, wait_ms > 60000 ? 60000 : wait_ms);
			return;
		}
		call->bucket_token = true;
	}
	if (client->retry_mode == AWS_RETRY_MODE_ADAPTIVE) {
		uint64_t wait_ms = aws_adaptive_acquire(&client->adaptive, mono_s(client));
		if (wait_ms > 0) {
			/* Adaptive mode paces attempts after throttling: wait for a token. */
			schedule_attempt(call, wait_ms > 60000 ? 60000 : wait_ms);
			return;
		}
	}
	call->bucket_token = false;
	credentials_get(client->creds, creds_ready, call, &call->creds_req);
}

/* Whether an operation name is a plain identifier. */
static bool operation_valid(const char *op)
{
	size_t n = op != NULL ? strlen(op) : 0;

	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((op[i] >= 'A' && op[i] <= 'Z') || (op[i] >= 'a' && op[i] <= 'z') ||
			    (op[i] >= '0' && op[i] <= '9')))
			return false;
	return true;
}

/* See qscale/aws_client.h. */
int aws_client_call(struct aws_client *client, enum aws_service service, const char *operation,
	const char *body, size_t body_len, const struct aws_call_opts *opts, aws_client_cb cb,
	void *arg, struct aws_call **out)
{
	char *origin = NULL, *host = NULL;
	char region_buf[AWS_REGION_MAX];

	if ((service != AWS_SERVICE_SQS && service != AWS_SERVICE_ECS &&
		    service != AWS_SERVICE_DYNAMODB) ||
		!operation_valid(operation) || cb == NULL || (body == NULL && body_len > 0))
		return -EINVAL;
	if (opts != NULL && opts->endpoint != NULL &&
		aws_endpoint_parse(opts->endpoint, &origin, &host) < 0)
		return -EINVAL;
	const char *region = client->region;
	if (opts != NULL && opts->signing_region != NULL) {
		if (aws_region_resolve(
			    opts->signing_region, aws_env_system, NULL, NULL, region_buf) < 0) {
			free(origin);
			free(host);
			return -EINVAL;
		}
		region = region_buf;
	}
	struct aws_call *call = xcalloc(1, sizeof(*call));
	call->client = client;
	call->service = service;
	call->operation = xstrdup(operation);
	if (body == NULL || body_len == 0) {
		call->body = xstrdup("{}");
		call->body_len = 2;
	} else {
		call->body = xstrndup(body, body_len);
		call->body_len = body_len;
	}
	call->url = xasprintf("%s/", origin != NULL ? origin : client->settings.endpoint[service]);
	call->host = host != NULL ? host : xstrdup(client->settings.host[service]);
	free(origin);
	call->signing_region = xstrdup(region);
	call->category = service == AWS_SERVICE_ECS ? ecs_throttle_category_of(operation)
						    : ECS_THROTTLE_NONE;
	call->max_attempts = client->max_attempts;
	if (opts != NULL && opts->budget_ms > 0)
		call->budget_deadline_ms = clock_mono_ms(&client->clock) + opts->budget_ms;
	if (opts != NULL && opts->max_attempts > 0 && opts->max_attempts < client->max_attempts)
		call->max_attempts = opts->max_attempts;
	call->start_mono_ms = clock_mono_ms(&client->clock);
	call->cb = cb;
	call->arg = arg;
	call->timer = evtimer_new(client->base, attempt_begin, call);
	make_uuid(client, call->invocation_id);
	stats_for(client, service, operation);
	call->next = client->calls;
	if (client->calls != NULL)
		client->calls->prev = call;
	client->calls = call;
	schedule_attempt(call, 0);
	if (out != NULL)
		*out = call;
	return 0;
}

/* See qscale/aws_client.h. */
void aws_call_cancel(struct aws_call *call)
{
	if (call != NULL)
		call_free(call);
}

/* See qscale/aws_client.h. */
void aws_client_http_stats(const struct aws_client *client, struct http_client_stats *out)
{
	http_client_get_stats(client->http, out);
}

/* See qscale/aws_client.h. */
const char *aws_client_region(const struct aws_client *client)
{
	return client->region;
}

/* See qscale/aws_client.h. */
const struct aws_op_stats *aws_client_stats(const struct aws_client *client, size_t *n)
{
	*n = client->n_stats;
	return client->stats;
}

/* See qscale/aws_client.h. */
void aws_client_set_attempt_cb(struct aws_client *client, aws_attempt_cb cb, void *arg)
{
	client->attempt_cb = cb;
	client->attempt_arg = arg;
}

/* See qscale/aws_client.h. */
void aws_client_set_random(struct aws_client *client, double (*rand01)(void *ctx), void *ctx)
{
	client->rand01 = rand01 != NULL ? rand01 : default_rand01;
	client->rand_ctx = rand01 != NULL ? ctx : &client->rng_state;
}

/* See qscale/aws_client.h. */
int64_t aws_client_clock_offset_ms(const struct aws_client *client)
{
	return client->clock_offset_ms;
}

/* See qscale/aws_client.h. */
struct credentials *aws_client_credentials(struct aws_client *client)
{
	return client->creds;
}

/* See qscale/aws_client.h. */
const char *aws_client_endpoint(const struct aws_client *client, enum aws_service service)
{
	if ((int)service < 0 || service >= AWS_SERVICE_COUNT)
		return NULL;
	return client->settings.endpoint[service];
}

/* See qscale/aws_client.h. */
const struct aws_settings *aws_client_settings(const struct aws_client *client)
{
	return &client->settings;
}
