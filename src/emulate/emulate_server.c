/*
 * The emulator's HTTP side on libevent's evhttp: bind on loopback, keep the
 * world in step with the wall clock (times the speed-up), route admin paths,
 * verify SigV4, apply the scenario's faults (errors, latency by timer,
 * dropped connections, partitions that never answer) and send replies with
 * x-amzn-RequestId. Replies held back (latency, partition) live on a list
 * that follows libevent's connection and request lifetimes. Over TLS each
 * connection gets an OpenSSL bufferevent on the context emulate_tls.c made.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "emulate_priv.h"
#include "qscale/clock.h"
#include "qscale/listen_addr.h"
#include "qscale/log.h"
#include "qscale/scenario.h"
#include "qscale/world.h"
#include "qscale/xalloc.h"

/* How often the world is stepped while no request arrives. */
#define TICK_MS 100

/* Most requests held unanswered at once during a partition. */
#define HELD_MAX 256

/* Most headers read from one request. */
#define HEADERS_MAX 128

enum pending_kind {
	PENDING_DELAY, /* send reply when the timer fires */
	PENDING_HOLD, /* never answer; close once the partition ends */
};

/* A reply held back; req is NULL once libevent has freed the request. */
struct pending {
	struct emulate *em;
	struct evhttp_request *req;
	enum pending_kind kind;
	struct event *timer;
	struct emulate_reply reply;
	char request_id[40];
	bool drop; /* send half the body, then close */
	bool malformed; /* send half the body as a complete 200 */
	uint64_t release_t_ms; /* PENDING_HOLD: world time the partition ends */
	struct pending *next;
};

struct emulate {
	struct event_base *base;
	struct emulate_state st;
	struct emulate_auth auth;
	struct evhttp *http;
	SSL_CTX *ssl_ctx; /* NULL: plain HTTP */
	struct event *tick;
	char *url;
	struct pending *pending;
	size_t held;
};

uint64_t emulate_state_sync(struct emulate_state *st)
{
	uint64_t elapsed = clock_mono_ms(&clock_system) - st->start_mono_ms;
	uint64_t t = st->skipped_ms + (uint64_t)((double)elapsed * st->speed);

	if (t > world_now_ms(st->world))
		world_advance(st->world, t);
	return world_now_ms(st->world);
}

/* A random request id in the UUID form AWS uses. */
static void request_id(char out[40])
{
	unsigned char b[16] = {0};

	if (RAND_bytes(b, sizeof(b)) != 1) {
		uint64_t now = clock_mono_ms(&clock_system);

		memcpy(b, &now, sizeof(now));
	}
	snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		b[13], b[14], b[15]);
}

/* Unlink p from the pending list and free it (not the request). */
static void pending_free(struct emulate *em, struct pending *p)
{
	for (struct pending **pp = &em->pending; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	if (p->kind == PENDING_HOLD && em->held > 0)
		em->held--;
	if (p->timer != NULL)
		event_free(p->timer);
	emulate_reply_finish(&p->reply);
	free(p);
}

/* libevent finished a request we still hold: forget it. */
static void on_request_complete(struct evhttp_request *req, void *arg)
{
	struct emulate *em = arg;

	for (struct pending *p = em->pending; p != NULL; p = p->next) {
		if (p->req == req)
			p->req = NULL;
	}
}

/* A connection is closing: its requests die with it unless detached. */
static void on_connection_close(struct evhttp_connection *evcon, void *arg)
{
	struct emulate *em = arg;

	for (struct pending *p = em->pending; p != NULL; p = p->next) {
		if (p->req != NULL && evhttp_request_get_connection(p->req) == evcon)
			p->req = NULL;
	}
}

/* Send a reply now: full, dropped half-way, or malformed. */
static void send_reply(struct evhttp_request *req, const struct emulate_reply *reply,
	const char *rid, bool drop, bool malformed)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct evbuffer *body = evbuffer_new();
	size_t len = reply->body_len;

	evhttp_add_header(out, "x-amzn-RequestId", rid);
	evhttp_add_header(out, "Content-Type", reply->content_type);
	if (reply->query_error[0] != '\0')
		evhttp_add_header(out, "x-amzn-query-error", reply->query_error);
	if (drop || malformed)
		len = reply->body_len / 2;
	evbuffer_add(body, reply->body, len);
	if (drop) {
		char full[32];

		/* Promise the whole body, deliver half, then hang up. */
		snprintf(full, sizeof(full), "%zu", reply->body_len);
		evhttp_add_header(out, "Content-Length", full);
		evhttp_add_header(out, "Connection", "close");
		evhttp_send_reply_start(req, reply->http_status, NULL);
		evhttp_send_reply_chunk(req, body);
		evhttp_send_reply_end(req);
	} else {
		evhttp_send_reply(req, malformed ? 200 : reply->http_status, NULL, body);
	}
	evbuffer_free(body);
}

/* Close a held request's connection without a word; frees what libevent owns. */
static void hang_up(struct pending *p)
{
	struct evhttp_request *req = p->req;
	struct evhttp_connection *evcon;

	if (req == NULL)
		return;
	evcon = evhttp_request_get_connection(req);
	evhttp_request_set_on_complete_cb(req, NULL, NULL);
	p->req = NULL;
	if (evcon == NULL)
		evhttp_request_free(req); /* detached: the client left, nobody else owns it */
	else
		evhttp_connection_free(evcon); /* frees req with it */
}

/* Timer for a delayed reply. */
static void on_delay(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;
	struct emulate *em = p->em;

	if (p->req != NULL) {
		evhttp_request_set_on_complete_cb(p->req, NULL, NULL);
		send_reply(p->req, &p->reply, p->request_id, p->drop, p->malformed);
	}
	pending_free(em, p);
}

/* Periodic step: keep the world moving and end holds whose partition is over. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct emulate *em = arg;
	uint64_t t = emulate_state_sync(&em->st);
	struct pending *p = em->pending;

	while (p != NULL) {
		struct pending *next = p->next;

		if (p->kind == PENDING_HOLD && (t >= p->release_t_ms || p->req == NULL)) {
			hang_up(p);
			pending_free(em, p);
		}
		p = next;
	}
}

/* Append a pending entry for req and watch its lifetime. */
static struct pending *pending_add(
	struct emulate *em, struct evhttp_request *req, enum pending_kind kind)
{
	struct pending *p = xcalloc(1, sizeof(*p));

	p->em = em;
	p->req = req;
	p->kind = kind;
	p->next = em->pending;
	em->pending = p;
	evhttp_request_set_on_complete_cb(req, on_request_complete, em);
	if (evhttp_request_get_connection(req) != NULL)
		evhttp_connection_set_closecb(
			evhttp_request_get_connection(req), on_connection_close, em);
	if (kind == PENDING_HOLD)
		em->held++;
	return p;
}

/* Copy up to HEADERS_MAX request headers into out. */
static size_t collect_headers(struct evhttp_request *req, struct emulate_header *out)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyval *kv;
	size_t n = 0;

	for (kv = in->tqh_first; kv != NULL; kv = kv->next.tqe_next) {
		if (n == HEADERS_MAX)
			break;
		out[n].name = kv->key;
		out[n].value = kv->value;
		n++;
	}
	return n;
}

/* The request method as text. */
static const char *method_name(struct evhttp_request *req)
{
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	default:
		return "OTHER";
	}
}

/* Record one request in the log. */
static void log_request(struct emulate *em, const char *target, const struct emulate_reply *reply,
	const char *fault, uint64_t latency_ms, bool answered)
{
	struct emulate_log_request *e = emulate_log_add(&em->st.requests);

	e->wall_ms = clock_wall_ms(&clock_system);
	e->t_ms = world_now_ms(em->st.world);
	snprintf(e->target, sizeof(e->target), "%s", target != NULL ? target : "");
	e->http_status = answered && reply != NULL ? reply->http_status : 0;
	snprintf(e->error_code, sizeof(e->error_code), "%s",
		reply != NULL && answered ? reply->error_code : "");
	snprintf(e->fault, sizeof(e->fault), "%s", fault != NULL ? fault : "");
	e->latency_ms = latency_ms;
	log_debug("emulate target=%s status=%d error=%s fault=%s", LOG_Q(e->target), e->http_status,
		LOG_Q(e->error_code), LOG_Q(e->fault));
}

/* Record an UpdateService that set a count. */
static void log_update(struct emulate *em, const struct emulate_http_request *req,
	const struct emulate_reply *reply)
{
	struct emulate_log_update *u = emulate_log_add(&em->st.updates);

	u->wall_ms = clock_wall_ms(&clock_system);
	u->t_ms = world_now_ms(em->st.world);
	snprintf(u->cluster, sizeof(u->cluster), "%s", reply->scaled_cluster);
	snprintf(u->service, sizeof(u->service), "%s", reply->scaled_service);
	u->from = reply->scaled_from;
	u->to = reply->scaled_to;
	emulate_auth_key_id(req, u->access_key_id, sizeof(u->access_key_id));
	log_info("emulate update cluster=%s service=%s desired=%" PRIu32 "->%" PRIu32
		 " access_key_id=%s",
		u->cluster, u->service, u->from, u->to, u->access_key_id);
}

/* Answer an admin request at once. */
static void handle_admin(struct emulate *em, struct evhttp_request *req, const char *uri)
{
	struct evbuffer *out = evbuffer_new();
	char *body = NULL;
	int status = 0;

	emulate_admin_handle(&em->st, method_name(req), uri, NULL, 0, &status, &body);
	evhttp_add_header(
		evhttp_request_get_output_headers(req), "Content-Type", "application/json");
	evbuffer_add(out, body, strlen(body));
	evhttp_send_reply(req, status, NULL, out);
	evbuffer_free(out);
	free(body);
}

/* Which service's faults apply to a request. */
static enum scenario_fault_target fault_target(enum emulate_service service)
{
	return service == EMULATE_SERVICE_SQS ? SCENARIO_TARGET_SQS : SCENARIO_TARGET_ECS;
}

/*
 * Answer a request to service into reply: refused when it must be signed
 * and is not (the fault then does not matter: *fault_name says so), else
 * the operation, the fault's reply, or the operation under the fault.
 */
static void answer(struct emulate *em, enum emulate_service service,
	const struct emulate_http_request *hreq, struct world_fault_hit *hit,
	const char **fault_name, struct emulate_reply *reply)
{
	struct emulate_error err;
	uint64_t now_wall = clock_wall_ms(&clock_system);
	bool must_sign = service == EMULATE_SERVICE_SQS || service == EMULATE_SERVICE_ECS ||
		(service == EMULATE_SERVICE_STS && emulate_sts_signed(hreq));
	if (must_sign && emulate_auth_verify(&em->auth, service, hreq, now_wall, &err) < 0) {
		/* Refused before any fault could matter: say so in the log. */
		emulate_reply_error(service, &err, reply);
		hit->fault = NULL;
		*fault_name = hit->latency_ms > 0 ? "latency" : NULL;
	} else if (service == EMULATE_SERVICE_STS) {
		emulate_sts_dispatch(em->st.world, &em->auth, hreq, now_wall, reply);
	} else if (service == EMULATE_SERVICE_SSO) {
		emulate_sso_dispatch(&em->auth, hreq, now_wall, reply);
	} else if (hit->fault == NULL || !emulate_fault_reply(service, hit->fault->kind, reply)) {
		emulate_dispatch_fault(em->st.world, &em->auth, hreq, hit->fault, reply);
		if (reply->scaled)
			log_update(em, hreq, reply);
	}
}

/* Send reply now, or after the fault's latency; a dropped or malformed one as the fault says. */
static void deliver(struct emulate *em, struct evhttp_request *req, const char *target,
	struct emulate_reply *reply, const struct world_fault_hit *hit, const char *fault_name,
	const char rid[40])
{
	/* A lost answer: the call above was carried out, then the connection goes. */
	bool drop = hit->fault != NULL &&
		(hit->fault->kind == SCENARIO_FAULT_DROP ||
			hit->fault->kind == SCENARIO_FAULT_LOST_ANSWER);
	bool malformed = hit->fault != NULL && hit->fault->kind == SCENARIO_FAULT_MALFORMED;
	uint64_t delay_ms = (uint64_t)((double)hit->latency_ms / em->st.speed);

	log_request(em, target, reply, fault_name, hit->latency_ms, !drop);
	if (delay_ms == 0) {
		send_reply(req, reply, rid, drop, malformed);
		emulate_reply_finish(reply);
		return;
	}
	struct pending *p = pending_add(em, req, PENDING_DELAY);
	struct timeval tv = {
		.tv_sec = (time_t)(delay_ms / 1000),
		.tv_usec = (suseconds_t)(delay_ms % 1000) * 1000,
	};

	p->reply = *reply;
	p->drop = drop;
	p->malformed = malformed;
	memcpy(p->request_id, rid, sizeof(p->request_id));
	p->timer = evtimer_new(em->base, on_delay, p);
	/* Count the delay from now, not from the loop's cached time, so it is never short. */
	event_base_update_cache_time(em->base);
	evtimer_add(p->timer, &tv);
}

/* Every request lands here. */
static void on_request(struct evhttp_request *req, void *arg)
{
	struct emulate *em = arg;
	const char *uri = evhttp_request_get_uri(req);
	struct emulate_header headers[HEADERS_MAX];
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t body_len = evbuffer_get_length(in);
	struct emulate_reply reply = {0};
	struct world_fault_hit hit = {0};
	const char *operation = NULL;
	const char *fault_name = NULL;
	char rid[40];

	emulate_state_sync(&em->st);
	if (strncmp(uri, "/_qscale/", 9) == 0) {
		if (em->ssl_ctx != NULL)
			emulate_tls_count(em->ssl_ctx, &em->st.conn);
		handle_admin(em, req, uri);
		return;
	}

	struct emulate_http_request hreq = {
		.method = method_name(req),
		.uri = uri,
		.headers = headers,
		.n_headers = collect_headers(req, headers),
		.body = body_len > 0 ? (const char *)evbuffer_pullup(in, -1) : "",
		.body_len = body_len,
	};
	const char *target = emulate_request_header(&hreq, "x-amz-target");
	enum emulate_service service = emulate_target_service(target, &operation);
	/* STS and SSO name no target: the form or the path says which. */
	bool identity = false;
	if (service == EMULATE_SERVICE_NONE) {
		service = emulate_sts_service(&hreq);
		identity = service != EMULATE_SERVICE_NONE;
		if (identity)
			target = service == EMULATE_SERVICE_STS ? "STS" : "SSO.GetRoleCredentials";
	}

	if (service != EMULATE_SERVICE_NONE && !identity &&
		world_fault_pick(em->st.world, fault_target(service), operation, &hit) &&
		hit.fault != NULL) {
		fault_name = scenario_fault_kind_name(hit.fault->kind);
		if (hit.fault->kind == SCENARIO_FAULT_PARTITION) {
			bool full = em->held >= HELD_MAX;
			struct pending *p = pending_add(em, req, PENDING_HOLD);

			/* Past the cap, hang up at the next tick instead of holding. */
			p->release_t_ms = full ? 0 : hit.fault->end_ms;
			log_request(em, target, NULL, fault_name, 0, false);
			return;
		}
	}
	if (fault_name == NULL && hit.latency_ms > 0)
		fault_name = "latency";

	request_id(rid);
	answer(em, service, &hreq, &hit, &fault_name, &reply);
	deliver(em, req, target, &reply, &hit, fault_name, rid);
}

/* A new connection: count it, and over TLS wrap it in OpenSSL. */
static struct bufferevent *on_connection(struct event_base *base, void *arg)
{
	struct emulate *em = arg;

	em->st.conn.connections++;
	if (em->ssl_ctx == NULL)
		return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	SSL *ssl = SSL_new(em->ssl_ctx);

	if (ssl == NULL)
		return NULL;
	/* The bufferevent owns ssl from here and frees it with the connection. */
	return bufferevent_openssl_socket_new(
		base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

/* The URL of a bound socket: "http://HOST:PORT" (https with TLS). */
static char *bound_url(evutil_socket_t fd, bool tls)
{
	const char *scheme = tls ? "https" : "http";
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return NULL;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		return xasprintf("%s://%s:%u", scheme, host, (unsigned)ntohs(sin->sin_port));
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
	return xasprintf("%s://[%s]:%u", scheme, host, (unsigned)ntohs(sin6->sin6_port));
}

int emulate_create(struct event_base *base, struct world *world, const struct emulate_auth *auth,
	const struct emulate_config *config, struct emulate **out)
{
	const char *listen = config->listen != NULL ? config->listen : "127.0.0.1:0";
	struct evhttp_bound_socket *bound;
	struct listen_addr la;
	uint16_t port;
	int fd, r;

	/* Numeric hosts (or localhost) only, as for the metrics endpoint: never DNS. */
	if (!(config->speed > 0) || config->speed > EMULATE_SPEED_MAX ||
		listen_addr_parse(listen, &la) < 0 || !la.enabled)
		return -EINVAL;
	r = listen_addr_open(&la, 128, &fd, &port);
	if (r < 0)
		return r;

	struct emulate *em = xcalloc(1, sizeof(*em));

	em->base = base;
	em->auth = *auth;
	em->st.world = world;
	em->st.speed = config->speed;
	em->st.start_mono_ms = clock_mono_ms(&clock_system);
	em->st.skipped_ms = world_now_ms(world);
	emulate_log_init(&em->st.requests, sizeof(struct emulate_log_request));
	emulate_log_init(&em->st.updates, sizeof(struct emulate_log_update));
	if (config->tls.enabled) {
		char err[400];

		r = emulate_tls_context(&config->tls, &em->ssl_ctx, err, sizeof(err));
		if (r < 0) {
			log_error("emulate tls=off error=%s", LOG_Q(err));
			close(fd);
			emulate_destroy(em);
			return r;
		}
		em->st.tls = true;
	}
	em->http = evhttp_new(base);
	evhttp_set_bevcb(em->http, on_connection, em);
	evhttp_set_max_body_size(em->http, EMULATE_MAX_BODY);
	evhttp_set_max_headers_size(em->http, 64 * 1024);
	evhttp_set_allowed_methods(em->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_timeout(em->http, 120);
	evhttp_set_gencb(em->http, on_request, em);
	bound = evhttp_accept_socket_with_handle(em->http, fd);
	if (bound == NULL) {
		close(fd);
		emulate_destroy(em);
		return -EIO;
	}
	em->url = bound_url(evhttp_bound_socket_get_fd(bound), em->ssl_ctx != NULL);
	if (em->url == NULL) {
		emulate_destroy(em);
		return -EIO;
	}
	em->st.url = em->url;
	em->tick = event_new(base, -1, EV_PERSIST, on_tick, em);
	struct timeval tv = {.tv_sec = 0, .tv_usec = TICK_MS * 1000};

	event_add(em->tick, &tv);
	*out = em;
	return 0;
}

const char *emulate_url(const struct emulate *em)
{
	return em->url;
}

void emulate_destroy(struct emulate *em)
{
	if (em == NULL)
		return;
	while (em->pending != NULL) {
		struct pending *p = em->pending;

		/* Detached requests are ours to free; the rest go with evhttp_free. */
		if (p->req != NULL && evhttp_request_get_connection(p->req) == NULL)
			evhttp_request_free(p->req);
		else if (p->req != NULL)
			evhttp_request_set_on_complete_cb(p->req, NULL, NULL);
		pending_free(em, p);
	}
	if (em->tick != NULL)
		event_free(em->tick);
	if (em->http != NULL)
		evhttp_free(em->http);
	SSL_CTX_free(em->ssl_ctx);
	emulate_log_finish(&em->st.requests);
	emulate_log_finish(&em->st.updates);
	free(em->url);
	free(em);
}
