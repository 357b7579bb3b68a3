/*
 * STS speaks the AWS Query protocol: a form-encoded POST, an XML answer.
 * This file builds the forms, reads the answers with a small XML reader of
 * its own (elements, text, the five named entities and numeric references;
 * no DOCTYPE, so no entity expansion at all), and resolves the endpoint.
 * Pure: no I/O, no clock.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qscale/buf.h"
#include "qscale/percent.h"
#include "qscale/sts.h"
#include "qscale/xalloc.h"

/* See qscale/sts.h. */
char *sts_form_encode(const char *text)
{
	struct buf b;

	/* Three bytes out for each in, at most: the cap is never reached. */
	buf_init(&b, strlen(text) * 3 + 1);
	percent_encode(&b, text, strlen(text), false);
	return buf_steal(&b);
}

/* See qscale/sts.h. */
int sts_form_get(const char *body, size_t len, const char *key, char **out)
{
	size_t klen = strlen(key);
	size_t i = 0;

	while (i <= len) {
		size_t end = i;
		while (end < len && body[end] != '&')
			end++;
		const char *eq = memchr(body + i, '=', end - i);
		size_t name_len = eq != NULL ? (size_t)(eq - (body + i)) : end - i;
		if (name_len == klen && memcmp(body + i, key, klen) == 0) {
			const char *v = eq != NULL ? eq + 1 : body + end;
			char *value = NULL;

			percent_decode(v, (size_t)(body + end - v), true, &value);
			if (value == NULL)
				return -EINVAL;
			*out = value;
			return 0;
		}
		i = end + 1;
	}
	return -ENOENT;
}

/* Append "&Key=value" with the value encoded. */
static void form_add(struct buf *b, const char *key, const char *value)
{
	char *enc = sts_form_encode(value);

	(void)buf_printf(b, "&%s=%s", key, enc);
	secure_wipe(enc, strlen(enc));
	free(enc);
}

/* The common start of a body, then the role fields. */
static char *role_body(const char *action, const char *role_arn, const char *session_name,
	const char *external_id, const char *token, int duration_s)
{
	struct buf b;

	buf_init(&b, 64u * 1024u);
	(void)buf_printf(&b, "Action=%s&Version=%s", action, STS_API_VERSION);
	form_add(&b, "RoleArn", role_arn);
	form_add(&b, "RoleSessionName", session_name);
	if (external_id != NULL)
		form_add(&b, "ExternalId", external_id);
	if (token != NULL)
		form_add(&b, "WebIdentityToken", token);
	if (duration_s > 0)
		(void)buf_printf(&b, "&DurationSeconds=%d", duration_s);
	return buf_steal(&b);
}

/* See qscale/sts.h. */
char *sts_body_assume_role(
	const char *role_arn, const char *session_name, const char *external_id, int duration_s)
{
	return role_body("AssumeRole", role_arn, session_name, external_id, NULL, duration_s);
}

/* See qscale/sts.h. */
char *sts_body_web_identity(
	const char *role_arn, const char *session_name, const char *token, int duration_s)
{
	return role_body(
		"AssumeRoleWithWebIdentity", role_arn, session_name, NULL, token, duration_s);
}

/* See qscale/sts.h. */
const char *sts_body_caller_identity(void)
{
	return "Action=GetCallerIdentity&Version=" STS_API_VERSION;
}

/* The XML reader's state over one document. */
struct xml {
	const char *p, *end;
	const char *want; /* the path sought, "A/B/C" */
	char stack[STS_XML_MAX_DEPTH][64];
	int depth;
	bool found;
	struct buf text; /* text of the sought element */
};

/* Whether the open elements spell the sought path. */
static bool xml_at_path(const struct xml *x)
{
	const char *w = x->want;

	for (int i = 0; i < x->depth; i++) {
		size_t n = strlen(x->stack[i]);
		if (strncmp(w, x->stack[i], n) != 0)
			return false;
		w += n;
		if (i + 1 < x->depth) {
			if (*w != '/')
				return false;
			w++;
		}
	}
	return *w == '\0';
}

/* Append a code point as UTF-8; -EPROTO for one XML forbids. */
static int put_utf8(struct buf *b, unsigned long cp)
{
	char u[4];
	size_t n;

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -EPROTO;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_append(b, u, n) < 0 ? -EPROTO : 0;
}

/* Decode one entity at x->p (just past '&') into b when keep. */
static int xml_entity(struct xml *x, struct buf *b, bool keep)
{
	static const struct {
		const char *name;
		char c;
	} named[] = {{"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
	const char *semi =
		memchr(x->p, ';', (size_t)(x->end - x->p) < 12 ? (size_t)(x->end - x->p) : 12);

	if (semi == NULL)
		return -EPROTO;
	size_t n = (size_t)(semi - x->p);
	int r = -EPROTO;
	if (n >= 2 && x->p[0] == '#') {
		unsigned long cp = 0;
		bool hex = x->p[1] == 'x';
		size_t i = hex ? 2 : 1;
		if (i == n)
			return -EPROTO;
		for (; i < n; i++) {
			int d = hex ? percent_hex_value(x->p[i])
				    : (isdigit((unsigned char)x->p[i]) ? x->p[i] - '0' : -1);
			if (d < 0 || cp > 0x10ffff)
				return -EPROTO;
			cp = cp * (hex ? 16 : 10) + (unsigned long)d;
		}
		r = keep ? put_utf8(b, cp) : (cp == 0 || cp > 0x10ffff ? -EPROTO : 0);
	} else {
		for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
			if (strlen(named[i].name) == n && memcmp(named[i].name, x->p, n) == 0)
				r = keep ? (buf_putc(b, named[i].c) < 0 ? -EPROTO : 0) : 0;
	}
	x->p = semi + 1;
	return r;
}

/* Skip past the next occurrence of end_mark; -EPROTO when it never comes. */
static int skip_past(struct xml *x, const char *end_mark)
{
	size_t m = strlen(end_mark);

	while (x->p + m <= x->end) {
		if (memcmp(x->p, end_mark, m) == 0) {
			x->p += m;
			return 0;
		}
		x->p++;
	}
	return -EPROTO;
}

/* Whether c may appear in an element name. */
static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.' || c == ':';
}

/* Read an element name at x->p into out (local part: after any prefix). */
static int xml_name(struct xml *x, char out[64])
{
	const char *s = x->p;

	while (x->p < x->end && name_char(*x->p))
		x->p++;
	size_t n = (size_t)(x->p - s);
	if (n == 0 || n >= 64)
		return -EPROTO;
	const char *colon = memchr(s, ':', n);
	if (colon != NULL) {
		n -= (size_t)(colon + 1 - s);
		s = colon + 1;
		if (n == 0)
			return -EPROTO;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

/* Skip attributes up to '>' or "/>"; *empty says which. */
static int xml_attrs(struct xml *x, bool *empty)
{
	char quote = 0;

	for (; x->p < x->end; x->p++) {
		char c = *x->p;
		if (quote != 0) {
			if (c == quote)
				quote = 0;
			else if (c == '<')
				return -EPROTO;
		} else if (c == '"' || c == '\'') {
			quote = c;
		} else if (c == '>') {
			*empty = x->p[-1] == '/';
			x->p++;
			return 0;
		} else if (c == '<') {
			return -EPROTO;
		}
	}
	return -EPROTO;
}

/* One markup construct at x->p (on '<'). */
static int xml_markup(struct xml *x)
{
	char name[64];
	bool empty = false;

	x->p++;
	if (x->p < x->end && *x->p == '?')
		return skip_past(x, "?>");
	if (x->end - x->p >= 3 && memcmp(x->p, "!--", 3) == 0)
		return skip_past(x, "-->");
	if (x->p < x->end && *x->p == '!')
		return -EPROTO; /* DOCTYPE, CDATA: AWS sends neither */
	if (x->p < x->end && *x->p == '/') {
		x->p++;
		if (xml_name(x, name) < 0 || x->depth == 0 ||
			strcmp(name, x->stack[x->depth - 1]) != 0)
			return -EPROTO;
		while (x->p < x->end && isspace((unsigned char)*x->p))
			x->p++;
		if (x->p >= x->end || *x->p != '>')
			return -EPROTO;
		x->p++;
		if (xml_at_path(x))
			x->found = true;
		x->depth--;
		return 0;
	}
	if (xml_name(x, name) < 0 || xml_attrs(x, &empty) < 0)
		return -EPROTO;
	if (x->depth == STS_XML_MAX_DEPTH)
		return -EPROTO;
	memcpy(x->stack[x->depth++], name, sizeof(name));
	if (empty) {
		if (xml_at_path(x))
			x->found = true;
		x->depth--;
	}
	return 0;
}

/* See qscale/sts.h. */
int sts_xml_text(const char *body, size_t len, const char *path, char **out)
{
	struct xml x = {.p = body, .end = body + len, .want = path};
	bool seen_root = false;
	int r = 0;

	if (body == NULL || len == 0 || len > STS_BODY_MAX || memchr(body, '\0', len) != NULL)
		return -EPROTO;
	buf_init(&x.text, STS_BODY_MAX);
	while (r == 0 && x.p < x.end) {
		if (*x.p == '<') {
			bool was_found = x.found;
			r = xml_markup(&x);
			if (x.depth > 0)
				seen_root = true;
			/* The first match wins; later ones only need to be well-formed. */
			if (!was_found && x.found)
				x.want = "\x01";
		} else if (*x.p == '&') {
			x.p++;
			bool keep = !x.found && xml_at_path(&x);
			r = xml_entity(&x, &x.text, keep);
		} else {
			if (x.depth == 0 && !isspace((unsigned char)*x.p))
				r = -EPROTO;
			else if (!x.found && x.depth > 0 && xml_at_path(&x))
				r = buf_putc(&x.text, *x.p) < 0 ? -EPROTO : 0;
			x.p++;
		}
	}
	if (r == 0 && (x.depth != 0 || !seen_root))
		r = -EPROTO;
	if (r == 0 && !x.found)
		r = -ENOENT;
	if (r < 0) {
		buf_finish_secure(&x.text);
		return r;
	}
	*out = buf_steal(&x.text);
	return 0;
}

/* The text at prefix/rest, or NULL. */
static char *xml_at(const char *body, size_t len, const char *prefix, const char *rest)
{
	char *path = xasprintf("%s/%s", prefix, rest);
	char *v = NULL;

	if (sts_xml_text(body, len, path, &v) < 0)
		v = NULL;
	free(path);
	return v;
}

/* Copy src (may be NULL) into a fixed field. */
static void copy_field(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

/* See qscale/sts.h. */
int sts_parse_credentials(const char *body, size_t len, const char *action,
	struct credentials_set *out, struct sts_identity *who)
{
	char *prefix = xasprintf("%sResponse/%sResult", action, action);
	char *id = xml_at(body, len, prefix, "Credentials/AccessKeyId");
	char *secret = xml_at(body, len, prefix, "Credentials/SecretAccessKey");
	char *token = xml_at(body, len, prefix, "Credentials/SessionToken");
	char *expiration = xml_at(body, len, prefix, "Credentials/Expiration");
	char *arn = xml_at(body, len, prefix, "AssumedRoleUser/Arn");
	uint64_t expiry = 0;
	int r = -EPROTO;

	if (id != NULL && id[0] != '\0' && secret != NULL && secret[0] != '\0' && token != NULL &&
		token[0] != '\0' && expiration != NULL &&
		credentials_parse_rfc3339(expiration, &expiry) == 0) {
		out->access_key_id = id;
		out->secret_access_key = secret;
		out->session_token = token;
		out->expiry_wall_ms = expiry;
		id = secret = token = NULL;
		if (who != NULL) {
			memset(who, 0, sizeof(*who));
			copy_field(who->arn, sizeof(who->arn), arn);
		}
		r = 0;
	}
	free(prefix);
	secure_free_str(id);
	secure_free_str(secret);
	secure_free_str(token);
	free(expiration);
	free(arn);
	return r;
}

/* See qscale/sts.h. */
int sts_parse_caller_identity(const char *body, size_t len, struct sts_identity *out)
{
	const char *prefix = "GetCallerIdentityResponse/GetCallerIdentityResult";
	char *arn = xml_at(body, len, prefix, "Arn");
	char *account = xml_at(body, len, prefix, "Account");
	char *user = xml_at(body, len, prefix, "UserId");
	int r = -EPROTO;

	if (arn != NULL && arn[0] != '\0' && account != NULL) {
		memset(out, 0, sizeof(*out));
		copy_field(out->arn, sizeof(out->arn), arn);
		copy_field(out->account, sizeof(out->account), account);
		copy_field(out->user_id, sizeof(out->user_id), user);
		r = 0;
	}
	free(arn);
	free(account);
	free(user);
	return r;
}

/* See qscale/sts.h. */
int sts_parse_error(const char *body, size_t len, char *code, size_t code_size, char *message,
	size_t message_size)
{
	char *c = NULL, *m = NULL;

	if (sts_xml_text(body, len, "ErrorResponse/Error/Code", &c) < 0)
		return -EPROTO;
	if (sts_xml_text(body, len, "ErrorResponse/Error/Message", &m) < 0)
		m = NULL;
	copy_field(code, code_size, c);
	copy_field(message, message_size, m);
	free(c);
	free(m);
	return 0;
}

/* A set, non-empty value. */
static const char *nonempty(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

/* See qscale/sts.h. */
int sts_endpoint_resolve(const char *region, aws_env_cb env, void *env_ctx,
	const struct aws_profile_endpoints *profile, const char *regional_mode, char **origin,
	char **signing_region)
{
	const char *ignore = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", env_ctx);
	const char *url = NULL;
	char *host = NULL;
	const char *sign = nonempty(region) != NULL ? region : "us-east-1";

	bool ignored = (ignore != NULL && strcasecmp(ignore, "true") == 0) ||
		(profile != NULL && profile->ignore_configured_urls);
	bool fips = profile != NULL && profile->use_fips;
	bool dualstack = profile != NULL && profile->use_dualstack;

	if (!ignored) {
		url = nonempty(env("AWS_ENDPOINT_URL_STS", env_ctx));
		if (url == NULL)
			url = nonempty(env("AWS_ENDPOINT_URL", env_ctx));
		if (url == NULL && profile != NULL)
			url = nonempty(profile->service_url);
		if (url == NULL && profile != NULL)
			url = nonempty(profile->global_url);
	}
	if (url != NULL) {
		int r = aws_endpoint_parse(url, origin, &host);
		if (r < 0)
			return r;
		free(host);
	} else if (nonempty(region) == NULL ||
		(!fips && !dualstack && regional_mode != NULL &&
			strcasecmp(regional_mode, "legacy") == 0)) {
		*origin = xstrdup("https://sts.amazonaws.com");
		sign = "us-east-1";
	} else {
		/* The rule set's names: FIPS, dual-stack and the partitions' suffixes. */
		int r = aws_endpoint_default_named("sts", true, region, fips, dualstack, origin);
		if (r < 0)
			return r;
	}
	*signing_region = xstrdup(sign);
	return 0;
}
