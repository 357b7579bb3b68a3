/*
 * Parser of the AWS shared credentials and config files. It is strict about
 * what it cannot understand (a line without '=', an unclosed section header),
 * because a file caught half-written by its rotating writer must be told apart
 * from a good one; the caller then keeps what it had.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qscale/aws_ini.h"
#include "qscale/buf.h"
#include "qscale/file.h"
#include "qscale/xalloc.h"

/* Set diag and return -EINVAL. */
static int fail(struct aws_ini_diag *diag, int line, const char *message)
{
	if (diag != NULL) {
		diag->line = line;
		snprintf(diag->message, sizeof(diag->message), "%s", message);
	}
	return -EINVAL;
}

/* Trim blanks at both ends of [*start, *end). */
static void trim(const char **start, const char **end)
{
	while (*start < *end && (**start == ' ' || **start == '\t'))
		(*start)++;
	while (*end > *start && ((*end)[-1] == ' ' || (*end)[-1] == '\t' || (*end)[-1] == '\r'))
		(*end)--;
}

/* Append one entry to the table. */
static void add_entry(struct aws_ini *ini, const char *section, char *key, char *value)
{
	ini->entries = xreallocarray(ini->entries, ini->n + 1, sizeof(*ini->entries));
	ini->entries[ini->n].section = xstrdup(section);
	ini->entries[ini->n].key = key;
	ini->entries[ini->n].value = value;
	ini->n++;
}

/*
 * The profile a section header names, or NULL when the section is ignored.
 * name is the text between the brackets, trimmed.
 */
static char *section_name(const char *name, size_t len, bool config_file)
{
	if (!config_file)
		return xstrndup(name, len);
	if (len == 7 && strncmp(name, "default", 7) == 0)
		return xstrdup("default");
	static const char *const kinds[] = {"profile", "services", "sso-session"};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t k = strlen(kinds[i]);
		if (len > k + 1 && strncmp(name, kinds[i], k) == 0 &&
			(name[k] == ' ' || name[k] == '\t')) {
			const char *rest = name + k;
			const char *end = name + len;
			trim(&rest, &end);
			if (rest == end)
				return NULL;
			if (i == 0)
				return xstrndup(rest, (size_t)(end - rest));
			return xasprintf("%s %.*s", kinds[i], (int)(end - rest), rest);
		}
	}
	return NULL;
}

/* See qscale/aws_ini.h. */
int aws_ini_parse(const char *text, size_t len, bool config_file, struct aws_ini *out,
	struct aws_ini_diag *diag)
{
	struct aws_ini ini = {0};
	char *section = NULL;
	bool in_ignored = false;
	char *parent = NULL; /* key with an empty value: indented lines are its sub-keys */
	int line_no = 0;
	int r = 0;
	const char *p = text;
	const char *end_all = text + len;

	if (text == NULL && len > 0)
		return fail(diag, 0, "no text");
	if (memchr(text, '\0', len) != NULL)
		return fail(diag, 0, "NUL byte in file");
	while (p < end_all) {
		const char *nl = memchr(p, '\n', (size_t)(end_all - p));
		const char *line_end = nl != NULL ? nl : end_all;
		const char *s = p;
		const char *e = line_end;
		bool indented = s < e && (*s == ' ' || *s == '\t');

		line_no++;
		p = nl != NULL ? nl + 1 : end_all;
		trim(&s, &e);
		if (s == e || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			const char *close = memchr(s, ']', (size_t)(e - s));
			if (close == NULL) {
				r = fail(diag, line_no, "section header without ']'");
				break;
			}
			const char *ns = s + 1;
			const char *ne = close;
			trim(&ns, &ne);
			const char *after = close + 1;
			while (after < e && (*after == ' ' || *after == '\t'))
				after++;
			if (ns == ne || (after < e && *after != '#' && *after != ';')) {
				r = fail(diag, line_no, "bad section header");
				break;
			}
			free(section);
			section = section_name(ns, (size_t)(ne - ns), config_file);
			in_ignored = section == NULL;
			free(parent);
			parent = NULL;
			continue;
		}
		const char *eq = memchr(s, '=', (size_t)(e - s));
		if (eq == NULL) {
			r = fail(diag, line_no, "line without '='");
			break;
		}
		if (section == NULL && !in_ignored) {
			r = fail(diag, line_no, "key outside any section");
			break;
		}
		const char *ks = s;
		const char *ke = eq;
		const char *vs = eq + 1;
		const char *ve = e;
		trim(&ks, &ke);
		trim(&vs, &ve);
		if (ks == ke) {
			r = fail(diag, line_no, "empty key");
			break;
		}
		if (in_ignored)
			continue;
		char *key = xstrndup(ks, (size_t)(ke - ks));
		for (char *k = key; *k != '\0'; k++)
			*k = (char)tolower((unsigned char)*k);
		if (indented && parent != NULL) {
			char *sub = xasprintf("%s.%s", parent, key);
			free(key);
			key = sub;
		} else {
			free(parent);
			parent = vs == ve ? xstrdup(key) : NULL;
		}
		add_entry(&ini, section, key, xstrndup(vs, (size_t)(ve - vs)));
	}
	free(section);
	free(parent);
	if (r < 0) {
		aws_ini_finish(&ini);
		return r;
	}
	*out = ini;
	return 0;
}

/* See qscale/aws_ini.h. */
int aws_ini_load(const char *path, bool config_file, struct aws_ini *out, struct aws_ini_diag *diag)
{
	struct file_data d;
	char why[FILE_WHY_MAX];
	int r = file_read(path, AWS_INI_MAX_BYTES, FILE_SECRET, &d, why, sizeof(why));

	if (r < 0) {
		if (diag != NULL) {
			diag->line = 0;
			snprintf(diag->message, sizeof(diag->message), "%s", why);
		}
		return r == -EFBIG ? -E2BIG : r;
	}
	r = aws_ini_parse(d.data, d.len, config_file, out, diag);
	if (r == 0) {
		out->mtime_ns =
			(long long)d.st.st_mtim.tv_sec * 1000000000LL + d.st.st_mtim.tv_nsec;
		out->mode = (unsigned)d.st.st_mode;
		out->uid = (unsigned)d.st.st_uid;
	}
	file_data_finish(&d);
	return r;
}

/* See qscale/aws_ini.h. */
void aws_ini_finish(struct aws_ini *ini)
{
	for (size_t i = 0; i < ini->n; i++) {
		free(ini->entries[i].section);
		free(ini->entries[i].key);
		secure_free_str(ini->entries[i].value);
	}
	free(ini->entries);
	ini->entries = NULL;
	ini->n = 0;
}

/* See qscale/aws_ini.h. */
const char *aws_ini_get(const struct aws_ini *ini, const char *section, const char *key)
{
	const char *found = NULL;

	for (size_t i = 0; i < ini->n; i++)
		if (strcmp(ini->entries[i].section, section) == 0 &&
			strcmp(ini->entries[i].key, key) == 0)
			found = ini->entries[i].value;
	return found;
}

/* See qscale/aws_ini.h. */
bool aws_ini_has_section(const struct aws_ini *ini, const char *section)
{
	for (size_t i = 0; i < ini->n; i++)
		if (strcmp(ini->entries[i].section, section) == 0)
			return true;
	return false;
}
