/*
 * The AWS client against a scripted HTTP server on 127.0.0.1 (libevent's
 * evhttp on the same loop). The server checks every request's SigV4
 * signature by recomputing it with qscale's signer from what arrived on the
 * wire, then answers from a script: success, 5xx and throttling followed by
 * success, silence (timeout), a reset connection, malformed JSON, a 20 MiB
 * body, a slow answer beside a fast one, container and IMDSv2 credentials,
 * a rotated credentials file, and a skewed clock; and cloud_aws's view of a
 * fleet over it (whole, deregistered meanwhile, or incomplete).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "qscale/aws_client.h"
#include "qscale/clock.h"
#include "qscale/cloud_aws.h"
#include "qscale/credentials.h"
#include "qscale/diag.h"
#include "qscale/log.h"
#include "qscale/sigv4.h"
#include "qscale/sqs.h"

#define MAX_STEPS 8
#define MAX_SEEN 64

/* One scripted answer. */
struct step {
	int status; /* 0: never answer */
	const char *body; /* NULL with big_body: a generated body */
	size_t big_body;
	const char *amz_retry_after;
};

/* What the server saw of one request. */
struct seen {
	char target[96];
	char akid[64];
	char sdk_request[64];
	char token[64];
	bool query_mode;
	char content_type[64];
	char region[32]; /* of the signature's scope */
	unsigned short peer_port; /* the client's side of the connection */
};

static const struct {
	const char *akid;
	const char *secret;
} known_keys[] = {
	{"AKIDFILEA", "secret-a"},
	{"AKIDFILEB", "secret-b"},
	{"ASIACONTAINER", "container-secret"},
	{"ASIAIMDS", "imds-secret"},
};

static struct {
	struct event_base *base;
	struct evhttp *http;
	int port;
	struct evconnlistener *reset_listener;
	int reset_port;
	char dir[64];
	char creds_path[128];
	struct step steps[MAX_STEPS];
	int n_steps, next_step;
	struct seen seen[MAX_SEEN];
	int n_seen;
	int sig_ok, sig_bad;
	int bad_invocation_ids; /* AWS requests without a version 4 UUID as amz-sdk-invocation-id */
	int container_hits, imds_hits;
	int imds_token_status; /* 0: the token PUT succeeds; -1: never answered; else its status */
	bool imds_v1_ok; /* answer credential GETs without a token (IMDSv1) */
	int imds_v1_gets; /* GETs answered as IMDSv1 */
	bool imds_expired; /* hand out credentials that expired already */
	int imds_creds_status; /* 0: the role's credentials are served; else this status */
	bool check_time; /* reject requests signed >5 min off the real clock */
	char log_leak[128]; /* a log line that carried a secret */
	char log_control[256]; /* a log line that carried a control byte */
	char log_done[512]; /* the last http=done line */
	const char *request_id; /* x-amzn-RequestId to answer with; NULL: "req-1" */
	bool short_expiry; /* container credentials expire in 4 minutes */
	struct evhttp_request *held[4]; /* requests left unanswered */
	int n_held;
} srv;

/* Whether s is a version 4 UUID in lowercase hex: xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx. */
static bool uuid_v4(const char *s)
{
	if (s == NULL || strlen(s) != 36 || s[14] != '4' || strchr("89ab", s[19]) == NULL)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : strchr("0123456789abcdef", s[i]) == NULL || s[i] == '\0')
			return false;
	}
	return true;
}

/* Secret of a known access key id, or NULL. */
static const char *secret_of(const char *akid)
{
	for (size_t i = 0; i < sizeof(known_keys) / sizeof(known_keys[0]); i++)
		if (strcmp(known_keys[i].akid, akid) == 0)
			return known_keys[i].secret;
	return NULL;
}

/* Answer req with status and body, plus a Date header. */
static void reply(struct evhttp_request *req, int status, const char *body, size_t len,
	const char *amz_retry_after)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct evbuffer *buf = evbuffer_new();
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	evhttp_add_header(out, "Date", date);
	evhttp_add_header(
		out, "x-amzn-RequestId", srv.request_id != NULL ? srv.request_id : "req-1");
	evhttp_add_header(out, "Content-Type", "application/x-amz-json-1.0");
	if (amz_retry_after != NULL)
		evhttp_add_header(out, "x-amz-retry-after", amz_retry_after);
	evbuffer_add(buf, body, len);
	evhttp_send_reply(req, status, status == 200 ? "OK" : "Error", buf);
	evbuffer_free(buf);
}

/* Recompute the request's signature from the wire; true when it matches. */
static bool verify_signature(struct evhttp_request *req, struct seen *seen, bool *time_ok)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *auth = evhttp_find_header(in, "Authorization");
	const char *amz_date = evhttp_find_header(in, "X-Amz-Date");
	const char *token = evhttp_find_header(in, "X-Amz-Security-Token");
	struct sigv4_authorization a;
	bool ok = false;

	*time_ok = true;
	if (auth == NULL || amz_date == NULL || sigv4_authorization_parse(auth, &a) != 0)
		return false;
	snprintf(seen->akid, sizeof(seen->akid), "%s", a.access_key_id);
	snprintf(seen->region, sizeof(seen->region), "%s", a.region);
	snprintf(seen->token, sizeof(seen->token), "%s", token != NULL ? token : "");
	const char *secret = secret_of(a.access_key_id);
	uint64_t time_ms;
	if (secret == NULL || sigv4_parse_amz_date(amz_date, &time_ms) != 0) {
		sigv4_authorization_finish(&a);
		return false;
	}
	if (srv.check_time) {
		int64_t d = (int64_t)time_ms - (int64_t)time(NULL) * 1000;
		*time_ok = d < 300000 && d > -300000;
	}
	/* Rebuild the signed headers from the list the client named. */
	struct sigv4_header headers[16];
	size_t n = 0;
	char *list = strdup(a.signed_headers);
	char *save = NULL;
	for (char *name = strtok_r(list, ";", &save); name != NULL && n < 16;
		name = strtok_r(NULL, ";", &save)) {
		if (strcmp(name, "x-amz-date") == 0 || strcmp(name, "x-amz-security-token") == 0)
			continue;
		const char *value = evhttp_find_header(in, name);
		if (value == NULL)
			goto out;
		headers[n++] = (struct sigv4_header){name, value};
	}
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	size_t body_len = evbuffer_get_length(body);
	const char *uri = evhttp_request_get_uri(req);
	struct evhttp_uri *parsed = evhttp_uri_parse(uri);
	char *path = evhttp_uridecode(evhttp_uri_get_path(parsed), 0, NULL);
	struct sigv4_request sreq = {
		.method = evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST" : "GET",
		.path = path,
		.query = evhttp_uri_get_query(parsed),
		.headers = headers,
		.n_headers = n,
		.body = evbuffer_pullup(body, -1),
		.body_len = body_len,
	};
	struct sigv4_credentials creds = {a.access_key_id, secret, token};
	struct sigv4_params params = {
		.region = a.region,
		.service = a.service,
		.time_ms = time_ms,
		.normalize_path = true,
	};
	struct sigv4_signed sig = {0};
	if (sigv4_sign(&sreq, &creds, &params, NULL, &sig) == 0)
		ok = strcmp(sig.signature, a.signature) == 0;
	sigv4_signed_finish(&sig);
	free(path);
	evhttp_uri_free(parsed);
out:
	free(list);
	sigv4_authorization_finish(&a);
	return ok;
}

/* A delayed answer for the slow/fast test. */
struct delayed {
	struct evhttp_request *req;
	struct event *ev;
};

static void delayed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct delayed *d = arg;

	(void)fd;
	(void)what;
	reply(d->req, 200, "{\"slow\":true}", 13, NULL);
	event_free(d->ev);
	free(d);
}

static const char container_doc[] =
	"{\"AccessKeyId\":\"ASIACONTAINER\",\"SecretAccessKey\":\"container-secret\","
	"\"Token\":\"container-token\",\"Expiration\":\"2099-01-01T00:00:00Z\"}";
static const char imds_doc[] = "{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAIMDS\","
			       "\"SecretAccessKey\":\"imds-secret\",\"Token\":\"imds-token\","
			       "\"Expiration\":\"2099-01-01T00:00:00Z\"}";

/* IMDS credentials that expired ten minutes ago. */
static void reply_expired_imds(struct evhttp_request *req)
{
	char doc[512], when[32];
	time_t t = time(NULL) - 600;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(doc, sizeof(doc),
		"{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAIMDS\",\"SecretAccessKey\":"
		"\"imds-secret\",\"Token\":\"imds-token\",\"Expiration\":\"%s\"}",
		when);
	reply(req, 200, doc, strlen(doc), NULL);
}

/* Credential endpoints: container and IMDSv2. true when the path was one of them. */
static bool serve_credentials(struct evhttp_request *req, const char *path)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);

	if (strcmp(path, "/creds") == 0) {
		const char *auth = evhttp_find_header(in, "Authorization");
		srv.container_hits++;
		if (auth == NULL || strcmp(auth, "container-auth-token") != 0) {
			reply(req, 401, "no", 2, NULL);
		} else if (srv.short_expiry) {
			/* Inside the 5-minute refresh window from the start. */
			char doc[512], when[32];
			time_t t = time(NULL) + 240;
			struct tm tm;
			gmtime_r(&t, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			snprintf(doc, sizeof(doc),
				"{\"AccessKeyId\":\"ASIACONTAINER\",\"SecretAccessKey\":"
				"\"container-secret\",\"Token\":\"container-token\","
				"\"Expiration\":\"%s\"}",
				when);
			reply(req, 200, doc, strlen(doc), NULL);
		} else {
			reply(req, 200, container_doc, strlen(container_doc), NULL);
		}
		return true;
	}
	if (strcmp(path, "/latest/api/token") == 0) {
		const char *ttl = evhttp_find_header(in, "x-aws-ec2-metadata-token-ttl-seconds");
		srv.imds_hits++;
		if (cmd != EVHTTP_REQ_PUT || ttl == NULL)
			reply(req, 400, "", 0, NULL);
		else if (srv.imds_token_status == -1 && srv.n_held < 4)
			srv.held[srv.n_held++] = req; /* never answered: the PUT times out */
		else if (srv.imds_token_status != 0)
			reply(req, srv.imds_token_status, "", 0, NULL);
		else
			reply(req, 200, "imds-session", 12, NULL);
		return true;
	}
	if (strncmp(path, "/latest/meta-data/iam/security-credentials/", 43) == 0) {
		const char *tok = evhttp_find_header(in, "x-aws-ec2-metadata-token");
		bool v1 = tok == NULL && srv.imds_v1_ok;
		srv.imds_hits++;
		if (v1)
			srv.imds_v1_gets++;
		if (!v1 && (tok == NULL || strcmp(tok, "imds-session") != 0))
			reply(req, 401, "", 0, NULL);
		else if (path[43] == '\0')
			reply(req, 200, "qscale-role\n", 12, NULL);
		else if (strcmp(path + 43, "qscale-role") == 0 && srv.imds_creds_status != 0)
			reply(req, srv.imds_creds_status, "", 0, NULL);
		else if (strcmp(path + 43, "qscale-role") == 0 && srv.imds_expired)
			reply_expired_imds(req);
		else if (strcmp(path + 43, "qscale-role") == 0)
			reply(req, 200, imds_doc, strlen(imds_doc), NULL);
		else
			reply(req, 404, "", 0, NULL);
		return true;
	}
	return false;
}

/* The server: credentials endpoints, else a signed AWS call answered from the script. */
static void server_cb(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *uri = evhttp_request_get_uri(req);
	struct evhttp_uri *parsed = evhttp_uri_parse(uri);
	char path[256];

	(void)arg;
	snprintf(path, sizeof(path), "%s", parsed ? evhttp_uri_get_path(parsed) : "");
	evhttp_uri_free(parsed);
	if (serve_credentials(req, path))
		return;

	struct seen *seen = &srv.seen[srv.n_seen < MAX_SEEN ? srv.n_seen++ : MAX_SEEN - 1];
	const char *v;
	memset(seen, 0, sizeof(*seen));
	if ((v = evhttp_find_header(in, "X-Amz-Target")) != NULL)
		snprintf(seen->target, sizeof(seen->target), "%s", v);
	if ((v = evhttp_find_header(in, "amz-sdk-request")) != NULL)
		snprintf(seen->sdk_request, sizeof(seen->sdk_request), "%s", v);
	if ((v = evhttp_find_header(in, "Content-Type")) != NULL)
		snprintf(seen->content_type, sizeof(seen->content_type), "%s", v);
	char *peer_addr = NULL;
	ev_uint16_t peer_port = 0;
	evhttp_connection_get_peer(evhttp_request_get_connection(req), &peer_addr, &peer_port);
	seen->peer_port = peer_port;
	seen->query_mode =
		(v = evhttp_find_header(in, "x-amzn-query-mode")) != NULL && strcmp(v, "true") == 0;
	if (!uuid_v4(evhttp_find_header(in, "amz-sdk-invocation-id")))
		srv.bad_invocation_ids++;

	bool time_ok;
	if (!verify_signature(req, seen, &time_ok)) {
		srv.sig_bad++;
		const char *b =
			"{\"__type\":\"com.amazon.coral.service#InvalidSignatureException\","
			"\"message\":\"signature mismatch\"}";
		reply(req, 403, b, strlen(b), NULL);
		return;
	}
	srv.sig_ok++;
	if (!time_ok) {
		const char *b =
			"{\"__type\":\"com.amazon.coral.service#InvalidSignatureException\","
			"\"message\":\"Signature expired\"}";
		reply(req, 403, b, strlen(b), NULL);
		return;
	}
	/* Credentials the script calls expired. */
	if (strcmp(seen->akid, "AKIDFILEA") == 0 && srv.n_steps > 0 && srv.steps[0].status == 401) {
		const char *b =
			"{\"__type\":\"com.amazon.coral.service#ExpiredTokenException\","
			"\"message\":\"The security token included in the request is expired\"}";
		reply(req, 400, b, strlen(b), NULL);
		return;
	}
	if (strstr(seen->target, ".Slow") != NULL) {
		struct delayed *d = calloc(1, sizeof(*d));
		struct timeval tv = {0, 300000};
		d->req = req;
		d->ev = evtimer_new(srv.base, delayed_cb, d);
		evtimer_add(d->ev, &tv);
		return;
	}
	struct step st = {200, "{\"ok\":true}", 0, NULL};
	if (srv.next_step < srv.n_steps)
		st = srv.steps[srv.next_step++];
	if (st.status == 401)
		st = (struct step){200, "{\"ok\":true}", 0, NULL};
	if (st.status == 0) {
		/* Never answer (the client must time out); released at the test's end. */
		if (srv.n_held < 4)
			srv.held[srv.n_held++] = req;
		return;
	}
	if (st.big_body > 0) {
		char *big = malloc(st.big_body);
		memset(big, ' ', st.big_body);
		big[0] = '{';
		big[st.big_body - 1] = '}';
		reply(req, st.status, big, st.big_body, NULL);
		free(big);
		return;
	}
	reply(req, st.status, st.body, strlen(st.body), st.amz_retry_after);
}

/* The reset server: accept, then close with RST. */
static void reset_accept_cb(
	struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int socklen, void *arg)
{
	struct linger lg = {1, 0};

	(void)l;
	(void)sa;
	(void)socklen;
	(void)arg;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/* Log sink: remember any line that carries a secret. */
static void sink(enum log_level level, const char *line, void *arg)
{
	static const char *const secrets[] = {"secret-a", "secret-b", "container-secret",
		"imds-secret", "container-token", "imds-token",
		"Signature=", "container-auth-token", "imds-session"};

	(void)level;
	(void)arg;
	if (getenv("QSCALE_TEST_LOG") != NULL)
		fprintf(stderr, "%s\n", line);
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		if (strstr(line, secrets[i]) != NULL && srv.log_leak[0] == '\0')
			snprintf(srv.log_leak, sizeof(srv.log_leak), "%s", line);
	for (const char *p = line; *p != '\0'; p++)
		if (((unsigned char)*p < 0x20 || *p == 0x7f) && srv.log_control[0] == '\0')
			snprintf(srv.log_control, sizeof(srv.log_control), "%s", line);
	if (strstr(line, "http=done") != NULL)
		snprintf(srv.log_done, sizeof(srv.log_done), "%s", line);
}

/* Write the shared credentials file. */
static void write_creds(const char *text)
{
	FILE *f = fopen(srv.creds_path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char file_a[] = "[default]\naws_access_key_id = AKIDFILEA\n"
			     "aws_secret_access_key = secret-a\n";
static const char file_b[] = "[default]\naws_access_key_id = AKIDFILEB\n"
			     "aws_secret_access_key = secret-b\n";

static int group_setup(void **state)
{
	struct sockaddr_in sin = {0};
	socklen_t len = sizeof(sin);
	char url[64];

	(void)state;
	srv.base = event_base_new();
	srv.http = evhttp_new(srv.base);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(srv.http, "127.0.0.1", 0);
	assert_non_null(bs);
	getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &len);
	srv.port = ntohs(sin.sin_port);
	evhttp_set_allowed_methods(srv.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT);
	evhttp_set_max_body_size(srv.http, 1 << 20);
	evhttp_set_gencb(srv.http, server_cb, NULL);

	struct sockaddr_in rs = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	srv.reset_listener = evconnlistener_new_bind(srv.base, reset_accept_cb, NULL,
		LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16, (struct sockaddr *)&rs, sizeof(rs));
	assert_non_null(srv.reset_listener);
	len = sizeof(rs);
	getsockname(evconnlistener_get_fd(srv.reset_listener), (struct sockaddr *)&rs, &len);
	srv.reset_port = ntohs(rs.sin_port);

	snprintf(srv.dir, sizeof(srv.dir), "/tmp/qscale-aws-XXXXXX");
	assert_non_null(mkdtemp(srv.dir));
	snprintf(srv.creds_path, sizeof(srv.creds_path), "%s/credentials", srv.dir);
	write_creds(file_a);
	static const char *const unset[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL_SQS",
		"AWS_ENDPOINT_URL_ECS", "AWS_ENDPOINT_URL_DYNAMODB",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_MAX_ATTEMPTS",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_CA_BUNDLE", "http_proxy", "HTTPS_PROXY",
		"https_proxy", "ALL_PROXY", "all_proxy"};
	for (size_t i = 0; i < sizeof(unset) / sizeof(unset[0]); i++)
		unsetenv(unset[i]);
	setenv("HOME", srv.dir, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", srv.creds_path, 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/qscale/config", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_REGION", "us-east-1", 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv.port);
	setenv("AWS_ENDPOINT_URL", url, 1);
	log_set_level(LOG_LEVEL_DEBUG);
	log_set_sink(sink, NULL);
	return 0;
}

static int group_teardown(void **state)
{
	char path[160];

	(void)state;
	log_set_sink(NULL, NULL);
	evconnlistener_free(srv.reset_listener);
	evhttp_free(srv.http);
	event_base_free(srv.base);
	unlink(srv.creds_path);
	snprintf(path, sizeof(path), "%s/token", srv.dir);
	unlink(path);
	rmdir(srv.dir);
	return 0;
}

/* Reset the script and what was seen. */
static void script(const struct step *steps, int n)
{
	memset(srv.steps, 0, sizeof(srv.steps));
	if (n > 0)
		memcpy(srv.steps, steps, sizeof(*steps) * (size_t)n);
	srv.n_steps = n;
	srv.next_step = 0;
	srv.n_seen = 0;
	srv.sig_bad = 0;
	srv.sig_ok = 0;
	srv.bad_invocation_ids = 0;
	srv.check_time = false;
}

/* The outcome of one call, as the callback saw it. */
struct result {
	bool done;
	int order; /* completion order across calls */
	int err;
	long status;
	int attempts;
	char code[AWS_ERROR_CODE_MAX];
	enum aws_error_class error_class;
	char body[64];
	char request_id[32];
};

static int completions;
static int pending;

static void call_cb(const struct aws_response *resp, void *arg)
{
	struct result *r = arg;

	assert_false(r->done);
	r->done = true;
	r->order = ++completions;
	r->err = resp->error.err;
	r->status = resp->http_status;
	r->attempts = resp->attempts;
	r->error_class = resp->error.error_class;
	snprintf(r->code, sizeof(r->code), "%s", resp->error.code);
	snprintf(r->request_id, sizeof(r->request_id), "%s", resp->request_id);
	snprintf(r->body, sizeof(r->body), "%.*s", (int)(resp->body_len < 63 ? resp->body_len : 63),
		resp->body);
	if (--pending == 0)
		event_base_loopbreak(srv.base);
}

/* Run the loop until every pending call finished (bounded). */
static void run_until_done(void)
{
	struct timeval limit = {20, 0};

	event_base_loopexit(srv.base, &limit);
	event_base_dispatch(srv.base);
	int left = pending;
	pending = 0;
	assert_int_equal(left, 0);
}

/* Attempt observer: delays and classes of retried attempts. */
struct attempts_seen {
	int n;
	uint64_t delay_ms[8];
	enum aws_error_class cls[8];
	bool retry[8];
};

static void attempt_cb(const struct aws_attempt_event *ev, void *arg)
{
	struct attempts_seen *a = arg;

	if (a->n < 8) {
		a->delay_ms[a->n] = ev->delay_ms;
		a->cls[a->n] = ev->error->error_class;
		a->retry[a->n] = ev->will_retry;
		a->n++;
	}
}

static double fixed_rand(void *ctx)
{
	return *(double *)ctx;
}

/* A client for the tests with fixed jitter. */
static struct aws_client *make_client(int max_attempts, uint64_t timeout_ms)
{
	static double r = 0.1;
	struct aws_client_config cfg = {
		.timeout_ms = timeout_ms,
		.connect_timeout_ms = 1000,
		.max_attempts = max_attempts,
	};
	struct aws_client *c = NULL;

	assert_int_equal(aws_client_create(srv.base, &cfg, &clock_system, &c), 0);
	aws_client_set_random(c, fixed_rand, &r);
	return c;
}

/* Start one call and count it pending. */
static struct aws_call *start(
	struct aws_client *c, enum aws_service svc, const char *op, struct result *r)
{
	struct aws_call *call = NULL;
	const char *body = "{\"QueueUrl\":\"https://sqs.us-east-1.amazonaws.com/1/q\"}";

	memset(r, 0, sizeof(*r));
	assert_int_equal(
		aws_client_call(c, svc, op, body, strlen(body), NULL, call_cb, r, &call), 0);
	/* Never called back inside the call itself. */
	assert_false(r->done);
	pending++;
	return call;
}

static void test_success_signed(void **state)
{
	struct aws_client *c = make_client(0, 5000);
	struct result sqs, ecs;

	(void)state;
	script(NULL, 0);
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &sqs);
	start(c, AWS_SERVICE_ECS, "DescribeServices", &ecs);
	run_until_done();
	assert_int_equal(sqs.err, 0);
	assert_int_equal(sqs.status, 200);
	assert_int_equal(sqs.attempts, 1);
	assert_string_equal(sqs.body, "{\"ok\":true}");
	assert_string_equal(sqs.request_id, "req-1");
	assert_int_equal(ecs.err, 0);
	assert_int_equal(srv.sig_ok, 2);
	assert_int_equal(srv.sig_bad, 0);
	assert_int_equal(srv.bad_invocation_ids, 0);
	/* Both calls went with the right protocol headers. */
	for (int i = 0; i < 2; i++) {
		struct seen *s = &srv.seen[i];
		if (strcmp(s->target, "AmazonSQS.GetQueueAttributes") == 0) {
			assert_string_equal(s->content_type, "application/x-amz-json-1.0");
			assert_true(s->query_mode);
		} else {
			assert_string_equal(
				s->target, "AmazonEC2ContainerServiceV20141113.DescribeServices");
			assert_string_equal(s->content_type, "application/x-amz-json-1.1");
			assert_false(s->query_mode);
		}
		assert_string_equal(s->akid, "AKIDFILEA");
		assert_string_equal(s->sdk_request, "attempt=1; max=3");
	}
	struct credentials_info info;
	credentials_get_info(aws_client_credentials(c), &info);
	assert_int_equal(info.source, CREDENTIALS_SOURCE_PROFILE);
	assert_string_equal(info.access_key_id, "AKIDFILEA");
	size_t n;
	const struct aws_op_stats *st = aws_client_stats(c, &n);
	assert_int_equal(n, 2);
	assert_true(st[0].calls_ok == 1 && st[1].calls_ok == 1);
	aws_client_destroy(c);
	assert_string_equal(srv.log_leak, "");
}

static void test_retry_5xx_then_success(void **state)
{
	static const struct step steps[] = {
		{500, "{\"__type\":\"ServerException\",\"message\":\"boom\"}", 0, NULL},
		{503, "Service Unavailable", 0, NULL},
		{200, "{\"done\":1}", 0, NULL},
	};
	struct aws_client *c = make_client(0, 5000);
	struct attempts_seen a = {0};
	struct result r;

	(void)state;
	script(steps, 3);
	aws_client_set_attempt_cb(c, attempt_cb, &a);
	start(c, AWS_SERVICE_ECS, "DescribeServices", &r);
	run_until_done();
	assert_int_equal(r.err, 0);
	assert_int_equal(r.attempts, 3);
	assert_string_equal(r.body, "{\"done\":1}");
	assert_int_equal(srv.n_seen, 3);
	assert_string_equal(srv.seen[0].sdk_request, "attempt=1; max=3");
	assert_string_equal(srv.seen[1].sdk_request, "attempt=2; max=3");
	assert_string_equal(srv.seen[2].sdk_request, "attempt=3; max=3");
	assert_int_equal(a.n, 3);
	assert_int_equal(a.cls[0], AWS_ERROR_TRANSIENT);
	assert_int_equal(a.cls[1], AWS_ERROR_TRANSIENT);
	assert_true(a.retry[0] && a.retry[1] && !a.retry[2]);
	/* 0.1 x 50 ms, then 0.1 x 100 ms: growing. */
	assert_true(a.delay_ms[0] == 5 && a.delay_ms[1] == 10);
	size_t n;
	const struct aws_op_stats *st = aws_client_stats(c, &n);
	assert_true(st[0].attempts == 3 && st[0].retries == 2 && st[0].calls_ok == 1);
	aws_client_destroy(c);
}

static void test_throttling_then_success(void **state)
{
	static const struct step steps[] = {
		{400, "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}", 0,
			NULL},
		{403, "{\"__type\":\"com.amazonaws.sqs#RequestThrottled\",\"message\":\"slow\"}", 0,
			NULL},
		{200, "{}", 0, NULL},
	};
	struct aws_client *c = make_client(0, 5000);
	struct attempts_seen a = {0};
	struct result r;

	(void)state;
	script(steps, 3);
	aws_client_set_attempt_cb(c, attempt_cb, &a);
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	assert_int_equal(r.err, 0);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(a.cls[0], AWS_ERROR_THROTTLING);
	assert_int_equal(a.cls[1], AWS_ERROR_THROTTLING);
	/* Throttling base 1000 ms: 100 then 200. */
	assert_true(a.delay_ms[0] == 100 && a.delay_ms[1] == 200);
	size_t n;
	const struct aws_op_stats *st = aws_client_stats(c, &n);
	assert_true(st[0].throttles == 2);
	aws_client_destroy(c);
}

static void test_gives_up_after_max_attempts(void **state)
{
	static const struct step steps[] = {
		{500, "{}", 0, NULL},
		{500, "{}", 0, NULL},
		{500, "{}", 0, NULL},
		{200, "{}", 0, NULL},
	};
	struct aws_client *c = make_client(0, 5000);
	struct result r;

	(void)state;
	script(steps, 4);
	start(c, AWS_SERVICE_ECS, "DescribeServices", &r);
	run_until_done();
	assert_int_equal(r.err, -EIO);
	assert_int_equal(r.status, 500);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(r.error_class, AWS_ERROR_TRANSIENT);
	assert_int_equal(srv.n_seen, 3);
	aws_client_destroy(c);
}

static void test_fatal_not_retried_and_malformed(void **state)
{
	static const struct step steps[] = {
		{400,
			"{\"__type\":\"ClusterNotFoundException\",\"message\":\"Cluster not "
			"found.\"}",
			0, NULL},
		{400, "{not json at all", 0, NULL},
		{200, "{}", 0, NULL},
	};
	struct aws_client *c = make_client(0, 5000);
	struct result r1, r2;

	(void)state;
	script(steps, 3);
	start(c, AWS_SERVICE_ECS, "UpdateService", &r1);
	run_until_done();
	assert_int_equal(r1.attempts, 1);
	assert_string_equal(r1.code, "ClusterNotFoundException");
	assert_int_equal(r1.error_class, AWS_ERROR_FATAL);
	start(c, AWS_SERVICE_ECS, "UpdateService", &r2);
	run_until_done();
	assert_int_equal(r2.attempts, 1);
	assert_int_equal(r2.err, -EIO);
	assert_string_equal(r2.code, "");
	assert_int_equal(r2.status, 400);
	assert_int_equal(srv.n_seen, 2);
	aws_client_destroy(c);
}

static void test_timeout(void **state)
{
	static const struct step steps[] = {{0, NULL, 0, NULL}};
	struct aws_client *c = make_client(1, 300);
	struct result r;

	(void)state;
	script(steps, 1);
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	assert_int_equal(r.err, -ETIMEDOUT);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(r.error_class, AWS_ERROR_TRANSIENT);
	aws_client_destroy(c);
	/* Answer the held request now, so libevent frees it. */
	for (int i = 0; i < srv.n_held; i++)
		reply(srv.held[i], 200, "{}", 2, NULL);
	srv.n_held = 0;
	struct timeval t = {0, 100000};
	event_base_loopexit(srv.base, &t);
	event_base_dispatch(srv.base);
}

/* Start a call with per-call options. */
static void start_opts(struct aws_client *c, const struct aws_call_opts *opts, struct result *r)
{
	const char *body = "{\"TableName\":\"t\"}";

	memset(r, 0, sizeof(*r));
	assert_int_equal(aws_client_call(c, AWS_SERVICE_DYNAMODB, "DescribeTable", body,
				 strlen(body), opts, call_cb, r, NULL),
		0);
	pending++;
}

static void test_per_call_attempts_and_budget(void **state)
{
	static const struct step fail_twice[] = {
		{500, "{}", 0, NULL},
		{500, "{}", 0, NULL},
		{200, "{}", 0, NULL},
	};
	static const struct step hang[] = {{0, NULL, 0, NULL}};
	struct aws_client *c = make_client(0, 5000);
	struct aws_call_opts one = {.max_attempts = 1};
	struct aws_call_opts budget = {.budget_ms = 300};
	struct result r;

	(void)state;
	/* One attempt asked: a 500 is the answer, not retried. */
	script(fail_twice, 3);
	start_opts(c, &one, &r);
	run_until_done();
	assert_int_equal(r.attempts, 1);
	assert_int_equal(r.status, 500);
	/* A budget shorter than the client's timeout cuts the attempt short. */
	script(hang, 1);
	start_opts(c, &budget, &r);
	run_until_done();
	assert_int_equal(r.err, -ETIMEDOUT);
	assert_int_equal(r.attempts, 1);
	/* A retry whose backoff (100 ms) ends past the budget (120 ms) is never sent. */
	static const struct step throttled[] = {
		{400, "{\"__type\":\"ThrottlingException\",\"message\":\"slow\"}", 0, NULL},
		{200, "{}", 0, NULL},
	};
	struct aws_call_opts short_budget = {.budget_ms = 120};
	script(throttled, 2);
	start_opts(c, &short_budget, &r);
	run_until_done();
	/* The answer is the throttling error itself: no second attempt went out. */
	assert_int_equal(r.status, 400);
	assert_int_equal(r.error_class, AWS_ERROR_THROTTLING);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(srv.n_seen, 1);
	aws_client_destroy(c);
	for (int i = 0; i < srv.n_held; i++)
		reply(srv.held[i], 200, "{}", 2, NULL);
	srv.n_held = 0;
	struct timeval t = {0, 100000};
	event_base_loopexit(srv.base, &t);
	event_base_dispatch(srv.base);
}

/* aws.timeout bounds the whole call: no retry is started that could not end in time. */
static void test_timeout_covers_retries(void **state)
{
	static const struct step steps[] = {
		{500, "{}", 0, NULL},
		{0, NULL, 0, NULL},
		{200, "{}", 0, NULL},
	};
	struct aws_client *c = make_client(3, 3000);
	struct result r;

	(void)state;
	script(steps, 3);
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	/* The 500 is retried; the silent second attempt gets what is left, then nothing. */
	assert_int_equal(r.err, -ETIMEDOUT);
	assert_int_equal(r.attempts, 2);
	assert_int_equal(srv.n_seen, 2);
	aws_client_destroy(c);
	for (int i = 0; i < srv.n_held; i++)
		reply(srv.held[i], 200, "{}", 2, NULL);
	srv.n_held = 0;
	struct timeval t = {0, 100000};
	event_base_loopexit(srv.base, &t);
	event_base_dispatch(srv.base);
}

/* A response header with ESC, BEL and fake fields reaches the debug log escaped. */
static void test_hostile_header_escaped(void **state)
{
	struct aws_client *c = make_client(0, 5000);
	struct result r;

	(void)state;
	script(NULL, 0);
	srv.request_id = "r1\x1b[2J\x07 policy=orders local=0->99";
	srv.log_control[0] = '\0';
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	srv.request_id = NULL;
	assert_int_equal(r.err, 0);
	assert_non_null(
		strstr(srv.log_done, "request_id=\"r1\\x1b[2J\\x07 policy=orders local=0->99\""));
	assert_string_equal(srv.log_control, "");
	aws_client_destroy(c);
}

static void test_connection_reset(void **state)
{
	char url[64];
	struct aws_client *c;
	struct result r;

	(void)state;
	script(NULL, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv.reset_port);
	setenv("AWS_ENDPOINT_URL", url, 1);
	c = make_client(0, 2000);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv.port);
	setenv("AWS_ENDPOINT_URL", url, 1);
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	assert_int_equal(r.err, -EIO);
	assert_int_equal(r.status, 0);
	/* Connection errors are transient: every attempt was made. */
	assert_int_equal(r.attempts, 3);
	aws_client_destroy(c);
}

static void test_body_too_big(void **state)
{
	static const struct step steps[] = {{200, NULL, 20u * 1024u * 1024u, NULL}};
	struct aws_client *c = make_client(0, 10000);
	struct result r;

	(void)state;
	script(steps, 1);
	start(c, AWS_SERVICE_ECS, "DescribeServices", &r);
	run_until_done();
	assert_int_equal(r.err, -E2BIG);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(r.error_class, AWS_ERROR_FATAL);
	aws_client_destroy(c);
}

static void test_slow_does_not_block_fast(void **state)
{
	struct aws_client *c = make_client(0, 5000);
	struct result slow, fast;

	(void)state;
	script(NULL, 0);
	start(c, AWS_SERVICE_SQS, "Slow", &slow);
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &fast);
	run_until_done();
	assert_int_equal(slow.err, 0);
	assert_int_equal(fast.err, 0);
	assert_int_equal(fast.order + 1, slow.order);
	aws_client_destroy(c);
}

static void test_cancel_never_calls_back(void **state)
{
	struct aws_client *c = make_client(0, 5000);
	struct result r1, r2;

	(void)state;
	script(NULL, 0);
	struct aws_call *call = start(c, AWS_SERVICE_SQS, "Slow", &r1);
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r2);
	aws_call_cancel(call);
	pending--;
	run_until_done();
	assert_false(r1.done);
	assert_true(r2.done);
	/* Destroying with a call in flight calls nothing either. */
	start(c, AWS_SERVICE_SQS, "Slow", &r1);
	aws_client_destroy(c);
	pending--;
	assert_false(r1.done);
	/* Let the server's delayed answer go out to a closed connection. */
	struct timeval t = {0, 400000};
	event_base_loopexit(srv.base, &t);
	event_base_dispatch(srv.base);
}

static void test_container_credentials(void **state)
{
	char url[96], path[160];
	struct aws_client *c;
	struct result r;

	(void)state;
	script(NULL, 0);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/qscale/credentials", 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/creds", srv.port);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	snprintf(path, sizeof(path), "%s/token", srv.dir);
	FILE *f = fopen(path, "w");
	fputs("container-auth-token\n", f);
	fclose(f);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path, 1);
	srv.container_hits = 0;
	c = make_client(0, 5000);
	start(c, AWS_SERVICE_ECS, "DescribeServices", &r);
	run_until_done();
	assert_int_equal(r.err, 0);
	assert_int_equal(srv.container_hits, 1);
	assert_string_equal(srv.seen[0].akid, "ASIACONTAINER");
	assert_string_equal(srv.seen[0].token, "container-token");
	assert_int_equal(srv.sig_bad, 0);
	/* Cached: a second call does not fetch again. */
	start(c, AWS_SERVICE_ECS, "DescribeServices", &r);
	run_until_done();
	assert_int_equal(srv.container_hits, 1);
	struct credentials_info info;
	credentials_get_info(aws_client_credentials(c), &info);
	assert_int_equal(info.source, CREDENTIALS_SOURCE_CONTAINER);
	assert_true(info.temporary);
	assert_true(info.expiry_wall_ms > 0);
	aws_client_destroy(c);

	/* Credentials inside their last 5 minutes are fetched again before use. */
	srv.short_expiry = true;
	srv.container_hits = 0;
	c = make_client(0, 5000);
	start(c, AWS_SERVICE_ECS, "DescribeServices", &r);
	run_until_done();
	assert_int_equal(r.err, 0);
	assert_int_equal(srv.container_hits, 1);
	start(c, AWS_SERVICE_ECS, "DescribeServices", &r);
	run_until_done();
	assert_int_equal(r.err, 0);
	assert_int_equal(srv.container_hits, 2);
	aws_client_destroy(c);
	srv.short_expiry = false;
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	setenv("AWS_SHARED_CREDENTIALS_FILE", srv.creds_path, 1);
	assert_string_equal(srv.log_leak, "");
}

static void test_imds_credentials(void **state)
{
	char url[96];
	struct aws_client *c;
	struct result r;

	(void)state;
	script(NULL, 0);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/qscale/credentials", 1);
	unsetenv("AWS_EC2_METADATA_DISABLED");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", srv.port);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
	srv.imds_hits = 0;
	c = make_client(0, 5000);
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	assert_int_equal(r.err, 0);
	assert_int_equal(srv.imds_hits, 3);
	assert_string_equal(srv.seen[0].akid, "ASIAIMDS");
	assert_string_equal(srv.seen[0].token, "imds-token");
	assert_int_equal(srv.sig_bad, 0);
	struct credentials_info info;
	credentials_get_info(aws_client_credentials(c), &info);
	assert_int_equal(info.source, CREDENTIALS_SOURCE_IMDS);
	assert_non_null(strstr(info.detail, "qscale-role"));
	aws_client_destroy(c);
	unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", srv.creds_path, 1);
	assert_string_equal(srv.log_leak, "");
}

/* Point the chain at the test server's IMDS; undo with imds_off(). */
static void imds_on(void)
{
	char url[96];

	script(NULL, 0);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/qscale/credentials", 1);
	unsetenv("AWS_EC2_METADATA_DISABLED");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", srv.port);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
	srv.imds_hits = 0;
	srv.imds_v1_gets = 0;
}

static void imds_off(void)
{
	unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	unsetenv("AWS_EC2_METADATA_V1_DISABLED");
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", srv.creds_path, 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/qscale/config", 1);
	srv.imds_token_status = 0;
	srv.imds_v1_ok = false;
	srv.imds_expired = false;
	srv.imds_creds_status = 0;
}

static void test_imds_v1_fallback(void **state)
{
	static const int refusals[] = {403, 404, 405};
	struct aws_client *c;
	struct result r;

	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		imds_on();
		srv.imds_token_status = refusals[i];
		srv.imds_v1_ok = true;
		c = make_client(0, 5000);
		start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
		run_until_done();
		/* The SDKs' rule: a refused token PUT means IMDSv1, without a token. */
		assert_int_equal(r.err, 0);
		assert_int_equal(srv.imds_v1_gets, 2);
		assert_string_equal(srv.seen[0].akid, "ASIAIMDS");
		struct credentials_info info;
		credentials_get_info(aws_client_credentials(c), &info);
		assert_non_null(strstr(info.detail, "imdsv1"));
		aws_client_destroy(c);
		imds_off();
	}
	/* A token PUT that times out (an old proxy in the way) falls back too. */
	imds_on();
	srv.imds_token_status = -1;
	srv.imds_v1_ok = true;
	c = make_client(0, 5000);
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	assert_int_equal(r.err, 0);
	assert_int_equal(srv.imds_v1_gets, 2);
	aws_client_destroy(c);
	for (int i = 0; i < srv.n_held; i++)
		reply(srv.held[i], 200, "", 0, NULL);
	srv.n_held = 0;
	imds_off();
	/* 400 is a bad request, not "no IMDSv2": no fallback. */
	imds_on();
	srv.imds_token_status = 400;
	srv.imds_v1_ok = true;
	c = make_client(0, 5000);
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	assert_int_not_equal(r.err, 0);
	assert_int_equal(srv.imds_hits, 1);
	assert_int_equal(srv.n_seen, 0);
	aws_client_destroy(c);
	imds_off();
	assert_string_equal(srv.log_leak, "");
}

static void test_imds_v1_disabled(void **state)
{
	char path[160];
	struct aws_client *c;
	struct result r;
	FILE *f;

	(void)state;
	/* By the variable, then by the profile key: the refusal is final. */
	for (int by_profile = 0; by_profile < 2; by_profile++) {
		imds_on();
		srv.imds_token_status = 403;
		srv.imds_v1_ok = true;
		if (by_profile) {
			snprintf(path, sizeof(path), "%s/config", srv.dir);
			f = fopen(path, "w");
			assert_non_null(f);
			fputs("[default]\nec2_metadata_v1_disabled = true\n", f);
			fclose(f);
			setenv("AWS_CONFIG_FILE", path, 1);
		} else {
			setenv("AWS_EC2_METADATA_V1_DISABLED", "true", 1);
		}
		c = make_client(0, 5000);
		start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
		run_until_done();
		assert_int_equal(r.err, -EACCES);
		assert_int_equal(srv.imds_hits, 1);
		assert_int_equal(srv.imds_v1_gets, 0);
		assert_int_equal(srv.n_seen, 0);
		aws_client_destroy(c);
		imds_off();
		if (by_profile)
			unlink(path);
	}
	/* A value that is neither true nor false is refused, naming the variable. */
	setenv("AWS_EC2_METADATA_V1_DISABLED", "maybe", 1);
	struct diag d = {0};
	struct aws_client_config cfg = {.diag = &d};
	assert_int_equal(aws_client_create(srv.base, &cfg, &clock_system, &c), -EINVAL);
	assert_string_equal(d.file, "AWS_EC2_METADATA_V1_DISABLED");
	unsetenv("AWS_EC2_METADATA_V1_DISABLED");
}

static void test_imds_static_stability(void **state)
{
	struct aws_client *c;
	struct result r;
	struct credentials_info info;

	(void)state;
	/* IMDS hands out a set that expired: used, its expiry pushed 5 to 10 min on. */
	imds_on();
	srv.imds_expired = true;
	c = make_client(0, 5000);
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	assert_int_equal(r.err, 0);
	assert_string_equal(srv.seen[0].akid, "ASIAIMDS");
	credentials_get_info(aws_client_credentials(c), &info);
	uint64_t now = clock_wall_ms(&clock_system);
	assert_true(info.expiry_wall_ms > now + 9u * 60u * 1000u);
	assert_true(info.expiry_wall_ms <= now + 16u * 60u * 1000u);
	/* The extension is due: a refresh that fails keeps the set in use. */
	srv.imds_creds_status = 500;
	credentials_invalidate(aws_client_credentials(c));
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	assert_int_equal(r.err, 0);
	aws_client_destroy(c);
	imds_off();
	assert_string_equal(srv.log_leak, "");
}

static void test_retry_settings(void **state)
{
	static const struct step five_hundreds[] = {
		{500, "{}", 0, NULL},
		{500, "{}", 0, NULL},
		{500, "{}", 0, NULL},
		{500, "{}", 0, NULL},
		{200, "{\"done\":1}", 0, NULL},
	};
	struct attempts_seen seen = {0};
	struct aws_client *c;
	struct result r;

	(void)state;
	/* AWS_MAX_ATTEMPTS=25 is 25, and the SDK header says so. */
	script(NULL, 0);
	setenv("AWS_MAX_ATTEMPTS", "25", 1);
	c = make_client(0, 5000);
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	assert_int_equal(r.err, 0);
	assert_string_equal(srv.seen[0].sdk_request, "attempt=1; max=25");
	aws_client_destroy(c);
	unsetenv("AWS_MAX_ATTEMPTS");
	/* Legacy mode: 5 attempts by default, rand x 2^i s, no retry quota. */
	setenv("AWS_RETRY_MODE", "legacy", 1);
	script(five_hundreds, 5);
	c = make_client(0, 5000);
	aws_client_set_attempt_cb(c, attempt_cb, &seen);
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	assert_int_equal(r.err, 0);
	assert_int_equal(r.attempts, 5);
	assert_string_equal(srv.seen[4].sdk_request, "attempt=5; max=5");
	assert_int_equal(seen.delay_ms[0], 100);
	assert_int_equal(seen.delay_ms[3], 800);
	aws_client_destroy(c);
	/* A mode that does not exist is refused by name. */
	setenv("AWS_RETRY_MODE", "fast", 1);
	struct diag d = {0};
	struct aws_client_config cfg = {.diag = &d};
	assert_int_equal(aws_client_create(srv.base, &cfg, &clock_system, &c), -EINVAL);
	assert_string_equal(d.file, "AWS_RETRY_MODE");
	assert_non_null(strstr(d.message, "fast"));
	unsetenv("AWS_RETRY_MODE");
}

static void test_adaptive_mode(void **state)
{
	static const struct step throttled[] = {
		{400, "{\"__type\":\"ThrottlingException\",\"message\":\"slow down\"}", 0, NULL},
		{200, "{\"ok\":1}", 0, NULL},
		{200, "{\"ok\":2}", 0, NULL},
		{200, "{\"ok\":3}", 0, NULL},
	};
	struct aws_client *c;
	struct result r[3];

	(void)state;
	setenv("AWS_RETRY_MODE", "adaptive", 1);
	script(throttled, 4);
	c = make_client(0, 5000);
	start(c, AWS_SERVICE_ECS, "DescribeServices", &r[0]);
	run_until_done();
	assert_int_equal(r[0].err, 0);
	assert_int_equal(r[0].attempts, 2);
	/* Once throttled, the rate limiter paces the next calls: delayed, never failed. */
	start(c, AWS_SERVICE_ECS, "DescribeServices", &r[1]);
	start(c, AWS_SERVICE_ECS, "DescribeServices", &r[2]);
	run_until_done();
	assert_int_equal(r[1].err, 0);
	assert_int_equal(r[2].err, 0);
	assert_int_equal(srv.n_seen, 4);
	aws_client_destroy(c);
	unsetenv("AWS_RETRY_MODE");
}

static void sqs_counts_done(
	int err, const struct aws_error *error, const struct sqs_queue_counts *counts, void *arg)
{
	struct result *r = arg;

	(void)error;
	(void)counts;
	r->done = true;
	r->err = err;
	if (--pending == 0)
		event_base_loopbreak(srv.base);
}

static void test_sqs_signing_region(void **state)
{
	static const struct step counts[] = {
		{200, "{\"Attributes\":{\"ApproximateNumberOfMessages\":\"1\"}}", 0, NULL},
	};
	struct aws_client *c;
	struct result r = {0};

	(void)state;
	/* A queue URL in another region, sent to the client's endpoint. */
	script(counts, 1);
	c = make_client(0, 5000);
	assert_int_equal(sqs_get_queue_attributes(c,
				 "https://sqs.eu-west-1.amazonaws.com/123456789012/orders",
				 sqs_counts_done, &r, NULL),
		0);
	pending++;
	run_until_done();
	assert_int_equal(r.err, 0);
	assert_int_equal(srv.sig_bad, 0);
	/* Signed for the endpoint's (the client's) region, as botocore does. */
	assert_string_equal(srv.seen[0].region, "us-east-1");
	aws_client_destroy(c);
}

static void test_no_credentials(void **state)
{
	struct aws_client *c;
	struct result r;

	(void)state;
	script(NULL, 0);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/qscale/credentials", 1);
	c = make_client(0, 5000);
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	assert_int_equal(r.err, -ENOENT);
	assert_int_equal(r.error_class, AWS_ERROR_AUTH);
	assert_int_equal(r.attempts, 0);
	assert_int_equal(srv.n_seen, 0);
	aws_client_destroy(c);
	setenv("AWS_SHARED_CREDENTIALS_FILE", srv.creds_path, 1);
}

/* Set the file's mtime to a fixed instant, so only content changes. */
static void pin_mtime(void)
{
	struct timespec ts[2] = {{1700000000, 0}, {1700000000, 0}};

	assert_int_equal(utimensat(AT_FDCWD, srv.creds_path, ts, 0), 0);
}

static void test_file_rotation(void **state)
{
	struct aws_client *c;
	struct result r;

	(void)state;
	script(NULL, 0);
	write_creds(file_a);
	c = make_client(0, 5000);
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	assert_string_equal(srv.seen[0].akid, "AKIDFILEA");
	/* Rewritten: the new key is used on the next call. */
	write_creds(file_b);
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	assert_int_equal(r.err, 0);
	assert_string_equal(srv.seen[1].akid, "AKIDFILEB");
	/* Momentarily empty, then half-written: the previous key stays. */
	write_creds("");
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	assert_int_equal(r.err, 0);
	assert_string_equal(srv.seen[2].akid, "AKIDFILEB");
	write_creds("[default]\naws_access_key_id = AKIDFILEA\naws_secret_acc");
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	assert_int_equal(r.err, 0);
	assert_string_equal(srv.seen[3].akid, "AKIDFILEB");
	struct credentials_info info;
	credentials_get_info(aws_client_credentials(c), &info);
	assert_int_equal(info.source, CREDENTIALS_SOURCE_PROFILE);
	assert_true(info.refreshes == 1);
	aws_client_destroy(c);
}

static void test_expired_token_rereads_file(void **state)
{
	static const struct step steps[] = {{401, "", 0, NULL}};
	struct aws_client *c;
	struct result r;

	(void)state;
	script(NULL, 0);
	write_creds(file_a);
	pin_mtime();
	c = make_client(0, 5000);
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	assert_string_equal(srv.seen[0].akid, "AKIDFILEA");
	/* Rotate behind the stamp's back (same size, same mtime); AWS rejects key A. */
	write_creds(file_b);
	pin_mtime();
	script(steps, 1);
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	assert_int_equal(r.err, 0);
	assert_int_equal(r.attempts, 2);
	assert_string_equal(srv.seen[0].akid, "AKIDFILEA");
	assert_string_equal(srv.seen[1].akid, "AKIDFILEB");
	aws_client_destroy(c);
	write_creds(file_a);
}

static void test_clock_skew_corrected(void **state)
{
	struct clock_manual skewed;
	struct aws_client_config cfg = {.timeout_ms = 5000};
	struct aws_client *c;
	struct result r;

	(void)state;
	script(NULL, 0);
	srv.check_time = true;
	/* Our clock runs 20 minutes behind the server's. */
	clock_manual_init(&skewed, 1000, (uint64_t)time(NULL) * 1000 - 20 * 60 * 1000);
	assert_int_equal(aws_client_create(srv.base, &cfg, &skewed.clock, &c), 0);
	start(c, AWS_SERVICE_ECS, "DescribeServices", &r);
	run_until_done();
	assert_int_equal(r.err, 0);
	assert_int_equal(r.attempts, 2);
	int64_t off = aws_client_clock_offset_ms(c);
	assert_true(off > 19 * 60 * 1000 && off < 21 * 60 * 1000);
	aws_client_destroy(c);
	srv.check_time = false;
}

static void test_rate_limit_delays_not_fails(void **state)
{
	/* UpdateService's bucket holds 40 (80% of 50): the 41st call must wait for a refill. */
	enum { N = 42 };
	static struct result r[N];
	struct aws_client *c = make_client(0, 5000);

	(void)state;
	script(NULL, 0);
	for (int i = 0; i < N; i++)
		start(c, AWS_SERVICE_ECS, "UpdateService", &r[i]);
	run_until_done();
	for (int i = 0; i < N; i++) {
		assert_int_equal(r[i].err, 0);
		assert_int_equal(r[i].attempts, 1);
	}
	assert_int_equal(srv.sig_ok, N);
	size_t n;
	const struct aws_op_stats *st = aws_client_stats(c, &n);
	assert_int_equal(n, 1);
	assert_true(st[0].calls_ok == N && st[0].throttles == 0);
	aws_client_destroy(c);
}

static void test_connection_reused(void **state)
{
	struct aws_client *c = make_client(0, 5000);
	struct result r;

	(void)state;
	script(NULL, 0);
	for (int i = 0; i < 3; i++) {
		start(c, i == 1 ? AWS_SERVICE_ECS : AWS_SERVICE_SQS,
			i == 1 ? "DescribeServices" : "GetQueueAttributes", &r);
		run_until_done();
		assert_int_equal(r.err, 0);
	}
	/* One keep-alive connection carried all three calls. */
	assert_int_equal(srv.n_seen, 3);
	assert_true(srv.seen[0].peer_port != 0);
	assert_int_equal(srv.seen[1].peer_port, srv.seen[0].peer_port);
	assert_int_equal(srv.seen[2].peer_port, srv.seen[0].peer_port);
	aws_client_destroy(c);
}

static void test_server_retry_hint(void **state)
{
	static const struct step steps[] = {
		{400, "{\"__type\":\"ThrottlingException\"}", 0, "700"},
		{200, "{}", 0, NULL},
	};
	struct aws_client *c = make_client(0, 5000);
	struct attempts_seen a = {0};
	struct result r;

	(void)state;
	script(steps, 2);
	aws_client_set_attempt_cb(c, attempt_cb, &a);
	start(c, AWS_SERVICE_ECS, "DescribeServices", &r);
	run_until_done();
	assert_int_equal(r.err, 0);
	assert_int_equal(r.attempts, 2);
	/* x-amz-retry-after 700 ms beats the jittered 100 ms (and is under t + 5 s). */
	assert_true(a.delay_ms[0] == 700);
	aws_client_destroy(c);
}

static void test_env_credentials_and_profile_precedence(void **state)
{
	struct aws_client *c;
	struct result r;

	(void)state;
	script(NULL, 0);
	write_creds(file_a);
	setenv("AWS_ACCESS_KEY_ID", "AKIDFILEB", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret-b", 1);
	/* Environment first in the chain. */
	c = make_client(0, 5000);
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	assert_int_equal(r.err, 0);
	assert_string_equal(srv.seen[0].akid, "AKIDFILEB");
	struct credentials_info info;
	credentials_get_info(aws_client_credentials(c), &info);
	assert_int_equal(info.source, CREDENTIALS_SOURCE_ENV);
	aws_client_destroy(c);
	/* AWS_PROFILE does not beat environment keys: the AWS CLI signs with them too. */
	setenv("AWS_PROFILE", "default", 1);
	c = make_client(0, 5000);
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	assert_int_equal(r.err, 0);
	assert_string_equal(srv.seen[1].akid, "AKIDFILEB");
	aws_client_destroy(c);
	/* qscale's own aws.profile does, as the CLI's --profile. */
	static double jitter = 0.1;
	struct aws_client_config cfg = {
		.timeout_ms = 5000, .connect_timeout_ms = 1000, .profile = "default"};
	assert_int_equal(aws_client_create(srv.base, &cfg, &clock_system, &c), 0);
	aws_client_set_random(c, fixed_rand, &jitter);
	start(c, AWS_SERVICE_SQS, "GetQueueAttributes", &r);
	run_until_done();
	assert_int_equal(r.err, 0);
	assert_string_equal(srv.seen[2].akid, "AKIDFILEA");
	aws_client_destroy(c);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
}

/* A callback that destroys the client it was called from (a daemon shutting down). */
static struct aws_client *doomed;

static void destroying_cb(const struct aws_response *resp, void *arg)
{
	call_cb(resp, arg);
	aws_client_destroy(doomed);
	doomed = NULL;
}

static void test_destroy_from_callback(void **state)
{
	struct result r1, r2;
	struct aws_call *call;
	const char *body = "{}";

	(void)state;
	/* From an HTTP completion, with a second call still in flight. */
	script(NULL, 0);
	doomed = make_client(0, 5000);
	memset(&r1, 0, sizeof(r1));
	assert_int_equal(aws_client_call(doomed, AWS_SERVICE_SQS, "GetQueueAttributes", body, 2,
				 NULL, destroying_cb, &r1, &call),
		0);
	pending++;
	start(doomed, AWS_SERVICE_SQS, "Slow", &r2);
	pending--; /* never answered: destroyed with the client */
	run_until_done();
	pending = 0;
	assert_true(r1.done);
	assert_int_equal(r1.err, 0);
	assert_false(r2.done);
	assert_null(doomed);
	struct timeval t = {0, 400000};
	event_base_loopexit(srv.base, &t);
	event_base_dispatch(srv.base);

	/* From a credentials failure. */
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/qscale/credentials", 1);
	doomed = make_client(0, 5000);
	memset(&r1, 0, sizeof(r1));
	assert_int_equal(aws_client_call(doomed, AWS_SERVICE_ECS, "DescribeServices", body, 2, NULL,
				 destroying_cb, &r1, &call),
		0);
	pending++;
	start(doomed, AWS_SERVICE_ECS, "DescribeServices", &r2);
	pending--;
	run_until_done();
	pending = 0;
	assert_true(r1.done);
	assert_int_equal(r1.err, -ENOENT);
	assert_false(r2.done);
	assert_null(doomed);
	setenv("AWS_SHARED_CREDENTIALS_FILE", srv.creds_path, 1);
}

/* What one cloud list_instances answered. */
struct listed {
	bool done;
	int err;
	size_t n;
	char first[96];
	char message[AWS_ERROR_MESSAGE_MAX];
};

static void on_listed_instances(int err, const struct aws_error *error,
	const struct cloud_instance *instances, size_t n_instances, void *arg)
{
	struct listed *l = arg;

	l->done = true;
	l->err = err;
	l->n = n_instances;
	if (n_instances > 0)
		snprintf(l->first, sizeof(l->first), "%s", instances[0].arn);
	if (error != NULL)
		snprintf(l->message, sizeof(l->message), "%s", error->message);
	if (--pending == 0)
		event_base_loopbreak(srv.base);
}

/* list_instances of cloud_aws over the scripted server. */
static struct listed list_instances_via_cloud(const struct step *steps, int n)
{
	struct aws_client *c = make_client(1, 5000);
	struct cloud_aws *aws = cloud_aws_create(c);
	const struct cloud *cloud = cloud_aws_cloud(aws);
	struct listed l = {0};

	script(steps, n);
	assert_int_equal(
		cloud->ops->list_instances(cloud->ctx, "onprem", on_listed_instances, &l), 0);
	pending++;
	run_until_done();
	assert_true(l.done);
	cloud_aws_destroy(aws);
	aws_client_destroy(c);
	return l;
}

#define INSTANCE_A \
	"{\"containerInstanceArn\":\"arn:aws:ecs:us-east-1:123456789012:container-instance/" \
	"onprem/a\"," \
	"\"status\":\"ACTIVE\",\"agentConnected\":true,\"remainingResources\":[" \
	"{\"name\":\"CPU\",\"type\":\"INTEGER\",\"integerValue\":1024}," \
	"{\"name\":\"MEMORY\",\"type\":\"INTEGER\",\"integerValue\":4096}]}"
#define ARN_B "arn:aws:ecs:us-east-1:123456789012:container-instance/onprem/b"
#define LIST_AB \
	"{\"containerInstanceArns\":[\"arn:aws:ecs:us-east-1:123456789012:container-instance/" \
	"onprem/a\"," \
	"\"" ARN_B "\"]}"
#define LIST_A \
	"{\"containerInstanceArns\":[\"arn:aws:ecs:us-east-1:123456789012:container-instance/" \
	"onprem/a\"]}"
#define A_B_MISSING \
	"{\"containerInstances\":[" INSTANCE_A "],\"failures\":[{\"arn\":\"" ARN_B \
	"\",\"reason\":\"MISSING\"}]}"

/*
 * The fleet view is whole or missing data: MISSING for an instance that a
 * second listing no longer lists is a deregistration; one still listed, any
 * other failure, or remaining resources without MEMORY leave it incomplete.
 */
static void test_cloud_fleet_completeness(void **state)
{
	static const struct step deregistered[] = {
		{200, LIST_AB, 0, NULL},
		{200, A_B_MISSING, 0, NULL},
		{200, LIST_A, 0, NULL},
		{200, "{\"containerInstances\":[" INSTANCE_A "],\"failures\":[]}", 0, NULL},
	};
	static const struct step still_listed[] = {
		{200, LIST_AB, 0, NULL},
		{200, A_B_MISSING, 0, NULL},
		{200, LIST_AB, 0, NULL},
		{200, A_B_MISSING, 0, NULL},
	};
	static const struct step other_reason[] = {
		{200, LIST_AB, 0, NULL},
		{200,
			"{\"containerInstances\":[" INSTANCE_A "],\"failures\":[{\"arn\":\"" ARN_B
			"\",\"reason\":\"AGENT\"}]}",
			0, NULL},
	};
	static const struct step no_memory[] = {
		{200, LIST_A, 0, NULL},
		{200,
			"{\"containerInstances\":[{\"containerInstanceArn\":\"" ARN_B "\","
			"\"ec2InstanceId\":\"mi-2\",\"status\":\"ACTIVE\",\"agentConnected\":true,"
			"\"remainingResources\":[{\"name\":\"CPU\",\"type\":\"INTEGER\","
			"\"integerValue\":1024}]}],\"failures\":[]}",
			0, NULL},
	};
	struct listed l;

	(void)state;
	l = list_instances_via_cloud(deregistered, 4);
	assert_int_equal(l.err, 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(
		l.first, "arn:aws:ecs:us-east-1:123456789012:container-instance/onprem/a");
	assert_int_equal(srv.n_seen, 4);

	l = list_instances_via_cloud(still_listed, 4);
	assert_int_equal(l.err, -EPROTO);
	assert_non_null(strstr(l.message,
		"incomplete fleet: instance " ARN_B " in failures (MISSING, still listed)"));

	l = list_instances_via_cloud(other_reason, 2);
	assert_int_equal(l.err, -EPROTO);
	assert_non_null(strstr(l.message, "in failures (AGENT)"));
	assert_int_equal(srv.n_seen, 2);

	l = list_instances_via_cloud(no_memory, 2);
	assert_int_equal(l.err, -EPROTO);
	assert_non_null(strstr(
		l.message, "incomplete fleet: instance mi-2: remainingResources lacks MEMORY"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success_signed),
		cmocka_unit_test(test_retry_5xx_then_success),
		cmocka_unit_test(test_throttling_then_success),
		cmocka_unit_test(test_gives_up_after_max_attempts),
		cmocka_unit_test(test_fatal_not_retried_and_malformed),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_timeout_covers_retries),
		cmocka_unit_test(test_hostile_header_escaped),
		cmocka_unit_test(test_connection_reset),
		cmocka_unit_test(test_per_call_attempts_and_budget),
		cmocka_unit_test(test_body_too_big),
		cmocka_unit_test(test_slow_does_not_block_fast),
		cmocka_unit_test(test_cancel_never_calls_back),
		cmocka_unit_test(test_container_credentials),
		cmocka_unit_test(test_imds_credentials),
		cmocka_unit_test(test_imds_v1_fallback),
		cmocka_unit_test(test_imds_v1_disabled),
		cmocka_unit_test(test_imds_static_stability),
		cmocka_unit_test(test_retry_settings),
		cmocka_unit_test(test_adaptive_mode),
		cmocka_unit_test(test_sqs_signing_region),
		cmocka_unit_test(test_no_credentials),
		cmocka_unit_test(test_file_rotation),
		cmocka_unit_test(test_expired_token_rereads_file),
		cmocka_unit_test(test_clock_skew_corrected),
		cmocka_unit_test(test_rate_limit_delays_not_fails),
		cmocka_unit_test(test_destroy_from_callback),
		cmocka_unit_test(test_server_retry_hint),
		cmocka_unit_test(test_connection_reused),
		cmocka_unit_test(test_env_credentials_and_profile_precedence),
		cmocka_unit_test(test_cloud_fleet_completeness),
	};

	return cmocka_run_group_tests_name("aws_client", tests, group_setup, group_teardown);
}
