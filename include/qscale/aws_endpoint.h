/*
 * Where the AWS client sends its requests and which region it signs for:
 * resolution from qscale's configuration, the SDK-standard environment
 * variables and the AWS config file's profile, in the SDKs' order. Pure: the
 * environment is read through a callback.
 */
#ifndef QSCALE_AWS_ENDPOINT_H
#define QSCALE_AWS_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "qscale/aws_client.h"

/* Look up an environment variable; NULL when unset. */
typedef const char *(*aws_env_cb)(const char *name, void *ctx);

/* The process environment (getenv). */
const char *aws_env_system(const char *name, void *ctx);

#define AWS_REGION_MAX 64

/*
 * The region: configured, else AWS_REGION, else AWS_DEFAULT_REGION, else
 * profile_region (the config file's "region"). -ENOENT when none, -EINVAL
 * when the chosen one is not a region name ([a-z0-9-], 1..63).
 */
int aws_region_resolve(const char *configured, aws_env_cb env, void *env_ctx,
	const char *profile_region, char out[AWS_REGION_MAX]);

/* Profile endpoint settings from the AWS config file, all optional. */
struct aws_profile_endpoints {
	const char *service_url; /* [services x] <svc> = / endpoint_url = */
	const char *global_url; /* endpoint_url in the profile */
};

/*
 * The endpoint origin for service: configured, else (unless
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true) AWS_ENDPOINT_URL_<SVC>,
 * AWS_ENDPOINT_URL, the profile's service then global endpoint_url, else
 * https://<svc>.<region>.amazonaws.com (.com.cn for cn- regions). *out is
 * "scheme://host[:port]" without a trailing '/', freed by the caller.
 * -EINVAL for a URL that is not http(s)://host[:port][/].
 */
int aws_endpoint_resolve(enum aws_service service, const char *configured, const char *region,
	aws_env_cb env, void *env_ctx, const struct aws_profile_endpoints *profile, char **out);

/*
 * Check and normalise an endpoint URL into "scheme://host[:port]" (*origin)
 * and the Host header value "host[:port]" (*host); both freed by the caller.
 */
int aws_endpoint_parse(const char *url, char **origin, char **host);

/* The service's name in signing scopes and hosts: "sqs", "ecs". */
const char *aws_service_name(enum aws_service service);

#endif
