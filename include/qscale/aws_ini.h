/*
 * The AWS shared credentials and config files: an INI dialect of sections,
 * "key = value" lines, '#' and ';' comment lines, and indented sub-keys
 * ("sqs =" followed by "  endpoint_url = ..."). Pure: text in, table out.
 */
#ifndef QSCALE_AWS_INI_H
#define QSCALE_AWS_INI_H

#include <stdbool.h>
#include <stddef.h>

/* One key; sub-keys are named "parent.child" (e.g. "sqs.endpoint_url"). */
struct aws_ini_entry {
	char *section; /* profile name ("default", "prod") or "services x", "sso-session x" */
	char *key; /* lower-cased */
	char *value;
};

struct aws_ini {
	struct aws_ini_entry *entries;
	size_t n;
	/* What fstat said of the file aws_ini_load read (zero after aws_ini_parse). */
	long long mtime_ns;
	unsigned mode;
	unsigned uid;
};

struct aws_ini_diag {
	int line; /* 1-based */
	char message[128];
};

/* Files larger than this are refused. */
#define AWS_INI_MAX_BYTES (1024u * 1024u)

/*
 * Parse text. config_file: the config file's naming, where "[profile x]" is
 * profile x and "[x]" other than "[default]" is ignored; otherwise (the
 * credentials file) "[x]" is profile x. On -EINVAL (junk, a half-written
 * line) diag says where and out is untouched.
 */
int aws_ini_parse(const char *text, size_t len, bool config_file, struct aws_ini *out,
	struct aws_ini_diag *diag);

/*
 * Read and parse a file through the hardened reader (qscale/file.h): -ENOENT
 * when missing, -E2BIG past the cap, -EINVAL for junk or for what is not a
 * regular file (a FIFO is refused, never waited on), the errno of open or
 * read otherwise; diag (line 0) then says why.
 */
int aws_ini_load(
	const char *path, bool config_file, struct aws_ini *out, struct aws_ini_diag *diag);

/* Free the table, wiping every value (they may be secrets); accepts a zeroed struct. */
void aws_ini_finish(struct aws_ini *ini);

/* The value of key in section, or NULL (the last one wins when repeated). */
const char *aws_ini_get(const struct aws_ini *ini, const char *section, const char *key);

/* Whether section appears at all. */
bool aws_ini_has_section(const struct aws_ini *ini, const char *section);

#endif
