/*
 * libFuzzer target for the newer providers' parsers of peer and file data:
 * the STS XML reader through every answer it reads (AssumeRole, web
 * identity, GetCallerIdentity, errors), form fields, credential_process
 * output and command lines, the SSO token cache and GetRoleCredentials, and
 * the profile resolver over the input as a config file.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/aws_ini.h"
#include "qscale/credentials.h"
#include "qscale/sts.h"
#include "qscale/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* No environment at all. */
static const char *no_env(const char *name, void *ctx)
{
	(void)name;
	(void)ctx;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct credentials_set set = {0};
	struct sts_identity who;
	char code[64], message[256], why[512];
	char *v = NULL, **argv = NULL;
	uint64_t ms;

	if (sts_xml_text(text, size, "a/b", &v) == 0)
		free(v);
	static const char *const actions[] = {"AssumeRole", "AssumeRoleWithWebIdentity"};
	for (size_t i = 0; i < 2; i++)
		if (sts_parse_credentials(text, size, actions[i], &set, &who) == 0 &&
			(set.access_key_id == NULL || set.session_token == NULL))
			abort();
	credentials_set_finish(&set);
	(void)sts_parse_caller_identity(text, size, &who);
	if (sts_parse_error(text, size, code, sizeof(code), message, sizeof(message)) == 0 &&
		strlen(code) >= sizeof(code))
		abort();
	if (sts_form_get(text, size, "Action", &v) == 0)
		free(v);
	if (credentials_parse_process(text, size, &set, why, sizeof(why)) == 0 &&
		set.secret_access_key == NULL)
		abort();
	credentials_set_finish(&set);
	if (credentials_parse_sso_cache(text, size, &v, &ms) == 0)
		secure_free_str(v);
	if (credentials_parse_sso_role(text, size, &set) == 0 && set.session_token == NULL)
		abort();
	credentials_set_finish(&set);

	char *line = xstrndup(text, size);
	if (credentials_split_command(line, &argv) == 0) {
		if (argv[0] == NULL)
			abort();
		credentials_argv_free(argv);
	}
	free(line);

	struct aws_ini ini;
	if (aws_ini_parse(text, size, true, &ini, NULL) == 0) {
		struct credentials_files files = {NULL, NULL, &ini, "config"};
		struct credentials_plan plan = {0};
		static const char *const profiles[] = {"default", "a", "r"};
		for (size_t i = 0; i < 3; i++) {
			if (credentials_plan_resolve(&files, profiles[i], i > 0, true, no_env, NULL,
				    &plan, why, sizeof(why)) == 0)
				credentials_plan_finish(&plan);
		}
		aws_ini_finish(&ini);
	}
	return 0;
}
