/*
 * The pure parts of the credential providers: reading credentials from the
 * environment, from parsed shared files and from a credentials JSON document,
 * and checking the container endpoint's URL and token. No I/O except reading
 * the small container token file.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <yajl/yajl_tree.h>

#include "qscale/credentials.h"
#include "qscale/file.h"
#include "qscale/json_tree.h"
#include "qscale/xalloc.h"

#define CREDENTIALS_JSON_MAX (64u * 1024u)
#define CONTAINER_TOKEN_MAX (16u * 1024u)

/* See qscale/credentials.h. */
void credentials_set_finish(struct credentials_set *set)
{
	secure_free_str(set->access_key_id);
	secure_free_str(set->secret_access_key);
	secure_free_str(set->session_token);
	memset(set, 0, sizeof(*set));
}

/* See qscale/credentials.h. */
const char *credentials_source_name(enum credentials_source source)
{
	switch (source) {
	case CREDENTIALS_SOURCE_ENV:
		return "env";
	case CREDENTIALS_SOURCE_PROFILE:
		return "profile";
	case CREDENTIALS_SOURCE_CONTAINER:
		return "container";
	case CREDENTIALS_SOURCE_IMDS:
		return "imds";
	case CREDENTIALS_SOURCE_PROCESS:
		return "process";
	case CREDENTIALS_SOURCE_WEB_IDENTITY:
		return "web-identity";
	case CREDENTIALS_SOURCE_SSO:
		return "sso";
	case CREDENTIALS_SOURCE_ASSUME_ROLE:
		return "assume-role";
	case CREDENTIALS_SOURCE_NONE:
		break;
	}
	return "none";
}

/* A set, non-empty value. */
static const char *nonempty(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

/* See qscale/credentials.h. */
int credentials_from_env(aws_env_cb env, void *env_ctx, struct credentials_set *out)
{
	const char *id = nonempty(env("AWS_ACCESS_KEY_ID", env_ctx));
	const char *secret = nonempty(env("AWS_SECRET_ACCESS_KEY", env_ctx));
	/* botocore (so the AWS CLI) reads the legacy name first. */
	const char *token = nonempty(env("AWS_SECURITY_TOKEN", env_ctx));

	if (token == NULL)
		token = nonempty(env("AWS_SESSION_TOKEN", env_ctx));
	if (id == NULL || secret == NULL)
		return -ENOENT;
	out->access_key_id = xstrdup(id);
	out->secret_access_key = xstrdup(secret);
	out->session_token = token != NULL ? xstrdup(token) : NULL;
	out->expiry_wall_ms = 0;
	return 0;
}

/* The key pair of profile in one file; -ENOENT when incomplete. */
static int from_one_ini(const struct aws_ini *ini, const char *profile, struct credentials_set *out)
{
	if (ini == NULL)
		return -ENOENT;
	const char *id = nonempty(aws_ini_get(ini, profile, "aws_access_key_id"));
	const char *secret = nonempty(aws_ini_get(ini, profile, "aws_secret_access_key"));
	const char *token = nonempty(aws_ini_get(ini, profile, "aws_security_token"));

	/* As for the variables, botocore takes the legacy key first. */
	if (token == NULL)
		token = nonempty(aws_ini_get(ini, profile, "aws_session_token"));

	if (id == NULL || secret == NULL)
		return -ENOENT;
	out->access_key_id = xstrdup(id);
	out->secret_access_key = xstrdup(secret);
	out->session_token = token != NULL ? xstrdup(token) : NULL;
	out->expiry_wall_ms = 0;
	return 0;
}

/* See qscale/credentials.h. */
int credentials_from_ini(const struct aws_ini *credentials_file, const struct aws_ini *config_file,
	const char *profile, struct credentials_set *out)
{
	if (from_one_ini(credentials_file, profile, out) == 0)
		return 0;
	return from_one_ini(config_file, profile, out);
}

/* See qscale/credentials.h. */
int credentials_file_check(unsigned mode, unsigned uid, unsigned euid, char *why, size_t size)
{
	if (mode & 0002) {
		snprintf(why, size, "world-writable (mode %04o): anyone may replace the keys",
			mode & 07777);
		return -EPERM;
	}
	if (mode & 0020) {
		snprintf(why, size, "group-writable (mode %04o): the group may replace the keys",
			mode & 07777);
		return -EPERM;
	}
	if (uid != 0 && uid != euid) {
		snprintf(why, size, "owned by uid %u, neither root nor qscale's uid %u", uid, euid);
		return -EPERM;
	}
	return 0;
}

/* See qscale/credentials.h. */
int credentials_parse_rfc3339(const char *text, uint64_t *out_ms)
{
	int y, mo, d, h, mi, s, used = 0;

	if (text == NULL ||
		sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &used) != 6 ||
		used != 19)
		return -EINVAL;
	const char *p = text + used;
	uint64_t frac_ms = 0;
	if (*p == '.') {
		int digits = 0;
		p++;
		while (isdigit((unsigned char)*p)) {
			if (digits < 3)
				frac_ms = frac_ms * 10 + (uint64_t)(*p - '0');
			digits++;
			p++;
		}
		if (digits == 0)
			return -EINVAL;
		for (int i = digits; i < 3; i++)
			frac_ms *= 10;
	}
	long zone_s = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && isdigit((unsigned char)p[1]) &&
		isdigit((unsigned char)p[2]) && p[3] == ':' && isdigit((unsigned char)p[4]) &&
		isdigit((unsigned char)p[5])) {
		zone_s = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 +
			((p[4] - '0') * 10 + (p[5] - '0')) * 60;
		if (*p == '+')
			zone_s = -zone_s;
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
		s > 60 || h < 0 || mi < 0 || s < 0)
		return -EINVAL;
	struct tm tm = {
		.tm_year = y - 1900,
		.tm_mon = mo - 1,
		.tm_mday = d,
		.tm_hour = h,
		.tm_min = mi,
		.tm_sec = s,
	};
	time_t t = timegm(&tm);
	if (t < 0 || (long long)t + zone_s < 0)
		return -EINVAL;
	*out_ms = (uint64_t)((long long)t + zone_s) * 1000 + frac_ms;
	return 0;
}

/* A string member of object, or NULL. */
static const char *member_string(yajl_val object, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val v = yajl_tree_get(object, path, yajl_t_string);

	return v != NULL ? YAJL_GET_STRING(v) : NULL;
}

/* See qscale/credentials.h. */
int credentials_parse_json(const char *body, size_t len, struct credentials_set *out)
{
	static const struct json_limits limits = {
		.max_bytes = CREDENTIALS_JSON_MAX,
		.max_depth = 32,
		.max_items = 1000,
	};
	char error[JSON_TREE_ERROR_MAX];
	yajl_val root;

	if (body == NULL || len == 0 || json_tree_parse(body, len, &limits, &root, error) < 0)
		return -EPROTO;
	int r = -EPROTO;
	const char *code = member_string(root, "Code");
	const char *id = member_string(root, "AccessKeyId");
	const char *secret = member_string(root, "SecretAccessKey");
	const char *token = member_string(root, "Token");
	const char *expiration = member_string(root, "Expiration");
	uint64_t expiry = 0;

	if (YAJL_IS_OBJECT(root) && (code == NULL || strcmp(code, "Success") == 0) &&
		nonempty(id) != NULL && nonempty(secret) != NULL &&
		(expiration == NULL || credentials_parse_rfc3339(expiration, &expiry) == 0)) {
		out->access_key_id = xstrdup(id);
		out->secret_access_key = xstrdup(secret);
		out->session_token = nonempty(token) != NULL ? xstrdup(token) : NULL;
		out->expiry_wall_ms = expiry;
		r = 0;
	}
	/* The tree holds the secrets: wiped as it goes. */
	json_tree_free_wiped(root);
	return r;
}

/* Whether an http:// credentials host is one the SDKs allow. */
static bool container_host_allowed(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1) {
		uint32_t ip = ntohl(a4.s_addr);
		return (ip >> 24) == 127 || ip == 0xa9feaa02u /* 169.254.170.2 */ ||
			ip == 0xa9feaa17u /* 169.254.170.23 */;
	}
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		static const unsigned char ec2[16] = {
			0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x23};
		return IN6_IS_ADDR_LOOPBACK(&a6) || memcmp(&a6, ec2, 16) == 0;
	}
	return false;
}

/* See qscale/credentials.h. */
int credentials_container_url(const char *relative, const char *full, char **out)
{
	if (nonempty(relative) != NULL) {
		if (relative[0] != '/' || strpbrk(relative, " \r\n\t") != NULL)
			return -EINVAL;
		*out = xasprintf("http://169.254.170.2%s", relative);
		return 0;
	}
	if (nonempty(full) == NULL)
		return -ENOENT;
	if (strpbrk(full, " \r\n\t") != NULL)
		return -EINVAL;
	bool https = strncasecmp(full, "https://", 8) == 0;
	if (!https && strncasecmp(full, "http://", 7) != 0)
		return -EINVAL;
	const char *h = full + (https ? 8 : 7);
	if (strchr(h, '@') != NULL && strchr(h, '@') < h + strcspn(h, "/?#"))
		return -EINVAL; /* no user info */
	char host[256];
	size_t hlen;
	if (h[0] == '[') {
		const char *close = strchr(h, ']');
		if (close == NULL)
			return -EINVAL;
		hlen = (size_t)(close - h - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, h + 1, hlen);
	} else {
		hlen = strcspn(h, ":/?#");
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, h, hlen);
	}
	host[hlen] = '\0';
	if (!https && !container_host_allowed(host))
		return -EACCES;
	*out = xstrdup(full);
	return 0;
}

/* See qscale/credentials.h. */
int credentials_container_token(const char *token_file, const char *token, char **out)
{
	char *value = NULL;

	if (nonempty(token_file) != NULL) {
		struct file_data d;
		int r = file_read(token_file, CONTAINER_TOKEN_MAX, FILE_SECRET, &d, NULL, 0);
		if (r < 0)
			return r == -EFBIG ? -E2BIG : r;
		char *data = d.data;
		size_t len = d.len;
		while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
			len--;
		data[len] = '\0';
		value = data;
	} else if (nonempty(token) != NULL) {
		value = xstrdup(token);
	} else {
		*out = NULL;
		return 0;
	}
	if (strpbrk(value, "\r\n") != NULL || strlen(value) == 0) {
		secure_free_str(value);
		return -EINVAL;
	}
	*out = value;
	return 0;
}
