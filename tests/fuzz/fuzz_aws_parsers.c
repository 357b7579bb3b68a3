/*
 * libFuzzer target for the AWS client's parsers of peer and file data: the
 * error-response parser (body plus the two error headers taken from the
 * input's first lines), the credentials JSON document, the shared
 * credentials/config file parser, RFC 3339 and HTTP dates, endpoint URLs
 * and container credential URLs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/aws_client.h"
#include "qscale/aws_endpoint.h"
#include "qscale/aws_ini.h"
#include "qscale/aws_settings.h"
#include "qscale/credentials.h"
#include "qscale/http.h"
#include "qscale/xalloc.h"

/* A fixed environment for the settings resolver. */
static const char *fuzz_env(const char *name, void *ctx)
{
	const char *const *kv = ctx;

	for (size_t i = 0; kv[i] != NULL; i += 2)
		if (strcmp(kv[i], name) == 0)
			return kv[i + 1];
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The first line of text (up to '\n'), as a fresh string; *rest moves past it. */
static char *take_line(const char **rest, size_t *len)
{
	const char *nl = memchr(*rest, '\n', *len);
	size_t n = nl != NULL ? (size_t)(nl - *rest) : *len;
	char *line = xstrndup(*rest, n);

	*rest += nl != NULL ? n + 1 : n;
	*len -= nl != NULL ? n + 1 : n;
	return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct aws_error e;
	struct credentials_set set = {0};
	struct aws_ini ini;
	uint64_t ms;

	aws_error_parse(400, NULL, NULL, text, size, &e);
	if (strlen(e.code) >= AWS_ERROR_CODE_MAX || strlen(e.message) >= AWS_ERROR_MESSAGE_MAX)
		abort();
	if (credentials_parse_json(text, size, &set) == 0 &&
		(set.access_key_id == NULL || set.secret_access_key == NULL))
		abort();
	credentials_set_finish(&set);
	for (int config = 0; config < 2; config++) {
		if (aws_ini_parse(text, size, config, &ini, NULL) != 0)
			continue;
		/* A parsed config file through the settings resolver, profile dev. */
		if (config) {
			static const char *const env[] = {"HOME", "/h", "AWS_PROFILE", "dev", NULL};
			struct aws_settings_input in = {.env = fuzz_env, .env_ctx = (void *)env};
			struct aws_settings st;
			if (aws_settings_resolve(&in, &ini, &st, NULL) == 0) {
				if (st.max_attempts < 1 || st.endpoint[0] == NULL)
					abort();
				aws_settings_finish(&st);
			}
		}
		aws_ini_finish(&ini);
	}

	/* Line-split form: two headers, then a body for the error parser. */
	const char *rest = text;
	size_t len = size;
	char *query = take_line(&rest, &len);
	char *type = take_line(&rest, &len);
	aws_error_parse(503, query, type, rest, len, &e);
	(void)aws_error_classify(e.http_status, e.code, 0);
	(void)credentials_parse_rfc3339(query, &ms);
	(void)http_parse_date(type, &ms);
	char *origin = NULL, *host = NULL;
	if (aws_endpoint_parse(query, &origin, &host) == 0 && (origin == NULL || host == NULL))
		abort();
	free(origin);
	free(host);
	char *url = NULL;
	if (credentials_container_url(NULL, type, &url) == 0 && url == NULL)
		abort();
	free(url);
	free(query);
	free(type);
	return 0;
}
