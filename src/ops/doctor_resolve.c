/*
 * `qscale doctor --resolve`: what qscale resolved from its configuration,
 * the environment and the shared AWS files, as one JSON object on stdout,
 * without calling AWS: profile, files, region, SQS and ECS endpoints, FIPS
 * and dual-stack, retry mode and attempts, CA bundle, IMDSv1, and the
 * credentials the chain found (their source and key id; the secret and the
 * token only as SHA-256 digests, so that two resolvers can be compared
 * without either being printed). Also the one-line settings summary the
 * normal doctor prints.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>
#include <yajl/yajl_gen.h>

#include "qscale/aws_client.h"
#include "qscale/aws_settings.h"
#include "qscale/cloud_aws.h"
#include "qscale/credentials.h"
#include "qscale/diag.h"
#include "qscale/doctor.h"
#include "qscale/policy.h"
#include "qscale/sigv4.h"

/* A string, or null. */
static void gen_str(yajl_gen g, const char *s)
{
	if (s == NULL)
		yajl_gen_null(g);
	else
		yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* A key and its string value. */
static void gen_kv(yajl_gen g, const char *key, const char *value)
{
	gen_str(g, key);
	gen_str(g, value);
}

/* A key and its boolean value. */
static void gen_kb(yajl_gen g, const char *key, bool value)
{
	gen_str(g, key);
	yajl_gen_bool(g, value);
}

/* What the credential chain gave; filled from the loop. */
struct resolved_creds {
	struct event_base *base;
	bool done;
	int err;
	char secret_hex[65];
	char token_hex[65];
	bool have_token;
};

/* The chain answered: keep digests only, never the secrets. */
static void on_creds(int err, const struct sigv4_credentials *creds, void *arg)
{
	struct resolved_creds *rc = arg;

	rc->done = true;
	rc->err = err;
	if (err == 0) {
		sigv4_sha256_hex(
			creds->secret_access_key, strlen(creds->secret_access_key), rc->secret_hex);
		rc->have_token = creds->session_token != NULL;
		if (rc->have_token)
			sigv4_sha256_hex(
				creds->session_token, strlen(creds->session_token), rc->token_hex);
	}
	event_base_loopexit(rc->base, NULL);
}

/* The settings part of the object. */
static void gen_settings(yajl_gen g, const struct aws_settings *s)
{
	gen_kv(g, "profile", s->profile);
	gen_kv(g, "config_file", s->config_path);
	gen_kv(g, "credentials_file", s->credentials_path);
	gen_kv(g, "region", s->region);
	gen_kv(g, "region_from", s->region_from);
	gen_str(g, "endpoints");
	yajl_gen_map_open(g);
	gen_kv(g, "sqs", s->endpoint[AWS_SERVICE_SQS]);
	gen_kv(g, "ecs", s->endpoint[AWS_SERVICE_ECS]);
	yajl_gen_map_close(g);
	gen_str(g, "endpoints_from");
	yajl_gen_map_open(g);
	gen_kv(g, "sqs", aws_endpoint_origin_name(s->endpoint_from[AWS_SERVICE_SQS]));
	gen_kv(g, "ecs", aws_endpoint_origin_name(s->endpoint_from[AWS_SERVICE_ECS]));
	yajl_gen_map_close(g);
	gen_kb(g, "use_fips_endpoint", s->use_fips);
	gen_kb(g, "use_dualstack_endpoint", s->use_dualstack);
	gen_kb(g, "ignore_configured_endpoint_urls", s->ignore_configured_urls);
	gen_kv(g, "retry_mode", aws_retry_mode_name(s->retry_mode));
	gen_kv(g, "retry_mode_from", s->retry_mode_from);
	gen_str(g, "max_attempts");
	yajl_gen_integer(g, s->max_attempts);
	gen_kv(g, "max_attempts_from", s->max_attempts_from);
	gen_kv(g, "ca_bundle", s->ca_bundle);
	gen_kv(g, "ca_bundle_from", s->ca_bundle_from);
	gen_kb(g, "ec2_metadata_v1_disabled", s->imds_v1_disabled);
}

/* The credentials part of the object. */
static void gen_credentials(yajl_gen g, struct aws_client *client, const struct resolved_creds *rc)
{
	struct credentials_info info;

	credentials_get_info(aws_client_credentials(client), &info);
	gen_str(g, "credentials");
	yajl_gen_map_open(g);
	if (!rc->done || rc->err != 0) {
		gen_kv(g, "source", "none");
		gen_kv(g, "error", rc->done ? strerror(-rc->err) : "no answer in time");
		gen_kv(g, "detail", info.error_text[0] != '\0' ? info.error_text : info.detail);
	} else {
		gen_kv(g, "source", credentials_source_name(info.source));
		gen_kv(g, "detail", info.detail);
		gen_kv(g, "access_key_id", info.access_key_id);
		gen_kv(g, "secret_sha256", rc->secret_hex);
		gen_kv(g, "token_sha256", rc->have_token ? rc->token_hex : NULL);
	}
	yajl_gen_map_close(g);
}

/* Print the generator's buffer. */
static void flush_gen(yajl_gen g, FILE *out)
{
	const unsigned char *text;
	size_t len;

	yajl_gen_get_buf(g, &text, &len);
	fwrite(text, 1, len, out);
	fputc('\n', out);
}

/* See qscale/doctor.h. */
int doctor_resolve(const struct qscale_config *config, FILE *out)
{
	struct diag diag = {0};
	struct event_base *base = event_base_new();
	struct aws_client *client = NULL;
	yajl_gen g = yajl_gen_alloc(NULL);
	int status = 0;

	if (base == NULL || g == NULL)
		return 1;
	yajl_gen_map_open(g);
	int r = cloud_aws_client_create(base, config, &clock_system, &diag, &client);
	if (r < 0) {
		char text[DIAG_FILE_MAX + DIAG_MESSAGE_MAX + 32];
		gen_kv(g, "error",
			r == -EINVAL ? diag_format(&diag, text, sizeof(text)) : strerror(-r));
		status = r == -EINVAL ? 2 : 1;
	} else {
		struct resolved_creds rc = {.base = base};
		/* Bounded: container and IMDS fetches time out on their own within it. */
		struct timeval limit = {10, 0};
		if (credentials_get(aws_client_credentials(client), on_creds, &rc, NULL) == 0) {
			event_base_loopexit(base, &limit);
			event_base_dispatch(base);
		}
		gen_settings(g, aws_client_settings(client));
		gen_credentials(g, client, &rc);
		/* As doctor: no credentials is a failure of the check. */
		if (!rc.done || rc.err != 0)
			status = 1;
	}
	yajl_gen_map_close(g);
	flush_gen(g, out);
	yajl_gen_free(g);
	aws_client_destroy(client);
	event_base_free(base);
	return status;
}

/* See qscale/doctor.h. */
void doctor_settings_line(const struct aws_settings *s, char *out, size_t len)
{
	snprintf(out, len,
		"settings: profile %s, retries %s mode with %d attempts (%s), CA bundle %s (%s), "
		"FIPS %s, dual-stack %s",
		s->profile, aws_retry_mode_name(s->retry_mode), s->max_attempts,
		s->max_attempts_from, s->ca_bundle != NULL ? s->ca_bundle : "system",
		s->ca_bundle_from, s->use_fips ? "on" : "off", s->use_dualstack ? "on" : "off");
}
