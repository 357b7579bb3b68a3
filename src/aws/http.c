/*
 * libcurl multi on libevent, after curl's hiperfifo example: libcurl tells us
 * which sockets to watch (one event per socket) and when to wake it (one
 * timer); every wake-up is a curl_multi_socket_action followed by draining
 * curl_multi_info_read. Finished transfers hand their response to the caller
 * from there, so a callback never runs inside http_request_start.
 *
 * At most max_connections transfers per origin (scheme://host:port) are
 * handed to libcurl at once; later ones wait in a first-in first-out queue
 * per origin and start as earlier ones finish. libcurl keeps the connections
 * alive in its cache (sized so that every origin's connections survive the
 * gap between cycles), so a steady daemon reuses the same few connections,
 * and TLS sessions and DNS answers are shared between transfers so that a
 * connection opened again resumes its session instead of a full handshake.
 *
 * A kept connection's socket keeps its event when its transfer ends: libcurl
 * hands the same socket back for the next transfer, often within the same
 * wake-up, and a watch left in place costs no epoll_ctl and no allocation.
 * Such an idle watch is dropped when libcurl closes the socket or when it
 * fires while libcurl is not watching (the peer wrote or closed), so the loop
 * never acts on a socket libcurl did not ask for.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "qscale/buf.h"
#include "qscale/clock.h"
#include "qscale/file.h"
#include "qscale/http.h"
#include "qscale/log.h"
#include "qscale/xalloc.h"

/* libcurl's smallest upload buffer: request bodies are small. */
#define HTTP_UPLOAD_BUFFER 16384L

/* One origin's cap and queue; few per client (the SQS and ECS endpoints). */
struct http_origin {
	char *key; /* "scheme://host:port", lower case */
	bool tls;
	size_t started; /* transfers handed to libcurl */
	struct http_request *wait_head, *wait_tail; /* waiting their turn, oldest first */
	struct http_origin *next;
};

struct http_client {
	struct event_base *base;
	CURLM *multi;
	CURLSH *share;
	struct event *timer;
	struct http_request *requests; /* doubly linked, started or waiting */
	size_t n_active;
	size_t max_connections; /* per origin */
	CURL **spare; /* finished easy handles kept for the next transfers */
	size_t n_spare, max_spare;
	struct http_origin *origins;
	struct http_sock *socks; /* every watched socket, libcurl's and idle ones */
	struct http_client_stats stats;
	int dispatching; /* inside a request's callback */
	bool destroy_pending; /* destroyed from a callback: finish once it returns */
	bool closing; /* being destroyed: start nothing that waits */
	const char *ca_bundle; /* the configured bundle, else AWS_CA_BUNDLE, read once */
	char *ca_bundle_owned;
	bool ca_bundle_warned; /* its last check failed, and that was logged */
	bool ca_bundle_good; /* ca_bundle_st is the file its last check opened */
	struct stat ca_bundle_st;
	/*
	 * The trust store every TLS connection shares (see ssl_ctx_cb): what
	 * libcurl would load for each new connection, loaded once per version
	 * of the file. Off (libcurl loads it) when an https proxy may be used,
	 * whose connection libcurl sets up with its own trust settings.
	 */
	bool ca_shared;
	const char *ca_file; /* the bundle, else libcurl's default; NULL: none */
	const char *ca_path; /* libcurl's default directory; NULL: none */
	X509_STORE *ca_store;
	struct stat ca_store_st; /* ca_file when ca_store was loaded */
	bool ca_store_warned;
};

struct http_request {
	struct http_client *client;
	struct http_request *prev, *next;
	struct http_origin *origin;
	bool started; /* handed to libcurl; else waiting in origin's queue */
	struct http_request *wait_prev, *wait_next;
	CURL *easy; /* made when the transfer starts: a waiting request holds no buffers */
	/*
	 * The header lines for CURLOPT_HTTPHEADER, a list libcurl only reads:
	 * its nodes are one array and its lines one buffer, both ours.
	 */
	struct curl_slist *headers;
	char *header_text;
	size_t header_text_len;
	/* What the transfer is made from; the body may carry credentials. */
	char *url;
	char *method;
	char *post;
	size_t post_len;
	uint64_t timeout_ms, connect_timeout_ms;
	uint64_t queued_mono_ms; /* when it was started, for the time it waited */
	bool no_proxy;
	struct buf body;
	bool too_big;
	http_cb cb;
	void *arg;
	struct http_live *live; /* made with the easy handle */
};

/* What only a running transfer needs: 2.5 KiB a waiting request does without. */
struct http_live {
	struct http_response resp;
	char curl_error[CURL_ERROR_SIZE];
};

/* One watched socket: the event libcurl asked for, kept while the socket is open. */
struct http_sock {
	struct http_client *client;
	struct http_sock *prev, *next; /* the client's socks */
	curl_socket_t fd;
	struct event *ev;
	short kind; /* the event's EV_READ / EV_WRITE / EV_PERSIST */
	bool idle; /* libcurl removed it: its connection waits in the cache */
};

static void check_multi_info(struct http_client *client);
static CURLcode ssl_ctx_cb(CURL *easy, void *ssl_ctx, void *userp);

/* Take req out of its origin's queue. */
static void wait_remove(struct http_request *req)
{
	struct http_origin *o = req->origin;

	if (req->wait_prev != NULL)
		req->wait_prev->wait_next = req->wait_next;
	else
		o->wait_head = req->wait_next;
	if (req->wait_next != NULL)
		req->wait_next->wait_prev = req->wait_prev;
	else
		o->wait_tail = req->wait_prev;
	req->wait_prev = req->wait_next = NULL;
}

/* Queue req behind every transfer of its origin that waits already. */
static void wait_append(struct http_request *req)
{
	struct http_origin *o = req->origin;

	req->wait_prev = o->wait_tail;
	req->wait_next = NULL;
	if (o->wait_tail != NULL)
		o->wait_tail->wait_next = req;
	else
		o->wait_head = req;
	o->wait_tail = req;
}

/* Take req out of the client's list and its origin's count or queue. */
static void request_unlink(struct http_request *req)
{
	struct http_client *client = req->client;

	if (req->prev != NULL)
		req->prev->next = req->next;
	else
		client->requests = req->next;
	if (req->next != NULL)
		req->next->prev = req->prev;
	req->prev = req->next = NULL;
	client->n_active--;
	if (req->started) {
		req->origin->started--;
		client->stats.in_flight--;
	} else {
		wait_remove(req);
		client->stats.waiting--;
	}
}

static CURLcode make_easy(struct http_request *req);

/* Hand req to libcurl; only arms its timer, the transfer starts from the loop. */
static void transfer_start(struct http_client *client, struct http_request *req)
{
	/*
	 * The options were accepted when the first transfer of this build was
	 * made; failing here is out of memory or a bug either way.
	 */
	if ((req->easy == NULL && make_easy(req) != CURLE_OK) ||
		curl_multi_add_handle(client->multi, req->easy) != CURLM_OK)
		fatal("http: libcurl refused a transfer");
	req->started = true;
	req->origin->started++;
	client->stats.in_flight++;
	if (client->stats.in_flight > client->stats.in_flight_max)
		client->stats.in_flight_max = client->stats.in_flight;
}

/* A slot of o freed: start waiting transfers, oldest first, while there is room. */
static void origin_promote(struct http_client *client, struct http_origin *o)
{
	while (!client->closing && o->wait_head != NULL && o->started < client->max_connections) {
		struct http_request *req = o->wait_head;

		wait_remove(req);
		client->stats.waiting--;
		transfer_start(client, req);
	}
}

/* The origin of url (scheme://host[:port], up to the path), created on first use. */
static struct http_origin *origin_for(struct http_client *client, const char *url)
{
	const char *sep = strstr(url, "://");
	const char *end = sep != NULL ? strpbrk(sep + 3, "/?#") : NULL;
	size_t len = end != NULL ? (size_t)(end - url) : strlen(url);
	struct http_origin *o;

	for (o = client->origins; o != NULL; o = o->next)
		if (strlen(o->key) == len && strncasecmp(o->key, url, len) == 0)
			return o;
	o = xcalloc(1, sizeof(*o));
	o->key = xstrndup(url, len);
	for (char *c = o->key; *c != '\0'; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	o->tls = strncmp(o->key, "https://", 8) == 0;
	o->next = client->origins;
	client->origins = o;
	return o;
}

/* Keep a finished easy handle for the next transfer, or free it. */
static void easy_release(struct http_client *client, CURL *easy)
{
	if (easy == NULL)
		return;
	/*
	 * Reset keeps the handle's buffers: making one per request cost a
	 * fifth of the daemon's CPU in malloc and libcurl's set-up.
	 */
	if (!client->closing && client->n_spare < client->max_spare) {
		curl_easy_reset(easy);
		client->spare[client->n_spare++] = easy;
		return;
	}
	curl_easy_cleanup(easy);
}

/* Free everything an unlinked req owns; the caller has removed the easy handle. */
static void request_free(struct http_request *req)
{
	easy_release(req->client, req->easy);
	/* Header lines carry Authorization and tokens; bodies may carry credentials. */
	if (req->header_text != NULL)
		secure_wipe(req->header_text, req->header_text_len);
	free(req->header_text);
	free(req->headers);
	if (req->post != NULL)
		secure_wipe(req->post, req->post_len);
	free(req->post);
	free(req->url);
	free(req->method);
	free(req->live);
	buf_finish_secure(&req->body);
	free(req);
}

static void client_free(struct http_client *client);

/* Stop watching sock and free it. */
static void sock_free(struct http_sock *sock)
{
	struct http_client *client = sock->client;

	if (sock->prev != NULL)
		sock->prev->next = sock->next;
	else
		client->socks = sock->next;
	if (sock->next != NULL)
		sock->next->prev = sock->prev;
	event_free(sock->ev);
	free(sock);
}

/* The sock of fd, idle or not, if it is watched. */
static struct http_sock *sock_find(struct http_client *client, curl_socket_t fd)
{
	for (struct http_sock *sock = client->socks; sock != NULL; sock = sock->next)
		if (sock->fd == fd)
			return sock;
	return NULL;
}

/* libcurl saw activity on a socket: let it act, then collect finished transfers. */
static void sock_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_sock *sock = arg;
	struct http_client *client = sock->client;
	int action = 0;
	int running = 0;

	/*
	 * An idle connection spoke (data or a close while nobody asked): libcurl
	 * was not watching, so the watch ends here, as if it had never stayed.
	 * libcurl finds out about the connection when it next checks it.
	 */
	if (sock->idle) {
		sock_free(sock);
		return;
	}
	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(client->multi, fd, action, &running);
	/*
	 * Unlike hiperfifo, the timer is not deleted when nothing runs: a
	 * completion callback may just have added a transfer and armed it.
	 */
	check_multi_info(client);
}

/* libcurl's timeout expired (or a zero timer kicked a new transfer). */
static void timer_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_client *client = arg;
	int running = 0;

	(void)fd;
	(void)what;
	curl_multi_socket_action(client->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_multi_info(client);
}

/* CURLMOPT_TIMERFUNCTION: only (re)arm or disarm the libevent timer. */
static int multi_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_client *client = userp;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(client->timer);
		return 0;
	}
	struct timeval tv = {
		.tv_sec = timeout_ms / 1000,
		.tv_usec = (timeout_ms % 1000) * 1000,
	};
	evtimer_add(client->timer, &tv);
	return 0;
}

/*
 * CURLMOPT_SOCKETFUNCTION: keep one libevent event per socket in step with
 * libcurl. A removed socket's event stays (idle) until the socket is closed,
 * so that a connection reused from the cache gets it back unchanged.
 */
static int multi_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_client *client = userp;
	struct http_sock *sock = socketp;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (sock != NULL)
			sock->idle = true;
		curl_multi_assign(client->multi, fd, NULL);
		return 0;
	}
	short kind = EV_PERSIST;
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (sock == NULL && (sock = sock_find(client, fd)) != NULL) {
		/* The same open socket back from the cache (closed ones are never kept). */
		sock->idle = false;
		curl_multi_assign(client->multi, fd, sock);
	}
	if (sock == NULL) {
		sock = xcalloc(1, sizeof(*sock));
		sock->client = client;
		sock->fd = fd;
		sock->kind = kind;
		sock->ev = event_new(client->base, fd, kind, sock_event_cb, sock);
		sock->next = client->socks;
		if (client->socks != NULL)
			client->socks->prev = sock;
		client->socks = sock;
		curl_multi_assign(client->multi, fd, sock);
		event_add(sock->ev, NULL);
		return 0;
	}
	if (kind == sock->kind)
		return 0;
	event_del(sock->ev);
	event_assign(sock->ev, client->base, fd, kind, sock_event_cb, sock);
	sock->kind = kind;
	event_add(sock->ev, NULL);
	return 0;
}

/*
 * CURLOPT_CLOSESOCKETFUNCTION: libcurl closes a socket. Its watch goes first:
 * once closed, the number may come back as another file, which an event
 * left behind would shadow.
 */
static int close_socket_cb(void *clientp, curl_socket_t fd)
{
	struct http_client *client = clientp;
	struct http_sock *sock = sock_find(client, fd);

	if (sock != NULL)
		sock_free(sock);
	return close(fd);
}

/* Map a finished transfer's libcurl result to our errno convention. */
static int map_curl_result(const struct http_request *req, CURLcode rc)
{
	if (rc == CURLE_OK)
		return 0;
	if (req->too_big)
		return -E2BIG;
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return -ETIMEDOUT;
	return -EIO;
}

/*
 * The transport error for the caller. A certificate that does not verify
 * names the trust store in use and the two settings that choose another (the
 * usual cause is a TLS-inspecting proxy whose CA is not in the bundle), and
 * says so when the issuer is what is not trusted.
 */
static void describe_failure(struct http_client *client, struct http_request *req, CURLcode rc)
{
	const char *text =
		req->live->curl_error[0] != '\0' ? req->live->curl_error : curl_easy_strerror(rc);
	char *out = req->live->resp.transport_error;
	size_t size = sizeof(req->live->resp.transport_error);
	const char *hint = "";
	long verify = 0;

	if (rc != CURLE_PEER_FAILED_VERIFICATION && rc != CURLE_SSL_CACERT_BADFILE) {
		snprintf(out, size, "%s", text);
		return;
	}
	/* OpenSSL's X509_V_ERR_* codes for an issuer that is not trusted here. */
	if (rc == CURLE_PEER_FAILED_VERIFICATION &&
		curl_easy_getinfo(req->easy, CURLINFO_SSL_VERIFYRESULT, &verify) == CURLE_OK &&
		(verify == 2 || verify == 18 || verify == 19 || verify == 20 || verify == 21))
		hint = "the issuing CA is not trusted: is AWS_CA_BUNDLE the right CA? ";
	/* A long path may cut the advice short; the cause and the bundle's name come first. */
	if (snprintf(out, size,
		    "%.100s (%sCA bundle: %s; set AWS_CA_BUNDLE or ca_bundle in the AWS profile to "
		    "the PEM file that signs this endpoint)",
		    text, hint, client->ca_bundle != NULL ? client->ca_bundle : "the system's") < 0)
		out[0] = '\0';
}

/* Count the connections (TLS handshakes on https) a finished transfer opened. */
static void count_connections(struct http_client *client, struct http_request *req)
{
	long opened = 0;

	client->stats.requests++;
	if (curl_easy_getinfo(req->easy, CURLINFO_NUM_CONNECTS, &opened) != CURLE_OK || opened <= 0)
		return;
	client->stats.connections += (uint64_t)opened;
	if (req->origin->tls)
		client->stats.tls_handshakes += (uint64_t)opened;
}

/* Hand every finished transfer to its owner, then free it. */
static void check_multi_info(struct http_client *client)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(client->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *easy = msg->easy_handle;
		CURLcode rc = msg->data.result;
		struct http_request *req = NULL;

		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&req);
		curl_multi_remove_handle(client->multi, easy);
		count_connections(client, req);
		req->live->resp.err = map_curl_result(req, rc);
		if (req->live->resp.err != 0) {
			req->live->resp.status = 0;
			describe_failure(client, req, rc);
		} else {
			curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &req->live->resp.status);
		}
		req->live->resp.body = buf_cstr(&req->body);
		req->live->resp.body_len = req->body.len;
		log_debug("http=done status=%ld err=%d bytes=%zu request_id=%s",
			req->live->resp.status, req->live->resp.err, req->live->resp.body_len,
			LOG_Q(req->live->resp.request_id));
		/* Unlinked first: the callback may cancel everything or destroy the client. */
		struct http_origin *origin = req->origin;

		request_unlink(req);
		/* The freed slot goes to the oldest waiting transfer, before any new one. */
		origin_promote(client, origin);
		client->dispatching++;
		req->cb(&req->live->resp, req->arg);
		client->dispatching--;
		request_free(req);
		if (client->destroy_pending && client->dispatching == 0) {
			client_free(client);
			return;
		}
	}
}

/* CURLOPT_WRITEFUNCTION: append to the capped body; past the cap abort the transfer. */
static size_t write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_request *req = userp;
	size_t len = size * nmemb;

	if (buf_append(&req->body, data, len) != 0) {
		req->too_big = true;
		return 0;
	}
	return len;
}

/* Copy a header value, trimmed, into a fixed field (truncated if long). */
static void copy_value(char *dst, const char *value, size_t len)
{
	while (len > 0 && (*value == ' ' || *value == '\t')) {
		value++;
		len--;
	}
	while (len > 0 &&
		(value[len - 1] == '\r' || value[len - 1] == '\n' || value[len - 1] == ' ' ||
			value[len - 1] == '\t'))
		len--;
	if (len >= HTTP_HEADER_VALUE_MAX)
		len = HTTP_HEADER_VALUE_MAX - 1;
	memcpy(dst, value, len);
	dst[len] = '\0';
}

/* CURLOPT_HEADERFUNCTION: keep the few headers AWS clients act on. */
static size_t header_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_request *req = userp;
	size_t len = size * nmemb;
	static const struct {
		const char *name;
		size_t offset;
	} wanted[] = {
		{"date", offsetof(struct http_response, date)},
		{"x-amzn-query-error", offsetof(struct http_response, query_error)},
		{"x-amzn-errortype", offsetof(struct http_response, error_type)},
		{"x-amzn-requestid", offsetof(struct http_response, request_id)},
		{"x-amz-retry-after", offsetof(struct http_response, amz_retry_after)},
		{"retry-after", offsetof(struct http_response, retry_after)},
		{"age", offsetof(struct http_response, age)},
	};

	/* A new status line (e.g. after 100 Continue) starts a fresh header block. */
	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
			((char *)&req->live->resp + wanted[i].offset)[0] = '\0';
		return len;
	}
	const char *colon = memchr(data, ':', len);
	if (colon == NULL)
		return len;
	size_t name_len = (size_t)(colon - data);
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		if (strlen(wanted[i].name) == name_len &&
			strncasecmp(data, wanted[i].name, name_len) == 0) {
			copy_value((char *)&req->live->resp + wanted[i].offset, colon + 1,
				len - name_len - 1);
			break;
		}
	}
	return len;
}

/* See qscale/http.h. */
bool http_header_is_secret(const char *name)
{
	return strcasecmp(name, "authorization") == 0 ||
		strcasecmp(name, "x-amz-security-token") == 0 ||
		strcasecmp(name, "x-aws-ec2-metadata-token") == 0 ||
		strcasecmp(name, "x-amz-sso_bearer_token") == 0;
}

/*
 * Whether libcurl may reach an https origin through a proxy it speaks TLS
 * to: one of the variables it reads for https names an https:// proxy.
 * That connection's context is set up with libcurl's proxy trust settings,
 * which the shared store must not replace.
 */
static bool https_proxy_configured(void)
{
	static const char *const names[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = getenv(names[i]);

		while (v != NULL && (*v == ' ' || *v == '\t'))
			v++;
		if (v != NULL && strncasecmp(v, "https:", 6) == 0)
			return true;
	}
	return false;
}

/*
 * Share one trust store between connections when libcurl's TLS is OpenSSL
 * (whose SSL_CTX the callback is handed) and no https proxy may be used:
 * the same file and directory libcurl would load, the bundle in place of
 * its default file.
 */
static void ca_share_setup(struct http_client *client, const curl_version_info_data *info)
{
	CURL *probe;

	if (info->ssl_version == NULL || strncmp(info->ssl_version, "OpenSSL/", 8) != 0 ||
		https_proxy_configured())
		return;
	probe = curl_easy_init();
	if (probe == NULL)
		return;
	client->ca_shared =
		curl_easy_setopt(probe, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb) == CURLE_OK;
	curl_easy_cleanup(probe);
	client->ca_file = client->ca_bundle != NULL ? client->ca_bundle : info->cainfo;
	client->ca_path = info->capath;
}

/* See qscale/http.h. */
int http_client_create(
	struct event_base *base, const struct http_client_config *config, struct http_client **out)
{
	static bool global_done;
	const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);

	if (!(info->features & CURL_VERSION_ASYNCHDNS)) {
		log_debug("http=refused reason=\"libcurl has no asynchronous resolver\"");
		return -ENOTSUP;
	}
	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -EIO;
		global_done = true;
	}
	struct http_client *client = xcalloc(1, sizeof(*client));
	client->base = base;
	client->multi = curl_multi_init();
	if (client->multi == NULL) {
		free(client);
		return -EIO;
	}
	client->timer = evtimer_new(base, timer_event_cb, client);
	client->max_connections = config != NULL && config->max_connections > 0
		? (size_t)config->max_connections
		: HTTP_MAX_CONNECTIONS_DEFAULT;
	/*
	 * The cache must hold every origin's connections through the idle gap
	 * between cycles, else each cycle reopens (and over TLS re-handshakes)
	 * those it dropped: room for the SQS and ECS endpoints and a few more.
	 */
	long max_connects = config != NULL && config->max_connects > 0
		? config->max_connects
		: (long)(client->max_connections * HTTP_ORIGINS_CACHED);
	/* As many spare handles as transfers run at once to two origins. */
	client->max_spare = 2 * client->max_connections;
	client->spare = xcalloc(client->max_spare, sizeof(*client->spare));
	client->share = curl_share_init();
	if (client->share == NULL) {
		curl_multi_cleanup(client->multi);
		event_free(client->timer);
		free(client->spare);
		free(client);
		return -EIO;
	}
	/* One thread: no lock callbacks. Sessions let a reopened connection resume. */
	curl_share_setopt(client->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(client->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_multi_setopt(client->multi, CURLMOPT_SOCKETFUNCTION, multi_socket_cb);
	curl_multi_setopt(client->multi, CURLMOPT_SOCKETDATA, client);
	curl_multi_setopt(client->multi, CURLMOPT_TIMERFUNCTION, multi_timer_cb);
	curl_multi_setopt(client->multi, CURLMOPT_TIMERDATA, client);
	curl_multi_setopt(client->multi, CURLMOPT_MAXCONNECTS, max_connects);
	/* A backstop: our queue already keeps each origin at max_connections. */
	curl_multi_setopt(
		client->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)client->max_connections);
	/* The AWS client passes the bundle it resolved; other users get the variable's. */
	const char *ca = config != NULL && config->ca_bundle != NULL ? config->ca_bundle
								     : getenv("AWS_CA_BUNDLE");
	if (ca != NULL && ca[0] != '\0') {
		client->ca_bundle_owned = xstrdup(ca);
		client->ca_bundle = client->ca_bundle_owned;
	}
	ca_share_setup(client, info);
	*out = client;
	return 0;
}

/* See qscale/http.h. */
void http_client_destroy(struct http_client *client)
{
	if (client == NULL)
		return;
	client->closing = true;
	while (client->requests != NULL)
		http_request_cancel(client->requests);
	if (client->dispatching > 0) {
		/* Called from a callback: check_multi_info frees us once it returns. */
		client->destroy_pending = true;
		return;
	}
	client_free(client);
}

/* Release the multi handle, its idle connections and the client. */
static void client_free(struct http_client *client)
{
	/* Cleaning the multi closes the idle connections and removes their events. */
	curl_multi_cleanup(client->multi);
	while (client->socks != NULL)
		sock_free(client->socks);
	while (client->n_spare > 0)
		curl_easy_cleanup(client->spare[--client->n_spare]);
	free(client->spare);
	curl_share_cleanup(client->share);
	while (client->origins != NULL) {
		struct http_origin *o = client->origins;

		client->origins = o->next;
		free(o->key);
		free(o);
	}
	event_free(client->timer);
	X509_STORE_free(client->ca_store);
	free(client->ca_bundle_owned);
	free(client);
}

/* Log a request's headers at debug level, secrets redacted. */
static void log_request(const struct http_request_opts *opts)
{
	if (!log_enabled(LOG_LEVEL_DEBUG))
		return;
	log_debug("http=start method=%s url=%s bytes=%zu", opts->method, LOG_Q(opts->url),
		opts->body_len);
	for (size_t i = 0; i < opts->n_headers; i++) {
		const struct http_header *h = &opts->headers[i];
		log_debug("http=header name=%s value=%s", LOG_Q(h->name),
			LOG_Q(http_header_is_secret(h->name) ? "<redacted>" : h->value));
	}
}

/* A CA bundle larger than this is no CA bundle. */
#define CA_BUNDLE_MAX_BYTES (16u << 20)

/* Whether a and b describe the same file, unchanged: contents, owner and mode. */
static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_mode == b->st_mode &&
		a->st_uid == b->st_uid && a->st_gid == b->st_gid && a->st_size == b->st_size &&
		a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
		a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
		a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/*
 * Whether AWS_CA_BUNDLE is a regular file of sane size. libcurl opens it on
 * the loop's thread when it sets up TLS, so a FIFO put there would freeze the
 * loop: check (without blocking) before every request, log a failure once.
 * The file the last check opened, found unchanged by stat() (same inode,
 * size, times, owner and mode: a chmod or rewrite changes its ctime), passes
 * without being opened again: one system call a request instead of three.
 */
static int check_ca_bundle(struct http_client *client)
{
	char why[FILE_WHY_MAX];
	struct stat st;
	int fd, r;

	if (client->ca_bundle == NULL)
		return 0;
	if (client->ca_bundle_good && stat(client->ca_bundle, &st) == 0 &&
		same_file(&st, &client->ca_bundle_st))
		return 0;
	client->ca_bundle_good = false;
	r = file_open(client->ca_bundle, CA_BUNDLE_MAX_BYTES, &fd, &st, why, sizeof(why));
	if (r == 0) {
		close(fd);
		client->ca_bundle_st = st;
		client->ca_bundle_good = true;
		client->ca_bundle_warned = false;
		return 0;
	}
	if (!client->ca_bundle_warned)
		log_warn(
			"http=refused ca_bundle=%s error=%s", LOG_Q(client->ca_bundle), LOG_Q(why));
	client->ca_bundle_warned = true;
	return r;
}

/*
 * A new trust store from ca_file and ca_path, loaded as libcurl loads them
 * for a connection (the file's certificates and CRLs, the directory as a
 * hashed lookup, the same verification flags); NULL, logged once, when the
 * file cannot be used.
 */
static X509_STORE *ca_store_load(struct http_client *client, struct stat *st)
{
	X509_STORE *store = X509_STORE_new();
	char why[FILE_WHY_MAX] = "";
	int fd;

	if (store == NULL)
		fatal("http: out of memory for a trust store");
	memset(st, 0, sizeof(*st));
	/* As check_ca_bundle: never open a FIFO or a device on the loop's thread. */
	if (client->ca_file != NULL) {
		if (file_open(client->ca_file, CA_BUNDLE_MAX_BYTES, &fd, st, why, sizeof(why)) != 0)
			goto fail;
		close(fd);
		if (X509_STORE_load_file(store, client->ca_file) != 1) {
			snprintf(why, sizeof(why), "holds no certificate that can be read");
			goto fail;
		}
	}
	if (client->ca_path != NULL && X509_STORE_load_path(store, client->ca_path) != 1) {
		snprintf(why, sizeof(why), "the directory %s cannot be used", client->ca_path);
		goto fail;
	}
	X509_STORE_set_flags(store, X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN);
	client->ca_store_warned = false;
	return store;
fail:
	ERR_clear_error();
	X509_STORE_free(store);
	if (!client->ca_store_warned)
		log_warn("http=refused ca_bundle=%s error=%s", LOG_Q(client->ca_file), LOG_Q(why));
	client->ca_store_warned = true;
	return NULL;
}

/*
 * CURLOPT_SSL_CTX_FUNCTION: a new TLS connection trusts the shared store.
 * libcurl 7.88 would read and decode the CA file for every connection it
 * opens (the cost of a small handshake again); the store is read again only
 * when stat() finds the file changed, so a rotated bundle is still trusted
 * from the next connection on. libcurl itself is given no file and no
 * directory, so it adds nothing to the store after this.
 */
static CURLcode ssl_ctx_cb(CURL *easy, void *ssl_ctx, void *userp)
{
	struct http_client *client = userp;
	struct stat st;

	(void)easy;
	if (client->ca_store == NULL ||
		(client->ca_file != NULL &&
			(stat(client->ca_file, &st) != 0 ||
				!same_file(&st, &client->ca_store_st)))) {
		X509_STORE_free(client->ca_store);
		client->ca_store = ca_store_load(client, &client->ca_store_st);
	}
	if (client->ca_store == NULL)
		return CURLE_SSL_CACERT_BADFILE;
	SSL_CTX_set1_cert_store(ssl_ctx, client->ca_store);
	return CURLE_OK;
}

/* The easy handle of req, from what http_request_start kept. */
static CURLcode make_easy(struct http_request *req)
{
	struct http_client *client = req->client;
	CURL *e = client->n_spare > 0 ? client->spare[--client->n_spare] : curl_easy_init();
	CURLcode rc = CURLE_OK;

	if (e == NULL)
		return CURLE_OUT_OF_MEMORY;
	req->easy = e;
	req->live = xcalloc(1, sizeof(*req->live));
	rc |= curl_easy_setopt(e, CURLOPT_URL, req->url);
	rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, req);
	rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->live->curl_error);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
	rc |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	rc |= curl_easy_setopt(e, CURLOPT_HEADERDATA, req);
	rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
	rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
#if LIBCURL_VERSION_NUM >= 0x075500
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	rc |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	rc |= curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_SHARE, client->share);
	rc |= curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, close_socket_cb);
	rc |= curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, client);
	/* AWS request bodies are a few KiB: libcurl's 64 KiB default sits idle. */
	rc |= curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, HTTP_UPLOAD_BUFFER);
	if (client->ca_shared && req->origin->tls) {
		rc |= curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
		rc |= curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
		rc |= curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
		rc |= curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, client);
#if LIBCURL_VERSION_NUM >= 0x075700
		/*
		 * Without a file or directory to name, libcurl's own cache would
		 * keep the first connection's store for a day and put it in place
		 * of ours: a changed bundle would reach no new connection.
		 */
		rc |= curl_easy_setopt(e, CURLOPT_CA_CACHE_TIMEOUT, 0L);
#endif
	} else if (client->ca_bundle != NULL) {
		rc |= curl_easy_setopt(e, CURLOPT_CAINFO, client->ca_bundle);
	}
	/*
	 * The timeout counts from http_request_start: time spent waiting for a
	 * slot is taken off, so a caller's deadline holds. Past it, 1 ms lets
	 * libcurl fail the transfer from the loop like any other timeout.
	 */
	uint64_t waited = clock_mono_ms(&clock_system) - req->queued_mono_ms;
	uint64_t left = req->timeout_ms > waited ? req->timeout_ms - waited : 1;

	if (req->timeout_ms > 0)
		rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)left);
	if (req->connect_timeout_ms > 0)
		rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			(long)(req->timeout_ms > 0 && left < req->connect_timeout_ms
					? left
					: req->connect_timeout_ms));
	if (req->no_proxy)
		rc |= curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	if (req->post != NULL) {
		rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->post_len);
		rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->post);
		if (strcmp(req->method, "PUT") == 0)
			rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
	} else if (strcmp(req->method, "GET") == 0) {
		rc |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else {
		rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	}
	return rc;
}

/*
 * The header lines of opts ("name: value", then "Expect:") into one buffer
 * and a list of nodes in one array: two allocations a request instead of
 * three a header (every request has several; libcurl copies each line it
 * is given on a list of its own).
 */
static void header_list(struct http_request *req, const struct http_request_opts *opts)
{
	/* Never let libcurl add Expect: 100-continue to a body we signed without it. */
	static const char expect[] = "Expect:";
	size_t total = sizeof(expect);

	for (size_t i = 0; i < opts->n_headers; i++)
		total += strlen(opts->headers[i].name) + strlen(opts->headers[i].value) + 3;
	req->header_text = xmalloc(total);
	req->header_text_len = total;
	req->headers = xcalloc(opts->n_headers + 1, sizeof(*req->headers));

	char *p = req->header_text;

	for (size_t i = 0; i <= opts->n_headers; i++) {
		struct curl_slist *node = &req->headers[i];

		node->data = p;
		node->next = i < opts->n_headers ? node + 1 : NULL;
		if (i == opts->n_headers) {
			memcpy(p, expect, sizeof(expect));
			break;
		}
		size_t ln = strlen(opts->headers[i].name);
		size_t lv = strlen(opts->headers[i].value);

		memcpy(p, opts->headers[i].name, ln);
		memcpy(p + ln, ": ", 2);
		memcpy(p + ln + 2, opts->headers[i].value, lv + 1);
		p += ln + lv + 3;
	}
}

/* A request from opts, not yet linked anywhere; NULL header lines are refused before. */
static struct http_request *request_new(
	struct http_client *client, const struct http_request_opts *opts, http_cb cb, void *arg)
{
	struct http_request *req = xcalloc(1, sizeof(*req));

	req->client = client;
	req->cb = cb;
	req->arg = arg;
	buf_init(&req->body, opts->max_body != 0 ? opts->max_body : HTTP_BODY_MAX_DEFAULT);
	header_list(req, opts);
	req->url = xstrdup(opts->url);
	req->method = xstrdup(opts->method);
	if (strcmp(opts->method, "POST") == 0 || strcmp(opts->method, "PUT") == 0) {
		/* Kept until the transfer ends: libcurl reads POSTFIELDS in place. */
		req->post_len = opts->body != NULL ? opts->body_len : 0;
		req->post = xmalloc(req->post_len + 1);
		if (req->post_len > 0)
			memcpy(req->post, opts->body, req->post_len);
		req->post[req->post_len] = '\0';
	}
	req->timeout_ms = opts->timeout_ms;
	req->connect_timeout_ms = opts->connect_timeout_ms;
	req->no_proxy = opts->no_proxy;
	req->queued_mono_ms = clock_mono_ms(&clock_system);
	req->origin = origin_for(client, opts->url);
	return req;
}

/* See qscale/http.h. */
int http_request_start(struct http_client *client, const struct http_request_opts *opts, http_cb cb,
	void *arg, struct http_request **out)
{
	if (opts->url == NULL || opts->method == NULL || cb == NULL)
		return -EINVAL;
	for (size_t i = 0; i < opts->n_headers; i++) {
		/* A header carrying CR or LF would let a value smuggle in more headers. */
		if (strpbrk(opts->headers[i].name, "\r\n:") != NULL ||
			strpbrk(opts->headers[i].value, "\r\n") != NULL)
			return -EINVAL;
	}
	int ca = strncmp(opts->url, "https:", 6) == 0 ? check_ca_bundle(client) : 0;
	if (ca < 0)
		return ca;
	struct http_request *req = request_new(client, opts, cb, arg);
	/* Past the cap, or behind others already waiting: wait in order. */
	bool now = req->origin->wait_head == NULL && req->origin->started < client->max_connections;

	/* Made now when it can start, so that bad options fail here, not later. */
	if (now && make_easy(req) != CURLE_OK) {
		request_free(req);
		return -EINVAL;
	}
	req->next = client->requests;
	if (client->requests != NULL)
		client->requests->prev = req;
	client->requests = req;
	client->n_active++;
	if (now) {
		transfer_start(client, req);
	} else {
		wait_append(req);
		client->stats.waiting++;
		client->stats.waited++;
		if (client->stats.waiting > client->stats.waiting_max)
			client->stats.waiting_max = client->stats.waiting;
	}
	log_request(opts);
	if (out != NULL)
		*out = req;
	return 0;
}

/* See qscale/http.h. */
void http_request_cancel(struct http_request *req)
{
	if (req == NULL)
		return;
	struct http_client *client = req->client;
	struct http_origin *origin = req->origin;

	if (req->started)
		curl_multi_remove_handle(client->multi, req->easy);
	request_unlink(req);
	request_free(req);
	origin_promote(client, origin);
}

/* See qscale/http.h. */
size_t http_client_active(const struct http_client *client)
{
	return client->n_active;
}

/* See qscale/http.h. */
void http_client_get_stats(const struct http_client *client, struct http_client_stats *out)
{
	*out = client->stats;
}

/* Whether c is an ASCII letter (what sscanf's %[A-Za-z] takes). */
static bool is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Whether c is an ASCII digit. */
static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The two digits at p as a number. */
static int two_digits(const char *p)
{
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/* Days from 1970-01-01 to year-month-day (month 1..12; day may run past the month, as timegm's). */
static int64_t days_from_civil(int year, int month, int day)
{
	int64_t y = month <= 2 ? year - 1 : year;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = month > 2 ? month - 3 : month + 9;
	int64_t doy = (153 * mp + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/*
 * The fields of an exact IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", what
 * AWS sends on every response) read by position, without sscanf; false
 * for any other text, which then takes the general path.
 */
static bool fixdate_fields(
	const char *t, char mon[4], int *day, int *year, int *hh, int *mm, int *ss)
{
	if (!is_alpha(t[0]) || !is_alpha(t[1]) || !is_alpha(t[2]) || t[3] != ',' || t[4] != ' ' ||
		!is_digit(t[5]) || !is_digit(t[6]) || t[7] != ' ' || !is_alpha(t[8]) ||
		!is_alpha(t[9]) || !is_alpha(t[10]) || t[11] != ' ' || !is_digit(t[12]) ||
		!is_digit(t[13]) || !is_digit(t[14]) || !is_digit(t[15]) || t[16] != ' ' ||
		!is_digit(t[17]) || !is_digit(t[18]) || t[19] != ':' || !is_digit(t[20]) ||
		!is_digit(t[21]) || t[22] != ':' || !is_digit(t[23]) || !is_digit(t[24]) ||
		t[25] != ' ' || strcmp(t + 26, "GMT") != 0)
		return false;
	memcpy(mon, t + 8, 3);
	mon[3] = '\0';
	*day = two_digits(t + 5);
	*year = two_digits(t + 12) * 100 + two_digits(t + 14);
	*hh = two_digits(t + 17);
	*mm = two_digits(t + 20);
	*ss = two_digits(t + 23);
	return true;
}

/* See qscale/http.h. */
int http_parse_date(const char *text, uint64_t *out_ms)
{
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	char wday[4], mon[4], zone[4];
	int day, year, hh, mm, ss, used = 0;
	bool fixed = text != NULL && fixdate_fields(text, mon, &day, &year, &hh, &mm, &ss);

	if (text == NULL ||
		(!fixed &&
			(sscanf(text, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %3[A-Z]%n", wday,
				 &day, mon, &year, &hh, &mm, &ss, zone, &used) != 8 ||
				used == 0 || text[used] != '\0' || strcmp(zone, "GMT") != 0)))
		return -EINVAL;
	int m = -1;
	for (int i = 0; i < 12; i++)
		if (strcmp(mon, months[i]) == 0)
			m = i;
	if (m < 0 || day < 1 || day > 31 || year < 1970 || year > 9999 || hh < 0 || hh > 23 ||
		mm < 0 || mm > 59 || ss < 0 || ss > 60)
		return -EINVAL;
	/* What timegm gives for these fields (it too lets a day run past its month). */
	int64_t t = days_from_civil(year, m + 1, day) * 86400 + hh * 3600 + mm * 60 + ss;

	*out_ms = (uint64_t)t * 1000;
	return 0;
}
