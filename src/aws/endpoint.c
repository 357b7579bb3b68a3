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

/* See qscale/aws_endpoint.h. */
int aws_endpoint_resolve(enum aws_service service, const char *configured, const char *region,
	aws_env_cb env, void *env_ctx, const struct aws_profile_endpoints *profile, char **out)
{
	const char *name = aws_service_name(service);

	if (nonempty(configured) != NULL)
		return take_url(configured, out);
	const char *ignore = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", env_ctx);
	if (ignore == NULL || strcasecmp(ignore, "true") != 0) {
		static const char *const vars[AWS_SERVICE_COUNT] = {
			"AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_ECS", "AWS_ENDPOINT_URL_DYNAMODB"};
		const char *url = nonempty(env(vars[service], env_ctx));
		if (url == NULL)
			url = nonempty(env("AWS_ENDPOINT_URL", env_ctx));
		if (url == NULL && profile != NULL)
			url = nonempty(profile->service_url);
		if (url == NULL && profile != NULL)
			url = nonempty(profile->global_url);
		if (url != NULL)
			return take_url(url, out);
	}
	if (region == NULL || !region_valid(region))
		return -EINVAL;
	const char *suffix = strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
	*out = xasprintf("https://%s.%s.%s", name, region, suffix);
	return 0;
}
