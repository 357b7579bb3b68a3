/*
 * Fetching temporary credentials over HTTP: the ECS container endpoint (one
 * GET) and EC2 IMDSv2 (PUT a session token, GET the role name, GET the
 * role's credentials; without the token, as IMDSv1, when the PUT is refused
 * with 403, 404 or 405 or times out, as the SDKs do, unless IMDSv1 is
 * disabled). Both endpoints are link-local, so they never go
 * through a proxy; both run on the shared http client, asynchronously.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credentials_priv.h"
#include "qscale/http.h"
#include "qscale/log.h"
#include "qscale/xalloc.h"

#define CRED_BODY_MAX (64u * 1024u)
#define IMDS_TOKEN_TTL_S "21600"

enum fetch_step {
	STEP_CONTAINER,
	STEP_IMDS_TOKEN,
	STEP_IMDS_ROLE,
	STEP_IMDS_CREDS,
};

struct credentials_http_fetch {
	struct http_client *http;
	enum fetch_step step;
	char *endpoint; /* IMDS base URL */
	char *imds_token;
	char *role;
	char detail[256];
	uint64_t timeout_ms;
	bool v1_disabled; /* no IMDSv1 fallback */
	bool v1; /* fell back: requests carry no token */
	struct http_request *req;
	credentials_http_cb cb;
	void *arg;
};

static void fetch_response(const struct http_response *resp, void *arg);

/* Free a fetch and its secrets. */
static void fetch_free(struct credentials_http_fetch *f)
{
	free(f->endpoint);
	secure_free_str(f->imds_token);
	free(f->role);
	free(f);
}

/* Report the outcome and free f. */
static void fetch_done(struct credentials_http_fetch *f, int err, struct credentials_set *set)
{
	credentials_http_cb cb = f->cb;
	void *arg = f->arg;
	char detail[sizeof(f->detail)];

	memcpy(detail, f->detail, sizeof(detail));
	fetch_free(f);
	cb(err, set, detail, arg);
}

/* Send one request of the fetch. */
static int fetch_send(struct credentials_http_fetch *f, const char *method, const char *url,
	const struct http_header *headers, size_t n_headers)
{
	struct http_request_opts opts = {
		.method = method,
		.url = url,
		.headers = headers,
		.n_headers = n_headers,
		.timeout_ms = f->timeout_ms,
		.connect_timeout_ms = f->timeout_ms,
		.max_body = CRED_BODY_MAX,
		.no_proxy = true,
	};

	return http_request_start(f->http, &opts, fetch_response, f, &f->req);
}

/* Next IMDS step after a good token or role answer; returns 0 or a negative errno. */
static int imds_next(struct credentials_http_fetch *f)
{
	struct http_header h = {"x-aws-ec2-metadata-token", f->imds_token};
	char *url;
	int r;
	size_t n_headers = f->imds_token != NULL ? 1 : 0; /* none in IMDSv1 */

	if (f->step == STEP_IMDS_ROLE) {
		url = xasprintf("%s/latest/meta-data/iam/security-credentials/", f->endpoint);
	} else {
		url = xasprintf(
			"%s/latest/meta-data/iam/security-credentials/%s", f->endpoint, f->role);
		snprintf(f->detail, sizeof(f->detail), "imds%s role=%s", f->v1 ? "v1" : "",
			LOG_Q(f->role));
	}
	r = fetch_send(f, "GET", url, &h, n_headers);
	free(url);
	return r;
}

/* The first line of an IMDS role listing, checked to be a plain name. */
static char *role_from_body(const char *body, size_t len)
{
	size_t n = 0;

	while (n < len && body[n] != '\n' && body[n] != '\r')
		n++;
	if (n == 0 || n > 128)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)body[i];
		if (c <= 0x20 || c >= 0x7f || c == '/' || c == '?' || c == '#' || c == '%')
			return NULL;
	}
	return xstrndup(body, n);
}

/* Whether the answer to the token PUT is one the SDKs take as "no IMDSv2 here". */
static bool imds_token_refused(const struct http_response *resp)
{
	if (resp->err == -ETIMEDOUT)
		return true;
	return resp->err == 0 &&
		(resp->status == 403 || resp->status == 404 || resp->status == 405);
}

/* One answer arrived: parse it, move to the next step or finish. */
static void fetch_response(const struct http_response *resp, void *arg)
{
	struct credentials_http_fetch *f = arg;
	struct credentials_set set = {0};
	int r;

	f->req = NULL;
	if (f->step == STEP_IMDS_TOKEN && imds_token_refused(resp)) {
		/* The SDKs fall back to IMDSv1 (no token) unless told not to. */
		if (f->v1_disabled) {
			snprintf(f->detail, sizeof(f->detail),
				"imds endpoint=%s: the token PUT was refused (%s) and IMDSv1 is "
				"disabled (AWS_EC2_METADATA_V1_DISABLED or "
				"ec2_metadata_v1_disabled)",
				f->endpoint, resp->err != 0 ? "timed out" : "HTTP 403/404/405");
			fetch_done(f, -EACCES, NULL);
			return;
		}
		log_debug(
			"credentials=imds fallback=v1 status=%ld err=%d", resp->status, resp->err);
		f->v1 = true;
		f->step = STEP_IMDS_ROLE;
		r = imds_next(f);
		if (r < 0)
			fetch_done(f, r, NULL);
		return;
	}
	if (resp->err != 0) {
		log_debug("credentials=fetch step=%d err=%d reason=%s", (int)f->step, resp->err,
			LOG_Q(resp->transport_error));
		fetch_done(f, resp->err, NULL);
		return;
	}
	if (resp->status != 200) {
		log_debug("credentials=fetch step=%d status=%ld", (int)f->step, resp->status);
		fetch_done(f, resp->status == 401 || resp->status == 403 ? -EACCES : -EIO, NULL);
		return;
	}
	switch (f->step) {
	case STEP_CONTAINER:
	case STEP_IMDS_CREDS:
		r = credentials_parse_json(resp->body, resp->body_len, &set);
		fetch_done(f, r, r == 0 ? &set : NULL);
		credentials_set_finish(&set);
		return;
	case STEP_IMDS_TOKEN:
		if (resp->body_len == 0 || resp->body_len > 4096 ||
			strpbrk(resp->body, "\r\n") != NULL) {
			fetch_done(f, -EPROTO, NULL);
			return;
		}
		f->imds_token = xstrndup(resp->body, resp->body_len);
		f->step = STEP_IMDS_ROLE;
		break;
	case STEP_IMDS_ROLE:
		f->role = role_from_body(resp->body, resp->body_len);
		if (f->role == NULL) {
			fetch_done(f, -EPROTO, NULL);
			return;
		}
		f->step = STEP_IMDS_CREDS;
		break;
	}
	r = imds_next(f);
	if (r < 0)
		fetch_done(f, r, NULL);
}

/* See credentials_priv.h. */
int credentials_http_container(struct http_client *http, const char *url, const char *auth,
	uint64_t timeout_ms, credentials_http_cb cb, void *arg, struct credentials_http_fetch **out)
{
	struct credentials_http_fetch *f = xcalloc(1, sizeof(*f));
	struct http_header h = {"Authorization", auth};

	f->http = http;
	f->step = STEP_CONTAINER;
	f->timeout_ms = timeout_ms;
	f->cb = cb;
	f->arg = arg;
	snprintf(f->detail, sizeof(f->detail), "container url=%s", LOG_Q(url));
	int r = fetch_send(f, "GET", url, &h, auth != NULL ? 1 : 0);
	if (r < 0) {
		fetch_free(f);
		return r;
	}
	*out = f;
	return 0;
}

/* See credentials_priv.h. */
int credentials_http_imds(struct http_client *http, const char *endpoint, uint64_t timeout_ms,
	bool v1_disabled, credentials_http_cb cb, void *arg, struct credentials_http_fetch **out)
{
	struct credentials_http_fetch *f = xcalloc(1, sizeof(*f));
	struct http_header h = {"x-aws-ec2-metadata-token-ttl-seconds", IMDS_TOKEN_TTL_S};
	size_t len = strlen(endpoint);

	while (len > 0 && endpoint[len - 1] == '/')
		len--;
	f->http = http;
	f->step = STEP_IMDS_TOKEN;
	f->v1_disabled = v1_disabled;
	f->endpoint = xstrndup(endpoint, len);
	f->timeout_ms = timeout_ms;
	f->cb = cb;
	f->arg = arg;
	snprintf(f->detail, sizeof(f->detail), "imds endpoint=%s", f->endpoint);
	char *url = xasprintf("%s/latest/api/token", f->endpoint);
	int r = fetch_send(f, "PUT", url, &h, 1);
	free(url);
	if (r < 0) {
		fetch_free(f);
		return r;
	}
	*out = f;
	return 0;
}

/* See credentials_priv.h. */
void credentials_http_cancel(struct credentials_http_fetch *f)
{
	if (f == NULL)
		return;
	http_request_cancel(f->req);
	fetch_free(f);
}
