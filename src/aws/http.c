/*
 * libcurl multi on libevent, after curl's hiperfifo example: libcurl tells us
 * which sockets to watch (one event per socket) and when to wake it (one
 * timer); every wake-up is a curl_multi_socket_action followed by draining
 * curl_multi_info_read. Finished transfers hand their response to the caller
 * from there, so a callback never runs inside http_request_start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "qscale/buf.h"
#include "qscale/file.h"
#include "qscale/http.h"
#include "qscale/log.h"
#include "qscale/xalloc.h"

struct http_client {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct http_request *requests; /* doubly linked, in flight */
	size_t n_active;
	int dispatching; /* inside a request's callback */
	bool destroy_pending; /* destroyed from a callback: finish once it returns */
	const char *ca_bundle; /* the configured bundle, else AWS_CA_BUNDLE, read once */
	char *ca_bundle_owned;
	bool ca_bundle_warned; /* its last check failed, and that was logged */
};

struct http_request {
	struct http_client *client;
	struct http_request *prev, *next;
	CURL *easy;
	struct curl_slist *headers;
	struct buf body;
	bool too_big;
	http_cb cb;
	void *arg;
	struct http_response resp;
	char curl_error[CURL_ERROR_SIZE];
};

/* One watched socket: the event libcurl asked for. */
struct http_sock {
	struct http_client *client;
	curl_socket_t fd;
	struct event *ev;
};

static void check_multi_info(struct http_client *client);

/* Take req out of the in-flight list. */
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
}

/* Free everything an unlinked req owns; the caller has removed the easy handle. */
static void request_free(struct http_request *req)
{
	curl_easy_cleanup(req->easy);
	/* Header lines carry Authorization and tokens; bodies may carry credentials. */
	for (struct curl_slist *h = req->headers; h != NULL; h = h->next)
		secure_wipe(h->data, strlen(h->data));
	curl_slist_free_all(req->headers);
	buf_finish_secure(&req->body);
	free(req);
}

static void client_free(struct http_client *client);

/* libcurl saw activity on a socket: let it act, then collect finished transfers. */
static void sock_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_client *client = arg;
	int action = 0;
	int running = 0;

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

/* CURLMOPT_SOCKETFUNCTION: keep one libevent event per socket in step with libcurl. */
static int multi_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_client *client = userp;
	struct http_sock *sock = socketp;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (sock != NULL) {
			event_free(sock->ev);
			free(sock);
		}
		curl_multi_assign(client->multi, fd, NULL);
		return 0;
	}
	short kind = EV_PERSIST;
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (sock == NULL) {
		sock = xcalloc(1, sizeof(*sock));
		sock->client = client;
		sock->fd = fd;
		sock->ev = event_new(client->base, fd, kind, sock_event_cb, client);
		curl_multi_assign(client->multi, fd, sock);
	} else {
		event_del(sock->ev);
		event_assign(sock->ev, client->base, fd, kind, sock_event_cb, client);
	}
	event_add(sock->ev, NULL);
	return 0;
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
 * names the trust store in use and the two settings that choose another:
 * the usual cause is a TLS-inspecting proxy whose CA is not in the bundle.
 */
static void describe_failure(struct http_client *client, struct http_request *req, CURLcode rc)
{
	const char *what = req->curl_error[0] != '\0' ? req->curl_error : curl_easy_strerror(rc);

	if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE) {
		/* A long path may cut the hint short; the bundle's name comes first. */
		if (snprintf(req->resp.transport_error, sizeof(req->resp.transport_error),
			    "%.100s (CA bundle: %s; set AWS_CA_BUNDLE or ca_bundle in the AWS "
			    "profile to the PEM file that signs this endpoint)",
			    what,
			    client->ca_bundle != NULL ? client->ca_bundle : "the system's") < 0)
			req->resp.transport_error[0] = '\0';
	} else
		snprintf(req->resp.transport_error, sizeof(req->resp.transport_error), "%s", what);
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
		req->resp.err = map_curl_result(req, rc);
		if (req->resp.err != 0) {
			req->resp.status = 0;
			describe_failure(client, req, rc);
		} else {
			curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &req->resp.status);
		}
		req->resp.body = buf_cstr(&req->body);
		req->resp.body_len = req->body.len;
		log_debug("http=done status=%ld err=%d bytes=%zu request_id=%s", req->resp.status,
			req->resp.err, req->resp.body_len, LOG_Q(req->resp.request_id));
		/* Unlinked first: the callback may cancel everything or destroy the client. */
		request_unlink(req);
		client->dispatching++;
		req->cb(&req->resp, req->arg);
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
			((char *)&req->resp + wanted[i].offset)[0] = '\0';
		return len;
	}
	const char *colon = memchr(data, ':', len);
	if (colon == NULL)
		return len;
	size_t name_len = (size_t)(colon - data);
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		if (strlen(wanted[i].name) == name_len &&
			strncasecmp(data, wanted[i].name, name_len) == 0) {
			copy_value((char *)&req->resp + wanted[i].offset, colon + 1,
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
	long max_connects = config != NULL && config->max_connects > 0 ? config->max_connects : 16;
	curl_multi_setopt(client->multi, CURLMOPT_SOCKETFUNCTION, multi_socket_cb);
	curl_multi_setopt(client->multi, CURLMOPT_SOCKETDATA, client);
	curl_multi_setopt(client->multi, CURLMOPT_TIMERFUNCTION, multi_timer_cb);
	curl_multi_setopt(client->multi, CURLMOPT_TIMERDATA, client);
	curl_multi_setopt(client->multi, CURLMOPT_MAXCONNECTS, max_connects);
	/* The AWS client passes the bundle it resolved; other users get the variable's. */
	const char *ca = config != NULL && config->ca_bundle != NULL ? config->ca_bundle
								     : getenv("AWS_CA_BUNDLE");
	if (ca != NULL && ca[0] != '\0') {
		client->ca_bundle_owned = xstrdup(ca);
		client->ca_bundle = client->ca_bundle_owned;
	}
	*out = client;
	return 0;
}

/* See qscale/http.h. */
void http_client_destroy(struct http_client *client)
{
	if (client == NULL)
		return;
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
	event_free(client->timer);
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

/*
 * Whether AWS_CA_BUNDLE is a regular file of sane size. libcurl opens it on
 * the loop's thread when it sets up TLS, so a FIFO put there would freeze the
 * loop: check (without blocking) before every request, log a failure once.
 */
static int check_ca_bundle(struct http_client *client)
{
	char why[FILE_WHY_MAX];
	int fd, r;

	if (client->ca_bundle == NULL)
		return 0;
	r = file_open(client->ca_bundle, CA_BUNDLE_MAX_BYTES, &fd, NULL, why, sizeof(why));
	if (r == 0) {
		close(fd);
		client->ca_bundle_warned = false;
		return 0;
	}
	if (!client->ca_bundle_warned)
		log_warn(
			"http=refused ca_bundle=%s error=%s", LOG_Q(client->ca_bundle), LOG_Q(why));
	client->ca_bundle_warned = true;
	return r;
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
	struct http_request *req = xcalloc(1, sizeof(*req));
	req->client = client;
	req->cb = cb;
	req->arg = arg;
	buf_init(&req->body, opts->max_body != 0 ? opts->max_body : HTTP_BODY_MAX_DEFAULT);
	req->easy = curl_easy_init();
	if (req->easy == NULL) {
		free(req);
		return -EIO;
	}
	for (size_t i = 0; i < opts->n_headers; i++) {
		char *line = xasprintf("%s: %s", opts->headers[i].name, opts->headers[i].value);
		req->headers = curl_slist_append(req->headers, line);
		secure_free_str(line);
	}
	/* Never let libcurl add Expect: 100-continue to a body we signed without it. */
	req->headers = curl_slist_append(req->headers, "Expect:");

	CURL *e = req->easy;
	CURLcode rc = CURLE_OK;
	rc |= curl_easy_setopt(e, CURLOPT_URL, opts->url);
	rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, req);
	rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->curl_error);
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
	if (client->ca_bundle != NULL)
		rc |= curl_easy_setopt(e, CURLOPT_CAINFO, client->ca_bundle);
	if (opts->timeout_ms > 0)
		rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)opts->timeout_ms);
	if (opts->connect_timeout_ms > 0)
		rc |= curl_easy_setopt(
			e, CURLOPT_CONNECTTIMEOUT_MS, (long)opts->connect_timeout_ms);
	if (opts->no_proxy)
		rc |= curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	if (strcmp(opts->method, "POST") == 0 || strcmp(opts->method, "PUT") == 0) {
		rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)opts->body_len);
		rc |= curl_easy_setopt(
			e, CURLOPT_COPYPOSTFIELDS, opts->body != NULL ? opts->body : "");
		if (strcmp(opts->method, "PUT") == 0)
			rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
	} else if (strcmp(opts->method, "GET") == 0) {
		rc |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else {
		rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, opts->method);
	}
	if (rc != CURLE_OK) {
		request_free(req);
		return -EINVAL;
	}
	req->next = client->requests;
	if (client->requests != NULL)
		client->requests->prev = req;
	client->requests = req;
	client->n_active++;
	/* Adding only arms libcurl's timer; the transfer starts from the event loop. */
	if (curl_multi_add_handle(client->multi, e) != CURLM_OK) {
		request_unlink(req);
		request_free(req);
		return -EIO;
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
	curl_multi_remove_handle(req->client->multi, req->easy);
	request_unlink(req);
	request_free(req);
}

/* See qscale/http.h. */
size_t http_client_active(const struct http_client *client)
{
	return client->n_active;
}

/* See qscale/http.h. */
int http_parse_date(const char *text, uint64_t *out_ms)
{
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	char wday[4], mon[4], zone[4];
	int day, year, hh, mm, ss, used = 0;

	if (text == NULL ||
		sscanf(text, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %3[A-Z]%n", wday, &day,
			mon, &year, &hh, &mm, &ss, zone, &used) != 8 ||
		used == 0 || text[used] != '\0' || strcmp(zone, "GMT") != 0)
		return -EINVAL;
	int m = -1;
	for (int i = 0; i < 12; i++)
		if (strcmp(mon, months[i]) == 0)
			m = i;
	if (m < 0 || day < 1 || day > 31 || year < 1970 || year > 9999 || hh < 0 || hh > 23 ||
		mm < 0 || mm > 59 || ss < 0 || ss > 60)
		return -EINVAL;
	struct tm tm = {
		.tm_year = year - 1900,
		.tm_mon = m,
		.tm_mday = day,
		.tm_hour = hh,
		.tm_min = mm,
		.tm_sec = ss,
	};
	time_t t = timegm(&tm);
	if (t < 0)
		return -EINVAL;
	*out_ms = (uint64_t)t * 1000;
	return 0;
}
