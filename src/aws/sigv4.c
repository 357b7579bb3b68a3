/*
 * SigV4 signing: payload hash, string to sign, signing-key derivation with a
 * small LRU cache, and the Authorization value. HMAC-SHA256 and SHA-256 go
 * through OpenSSL 3's EVP APIs. Pure: time comes in as an argument.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "qscale/buf.h"
#include "qscale/log.h"
#include "qscale/sigv4.h"
#include "qscale/xalloc.h"
#include "sigv4_priv.h"

#define KEY_LEN 32
#define CACHE_ENTRIES 4

/* One derived signing key and what it was derived from. */
struct key_entry {
	bool used;
	uint64_t last_use; /* cache tick of the latest hit, for LRU */
	char date[9];
	char region[SIGV4_MAX_SCOPE_PART + 1];
	char service[SIGV4_MAX_SCOPE_PART + 1];
	char key_id[SIGV4_MAX_KEY_ID + 1];
	unsigned char secret_hash[KEY_LEN]; /* a rotated secret under the same id misses */
	/*
	 * HMAC under the signing key, its key schedule done once: each signature
	 * re-initialises it with the same key instead of setting a key up anew.
	 */
	EVP_MAC_CTX *mac;
};

struct sigv4_key_cache {
	uint64_t tick;
	uint64_t hits;
	uint64_t misses;
	struct key_entry entries[CACHE_ENTRIES];
};

/*
 * SHA-256 and HMAC as fetched from OpenSSL once for the process. The one-shot
 * calls (EVP_Q_mac, EVP_Digest with EVP_sha256()) look the algorithm up in
 * the provider store on every call, which costs more than hashing a request.
 * The HMAC context is a template with its digest set and no key; each MAC
 * works on a copy of it.
 */
static EVP_MD *sha256_md;
static EVP_MAC_CTX *hmac_template;
static CRYPTO_ONCE fetch_once = CRYPTO_ONCE_STATIC_INIT;

/* Fetch SHA-256 and HMAC-SHA256 (run once). */
static void fetch_algorithms(void)
{
	static char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);

	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (mac != NULL)
		hmac_template = EVP_MAC_CTX_new(mac);
	/* The context holds its own reference to the algorithm. */
	EVP_MAC_free(mac);
	if (hmac_template != NULL && EVP_MAC_CTX_set_params(hmac_template, params) != 1) {
		EVP_MAC_CTX_free(hmac_template);
		hmac_template = NULL;
	}
}

/* The fetched algorithms; aborts when OpenSSL has no SHA-256 or HMAC. */
static void algorithms(void)
{
	if (CRYPTO_THREAD_run_once(&fetch_once, fetch_algorithms) != 1 || sha256_md == NULL ||
		hmac_template == NULL)
		fatal("sigv4: OpenSSL has no SHA-256 or HMAC");
}

/* A fresh HMAC-SHA256 context keyed with key; the caller frees it. */
static EVP_MAC_CTX *hmac_keyed(const void *key, size_t key_len)
{
	EVP_MAC_CTX *ctx;

	algorithms();
	ctx = EVP_MAC_CTX_dup(hmac_template);
	if (ctx == NULL || EVP_MAC_init(ctx, key, key_len, NULL) != 1)
		fatal("sigv4: HMAC-SHA256 failed");
	return ctx;
}

/* The MAC of data into out (32 bytes) with ctx, keyed already; ctx is left spent. */
static void hmac_finish(EVP_MAC_CTX *ctx, const void *data, size_t len, unsigned char out[KEY_LEN])
{
	size_t out_len = 0;

	if (EVP_MAC_update(ctx, data, len) != 1 ||
		EVP_MAC_final(ctx, out, &out_len, KEY_LEN) != 1 || out_len != KEY_LEN)
		fatal("sigv4: HMAC-SHA256 failed");
}

/* HMAC-SHA256 of data under key into out (32 bytes). */
static void hmac_sha256(
	const void *key, size_t key_len, const void *data, size_t len, unsigned char out[KEY_LEN])
{
	EVP_MAC_CTX *ctx = hmac_keyed(key, key_len);

	hmac_finish(ctx, data, len, out);
	EVP_MAC_CTX_free(ctx);
}

/* SHA-256 of data into out (32 bytes). */
static void sha256(const void *data, size_t len, unsigned char out[KEY_LEN])
{
	unsigned int out_len = 0;

	algorithms();
	if (EVP_Digest(data, len, out, &out_len, sha256_md, NULL) != 1 || out_len != KEY_LEN)
		fatal("sigv4: SHA-256 failed");
}

/* Lowercase hex of 32 bytes into out (65 bytes with NUL). */
static void hex32(const unsigned char in[KEY_LEN], char out[65])
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < KEY_LEN; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0xf];
	}
	out[64] = '\0';
}

/* See sigv4.h. */
void sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[KEY_LEN];

	sha256(len > 0 ? data : "", len, md);
	hex32(md, out);
}

/* Derive kSigning from the secret and the scope. */
static void derive_key(const char *secret, const char *date, const char *region,
	const char *service, unsigned char out[KEY_LEN])
{
	size_t secret_len = strlen(secret);
	char *prefixed = xmalloc(secret_len + 5);
	unsigned char k[KEY_LEN];

	memcpy(prefixed, "AWS4", 4);
	memcpy(prefixed + 4, secret, secret_len + 1);
	hmac_sha256(prefixed, secret_len + 4, date, strlen(date), k);
	secure_wipe(prefixed, secret_len + 4);
	free(prefixed);
	hmac_sha256(k, KEY_LEN, region, strlen(region), k);
	hmac_sha256(k, KEY_LEN, service, strlen(service), k);
	hmac_sha256(k, KEY_LEN, "aws4_request", 12, out);
	secure_wipe(k, sizeof(k));
}

/* See sigv4.h. */
struct sigv4_key_cache *sigv4_key_cache_create(void)
{
	return xcalloc(1, sizeof(struct sigv4_key_cache));
}

/* Empty a cache entry: its MAC context (which holds the key) freed, the rest wiped. */
static void entry_clear(struct key_entry *e)
{
	/* OpenSSL cleanses the key material of a context it frees. */
	EVP_MAC_CTX_free(e->mac);
	secure_wipe(e, sizeof(*e));
}

/* See sigv4.h. */
void sigv4_key_cache_destroy(struct sigv4_key_cache *cache)
{
	if (cache == NULL)
		return;
	for (size_t i = 0; i < CACHE_ENTRIES; i++)
		entry_clear(&cache->entries[i]);
	secure_wipe(cache, sizeof(*cache));
	free(cache);
}

/* See sigv4.h. */
void sigv4_key_cache_stats(const struct sigv4_key_cache *cache, uint64_t *hits, uint64_t *misses)
{
	*hits = cache->hits;
	*misses = cache->misses;
}

/*
 * The signature of sts (32 bytes into out) under this scope's signing key,
 * the key and its HMAC context from the cache when it holds them.
 */
static void sign_string(struct sigv4_key_cache *cache, const struct sigv4_credentials *creds,
	const char *date, const struct sigv4_params *params, const char *sts,
	unsigned char out[KEY_LEN])
{
	unsigned char key[KEY_LEN];

	if (cache == NULL) {
		derive_key(creds->secret_access_key, date, params->region, params->service, key);
		hmac_sha256(key, KEY_LEN, sts, strlen(sts), out);
		secure_wipe(key, sizeof(key));
		return;
	}

	unsigned char secret_hash[KEY_LEN];
	struct key_entry *victim = &cache->entries[0];

	sha256(creds->secret_access_key, strlen(creds->secret_access_key), secret_hash);
	cache->tick++;
	for (size_t i = 0; i < CACHE_ENTRIES; i++) {
		struct key_entry *e = &cache->entries[i];

		if (e->used && strcmp(e->date, date) == 0 &&
			strcmp(e->region, params->region) == 0 &&
			strcmp(e->service, params->service) == 0 &&
			strcmp(e->key_id, creds->access_key_id) == 0 &&
			CRYPTO_memcmp(e->secret_hash, secret_hash, KEY_LEN) == 0) {
			e->last_use = cache->tick;
			cache->hits++;
			secure_wipe(secret_hash, sizeof(secret_hash));
			/* A NULL key re-initialises the context with the key it holds. */
			if (EVP_MAC_init(e->mac, NULL, 0, NULL) != 1)
				fatal("sigv4: HMAC-SHA256 failed");
			hmac_finish(e->mac, sts, strlen(sts), out);
			return;
		}
		if (!e->used || (victim->used && e->last_use < victim->last_use))
			victim = e;
	}
	/* Miss: replace a free slot or the least recently used one. */
	cache->misses++;
	entry_clear(victim);
	derive_key(creds->secret_access_key, date, params->region, params->service, key);
	victim->mac = hmac_keyed(key, KEY_LEN);
	secure_wipe(key, sizeof(key));
	victim->used = true;
	victim->last_use = cache->tick;
	strcpy(victim->date, date);
	strcpy(victim->region, params->region);
	strcpy(victim->service, params->service);
	strcpy(victim->key_id, creds->access_key_id);
	memcpy(victim->secret_hash, secret_hash, KEY_LEN);
	secure_wipe(secret_hash, sizeof(secret_hash));
	hmac_finish(victim->mac, sts, strlen(sts), out);
}

/* True when the token is 1..16384 visible ASCII bytes. */
static bool token_valid(const char *token)
{
	size_t len = strnlen(token, SIGV4_MAX_TOKEN + 1);

	if (len == 0 || len > SIGV4_MAX_TOKEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (token[i] <= 0x20 || token[i] >= 0x7f)
			return false;
	}
	return true;
}

/* The n strings of parts joined into one fresh string (cheaper than a printf). */
static char *concat(const char *const *parts, size_t n)
{
	struct buf b;

	/* The parts were checked by check_inputs: far below a canonical request. */
	buf_init(&b, SIGV4_MAX_CANONICAL);
	for (size_t i = 0; i < n; i++) {
		if (buf_puts(&b, parts[i]) < 0)
			fatal("sigv4: a signature string past %u bytes", SIGV4_MAX_CANONICAL);
	}
	return buf_steal(&b);
}

/* Check everything but the request itself. */
static int check_inputs(const struct sigv4_request *req, const struct sigv4_credentials *creds,
	const struct sigv4_params *params)
{
	if (req == NULL || creds == NULL || params == NULL)
		return -EINVAL;
	if (creds->access_key_id == NULL || !sigv4_key_id_valid(creds->access_key_id))
		return -EINVAL;
	if (creds->secret_access_key == NULL)
		return -EINVAL;
	size_t secret_len = strnlen(creds->secret_access_key, SIGV4_MAX_SECRET + 1);

	if (secret_len == 0 || secret_len > SIGV4_MAX_SECRET)
		return -EINVAL;
	if (creds->session_token != NULL && !token_valid(creds->session_token))
		return -EINVAL;
	if (params->region == NULL || !sigv4_scope_part_valid(params->region) ||
		params->service == NULL || !sigv4_scope_part_valid(params->service))
		return -EINVAL;
	if (req->body_len > SIGV4_MAX_BODY || (req->body_len > 0 && req->body == NULL))
		return -EINVAL;
	return 0;
}

/* See sigv4.h. */
int sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *creds,
	const struct sigv4_params *params, struct sigv4_key_cache *cache, struct sigv4_signed *out)
{
	int r = check_inputs(req, creds, params);

	if (r < 0)
		return r;

	char amz_date[17];

	r = sigv4_format_amz_date(params->time_ms, amz_date);
	if (r < 0)
		return r;

	char payload_hash[65];

	sigv4_sha256_hex(req->body, req->body_len, payload_hash);

	struct sigv4_extra_header extra[3];
	size_t n_extra = 0;

	extra[n_extra++] = (struct sigv4_extra_header){"x-amz-date", amz_date};
	if (creds->session_token != NULL && !params->omit_session_token)
		extra[n_extra++] =
			(struct sigv4_extra_header){"x-amz-security-token", creds->session_token};
	if (params->sign_body)
		extra[n_extra++] =
			(struct sigv4_extra_header){"x-amz-content-sha256", payload_hash};

	struct buf creq;
	struct buf signed_headers;

	buf_init(&creq, SIGV4_MAX_CANONICAL);
	buf_init(&signed_headers, SIGV4_MAX_HEADERS * (SIGV4_MAX_HEADER_NAME + 1));
	r = sigv4_canonical_request(
		req, params->normalize_path, extra, n_extra, payload_hash, &creq, &signed_headers);
	if (r < 0) {
		buf_finish_secure(&creq);
		buf_finish(&signed_headers);
		return r == -E2BIG ? -EINVAL : r;
	}

	char date[9];
	char creq_hash[65];

	memcpy(date, amz_date, 8);
	date[8] = '\0';
	sigv4_sha256_hex(creq.data, creq.len, creq_hash);

	const char *sts_parts[] = {"AWS4-HMAC-SHA256\n", amz_date, "\n", date, "/", params->region,
		"/", params->service, "/aws4_request\n", creq_hash};
	char *sts = concat(sts_parts, sizeof(sts_parts) / sizeof(sts_parts[0]));
	unsigned char mac[KEY_LEN];
	char signature[65];

	sign_string(cache, creds, date, params, sts, mac);
	hex32(mac, signature);

	struct sigv4_signed s = {0};

	s.amz_date = xstrdup(amz_date);
	if (creds->session_token != NULL)
		s.security_token = xstrdup(creds->session_token);
	if (params->sign_body)
		s.content_sha256 = xstrdup(payload_hash);
	s.signed_headers = buf_steal(&signed_headers);
	const char *auth_parts[] = {"AWS4-HMAC-SHA256 Credential=", creds->access_key_id, "/", date,
		"/", params->region, "/", params->service,
		"/aws4_request, SignedHeaders=", s.signed_headers, ", Signature=", signature};

	s.authorization = concat(auth_parts, sizeof(auth_parts) / sizeof(auth_parts[0]));
	s.canonical_request = buf_steal(&creq);
	s.string_to_sign = sts;
	s.signature = xstrdup(signature);
	*out = s;
	return 0;
}

/* See sigv4.h. */
bool sigv4_signature_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return false;

	size_t len = strnlen(a, 65);

	if (len != 64 || strnlen(b, 65) != len)
		return false;
	return CRYPTO_memcmp(a, b, len) == 0;
}

/* See sigv4.h. */
void sigv4_signed_finish(struct sigv4_signed *s)
{
	if (s == NULL)
		return;
	free(s->amz_date);
	secure_free_str(s->security_token);
	free(s->content_sha256);
	free(s->authorization);
	secure_free_str(s->canonical_request);
	free(s->string_to_sign);
	free(s->signed_headers);
	free(s->signature);
	memset(s, 0, sizeof(*s));
}
