/*
 * Unit tests of the pure parts of the newer providers: which provider a
 * profile asks for (a table of setups, each with the cause a bad one must
 * name), STS's forms, XML answers and errors and its endpoint,
 * credential_process output and its command line, and the SSO token cache.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/aws_ini.h"
#include "qscale/credentials.h"
#include "qscale/sts.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The environment of a test: NULL-terminated name, value pairs. */
static const char *fake_env(const char *name, void *ctx)
{
	const char *const *kv = ctx;

	for (size_t i = 0; kv != NULL && kv[i] != NULL; i += 2)
		if (strcmp(kv[i], name) == 0)
			return kv[i + 1];
	return NULL;
}

/* One setup and what the resolver must make of it. */
struct plan_case {
	const char *name;
	const char *config;
	const char *credentials;
	const char *profile; /* NULL: "default", not named */
	const char *env[8];
	bool env_allowed;
	int want; /* 0, -ENOENT, -EINVAL, -ENOTSUP */
	enum credentials_source base;
	size_t n_roles;
	const char *last_role; /* role_arn of the last role */
	const char *why; /* substring of the message */
};

static const struct plan_case plan_cases[] = {
	{"nothing", "", "", NULL, {NULL}, true, -ENOENT, 0, 0, NULL, NULL},
	{"env keys", "", "", NULL, {"AWS_ACCESS_KEY_ID", "A", "AWS_SECRET_ACCESS_KEY", "S"}, true,
		0, CREDENTIALS_SOURCE_ENV, 0, NULL, NULL},
	{"env keys beat AWS_PROFILE", "", "[p]\naws_access_key_id=X\naws_secret_access_key=Y\n",
		"p", {"AWS_ACCESS_KEY_ID", "A", "AWS_SECRET_ACCESS_KEY", "S"}, true, 0,
		CREDENTIALS_SOURCE_ENV, 0, NULL, NULL},
	{"config profile beats env keys", "", "[p]\naws_access_key_id=X\naws_secret_access_key=Y\n",
		"p", {"AWS_ACCESS_KEY_ID", "A", "AWS_SECRET_ACCESS_KEY", "S"}, false, 0,
		CREDENTIALS_SOURCE_PROFILE, 0, NULL, NULL},
	{"missing profile", "", "[base]\naws_access_key_id=X\naws_secret_access_key=Y\n", "bsae",
		{"AWS_ACCESS_KEY_ID", "A", "AWS_SECRET_ACCESS_KEY", "S"}, true, -EINVAL, 0, 0, NULL,
		"profile bsae not found"},
	{"env key without secret", "", "[default]\naws_access_key_id=X\naws_secret_access_key=Y\n",
		NULL, {"AWS_ACCESS_KEY_ID", "A"}, true, -EINVAL, 0, 0, NULL,
		"AWS_SECRET_ACCESS_KEY is not"},
	{"env secret without key", "", "[default]\naws_access_key_id=X\naws_secret_access_key=Y\n",
		NULL, {"AWS_SECRET_ACCESS_KEY", "S"}, true, 0, CREDENTIALS_SOURCE_PROFILE, 0, NULL,
		NULL},
	{"static keys", "", "[default]\naws_access_key_id=X\naws_secret_access_key=Y\n", NULL,
		{NULL}, true, 0, CREDENTIALS_SOURCE_PROFILE, 0, NULL, NULL},
	{"half a pair", "", "[default]\naws_access_key_id=X\n", NULL, {NULL}, true, -EINVAL, 0, 0,
		NULL, "aws_access_key_id without aws_secret_access_key"},
	{"source_profile", "[profile r]\nrole_arn=arn:aws:iam::1:role/a\nsource_profile=b\n",
		"[b]\naws_access_key_id=X\naws_secret_access_key=Y\n", "r", {NULL}, true, 0,
		CREDENTIALS_SOURCE_PROFILE, 1, "arn:aws:iam::1:role/a", NULL},
	{"chained",
		"[profile r]\nrole_arn=R2\nsource_profile=m\n[profile m]\nrole_arn=R1\n"
		"source_profile=b\n[profile b]\naws_access_key_id=X\naws_secret_access_key=Y\n",
		"", "r", {NULL}, true, 0, CREDENTIALS_SOURCE_PROFILE, 2, "R2", NULL},
	{"self source",
		"[profile r]\nrole_arn=R\nsource_profile=r\naws_access_key_id=X\n"
		"aws_secret_access_key=Y\n",
		"", "r", {NULL}, true, 0, CREDENTIALS_SOURCE_PROFILE, 1, "R", NULL},
	{"loop",
		"[profile a]\nrole_arn=R\nsource_profile=b\n[profile b]\nrole_arn=R\n"
		"source_profile=a\n",
		"", "a", {NULL}, true, -EINVAL, 0, 0, NULL, "loop"},
	{"source missing", "[profile r]\nrole_arn=R\nsource_profile=gone\n", "", "r", {NULL}, true,
		-EINVAL, 0, 0, NULL, "source_profile gone is not a profile"},
	{"source empty", "[profile r]\nrole_arn=R\nsource_profile=b\n[profile b]\nregion=x\n", "",
		"r", {NULL}, true, -EINVAL, 0, 0, NULL, "has no credentials"},
	{"both sources",
		"[profile r]\nrole_arn=R\nsource_profile=b\ncredential_source=Environment\n", "",
		"r", {NULL}, true, -EINVAL, 0, 0, NULL,
		"both source_profile and credential_source"},
	{"no source", "[profile r]\nrole_arn=R\n", "", "r", {NULL}, true, -EINVAL, 0, 0, NULL,
		"needs source_profile or credential_source"},
	{"credential_source env", "[profile r]\nrole_arn=R\ncredential_source=Environment\n", "",
		"r", {"AWS_ACCESS_KEY_ID", "A", "AWS_SECRET_ACCESS_KEY", "S"}, false, 0,
		CREDENTIALS_SOURCE_ENV, 1, "R", NULL},
	{"credential_source env unset", "[profile r]\nrole_arn=R\ncredential_source=Environment\n",
		"", "r", {NULL}, false, -EINVAL, 0, 0, NULL, "AWS_ACCESS_KEY_ID"},
	{"credential_source imds",
		"[profile r]\nrole_arn=R\ncredential_source=Ec2InstanceMetadata\n", "", "r", {NULL},
		true, 0, CREDENTIALS_SOURCE_IMDS, 1, "R", NULL},
	{"credential_source container", "[profile r]\nrole_arn=R\ncredential_source=EcsContainer\n",
		"", "r", {NULL}, true, 0, CREDENTIALS_SOURCE_CONTAINER, 1, "R", NULL},
	{"credential_source junk", "[profile r]\nrole_arn=R\ncredential_source=ec2\n", "", "r",
		{NULL}, true, -EINVAL, 0, 0, NULL, "credential_source = ec2 in CONFIG:3"},
	{"mfa_serial", "[profile r]\nrole_arn=R\nsource_profile=r\nmfa_serial=M\n", "", "r", {NULL},
		true, -ENOTSUP, 0, 0, NULL, "mfa_serial in CONFIG:4"},
	{"duration",
		"[profile r]\nrole_arn=R\ncredential_source=EcsContainer\nduration_seconds=5\n", "",
		"r", {NULL}, true, -EINVAL, 0, 0, NULL, "duration_seconds = 5 in CONFIG:4"},
	{"process", "[default]\ncredential_process = /bin/helper --x\n", "", NULL, {NULL}, true, 0,
		CREDENTIALS_SOURCE_PROCESS, 0, NULL, NULL},
	{"credentials file keys beat process", "[default]\ncredential_process = /bin/helper\n",
		"[default]\naws_access_key_id=X\naws_secret_access_key=Y\n", NULL, {NULL}, true, 0,
		CREDENTIALS_SOURCE_PROFILE, 0, NULL, NULL},
	{"process beats config file keys",
		"[default]\ncredential_process = /bin/helper\naws_access_key_id=X\n"
		"aws_secret_access_key=Y\n",
		"", NULL, {NULL}, true, 0, CREDENTIALS_SOURCE_PROCESS, 0, NULL, NULL},
	{"web identity env", "", "", NULL,
		{"AWS_WEB_IDENTITY_TOKEN_FILE", "/t", "AWS_ROLE_ARN", "W"}, true, 0,
		CREDENTIALS_SOURCE_WEB_IDENTITY, 0, NULL, NULL},
	{"web identity env without role", "", "", NULL, {"AWS_WEB_IDENTITY_TOKEN_FILE", "/t"}, true,
		-EINVAL, 0, 0, NULL, "AWS_ROLE_ARN"},
	{"web identity profile", "[profile w]\nweb_identity_token_file=/t\nrole_arn=W\n", "", "w",
		{NULL}, true, 0, CREDENTIALS_SOURCE_WEB_IDENTITY, 0, NULL, NULL},
	{"role over web identity",
		"[profile r]\nrole_arn=R\nsource_profile=w\n[profile "
		"w]\nweb_identity_token_file=/t\n"
		"role_arn=W\n",
		"", "r", {NULL}, true, 0, CREDENTIALS_SOURCE_WEB_IDENTITY, 1, "R", NULL},
	{"sso session",
		"[profile s]\nsso_session=c\nsso_account_id=1\nsso_role_name=O\n[sso-session c]\n"
		"sso_start_url=U\nsso_region=us-east-1\n",
		"", "s", {NULL}, true, 0, CREDENTIALS_SOURCE_SSO, 0, NULL, NULL},
	{"sso session missing", "[profile s]\nsso_session=c\nsso_account_id=1\nsso_role_name=O\n",
		"", "s", {NULL}, true, -EINVAL, 0, 0, NULL, "[sso-session c]"},
	{"sso legacy",
		"[profile s]\nsso_start_url=U\nsso_region=r\nsso_account_id=1\nsso_role_name=O\n",
		"", "s", {NULL}, true, 0, CREDENTIALS_SOURCE_SSO, 0, NULL, NULL},
	{"sso legacy partial", "[profile s]\nsso_start_url=U\nsso_account_id=1\nsso_role_name=O\n",
		"", "s", {NULL}, true, -EINVAL, 0, 0, NULL, "sso_region"},
	{"region only", "[default]\nregion=eu-west-1\n", "", NULL, {NULL}, true, -ENOENT, 0, 0,
		NULL, NULL},
};

/* Resolve every setup of the table and compare. */
static void test_plan_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(plan_cases); i++) {
		const struct plan_case *pc = &plan_cases[i];
		struct aws_ini creds = {0}, config = {0};
		struct credentials_plan plan = {0};
		char why[512];
		const char *env[8];

		memcpy(env, pc->env, sizeof(env));
		assert_int_equal(aws_ini_parse(pc->credentials, strlen(pc->credentials), false,
					 &creds, NULL),
			0);
		assert_int_equal(
			aws_ini_parse(pc->config, strlen(pc->config), true, &config, NULL), 0);
		struct credentials_files files = {&creds, "CREDS", &config, "CONFIG"};
		int r = credentials_plan_resolve(&files,
			pc->profile != NULL ? pc->profile : "default", pc->profile != NULL,
			pc->env_allowed, fake_env, env, &plan, why, sizeof(why));
		if (r != pc->want)
			fail_msg("%s: got %d (%s), want %d", pc->name, r, why, pc->want);
		if (r == 0) {
			if (plan.base != pc->base || plan.n_roles != pc->n_roles)
				fail_msg("%s: base %d roles %zu", pc->name, (int)plan.base,
					plan.n_roles);
			if (pc->last_role != NULL &&
				strcmp(plan.roles[plan.n_roles - 1].role_arn, pc->last_role) != 0)
				fail_msg("%s: last role %s", pc->name,
					plan.roles[plan.n_roles - 1].role_arn);
		}
		if (pc->why != NULL && strstr(why, pc->why) == NULL)
			fail_msg("%s: message '%s' lacks '%s'", pc->name, why, pc->why);
		credentials_plan_finish(&plan);
		aws_ini_finish(&creds);
		aws_ini_finish(&config);
	}
}

/* A role profile carries its session name, external id and duration. */
static void test_plan_role_fields(void **state)
{
	const char *text = "[profile r]\nrole_arn=R\nsource_profile=r\naws_access_key_id=X\n"
			   "aws_secret_access_key=Y\nrole_session_name=ops\nexternal_id=ext-1\n"
			   "duration_seconds=1800\n";
	struct aws_ini config = {0};
	struct credentials_plan plan = {0};
	char why[256];

	(void)state;
	assert_int_equal(aws_ini_parse(text, strlen(text), true, &config, NULL), 0);
	struct credentials_files files = {NULL, NULL, &config, "CONFIG"};
	assert_int_equal(credentials_plan_resolve(
				 &files, "r", true, true, fake_env, NULL, &plan, why, sizeof(why)),
		0);
	assert_int_equal(plan.n_roles, 1);
	assert_string_equal(plan.roles[0].session_name, "ops");
	assert_string_equal(plan.roles[0].external_id, "ext-1");
	assert_int_equal(plan.roles[0].duration_s, 1800);
	assert_string_equal(plan.keys.access_key_id, "X");
	credentials_plan_finish(&plan);
	aws_ini_finish(&config);
}

/* Forms: encoding, the bodies, and reading a field back. */
static void test_sts_forms(void **state)
{
	char *v = NULL;

	(void)state;
	char *enc = sts_form_encode("a b/c=d&e~_.-");
	assert_string_equal(enc, "a%20b%2Fc%3Dd%26e~_.-");
	free(enc);
	char *body = sts_body_assume_role("arn:aws:iam::1:role/x", "s1", "ext id", 900);
	assert_string_equal(body,
		"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1"
		"%3Arole%2Fx&RoleSessionName=s1&ExternalId=ext%20id&"
		"DurationSeconds=900");
	assert_int_equal(sts_form_get(body, strlen(body), "ExternalId", &v), 0);
	assert_string_equal(v, "ext id");
	free(v);
	assert_int_equal(sts_form_get(body, strlen(body), "Nope", &v), -ENOENT);
	free(body);
	assert_int_equal(sts_form_get("a=%zz", 5, "a", &v), -EINVAL);
	assert_int_equal(sts_form_get("a=%4", 4, "a", &v), -EINVAL);
	assert_int_equal(sts_form_get("a=%00", 5, "a", &v), -EINVAL);
	assert_int_equal(sts_form_get("a=x+y", 5, "a", &v), 0);
	assert_string_equal(v, "x y");
	free(v);
	body = sts_body_web_identity("R", "s", "tok", 0);
	assert_string_equal(body,
		"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=R&"
		"RoleSessionName=s&WebIdentityToken=tok");
	free(body);
}

static const char assume_answer[] =
	"<?xml version=\"1.0\"?>\n"
	"<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
	"  <AssumeRoleResult>\n"
	"    <AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/x/s1</Arn>"
	"<AssumedRoleId>AROA:s1</AssumedRoleId></AssumedRoleUser>\n"
	"    <!-- a comment -->\n"
	"    <Credentials>\n"
	"      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>\n"
	"      <SecretAccessKey>se&amp;cr&#x65;t</SecretAccessKey>\n"
	"      <SessionToken>tok&lt;1&gt;</SessionToken>\n"
	"      <Expiration>2026-12-01T13:34:41Z</Expiration>\n"
	"    </Credentials>\n"
	"  </AssumeRoleResult>\n"
	"  <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>\n"
	"</AssumeRoleResponse>\n";

/* AssumeRole's answer, GetCallerIdentity's and an error. */
static void test_sts_answers(void **state)
{
	struct credentials_set set = {0};
	struct sts_identity who;
	char code[64], message[256];
	uint64_t want = 0;

	(void)state;
	assert_int_equal(sts_parse_credentials(
				 assume_answer, strlen(assume_answer), "AssumeRole", &set, &who),
		0);
	assert_string_equal(set.access_key_id, "ASIAEXAMPLE");
	assert_string_equal(set.secret_access_key, "se&cret");
	assert_string_equal(set.session_token, "tok<1>");
	assert_int_equal(credentials_parse_rfc3339("2026-12-01T13:34:41Z", &want), 0);
	assert_true(set.expiry_wall_ms == want);
	assert_string_equal(who.arn, "arn:aws:sts::1:assumed-role/x/s1");
	credentials_set_finish(&set);
	/* The answer of another action is not this one's. */
	assert_int_equal(sts_parse_credentials(assume_answer, strlen(assume_answer),
				 "AssumeRoleWithWebIdentity", &set, NULL),
		-EPROTO);

	const char *id = "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::1:"
			 "user/a</Arn><UserId>AIDA</UserId><Account>000000000001</Account>"
			 "</GetCallerIdentityResult></GetCallerIdentityResponse>";
	assert_int_equal(sts_parse_caller_identity(id, strlen(id), &who), 0);
	assert_string_equal(who.arn, "arn:aws:iam::1:user/a");
	assert_string_equal(who.account, "000000000001");
	assert_string_equal(who.user_id, "AIDA");

	const char *err = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
			  "<Message>not you</Message></Error><RequestId>x</RequestId>"
			  "</ErrorResponse>";
	assert_int_equal(
		sts_parse_error(err, strlen(err), code, sizeof(code), message, sizeof(message)), 0);
	assert_string_equal(code, "AccessDenied");
	assert_string_equal(message, "not you");
	assert_int_equal(sts_parse_error("{\"__type\":\"x\"}", 14, code, sizeof(code), message,
				 sizeof(message)),
		-EPROTO);
}

/* Malformed and hostile XML is refused, never half-read. */
static void test_sts_xml_refusals(void **state)
{
	static const char *const bad[] = {
		"",
		"<a>",
		"<a></b>",
		"<a>x</a>trailing",
		"<a>&unknown;</a>",
		"<a>&#0;</a>",
		"<a>&#x110000;</a>",
		"<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>",
		"<a><![CDATA[x]]></a>",
		"<a b=\"<\">x</a>",
		"<a>&amp</a>",
		"</a>",
	};
	char *v = NULL;

	(void)state;
	for (size_t i = 0; i < N(bad); i++)
		if (sts_xml_text(bad[i], strlen(bad[i]), "a", &v) != -EPROTO)
			fail_msg("accepted: %s", bad[i]);
	/* Nesting past the cap. */
	char deep[STS_XML_MAX_DEPTH * 8 + 64] = "";
	for (int i = 0; i <= STS_XML_MAX_DEPTH; i++)
		strcat(deep, "<a>");
	assert_int_equal(sts_xml_text(deep, strlen(deep), "a", &v), -EPROTO);
	/* Absent is not malformed; an empty element is empty text; prefixes drop. */
	assert_int_equal(sts_xml_text("<a><b/></a>", 11, "a/c", &v), -ENOENT);
	assert_int_equal(sts_xml_text("<a><b/></a>", 11, "a/b", &v), 0);
	assert_string_equal(v, "");
	free(v);
	assert_int_equal(sts_xml_text("<x:a><x:b>1</x:b></x:a>", 23, "a/b", &v), 0);
	assert_string_equal(v, "1");
	free(v);
}

/* The STS endpoint in the SDKs' order. */
static void test_sts_endpoint(void **state)
{
	char *origin = NULL, *region = NULL;
	const char *env_sts[] = {"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9", "AWS_ENDPOINT_URL",
		"http://other:1", NULL};
	const char *env_ignore[] = {"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", NULL};
	struct aws_profile_endpoints pe = {
		.service_url = "http://svc:2", .global_url = "http://glob:3"};

	(void)state;
	assert_int_equal(
		sts_endpoint_resolve("eu-west-1", fake_env, NULL, NULL, NULL, &origin, &region), 0);
	assert_string_equal(origin, "https://sts.eu-west-1.amazonaws.com");
	assert_string_equal(region, "eu-west-1");
	free(origin);
	free(region);
	assert_int_equal(
		sts_endpoint_resolve("cn-north-1", fake_env, NULL, NULL, NULL, &origin, &region),
		0);
	assert_string_equal(origin, "https://sts.cn-north-1.amazonaws.com.cn");
	free(origin);
	free(region);
	assert_int_equal(
		sts_endpoint_resolve(NULL, fake_env, NULL, NULL, NULL, &origin, &region), 0);
	assert_string_equal(origin, "https://sts.amazonaws.com");
	assert_string_equal(region, "us-east-1");
	free(origin);
	free(region);
	assert_int_equal(
		sts_endpoint_resolve("eu-west-1", fake_env, NULL, NULL, "legacy", &origin, &region),
		0);
	assert_string_equal(origin, "https://sts.amazonaws.com");
	free(origin);
	free(region);
	assert_int_equal(
		sts_endpoint_resolve("eu-west-1", fake_env, env_sts, &pe, NULL, &origin, &region),
		0);
	assert_string_equal(origin, "http://127.0.0.1:9");
	assert_string_equal(region, "eu-west-1");
	free(origin);
	free(region);
	assert_int_equal(
		sts_endpoint_resolve("eu-west-1", fake_env, NULL, &pe, NULL, &origin, &region), 0);
	assert_string_equal(origin, "http://svc:2");
	free(origin);
	free(region);
	assert_int_equal(sts_endpoint_resolve(
				 "eu-west-1", fake_env, env_ignore, &pe, NULL, &origin, &region),
		0);
	assert_string_equal(origin, "https://sts.eu-west-1.amazonaws.com");
	free(origin);
	free(region);
}

/* FIPS, dual-stack and the profile's ignore switch, as the STS rule set has them. */
static void test_sts_endpoint_variants(void **state)
{
	static const struct {
		const char *region;
		struct aws_profile_endpoints pe;
		const char *mode;
		int r;
		const char *origin;
	} cases[] = {
		{"us-east-1", {.use_fips = true}, NULL, 0,
			"https://sts-fips.us-east-1.amazonaws.com"},
		{"us-gov-west-1", {.use_fips = true}, NULL, 0,
			"https://sts.us-gov-west-1.amazonaws.com"},
		{"eu-west-1", {.use_dualstack = true}, NULL, 0, "https://sts.eu-west-1.api.aws"},
		{"us-west-2", {.use_fips = true, .use_dualstack = true}, NULL, 0,
			"https://sts-fips.us-west-2.api.aws"},
		{"cn-north-1", {.use_dualstack = true}, NULL, 0,
			"https://sts.cn-north-1.api.amazonwebservices.com.cn"},
		{"us-iso-east-1", {0}, NULL, 0, "https://sts.us-iso-east-1.c2s.ic.gov"},
		{"us-iso-east-1", {.use_dualstack = true}, NULL, -ENOTSUP, NULL},
		/* The global endpoint has no variants: FIPS wins over legacy. */
		{"us-east-1", {.use_fips = true}, "legacy", 0,
			"https://sts-fips.us-east-1.amazonaws.com"},
		{"us-east-1", {0}, "legacy", 0, "https://sts.amazonaws.com"},
		/* A configured URL wins over FIPS; the profile's ignore switch drops it. */
		{"eu-west-1", {.global_url = "http://glob:3", .use_fips = true}, NULL, 0,
			"http://glob:3"},
		{"eu-west-1", {.global_url = "http://glob:3", .ignore_configured_urls = true}, NULL,
			0, "https://sts.eu-west-1.amazonaws.com"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *origin = NULL, *region = NULL;
		int r = sts_endpoint_resolve(cases[i].region, fake_env, NULL, &cases[i].pe,
			cases[i].mode, &origin, &region);
		if (r != cases[i].r || (r == 0 && strcmp(origin, cases[i].origin) != 0))
			fail_msg("case %zu: r=%d origin=%s", i, r, origin != NULL ? origin : "-");
		free(origin);
		free(region);
	}
}

/* credential_process output: Version 1 only, keys required, Expiration parsed. */
static void test_process_output(void **state)
{
	struct credentials_set set = {0};
	char why[200];
	static const struct {
		const char *text;
		int want;
		const char *why;
	} cases[] = {
		{"{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\","
		 "\"SessionToken\":\"T\",\"Expiration\":\"2030-01-01T00:00:00Z\"}",
			0, NULL},
		{"{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}", 0, NULL},
		{"{\"Version\":2,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}", -EPROTO,
			"Version"},
		{"{\"Version\":\"1\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}", -EPROTO,
			"Version"},
		{"{\"Version\":1,\"SecretAccessKey\":\"S\"}", -EPROTO, "AccessKeyId"},
		{"{\"Version\":1,\"AccessKeyId\":\"A\"}", -EPROTO, "SecretAccessKey"},
		{"{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\","
		 "\"Expiration\":\"soon\"}",
			-EPROTO, "Expiration"},
		{"[1]", -EPROTO, "JSON object"},
		{"{not json", -EPROTO, "JSON object"},
		{"", -EPROTO, "JSON object"},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		why[0] = '\0';
		int r = credentials_parse_process(
			cases[i].text, strlen(cases[i].text), &set, why, sizeof(why));
		if (r != cases[i].want)
			fail_msg("%s: %d", cases[i].text, r);
		if (cases[i].why != NULL && strstr(why, cases[i].why) == NULL)
			fail_msg("%s: why '%s'", cases[i].text, why);
		credentials_set_finish(&set);
	}
	assert_int_equal(credentials_parse_process(
				 cases[0].text, strlen(cases[0].text), &set, why, sizeof(why)),
		0);
	assert_string_equal(set.session_token, "T");
	assert_true(set.expiry_wall_ms == 1893456000000ull);
	credentials_set_finish(&set);
}

/* Command lines split as POSIX shell words, without expansion. */
static void test_split_command(void **state)
{
	static const struct {
		const char *line;
		const char *words[6];
	} cases[] = {
		{"/bin/helper", {"/bin/helper"}},
		{"  a   b\tc ", {"a", "b", "c"}},
		{"a 'b c' \"d e\"", {"a", "b c", "d e"}},
		{"a 'it''s' x\\ y", {"a", "its", "x y"}},
		{"a \"q\\\"uote\\\\\" '\\n'", {"a", "q\"uote\\", "\\n"}},
		{"a '' b", {"a", "", "b"}},
		{"a $HOME `x` *", {"a", "$HOME", "`x`", "*"}},
	};
	char **argv = NULL;

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		assert_int_equal(credentials_split_command(cases[i].line, &argv), 0);
		size_t k = 0;
		for (; cases[i].words[k] != NULL; k++) {
			if (argv[k] == NULL || strcmp(argv[k], cases[i].words[k]) != 0)
				fail_msg("%s: word %zu is %s", cases[i].line, k,
					argv[k] != NULL ? argv[k] : "(none)");
		}
		assert_null(argv[k]);
		credentials_argv_free(argv);
	}
	assert_int_equal(credentials_split_command("a 'open", &argv), -EINVAL);
	assert_int_equal(credentials_split_command("a \"open", &argv), -EINVAL);
	assert_int_equal(credentials_split_command("   ", &argv), -EINVAL);
	assert_int_equal(credentials_split_command("", &argv), -EINVAL);
}

/* The SSO cache name is SHA-1 of the session name or start URL; the documents parse. */
static void test_sso_documents(void **state)
{
	char name[46];
	char *token = NULL;
	uint64_t expires = 0;
	struct credentials_set set = {0};

	(void)state;
	/* sha1("abc") */
	credentials_sso_cache_name("abc", name);
	assert_string_equal(name, "a9993e364706816aba3e25717850c26c9cd0d89d.json");
	const char *cache = "{\"startUrl\":\"u\",\"region\":\"r\",\"accessToken\":\"tok\","
			    "\"expiresAt\":\"2030-01-01T00:00:00Z\"}";
	assert_int_equal(credentials_parse_sso_cache(cache, strlen(cache), &token, &expires), 0);
	assert_string_equal(token, "tok");
	assert_true(expires == 1893456000000ull);
	free(token);
	assert_int_equal(
		credentials_parse_sso_cache("{\"accessToken\":\"t\"}", 19, &token, &expires),
		-EPROTO);
	const char *role = "{\"roleCredentials\":{\"accessKeyId\":\"A\",\"secretAccessKey\":\"S\","
			   "\"sessionToken\":\"T\",\"expiration\":1893456000000}}";
	assert_int_equal(credentials_parse_sso_role(role, strlen(role), &set), 0);
	assert_string_equal(set.access_key_id, "A");
	assert_true(set.expiry_wall_ms == 1893456000000ull);
	credentials_set_finish(&set);
	assert_int_equal(credentials_parse_sso_role("{\"roleCredentials\":{}}", 22, &set), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_table),
		cmocka_unit_test(test_plan_role_fields),
		cmocka_unit_test(test_sts_forms),
		cmocka_unit_test(test_sts_answers),
		cmocka_unit_test(test_sts_xml_refusals),
		cmocka_unit_test(test_sts_endpoint),
		cmocka_unit_test(test_sts_endpoint_variants),
		cmocka_unit_test(test_process_output),
		cmocka_unit_test(test_split_command),
		cmocka_unit_test(test_sso_documents),
	};

	return cmocka_run_group_tests_name("aws_sts", tests, NULL, NULL);
}
