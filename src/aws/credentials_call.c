/*
 * The chain's own calls to AWS: STS (Query protocol, a signed form POST, or
 * unsigned for AssumeRoleWithWebIdentity) and SSO GetRoleCredentials (a GET
 * with the cached bearer token). They cannot go through aws_client, which
 * signs with the chain's own result; they are one attempt each on the shared
 * http client, and a failure says who answered what: status, AWS error code
 * and message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credentials_priv.h"
#include "qscale/aws_client.h"
#include "qscale/aws_endpoint.h"
#include "qscale/http.h"
#include "qscale/log.h"
#include "qscale/sts.h"
#include "qscale/xalloc.h"

struct cred_call {
	struct http_request *req;
	char *host;
	cred_call_cb cb;
	void *arg;
};

/* Describe a non-200 answer: STS's XML error, else a JSON one, else the status. */
static void describe_failure(const struct http_response *resp, char *why, size_t size)
{
	char code[AWS_ERROR_CODE_MAX] = "", message[AWS_ERROR_MESSAGE_MAX] = "";

	if (sts_parse_error(
		    resp->body, resp->body_len, code, sizeof(code), message, sizeof(message)) < 0) {
		struct aws_error e;
		aws_error_parse(resp->status, resp->query_error, resp->error_type, resp->body,
			resp->body_len, &e);
		snprintf(code, sizeof(code), "%s", e.code);
		snprintf(message, sizeof(message), "%s", e.message);
	}
	if (code[0] == '\0')
		snprintf(why, size, "HTTP %ld", resp->status);
	else
		snprintf(why, size, "HTTP %ld %s%s%s", resp->status, code,
			message[0] != '\0' ? ": " : "", message);
}

/* The answer came. */
static void call_done(const struct http_response *resp, void *arg)
{
	struct cred_call *call = arg;
	struct cred_call_result res = {.status = resp->status};
	char why[700];

	if (resp->err != 0) {
		res.err = resp->err;
		snprintf(why, sizeof(why), "%s",
			resp->transport_error[0] != '\0' ? resp->transport_error
							 : strerror(-resp->err));
	} else if (resp->status != 200) {
		res.err = resp->status == 400 || resp->status == 401 || resp->status == 403
			? -EACCES
			: -EIO;
		describe_failure(resp, why, sizeof(why));
	} else {
		why[0] = '\0';
		res.body = resp->body;
		res.body_len = resp->body_len;
	}
	res.why = why;
	cred_call_cb cb = call->cb;
	void *cb_arg = call->arg;
	free(call->host);
	free(call);
	cb(&res, cb_arg);
}

/* See credentials_priv.h. */
int cred_call_start(struct http_client *http, const struct clock *clock,
	const struct cred_call_opts *opts, cred_call_cb cb, void *arg, struct cred_call **out)
{
	struct cred_call *call = xcalloc(1, sizeof(*call));
	char *origin = NULL;
	struct sigv4_signed sig = {0};
	struct http_header headers[8];
	size_t n = 0;
	int r = aws_endpoint_parse(opts->origin, &origin, &call->host);

	if (r < 0) {
		free(call);
		return r;
	}
	const char *ctype = "application/x-www-form-urlencoded; charset=utf-8";
	headers[n++] = (struct http_header){"Host", call->host};
	if (opts->body != NULL)
		headers[n++] = (struct http_header){"Content-Type", ctype};
	if (opts->bearer != NULL)
		headers[n++] = (struct http_header){"x-amz-sso_bearer_token", opts->bearer};
	if (opts->signer != NULL) {
		struct sigv4_header sh[2] = {{"Host", call->host}, {"Content-Type", ctype}};
		const char *q = strchr(opts->path_query, '?');
		char *path = q != NULL ? xstrndup(opts->path_query, (size_t)(q - opts->path_query))
				       : xstrdup(opts->path_query);
		struct sigv4_request sreq = {
			.method = opts->method,
			.path = path,
			.query = q != NULL ? q + 1 : NULL,
			.headers = sh,
			.n_headers = opts->body != NULL ? 2 : 1,
			.body = opts->body,
			.body_len = opts->body != NULL ? strlen(opts->body) : 0,
		};
		struct sigv4_params params = {
			.region = opts->signing_region,
			.service = opts->service,
			.time_ms = clock_wall_ms(clock),
			.normalize_path = true,
		};
		r = sigv4_sign(&sreq, opts->signer, &params, NULL, &sig);
		free(path);
		if (r == 0) {
			headers[n++] = (struct http_header){"X-Amz-Date", sig.amz_date};
			if (sig.security_token != NULL)
				headers[n++] = (struct http_header){
					"X-Amz-Security-Token", sig.security_token};
			headers[n++] = (struct http_header){"Authorization", sig.authorization};
		}
	}
	char *url = xasprintf("%s%s", origin, opts->path_query);
	struct http_request_opts ho = {
		.method = opts->method,
		.url = url,
		.headers = headers,
		.n_headers = n,
		.body = opts->body,
		.body_len = opts->body != NULL ? strlen(opts->body) : 0,
		.timeout_ms = opts->timeout_ms,
		.connect_timeout_ms = opts->timeout_ms,
		.max_body = STS_BODY_MAX,
	};
	call->cb = cb;
	call->arg = arg;
	if (r == 0)
		r = http_request_start(http, &ho, call_done, call, &call->req);
	sigv4_signed_finish(&sig);
	free(url);
	free(origin);
	if (r < 0) {
		free(call->host);
		free(call);
		return r;
	}
	*out = call;
	return 0;
}

/* See credentials_priv.h. */
void cred_call_cancel(struct cred_call *call)
{
	if (call == NULL)
		return;
	http_request_cancel(call->req);
	free(call->host);
	free(call);
}
