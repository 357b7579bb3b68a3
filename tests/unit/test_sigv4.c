/*
 * Unit tests of the SigV4 signer: every case of the aws-c-auth v4 suite and
 * of the older aws4_testsuite (read at run time from QSCALE_SHARED_DIR, one
 * TAP line per case), then the key cache, the Authorization parser, the
 * X-Amz-Date text form and the refusal of unsignable requests.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "qscale/sigv4.h"
#include "qscale/xalloc.h"

#define V4_CASES 38
#define LEGACY_CASES 34
#define MAX_CASES 128
#define MAX_FILE (1024 * 1024)
#define MAX_REQ_HEADERS 32

static const char *const akid = "AKIDEXAMPLE";
static const char *const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/* One suite case: where its files are and which layout it uses. */
struct suite_case {
	char *name; /* TAP name: "v4/get-vanilla", "legacy/normalize-path/get-slash" */
	char *dir;
	char *base; /* legacy: the file stem inside dir */
	bool legacy;
};

/* A request read from request.txt or a .req file; strings point into text. */
struct parsed_request {
	char *text;
	char *method;
	char *path;
	char *query;
	struct sigv4_header headers[MAX_REQ_HEADERS];
	char *values[MAX_REQ_HEADERS]; /* owned, continuation lines joined */
	size_t n_headers;
	const char *body;
	size_t body_len;
};

static struct suite_case cases[MAX_CASES];
static size_t n_v4;
static size_t n_legacy;
static size_t n_cases;

/* Whole file into fresh memory, NUL-terminated; NULL if unreadable. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return NULL;

	char *data = xmalloc(MAX_FILE + 1);
	size_t n = fread(data, 1, MAX_FILE, f);

	fclose(f);
	data[n] = '\0';
	if (len != NULL)
		*len = n;
	return data;
}

/* Read dir/name, failing the test when it is missing. */
static char *must_read(const char *dir, const char *name, size_t *len)
{
	char *path = xasprintf("%s/%s", dir, name);
	char *data = read_file(path, len);

	if (data == NULL)
		fail_msg("cannot read %s", path);
	free(path);
	return data;
}

/* Parse the request text: request line, headers (with folded lines), body. */
static void parse_request(char *text, size_t len, struct parsed_request *req)
{
	memset(req, 0, sizeof(*req));
	req->text = text;

	char *end = text + len;
	char *line = text;
	char *nl = memchr(line, '\n', (size_t)(end - line));

	if (nl != NULL)
		*nl = '\0';

	char *sp1 = strchr(line, ' ');
	char *sp2 = strrchr(line, ' ');

	assert_non_null(sp1);
	assert_true(sp2 > sp1);
	*sp1 = '\0';
	*sp2 = '\0';
	req->method = line;
	req->path = sp1 + 1;

	char *q = strchr(req->path, '?');

	if (q != NULL) {
		*q = '\0';
		req->query = q + 1;
	}
	req->body = "";
	line = nl != NULL ? nl + 1 : end;
	while (line < end) {
		nl = memchr(line, '\n', (size_t)(end - line));

		char *next = nl != NULL ? nl + 1 : end;

		if (nl != NULL)
			*nl = '\0';
		if (line[0] == '\0' || (line[0] == '\r' && line[1] == '\0')) {
			req->body = next;
			req->body_len = (size_t)(end - next);
			break;
		}
		if ((line[0] == ' ' || line[0] == '\t') && req->n_headers > 0) {
			char *prev = req->values[req->n_headers - 1];

			req->values[req->n_headers - 1] = xasprintf("%s\n%s", prev, line);
			free(prev);
		} else {
			char *colon = strchr(line, ':');

			assert_non_null(colon);
			assert_true(req->n_headers < MAX_REQ_HEADERS);
			*colon = '\0';
			req->headers[req->n_headers].name = line;
			req->values[req->n_headers] = xstrdup(colon + 1);
			req->n_headers++;
		}
		line = next;
	}
	for (size_t i = 0; i < req->n_headers; i++)
		req->headers[i].value = req->values[i];
}

/* Free what parse_request allocated. */
static void request_finish(struct parsed_request *req)
{
	for (size_t i = 0; i < req->n_headers; i++)
		free(req->values[i]);
	free(req->text);
}

/* Drop header name (any case) from req, returning its last value (owned) or NULL. */
static char *request_take_header(struct parsed_request *req, const char *name)
{
	char *found = NULL;
	size_t n = 0;

	for (size_t i = 0; i < req->n_headers; i++) {
		if (strcasecmp(req->headers[i].name, name) == 0) {
			free(found);
			found = req->values[i];
			continue;
		}
		req->headers[n] = req->headers[i];
		req->values[n] = req->values[i];
		n++;
	}
	req->n_headers = n;
	return found;
}

/* The value of header name in a signed request text, or NULL (owned). */
static char *signed_request_header(const char *text, const char *name)
{
	size_t nlen = strlen(name);
	const char *line = text;

	while (line != NULL && *line != '\0' && *line != '\n') {
		const char *nl = strchr(line, '\n');
		size_t llen = nl != NULL ? (size_t)(nl - line) : strlen(line);

		if (llen > nlen && strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
			const char *v = line + nlen + 1;

			while (*v == ' ')
				v++;
			return xstrndup(v, llen - (size_t)(v - line));
		}
		line = nl != NULL ? nl + 1 : NULL;
	}
	return NULL;
}

/* Run one aws-c-auth v4 case. */
static void run_v4_case(const struct suite_case *c)
{
	char *ctx_text = must_read(c->dir, "context.json", NULL);
	char err[256];
	yajl_val ctx = yajl_tree_parse(ctx_text, err, sizeof(err));

	if (ctx == NULL)
		fail_msg("context.json: %s", err);

	const char *p_akid[] = {"credentials", "access_key_id", NULL};
	const char *p_secret[] = {"credentials", "secret_access_key", NULL};
	const char *p_token[] = {"credentials", "token", NULL};
	const char *p_region[] = {"region", NULL};
	const char *p_service[] = {"service", NULL};
	const char *p_time[] = {"timestamp", NULL};
	const char *p_normalize[] = {"normalize", NULL};
	const char *p_sign_body[] = {"sign_body", NULL};
	const char *p_omit[] = {"omit_session_token", NULL};
	yajl_val v_akid = yajl_tree_get(ctx, p_akid, yajl_t_string);
	yajl_val v_secret = yajl_tree_get(ctx, p_secret, yajl_t_string);
	yajl_val v_token = yajl_tree_get(ctx, p_token, yajl_t_string);
	yajl_val v_region = yajl_tree_get(ctx, p_region, yajl_t_string);
	yajl_val v_service = yajl_tree_get(ctx, p_service, yajl_t_string);
	yajl_val v_time = yajl_tree_get(ctx, p_time, yajl_t_string);
	yajl_val v_normalize = yajl_tree_get(ctx, p_normalize, yajl_t_any);
	yajl_val v_sign_body = yajl_tree_get(ctx, p_sign_body, yajl_t_any);
	yajl_val v_omit = yajl_tree_get(ctx, p_omit, yajl_t_any);

	assert_non_null(v_akid);
	assert_non_null(v_secret);
	assert_non_null(v_region);
	assert_non_null(v_service);
	assert_non_null(v_time);
	assert_non_null(v_normalize);

	/* "2015-08-30T12:36:00Z" -> "20150830T123600Z" */
	char amz[32];
	size_t n = 0;

	/* An absent timestamp leaves "" and fails the parse below. */
	const char *t = v_time != NULL && YAJL_IS_STRING(v_time) ? v_time->u.string : "";

	for (; *t != '\0' && n < sizeof(amz) - 1; t++) {
		if (*t != '-' && *t != ':')
			amz[n++] = *t;
	}
	amz[n] = '\0';

	struct sigv4_params params = {
		.region = YAJL_GET_STRING(v_region),
		.service = YAJL_GET_STRING(v_service),
		.normalize_path = YAJL_IS_TRUE(v_normalize),
		.sign_body = v_sign_body != NULL && YAJL_IS_TRUE(v_sign_body),
		.omit_session_token = v_omit != NULL && YAJL_IS_TRUE(v_omit),
	};
	struct sigv4_credentials creds = {
		.access_key_id = YAJL_GET_STRING(v_akid),
		.secret_access_key = YAJL_GET_STRING(v_secret),
		.session_token = v_token != NULL ? YAJL_GET_STRING(v_token) : NULL,
	};

	assert_int_equal(sigv4_parse_amz_date(amz, &params.time_ms), 0);

	size_t req_len = 0;
	struct parsed_request req;

	char *req_text = must_read(c->dir, "request.txt", &req_len);

	parse_request(req_text, req_len, &req);

	struct sigv4_request sreq = {
		.method = req.method,
		.path = req.path,
		.query = req.query,
		.headers = req.headers,
		.n_headers = req.n_headers,
		.body = req.body,
		.body_len = req.body_len,
	};
	struct sigv4_signed out = {0};

	assert_int_equal(sigv4_sign(&sreq, &creds, &params, NULL, &out), 0);

	char *creq = must_read(c->dir, "header-canonical-request.txt", NULL);
	char *sts = must_read(c->dir, "header-string-to-sign.txt", NULL);
	char *sig = must_read(c->dir, "header-signature.txt", NULL);
	char *sreq_text = must_read(c->dir, "header-signed-request.txt", NULL);
	char *authz = signed_request_header(sreq_text, "Authorization");
	char *date = signed_request_header(sreq_text, "X-Amz-Date");

	assert_string_equal(out.canonical_request, creq);
	assert_string_equal(out.string_to_sign, sts);
	assert_string_equal(out.signature, sig);
	assert_non_null(authz);
	assert_string_equal(out.authorization, authz);
	assert_non_null(date);
	assert_string_equal(out.amz_date, date);
	if (creds.session_token != NULL)
		assert_string_equal(out.security_token, creds.session_token);

	free(authz);
	free(date);
	free(creq);
	free(sts);
	free(sig);
	free(sreq_text);
	sigv4_signed_finish(&out);
	request_finish(&req);
	yajl_tree_free(ctx);
	free(ctx_text);
}

/* Read dir/base.ext. */
static char *legacy_read(const struct suite_case *c, const char *ext, size_t *len)
{
	char *name = xasprintf("%s.%s", c->base, ext);
	char *data = must_read(c->dir, name, len);

	free(name);
	return data;
}

/*
 * Run one legacy case. Its .req already carries X-Amz-Date: that header
 * becomes the signing time and the signer adds it back. The suite has no
 * context file, so the session token comes from the signed request (.sreq)
 * and, as its post-sts-token readme describes, only header-after leaves it
 * unsigned.
 */
static void run_legacy_case(const struct suite_case *c)
{
	size_t req_len = 0;
	struct parsed_request req;

	char *req_text = legacy_read(c, "req", &req_len);

	parse_request(req_text, req_len, &req);

	char *date = request_take_header(&req, "X-Amz-Date");
	char *req_token = request_take_header(&req, "X-Amz-Security-Token");
	char *signed_text = legacy_read(c, "sreq", NULL);
	char *token = signed_request_header(signed_text, "X-Amz-Security-Token");
	struct sigv4_params params = {
		.region = "us-east-1",
		.service = "service",
		.normalize_path = true,
		.omit_session_token = strcmp(c->base, "post-sts-header-after") == 0,
	};
	struct sigv4_credentials creds = {
		.access_key_id = akid,
		.secret_access_key = secret,
		.session_token = token,
	};

	assert_non_null(date);
	assert_int_equal(sigv4_parse_amz_date(date, &params.time_ms), 0);
	if (req_token != NULL)
		assert_string_equal(req_token, token);

	struct sigv4_request sreq = {
		.method = req.method,
		.path = req.path,
		.query = req.query,
		.headers = req.headers,
		.n_headers = req.n_headers,
		.body = req.body,
		.body_len = req.body_len,
	};
	struct sigv4_signed out = {0};

	assert_int_equal(sigv4_sign(&sreq, &creds, &params, NULL, &out), 0);

	char *creq = legacy_read(c, "creq", NULL);
	char *sts = legacy_read(c, "sts", NULL);
	char *authz = legacy_read(c, "authz", NULL);

	assert_string_equal(out.canonical_request, creq);
	assert_string_equal(out.string_to_sign, sts);
	assert_string_equal(out.authorization, authz);
	assert_string_equal(out.amz_date, date);

	free(creq);
	free(sts);
	free(authz);
	free(token);
	free(req_token);
	free(date);
	free(signed_text);
	sigv4_signed_finish(&out);
	request_finish(&req);
}

/* One suite case as a cmocka test. */
static void test_suite_case(void **state)
{
	const struct suite_case *c = *state;

	if (c->legacy)
		run_legacy_case(c);
	else
		run_v4_case(c);
}

/* The suites must be there in full: a missing or short suite fails. */
static void test_suite_complete(void **state)
{
	(void)state;
	assert_int_equal(n_v4, V4_CASES);
	assert_int_equal(n_legacy, LEGACY_CASES);
}

/* Sort directory names so the TAP order is stable. */
static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Subdirectory names of dir, sorted; count in *n (0 if dir is unreadable). */
static char **list_dirs(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	char **names = xcalloc(MAX_CASES, sizeof(*names));
	struct dirent *e;

	*n = 0;
	if (d == NULL)
		return names;
	while ((e = readdir(d)) != NULL && *n < MAX_CASES) {
		if (e->d_name[0] == '.')
			continue;

		char *path = xasprintf("%s/%s", dir, e->d_name);
		struct stat st;

		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			names[(*n)++] = xstrdup(e->d_name);
		free(path);
	}
	closedir(d);
	qsort(names, *n, sizeof(*names), name_cmp);
	return names;
}

/* Add a case if the table has room. */
static void add_case(char *name, char *dir, char *base, bool legacy)
{
	if (n_cases == MAX_CASES) {
		free(name);
		free(dir);
		free(base);
		return;
	}
	cases[n_cases++] = (struct suite_case){name, dir, base, legacy};
	if (legacy)
		n_legacy++;
	else
		n_v4++;
}

/*
 * Walk a legacy folder: a folder holding <name>.req is a case; any other
 * folder groups cases (normalize-path/, post-sts-token/).
 */
static void scan_legacy(const char *dir, const char *prefix, int depth)
{
	size_t n;
	char **names = list_dirs(dir, &n);

	for (size_t i = 0; i < n; i++) {
		char *sub = xasprintf("%s/%s", dir, names[i]);
		char *req = xasprintf("%s/%s.req", sub, names[i]);
		char *label = xasprintf("%s/%s", prefix, names[i]);
		struct stat st;

		if (stat(req, &st) == 0) {
			add_case(label, sub, xstrdup(names[i]), true);
		} else {
			if (depth < 2)
				scan_legacy(sub, label, depth + 1);
			free(label);
			free(sub);
		}
		free(req);
		free(names[i]);
	}
	free(names);
}

/* Collect every case of both suites under shared/sigv4-suite. */
static void scan_suites(const char *shared)
{
	char *v4 = xasprintf("%s/sigv4-suite/v4", shared);
	char *legacy = xasprintf("%s/sigv4-suite/legacy-aws4_testsuite", shared);
	size_t n;
	char **names = list_dirs(v4, &n);

	for (size_t i = 0; i < n; i++) {
		add_case(xasprintf("v4/%s", names[i]), xasprintf("%s/%s", v4, names[i]), NULL,
			false);
		free(names[i]);
	}
	free(names);
	scan_legacy(legacy, "legacy", 0);
	free(v4);
	free(legacy);
}

/* A fixed request signed by the unit tests below. */
static const struct sigv4_header vanilla_headers[] = {
	{"Host", "sqs.eu-west-1.amazonaws.com"},
	{"Content-Type", "application/x-amz-json-1.0"},
	{"X-Amz-Target", "AmazonSQS.GetQueueAttributes"},
	{"User-Agent", "qscale"},
};

/* Sign the fixed request for region at time_ms with cache; returns the signature (owned). */
static char *sign_vanilla_at(struct sigv4_key_cache *cache, const char *region, uint64_t time_ms)
{
	struct sigv4_request req = {
		.method = "POST",
		.path = "/",
		.headers = vanilla_headers,
		.n_headers = sizeof(vanilla_headers) / sizeof(vanilla_headers[0]),
		.body = "{}",
		.body_len = 2,
	};
	struct sigv4_credentials creds = {akid, secret, "token/with+chars=="};
	struct sigv4_params params = {
		.region = region,
		.service = "sqs",
		.time_ms = time_ms,
		.normalize_path = true,
	};
	struct sigv4_signed out = {0};

	assert_int_equal(sigv4_sign(&req, &creds, &params, cache, &out), 0);
	assert_string_equal(out.signed_headers,
		"content-type;host;x-amz-date;x-amz-security-token;x-amz-target");

	char *sig = xstrdup(out.signature);

	sigv4_signed_finish(&out);
	return sig;
}

/* Sign the fixed request for region with cache; returns the signature (owned). */
static char *sign_vanilla(struct sigv4_key_cache *cache, const char *region)
{
	return sign_vanilla_at(cache, region, 1440938160000ULL);
}

/* Assert the cache counters. */
static void assert_stats(const struct sigv4_key_cache *cache, uint64_t hits, uint64_t misses)
{
	uint64_t h;
	uint64_t m;

	sigv4_key_cache_stats(cache, &h, &m);
	assert_true(h == hits);
	assert_true(m == misses);
}

/* Hits, misses and LRU eviction all give the uncached signature. */
static void test_key_cache(void **state)
{
	static const char *const regions[] = {
		"us-east-1", "eu-west-1", "eu-central-1", "ap-south-1", "us-west-2"};
	char *expected[5];
	struct sigv4_key_cache *cache = sigv4_key_cache_create();

	(void)state;
	for (size_t i = 0; i < 5; i++)
		expected[i] = sign_vanilla(NULL, regions[i]);
	for (size_t i = 0; i < 5; i++)
		assert_string_not_equal(expected[0], i > 0 ? expected[i] : "");

	char *sig = sign_vanilla(cache, regions[0]);

	assert_string_equal(sig, expected[0]);
	free(sig);
	assert_stats(cache, 0, 1);
	sig = sign_vanilla(cache, regions[0]);
	assert_string_equal(sig, expected[0]);
	free(sig);
	assert_stats(cache, 1, 1);

	/* Four more scopes overflow a four-entry cache: the oldest goes. */
	for (size_t i = 1; i < 5; i++) {
		sig = sign_vanilla(cache, regions[i]);
		assert_string_equal(sig, expected[i]);
		free(sig);
	}
	assert_stats(cache, 1, 5);
	sig = sign_vanilla(cache, regions[4]);
	assert_string_equal(sig, expected[4]);
	free(sig);
	assert_stats(cache, 2, 5);
	sig = sign_vanilla(cache, regions[0]);
	assert_string_equal(sig, expected[0]);
	free(sig);
	assert_stats(cache, 2, 6);

	/*
	 * Later seconds of the same day hit the same key with other strings to
	 * sign: each signature is the uncached one, whatever was signed before.
	 */
	for (uint64_t s = 1; s <= 3; s++) {
		char *want = sign_vanilla_at(NULL, regions[0], 1440938160000ULL + s * 1000);

		sig = sign_vanilla_at(cache, regions[0], 1440938160000ULL + s * 1000);
		assert_string_equal(sig, want);
		assert_string_not_equal(sig, expected[0]);
		free(sig);
		free(want);
	}
	assert_stats(cache, 5, 6);

	for (size_t i = 0; i < 5; i++)
		free(expected[i]);
	sigv4_key_cache_destroy(cache);
	sigv4_key_cache_destroy(NULL);
}

/* A signed Authorization value parses back into its parts. */
static void test_authorization_roundtrip(void **state)
{
	struct sigv4_request req = {
		.method = "POST",
		.path = "/",
		.headers = vanilla_headers,
		.n_headers = 3,
	};
	struct sigv4_credentials creds = {akid, secret, NULL};
	struct sigv4_params params = {"eu-west-1", "sqs", 1440938160000ULL, true, false, false};
	struct sigv4_signed out = {0};
	struct sigv4_authorization a = {0};

	(void)state;
	assert_int_equal(sigv4_sign(&req, &creds, &params, NULL, &out), 0);
	assert_null(out.security_token);
	assert_null(out.content_sha256);
	assert_int_equal(sigv4_authorization_parse(out.authorization, &a), 0);
	assert_string_equal(a.access_key_id, akid);
	assert_string_equal(a.date, "20150830");
	assert_string_equal(a.region, "eu-west-1");
	assert_string_equal(a.service, "sqs");
	assert_string_equal(a.signed_headers, out.signed_headers);
	assert_string_equal(a.signature, out.signature);
	sigv4_authorization_finish(&a);
	sigv4_authorization_finish(&a);
	sigv4_signed_finish(&out);
	sigv4_signed_finish(&out);
}

#define SIG64 "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
#define CRED "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"

/* Authorization values the parser accepts, in any part order. */
static void test_authorization_good(void **state)
{
	static const char *const good[] = {
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;x-amz-date, Signature=" SIG64,
		"AWS4-HMAC-SHA256 " CRED ",SignedHeaders=host,Signature=" SIG64,
		"AWS4-HMAC-SHA256 Signature=" SIG64 ", " CRED ", SignedHeaders=a;host;z",
		"AWS4-HMAC-SHA256 " CRED
		", SignedHeaders=host;ho~a*st;x-amz-date, Signature=" SIG64,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct sigv4_authorization a = {0};

		assert_int_equal(sigv4_authorization_parse(good[i], &a), 0);
		assert_string_equal(a.signature, SIG64);
		assert_string_equal(a.service, "service");
		sigv4_authorization_finish(&a);
	}
}

/* Junk, missing parts and wrong grammar are refused and leave out alone. */
static void test_authorization_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"AWS4-HMAC-SHA256",
		"AWS4-HMAC-SHA256 ",
		"AWS4-HMAC-SHA1 " CRED ", SignedHeaders=host, Signature=" SIG64,
		"aws4-hmac-sha256 " CRED ", SignedHeaders=host, Signature=" SIG64,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host",
		"AWS4-HMAC-SHA256 " CRED ", Signature=" SIG64,
		"AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" SIG64,
		"AWS4-HMAC-SHA256 " CRED ", " CRED ", SignedHeaders=host, Signature=" SIG64,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host, Signature=" SIG64 ", Extra=1",
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host, Signature=" SIG64 ",",
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host, Signature=" SIG64 "0",
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host, "
		"Signature=5FA00FA31553B73EBF1942676E86291E8372FF2A2260956D9B8AAE1D763FBF31",
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=x-amz-date, Signature=" SIG64,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=x-amz-date;host, Signature=" SIG64,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;host, Signature=" SIG64,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=Host, Signature=" SIG64,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;, Signature=" SIG64,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=, Signature=" SIG64,
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service, "
		"SignedHeaders=host, Signature=" SIG64,
		"AWS4-HMAC-SHA256 "
		"Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request/x, "
		"SignedHeaders=host, Signature=" SIG64,
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws5_request, "
		"SignedHeaders=host, Signature=" SIG64,
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20151330/us-east-1/service/aws4_request, "
		"SignedHeaders=host, Signature=" SIG64,
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2015083/us-east-1/service/aws4_request, "
		"SignedHeaders=host, Signature=" SIG64,
		"AWS4-HMAC-SHA256 Credential=/20150830/us-east-1/service/aws4_request, "
		"SignedHeaders=host, Signature=" SIG64,
		"AWS4-HMAC-SHA256 Credential=AKID EXAMPLE/20150830/us-east-1/service/aws4_request, "
		"SignedHeaders=host, Signature=" SIG64,
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/US-EAST-1/service/aws4_request, "
		"SignedHeaders=host, Signature=" SIG64,
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830//service/aws4_request, "
		"SignedHeaders=host, Signature=" SIG64,
		"AWS4-HMAC-SHA256 Credential " CRED ", SignedHeaders=host, Signature=" SIG64,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sigv4_authorization a = {0};

		if (sigv4_authorization_parse(bad[i], &a) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_null(a.access_key_id);
		assert_null(a.signature);
	}
	assert_int_equal(
		sigv4_authorization_parse(NULL, &(struct sigv4_authorization){0}), -EINVAL);

	/* An overlong value is refused before it is read in full. */
	size_t len = 8192;
	char *huge = xmalloc(len + 1);

	memset(huge, 'a', len);
	memcpy(huge, "AWS4-HMAC-SHA256 ", 17);
	huge[len] = '\0';
	assert_int_equal(
		sigv4_authorization_parse(huge, &(struct sigv4_authorization){0}), -EINVAL);
	free(huge);
}

/* Signature comparison: equal only for two identical 64-digit values. */
static void test_signature_equal(void **state)
{
	(void)state;
	assert_true(sigv4_signature_equal(SIG64, SIG64));
	assert_false(sigv4_signature_equal(
		SIG64, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf30"));
	assert_false(sigv4_signature_equal(SIG64, SIG64 "0"));
	assert_false(sigv4_signature_equal("abc", "abc"));
	assert_false(sigv4_signature_equal(NULL, SIG64));
	assert_false(sigv4_signature_equal(SIG64, NULL));
}

/* X-Amz-Date text form in both directions. */
static void test_amz_date(void **state)
{
	static const struct {
		uint64_t ms;
		const char *text;
	} good[] = {
		{0, "19700101T000000Z"},
		{1440938160000ULL, "20150830T123600Z"},
		{1440938160999ULL, "20150830T123600Z"},
		{951782400000ULL, "20000229T000000Z"},
		{4102444799000ULL, "20991231T235959Z"},
		{253402300799000ULL, "99991231T235959Z"},
	};
	static const char *const bad[] = {
		"",
		"20150830T123600",
		"20150830T123600Z ",
		"20150830 123600Z",
		"2015083XT123600Z",
		"20150830T1236000",
		"20151301T000000Z",
		"20150001T000000Z",
		"20150100T000000Z",
		"20150229T000000Z",
		"19000229T000000Z",
		"20150431T000000Z",
		"20150830T243600Z",
		"20150830T126000Z",
		"20150830T123660Z",
		"19691231T235959Z",
		"+2015083T123600Z",
		"2015-08-30T12:36:00Z",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char text[17];
		uint64_t ms = 1;

		assert_int_equal(sigv4_format_amz_date(good[i].ms, text), 0);
		assert_string_equal(text, good[i].text);
		assert_int_equal(sigv4_parse_amz_date(good[i].text, &ms), 0);
		assert_true(ms == good[i].ms - good[i].ms % 1000);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t ms = 7;

		if (sigv4_parse_amz_date(bad[i], &ms) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_true(ms == 7);
	}
	assert_int_equal(sigv4_parse_amz_date(NULL, &(uint64_t){0}), -EINVAL);

	char text[17] = "unchanged";

	assert_int_equal(sigv4_format_amz_date(253402300800000ULL, text), -EINVAL);
	assert_int_equal(sigv4_format_amz_date(UINT64_MAX, text), -EINVAL);
	assert_string_equal(text, "unchanged");
}

/* One request the signer must refuse. */
struct bad_request {
	const char *what;
	const char *method;
	const char *path;
	const char *query;
	struct sigv4_header headers[3];
	size_t n_headers;
};

/* Requests that cannot be signed: -EINVAL and nothing written. */
static void test_sign_refuses(void **state)
{
	static const struct bad_request bad[] = {
		{"no host", "GET", "/", NULL, {{"Accept", "*/*"}}, 1},
		{"no headers", "GET", "/", NULL, {{NULL, NULL}}, 0},
		{"empty host", "GET", "/", NULL, {{"Host", "  "}}, 1},
		{"two hosts", "GET", "/", NULL, {{"Host", "a"}, {"host", "b"}}, 2},
		{"lower-case method", "get", "/", NULL, {{"Host", "a"}}, 1},
		{"empty method", "", "/", NULL, {{"Host", "a"}}, 1},
		{"method with space", "GE T", "/", NULL, {{"Host", "a"}}, 1},
		{"long method", "GETGETGETGETGETGETGET", "/", NULL, {{"Host", "a"}}, 1},
		{"relative path", "GET", "example", NULL, {{"Host", "a"}}, 1},
		{"bad query escape", "GET", "/", "a=%zz", {{"Host", "a"}}, 1},
		{"short query escape", "GET", "/", "a=%2", {{"Host", "a"}}, 1},
		{"query NUL escape", "GET", "/", "a=%00", {{"Host", "a"}}, 1},
		{"caller x-amz-date", "GET", "/", NULL, {{"Host", "a"}, {"X-Amz-Date", "x"}}, 2},
		{"control byte", "GET", "/", NULL, {{"Host", "a"}, {"X-A", "a\001b"}}, 2},
		{"bad header name", "GET", "/", NULL, {{"Host", "a"}, {"X A", "b"}}, 2},
		{"empty header name", "GET", "/", NULL, {{"Host", "a"}, {"", "b"}}, 2},
		{"NULL header value", "GET", "/", NULL, {{"Host", "a"}, {"X-A", NULL}}, 2},
	};
	struct sigv4_credentials creds = {akid, secret, NULL};
	struct sigv4_params params = {"us-east-1", "service", 1440938160000ULL, true, false, false};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sigv4_request req = {
			.method = bad[i].method,
			.path = bad[i].path,
			.query = bad[i].query,
			.headers = bad[i].headers,
			.n_headers = bad[i].n_headers,
		};
		struct sigv4_signed out = {0};

		if (sigv4_sign(&req, &creds, &params, NULL, &out) != -EINVAL)
			fail_msg("signed: %s", bad[i].what);
		assert_null(out.authorization);
	}
}

/* Bad credentials, scope or time are refused too. */
static void test_sign_refuses_params(void **state)
{
	struct sigv4_header host = {"Host", "example.amazonaws.com"};
	struct sigv4_request req = {.method = "GET", .path = "/", .headers = &host, .n_headers = 1};
	struct sigv4_credentials creds = {akid, secret, NULL};
	struct sigv4_params params = {"us-east-1", "service", 1440938160000ULL, true, false, false};
	struct sigv4_signed out = {0};

	(void)state;
	assert_int_equal(sigv4_sign(&req, &creds, &params, NULL, &out), 0);
	sigv4_signed_finish(&out);

	struct sigv4_credentials c = creds;

	c.access_key_id = "AKID/EXAMPLE";
	assert_int_equal(sigv4_sign(&req, &c, &params, NULL, &out), -EINVAL);
	c = creds;
	c.secret_access_key = "";
	assert_int_equal(sigv4_sign(&req, &c, &params, NULL, &out), -EINVAL);
	c = creds;
	c.session_token = "two words";
	assert_int_equal(sigv4_sign(&req, &c, &params, NULL, &out), -EINVAL);

	struct sigv4_params p = params;

	p.region = "us-east-1/x";
	assert_int_equal(sigv4_sign(&req, &creds, &p, NULL, &out), -EINVAL);
	p = params;
	p.service = NULL;
	assert_int_equal(sigv4_sign(&req, &creds, &p, NULL, &out), -EINVAL);
	p = params;
	p.time_ms = UINT64_MAX;
	assert_int_equal(sigv4_sign(&req, &creds, &p, NULL, &out), -EINVAL);

	struct sigv4_request r = req;

	r.body_len = 5;
	assert_int_equal(sigv4_sign(&r, &creds, &params, NULL, &out), -EINVAL);
	assert_null(out.authorization);
}

/* Unsignable headers never reach the signed list. */
static void test_sign_skips_unsignable(void **state)
{
	static const struct sigv4_header headers[] = {
		{"Host", "example.amazonaws.com:8443"},
		{"Authorization", "x"},
		{"User-Agent", "qscale"},
		{"Expect", "100-continue"},
		{"Connection", "close"},
		{"Transfer-Encoding", "chunked"},
		{"Proxy-Authorization", "x"},
		{"X-Amzn-Trace-Id", "Root=1"},
		{"Content-Type", "application/x-amz-json-1.1"},
		{"X-Odd*Name~", "v"},
	};
	struct sigv4_request req = {
		.method = "POST",
		.path = "",
		.headers = headers,
		.n_headers = sizeof(headers) / sizeof(headers[0]),
	};
	struct sigv4_credentials creds = {akid, secret, NULL};
	struct sigv4_params params = {"us-east-1", "ecs", 1440938160000ULL, true, true, false};
	struct sigv4_signed out = {0};

	(void)state;
	assert_int_equal(sigv4_sign(&req, &creds, &params, NULL, &out), 0);
	assert_string_equal(out.signed_headers,
		"content-type;host;x-amz-content-sha256;x-amz-date;x-odd*name~");

	/* Whatever the signer emits, the parser takes back. */
	struct sigv4_authorization a = {0};

	assert_int_equal(sigv4_authorization_parse(out.authorization, &a), 0);
	assert_string_equal(a.signed_headers, out.signed_headers);
	sigv4_authorization_finish(&a);
	assert_string_equal(out.content_sha256,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_non_null(strstr(out.canonical_request, "POST\n/\n\n"));
	assert_non_null(strstr(out.canonical_request, "host:example.amazonaws.com:8443\n"));
	sigv4_signed_finish(&out);
}

/* SHA-256 of known strings. */
static void test_sha256_hex(void **state)
{
	char hex[65];

	(void)state;
	sigv4_sha256_hex(NULL, 0, hex);
	assert_string_equal(
		hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sigv4_sha256_hex("abc", 3, hex);
	assert_string_equal(
		hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static const struct CMUnitTest unit_tests[] = {
	cmocka_unit_test(test_key_cache),
	cmocka_unit_test(test_authorization_roundtrip),
	cmocka_unit_test(test_authorization_good),
	cmocka_unit_test(test_authorization_bad),
	cmocka_unit_test(test_signature_equal),
	cmocka_unit_test(test_amz_date),
	cmocka_unit_test(test_sign_refuses),
	cmocka_unit_test(test_sign_refuses_params),
	cmocka_unit_test(test_sign_skips_unsignable),
	cmocka_unit_test(test_sha256_hex),
};

int main(void)
{
	const char *shared = getenv("QSCALE_SHARED_DIR");

	if (shared != NULL)
		scan_suites(shared);

	size_t n_units = sizeof(unit_tests) / sizeof(unit_tests[0]);
	struct CMUnitTest *tests = xcalloc(n_cases + n_units + 1, sizeof(*tests));
	size_t n = 0;

	tests[n++] =
		(struct CMUnitTest){.name = "suite-complete", .test_func = test_suite_complete};
	for (size_t i = 0; i < n_cases; i++) {
		tests[n++] = (struct CMUnitTest){
			.name = cases[i].name,
			.test_func = test_suite_case,
			.initial_state = &cases[i],
		};
	}
	for (size_t i = 0; i < n_units; i++)
		tests[n++] = unit_tests[i];

	int failed = _cmocka_run_group_tests("sigv4", tests, n, NULL, NULL);

	for (size_t i = 0; i < n_cases; i++) {
		free(cases[i].name);
		free(cases[i].dir);
		free(cases[i].base);
	}
	free(tests);
	return failed;
}
