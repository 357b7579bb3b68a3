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
	bool ignore_configured_urls; /* the profile's ignore_configured_endpoint_urls */
	bool use_fips; /* resolved use_fips_endpoint (variable or profile) */
	bool use_dualstack; /* resolved use_dualstack_endpoint */
};

/* Which setting gave an endpoint. */
enum aws_endpoint_origin {
	AWS_ENDPOINT_FROM_CONFIG, /* qscale's aws.endpoints */
	AWS_ENDPOINT_FROM_ENV_SERVICE, /* AWS_ENDPOINT_URL_<SVC> */
	AWS_ENDPOINT_FROM_ENV_GLOBAL, /* AWS_ENDPOINT_URL */
	AWS_ENDPOINT_FROM_PROFILE_SERVICE, /* [services x] <svc> = endpoint_url */
	AWS_ENDPOINT_FROM_PROFILE_GLOBAL, /* endpoint_url in the profile */
	AWS_ENDPOINT_FROM_DEFAULT, /* the region's, from the rule set */
};

/* The service's own endpoint variable: "AWS_ENDPOINT_URL_SQS", "..._ECS", "..._DYNAMODB". */
const char *aws_endpoint_env_var(enum aws_service service);

/* "config", "env-service", "env-global", "profile-service", "profile-global", "default". */
const char *aws_endpoint_origin_name(enum aws_endpoint_origin from);

/*
 * The configured endpoint URL for service, unparsed: configured, else (unless
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true or the profile's
 * ignore_configured_endpoint_urls) AWS_ENDPOINT_URL_<SVC>, AWS_ENDPOINT_URL,
 * the profile's service then global endpoint_url. NULL (and *from DEFAULT)
 * when none is configured.
 */
const char *aws_endpoint_choose(enum aws_service service, const char *configured, aws_env_cb env,
	void *env_ctx, const struct aws_profile_endpoints *profile, enum aws_endpoint_origin *from);

/* An AWS partition as the SDKs' partitions.json describes it. */
struct aws_partition {
	const char *name; /* "aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b" */
	const char *region_prefix;
	const char *dns_suffix;
	const char *dualstack_suffix; /* NULL when dual-stack is not offered */
	bool supports_dualstack;
};

/* The partition of region (the commercial one for names it does not know). */
const struct aws_partition *aws_partition_of(const char *region);

/*
 * The region's endpoint for service as the SQS and ECS endpoint rule sets
 * give it: https://<svc>[-fips].<region>.<suffix>, the dual-stack suffix
 * (api.aws, api.amazonwebservices.com.cn) when dualstack; SQS in GovCloud is
 * FIPS at its plain name (DynamoDB too). -EINVAL for a bad region, -ENOTSUP when the
 * partition has no dual-stack endpoints.
 */
int aws_endpoint_default(
	enum aws_service service, const char *region, bool fips, bool dualstack, char **out);

/*
 * The same for any service by its endpoint prefix ("sts"): gov_fips_plain
 * for the services whose GovCloud FIPS endpoint is their plain name (SQS,
 * STS).
 */
int aws_endpoint_default_named(const char *name, bool gov_fips_plain, const char *region, bool fips,
	bool dualstack, char **out);

/*
 * The endpoint origin for service: aws_endpoint_choose(), else
 * aws_endpoint_default() with the profile's FIPS and dual-stack flags. *out
 * is "scheme://host[:port]" without a trailing '/', freed by the caller.
 * A configured endpoint wins over the FIPS and dual-stack flags (botocore
 * drops them then, rather than refuse as the bare rule sets would). -EINVAL
 * for a URL that is not http(s)://host[:port][/]; -ENOTSUP for dual-stack in
 * a partition without it.
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
