/*
 * libFuzzer target for the SigV4 canonicaliser and the Authorization
 * parser. The input is split on '\n' into fields: flags, method, path,
 * query, then header name/value pairs; every field is also fed to
 * sigv4_authorization_parse and sigv4_parse_amz_date.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/sigv4.h"
#include "qscale/xalloc.h"

#define MAX_FIELDS 40

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Check what a successful signature promises, aborting if it breaks. */
static void check_signed(const struct sigv4_signed *s)
{
	struct sigv4_authorization a = {0};

	if (strlen(s->signature) != 64 || strlen(s->amz_date) != 16)
		abort();
	/* Everything the signer emits, its own parser must take back. */
	if (sigv4_authorization_parse(s->authorization, &a) != 0)
		abort();
	if (strcmp(a.signature, s->signature) != 0 ||
		strcmp(a.signed_headers, s->signed_headers) != 0)
		abort();
	sigv4_authorization_finish(&a);
}

/* Feed one fuzz input through the signer and the parsers. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xmalloc(size + 1);
	char *fields[MAX_FIELDS];
	size_t n = 0;

	memcpy(text, data, size);
	text[size] = '\0';
	/* Embedded NULs just shorten a field, as they would for a C caller. */
	for (char *p = text; n < MAX_FIELDS;) {
		fields[n++] = p;

		char *nl = strchr(p, '\n');

		if (nl == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}

	for (size_t i = 0; i < n; i++) {
		struct sigv4_authorization a = {0};
		uint64_t ms;

		if (sigv4_authorization_parse(fields[i], &a) == 0)
			sigv4_authorization_finish(&a);
		(void)sigv4_parse_amz_date(fields[i], &ms);
	}

	if (n >= 4) {
		unsigned flags = (unsigned char)fields[0][0];
		struct sigv4_header headers[MAX_FIELDS / 2];
		size_t n_headers = 0;

		for (size_t i = 4; i + 1 < n; i += 2)
			headers[n_headers++] = (struct sigv4_header){fields[i], fields[i + 1]};

		const char *body = n % 2 == 1 ? fields[n - 1] : "";
		struct sigv4_request req = {
			.method = fields[1],
			.path = fields[2],
			.query = fields[3],
			.headers = headers,
			.n_headers = n_headers,
			.body = body,
			.body_len = strlen(body),
		};
		struct sigv4_credentials creds = {
			"AKIDEXAMPLE",
			"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
			(flags & 4) != 0 ? "token" : NULL,
		};
		struct sigv4_params params = {
			.region = "us-east-1",
			.service = "service",
			.time_ms = 1440938160000ULL + (flags >> 4) * 86400000ULL,
			.normalize_path = (flags & 1) != 0,
			.sign_body = (flags & 2) != 0,
			.omit_session_token = (flags & 8) != 0,
		};
		struct sigv4_key_cache *cache = sigv4_key_cache_create();
		struct sigv4_signed out = {0};
		int r = sigv4_sign(&req, &creds, &params, cache, &out);

		if (r == 0) {
			check_signed(&out);

			struct sigv4_signed again = {0};

			/* A cached key must give the same signature. */
			if (sigv4_sign(&req, &creds, &params, cache, &again) != 0 ||
				strcmp(again.signature, out.signature) != 0)
				abort();
			sigv4_signed_finish(&again);
		} else if (r != -EINVAL) {
			abort();
		}
		sigv4_signed_finish(&out);
		sigv4_key_cache_destroy(cache);
	}
	free(text);
	return 0;
}
