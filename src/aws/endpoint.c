/*
 * Region and endpoint resolution in the AWS SDKs' order: what qscale's own
 * configuration says, then the standard environment variables, then the AWS
 * config file's profile, then the service's regional default.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qscale/aws_endpoint.h"
#include "qscale/xalloc.h"

/* See qscale/aws_endpoint.h. */
const char *aws_env_system(const char *name, void *ctx)
{
	(void)ctx;
	return getenv(name);
}

/* See qscale/aws_endpoint.h. */
const char *aws_service_name(enum aws_service service)
{
	switch (service) {
	case AWS_SERVICE_SQS:
		return "sqs";
	case AWS_SERVICE_DYNAMODB:
		return "dynamodb";
	case AWS_SERVICE_ECS:
		break;
	}
	return "ecs";
}

/* A set, non-empty value. */
static const char *nonempty(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

/* Whether text is a plausible region name. */
static bool region_valid(const char *text)
{
	size_t n = strlen(text);

	if (n == 0 || n >= AWS_REGION_MAX || text[0] == '-' || text[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)text[i]) || isdigit((unsigned char)text[i]) ||
			    text[i] == '-'))
			return false;
	return true;
}

/* See qscale/aws_endpoint.h. */
int aws_region_resolve(const char *configured, aws_env_cb env, void *env_ctx,
	const char *profile_region, char out[AWS_REGION_MAX])
{
	const char *region = nonempty(configured);

	if (region == NULL)
		region = nonempty(env("AWS_REGION", env_ctx));
	if (region == NULL)
		region = nonempty(env("AWS_DEFAULT_REGION", env_ctx));
	if (region == NULL)
		region = nonempty(profile_region);
	if (region == NULL)
		return -ENOENT;
	if (!region_valid(region))
		return -EINVAL;
	strcpy(out, region);
	return 0;
}

/* See qscale/aws_endpoint.h. */
int aws_endpoint_parse(const char *url, char **origin, char **host)
{
	const char *rest;
	bool https;

	if (url == NULL)
		return -EINVAL;
	if (strncasecmp(url, "https://", 8) == 0) {
		rest = url + 8;
		https = true;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		rest = url + 7;
		https = false;
	} else {
		return -EINVAL;
	}
	size_t hlen = strcspn(rest, "/?#");
	const char *tail = rest + hlen;
	/* Only an empty path or "/" : requests always go to "/". */
	if (!(tail[0] == '\0' || (tail[0] == '/' && tail[1] == '\0')))
		return -EINVAL;
	if (hlen == 0 || hlen > 255)
		return -EINVAL;
	for (size_t i = 0; i < hlen; i++) {
		unsigned char c = (unsigned char)rest[i];
		if (!(isalnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' ||
			    c == '_'))
			return -EINVAL;
	}
	/* A port, when given, is 1..65535 digits after the last ':' outside brackets. */
	const char *close = memchr(rest, ']', hlen);
	const char *colon = NULL;
	for (const char *c = close != NULL ? close : rest; c < rest + hlen; c++)
		if (*c == ':')
			colon = c;
	if (rest[0] == '[' && close == NULL)
		return -EINVAL;
	if (colon != NULL) {
		const char *ps = colon + 1;
		size_t plen = (size_t)(rest + hlen - ps);
		long port = 0;
		if (plen == 0 || plen > 5)
			return -EINVAL;
		for (size_t i = 0; i < plen; i++) {
			if (!isdigit((unsigned char)ps[i]))
				return -EINVAL;
			port = port * 10 + (ps[i] - '0');
		}
		if (port < 1 || port > 65535)
			return -EINVAL;
		if (colon == rest)
			return -EINVAL;
	}
	char *h = xstrndup(rest, hlen);
	for (char *c = h; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	*origin = xasprintf("%s://%s", https ? "https" : "http", h);
	*host = h;
	return 0;
}

/* Normalise url into *out (origin only). */
static int take_url(const char *url, char **out)
{
	char *origin, *host;
	int r = aws_endpoint_parse(url, &origin, &host);

	if (r < 0)
		return r;
	free(host);
	*out = origin;
	return 0;
}

/* The DNS suffixes of the AWS partitions, as botocore's partitions.json names them. */
static const struct aws_partition partitions[] = {
	{"aws-cn", "cn-", "amazonaws.com.cn", "api.amazonwebservices.com.cn", true},
	{"aws-us-gov", "us-gov-", "amazonaws.com", "api.aws", true},
	{"aws-iso-b", "us-isob-", "sc2s.sgov.gov", NULL, false},
	{"aws-iso", "us-iso-", "c2s.ic.gov", NULL, false},
	{"aws", "", "amazonaws.com", "api.aws", true},
};

/* See qscale/aws_endpoint.h. */
const struct aws_partition *aws_partition_of(const char *region)
{
	size_t n = sizeof(partitions) / sizeof(partitions[0]);

	for (size_t i = 0; i + 1 < n; i++)
		if (strncmp(region, partitions[i].region_prefix,
			    strlen(partitions[i].region_prefix)) == 0)
			return &partitions[i];
	/* Unknown names fall into the commercial partition, as in the rule sets. */
	return &partitions[n - 1];
}

/* See qscale/aws_endpoint.h. */
const char *aws_endpoint_choose(enum aws_service service, const char *configured, aws_env_cb env,
	void *env_ctx, const struct aws_profile_endpoints *profile, enum aws_endpoint_origin *from)
{
	const char *url;
	enum aws_endpoint_origin o = AWS_ENDPOINT_FROM_CONFIG;

	if ((url = nonempty(configured)) != NULL)
		goto found;
	const char *ignore = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", env_ctx);
	if ((ignore != NULL && strcasecmp(ignore, "true") == 0) ||
		(profile != NULL && profile->ignore_configured_urls))
		goto none;
	o = AWS_ENDPOINT_FROM_ENV_SERVICE;
	url = nonempty(env(aws_endpoint_env_var(service), env_ctx));
	if (url != NULL)
		goto found;
	o = AWS_ENDPOINT_FROM_ENV_GLOBAL;
	if ((url = nonempty(env("AWS_ENDPOINT_URL", env_ctx))) != NULL)
		goto found;
	o = AWS_ENDPOINT_FROM_PROFILE_SERVICE;
	if (profile != NULL && (url = nonempty(profile->service_url)) != NULL)
		goto found;
	o = AWS_ENDPOINT_FROM_PROFILE_GLOBAL;
	if (profile != NULL && (url = nonempty(profile->global_url)) != NULL)
		goto found;
none:
	*from = AWS_ENDPOINT_FROM_DEFAULT;
	return NULL;
found:
	*from = o;
	return url;
}

/* See qscale/aws_endpoint.h. */
int aws_endpoint_default_named(const char *name, bool gov_fips_plain, const char *region, bool fips,
	bool dualstack, char **out)
{
	if (region == NULL || !region_valid(region))
		return -EINVAL;
	const struct aws_partition *p = aws_partition_of(region);
	if (dualstack && !p->supports_dualstack)
		return -ENOTSUP;
	const char *suffix = dualstack ? p->dualstack_suffix : p->dns_suffix;
	/* SQS and STS in GovCloud are FIPS at their plain names (their rule sets say so). */
	bool fips_name =
		fips && !(gov_fips_plain && !dualstack && strcmp(p->name, "aws-us-gov") == 0);
	*out = xasprintf("https://%s%s.%s.%s", name, fips_name ? "-fips" : "", region, suffix);
	return 0;
}

/* See qscale/aws_endpoint.h. */
int aws_endpoint_default(
	enum aws_service service, const char *region, bool fips, bool dualstack, char **out)
{
	/* SQS and DynamoDB in GovCloud are FIPS at their plain names; ECS is not. */
	return aws_endpoint_default_named(aws_service_name(service),
		service == AWS_SERVICE_SQS || service == AWS_SERVICE_DYNAMODB, region, fips,
		dualstack, out);
}

/* See qscale/aws_endpoint.h. */
const char *aws_endpoint_env_var(enum aws_service service)
{
	switch (service) {
	case AWS_SERVICE_SQS:
		return "AWS_ENDPOINT_URL_SQS";
	case AWS_SERVICE_DYNAMODB:
		return "AWS_ENDPOINT_URL_DYNAMODB";
	case AWS_SERVICE_ECS:
		break;
	}
	return "AWS_ENDPOINT_URL_ECS";
}

/* See qscale/aws_endpoint.h. */
const char *aws_endpoint_origin_name(enum aws_endpoint_origin from)
{
	static const char *const names[] = {
		[AWS_ENDPOINT_FROM_CONFIG] = "config",
		[AWS_ENDPOINT_FROM_ENV_SERVICE] = "env-service",
		[AWS_ENDPOINT_FROM_ENV_GLOBAL] = "env-global",
		[AWS_ENDPOINT_FROM_PROFILE_SERVICE] = "profile-service",
		[AWS_ENDPOINT_FROM_PROFILE_GLOBAL] = "profile-global",
		[AWS_ENDPOINT_FROM_DEFAULT] = "default",
	};

	return from <= AWS_ENDPOINT_FROM_DEFAULT ? names[from] : "?";
}

/* See qscale/aws_endpoint.h. */
int aws_endpoint_resolve(enum aws_service service, const char *configured, const char *region,
	aws_env_cb env, void *env_ctx, const struct aws_profile_endpoints *profile, char **out)
{
	enum aws_endpoint_origin from;
	const char *url = aws_endpoint_choose(service, configured, env, env_ctx, profile, &from);
	bool fips = profile != NULL && profile->use_fips;
	bool dualstack = profile != NULL && profile->use_dualstack;

	/* A configured endpoint wins over FIPS and dual-stack, as in botocore. */
	if (url != NULL)
		return take_url(url, out);
	return aws_endpoint_default(service, region, fips, dualstack, out);
}
