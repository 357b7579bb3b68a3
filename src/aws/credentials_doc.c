/*
 * The documents the newer providers read, pure: credential_process output
 * (Version 1 JSON), its command line split into words as botocore splits it
 * (POSIX shell words, no expansion: the command runs without a shell), the
 * SSO token cache the AWS CLI's `aws sso login` writes and the answer of
 * SSO GetRoleCredentials. Every body is capped and every secret wiped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <yajl/yajl_tree.h>

#include "qscale/buf.h"
#include "qscale/credentials.h"
#include "qscale/json_tree.h"
#include "qscale/xalloc.h"

#define DOC_MAX (64u * 1024u)
#define ARGV_MAX 256

/* Parse a capped JSON object; NULL for anything else. Free with json_tree_free_wiped. */
static yajl_val parse_object(const char *body, size_t len)
{
	static const struct json_limits limits = {
		.max_bytes = DOC_MAX,
		.max_depth = 32,
		.max_items = 1000,
	};
	char error[JSON_TREE_ERROR_MAX];
	yajl_val root;

	if (body == NULL || len == 0 || json_tree_parse(body, len, &limits, &root, error) < 0)
		return NULL;
	return root;
}

/* A member of obj of type t, or NULL. */
static yajl_val member(yajl_val obj, const char *key, yajl_type t)
{
	const char *path[] = {key, NULL};

	return yajl_tree_get(obj, path, t);
}

/* A non-empty string member, or NULL. */
static const char *member_text(yajl_val obj, const char *key)
{
	yajl_val v = member(obj, key, yajl_t_string);

	return v != NULL && YAJL_GET_STRING(v)[0] != '\0' ? YAJL_GET_STRING(v) : NULL;
}

/* See qscale/credentials.h. */
int credentials_parse_process(
	const char *body, size_t len, struct credentials_set *out, char *why, size_t why_size)
{
	yajl_val root = parse_object(body, len);
	uint64_t expiry = 0;
	int r = -EPROTO;

	if (root == NULL) {
		snprintf(why, why_size, "its output is not a JSON object");
		return -EPROTO;
	}
	yajl_val version = member(root, "Version", yajl_t_number);
	const char *id = member_text(root, "AccessKeyId");
	const char *secret = member_text(root, "SecretAccessKey");
	const char *token = member_text(root, "SessionToken");
	yajl_val exp = member(root, "Expiration", yajl_t_any);

	if (version == NULL || !YAJL_IS_INTEGER(version) || YAJL_GET_INTEGER(version) != 1)
		snprintf(
			why, why_size, "its output has no \"Version\": 1 (the only version known)");
	else if (id == NULL || secret == NULL)
		snprintf(why, why_size, "its output lacks %s",
			id == NULL ? "AccessKeyId" : "SecretAccessKey");
	else if (exp != NULL &&
		(!YAJL_IS_STRING(exp) ||
			credentials_parse_rfc3339(YAJL_GET_STRING(exp), &expiry) < 0))
		snprintf(why, why_size, "its Expiration is not an RFC 3339 time");
	else
		r = 0;
	if (r == 0) {
		out->access_key_id = xstrdup(id);
		out->secret_access_key = xstrdup(secret);
		out->session_token = token != NULL ? xstrdup(token) : NULL;
		out->expiry_wall_ms = expiry;
	}
	json_tree_free_wiped(root);
	return r;
}

/* See qscale/credentials.h. */
void credentials_argv_free(char **argv)
{
	if (argv == NULL)
		return;
	for (char **a = argv; *a != NULL; a++)
		free(*a);
	free(argv);
}

/* End the current word into argv. */
static int push_word(struct buf *w, char ***argv, size_t *n)
{
	if (*n + 2 > ARGV_MAX)
		return -EINVAL;
	*argv = xreallocarray(*argv, *n + 2, sizeof(**argv));
	(*argv)[(*n)++] = buf_steal(w);
	(*argv)[*n] = NULL;
	return 0;
}

/* See qscale/credentials.h. */
int credentials_split_command(const char *line, char ***argv_out)
{
	char **argv = NULL;
	size_t n = 0;
	struct buf w;
	bool in_word = false;
	char quote = 0;
	int r = 0;

	buf_init(&w, DOC_MAX);
	for (const char *p = line; r == 0 && *p != '\0'; p++) {
		char c = *p;
		if (quote == '\'') {
			if (c == '\'')
				quote = 0;
			else
				r = buf_putc(&w, c);
		} else if (quote == '"') {
			if (c == '"')
				quote = 0;
			else if (c == '\\' && (p[1] == '"' || p[1] == '\\'))
				r = buf_putc(&w, *++p);
			else
				r = buf_putc(&w, c);
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (in_word)
				r = push_word(&w, &argv, &n);
			in_word = false;
		} else {
			in_word = true;
			if (c == '\'' || c == '"')
				quote = c;
			else if (c == '\\' && p[1] != '\0')
				r = buf_putc(&w, *++p);
			else if (c != '\\')
				r = buf_putc(&w, c);
		}
	}
	if (r == 0 && quote != 0)
		r = -EINVAL;
	if (r == 0 && in_word)
		r = push_word(&w, &argv, &n);
	buf_finish(&w);
	if (r == 0 && n == 0)
		r = -EINVAL;
	if (r < 0) {
		credentials_argv_free(argv);
		return -EINVAL;
	}
	*argv_out = argv;
	return 0;
}

/* See qscale/credentials.h. */
void credentials_sso_cache_name(const char *key, char out[46])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	EVP_Digest(key, strlen(key), md, &md_len, EVP_sha1(), NULL);
	for (unsigned int i = 0; i < md_len && i < 20; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	memcpy(out + 40, ".json", 6);
}

/* See qscale/credentials.h. */
int credentials_parse_sso_cache(
	const char *body, size_t len, char **token_out, uint64_t *expires_wall_ms)
{
	yajl_val root = parse_object(body, len);
	uint64_t expiry = 0;
	int r = -EPROTO;

	if (root == NULL)
		return -EPROTO;
	const char *token = member_text(root, "accessToken");
	const char *expires = member_text(root, "expiresAt");
	if (token != NULL && expires != NULL && credentials_parse_rfc3339(expires, &expiry) == 0) {
		*token_out = xstrdup(token);
		*expires_wall_ms = expiry;
		r = 0;
	}
	json_tree_free_wiped(root);
	return r;
}

/* See qscale/credentials.h. */
int credentials_parse_sso_role(const char *body, size_t len, struct credentials_set *out)
{
	yajl_val root = parse_object(body, len);
	int r = -EPROTO;

	if (root == NULL)
		return -EPROTO;
	yajl_val rc = member(root, "roleCredentials", yajl_t_object);
	const char *id = rc != NULL ? member_text(rc, "accessKeyId") : NULL;
	const char *secret = rc != NULL ? member_text(rc, "secretAccessKey") : NULL;
	const char *token = rc != NULL ? member_text(rc, "sessionToken") : NULL;
	yajl_val exp = rc != NULL ? member(rc, "expiration", yajl_t_number) : NULL;
	if (id != NULL && secret != NULL && token != NULL && exp != NULL && YAJL_IS_INTEGER(exp) &&
		YAJL_GET_INTEGER(exp) > 0) {
		out->access_key_id = xstrdup(id);
		out->secret_access_key = xstrdup(secret);
		out->session_token = xstrdup(token);
		out->expiry_wall_ms = (uint64_t)YAJL_GET_INTEGER(exp);
		r = 0;
	}
	json_tree_free_wiped(root);
	return r;
}
