/*
 * Parser of the AWS shared credentials and config files. It is strict about
 * what it cannot understand (a line without '=' or ':', an unclosed section
 * header), because a file caught half-written by its rotating writer must be
 * told apart from a good one; the caller then keeps what it had. It refuses
 * what botocore's parser (Python's configparser, strict) refuses: a section
 * or a key given twice in one file.
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
static void add_entry(struct aws_ini *ini, const char *section, char *key, char *value, int line)
{
	ini->entries = xreallocarray(ini->entries, ini->n + 1, sizeof(*ini->entries));
	ini->entries[ini->n].section = xstrdup(section);
	ini->entries[ini->n].key = key;
	ini->entries[ini->n].value = value;
	ini->entries[ini->n].line = line;
	ini->n++;
}

/* The raw section headers seen so far, to refuse one given twice. */
struct seen_sections {
	char **names;
	int *lines;
	size_t n;
};

/* Record header (trimmed text between the brackets); the line it was first seen, or 0. */
static int seen_add(struct seen_sections *seen, const char *name, size_t len, int line)
{
	for (size_t i = 0; i < seen->n; i++)
		if (strlen(seen->names[i]) == len && memcmp(seen->names[i], name, len) == 0)
			return seen->lines[i];
	seen->names = xreallocarray(seen->names, seen->n + 1, sizeof(*seen->names));
	seen->lines = xreallocarray(seen->lines, seen->n + 1, sizeof(*seen->lines));
	seen->names[seen->n] = xstrndup(name, len);
	seen->lines[seen->n] = line;
	seen->n++;
	return 0;
}

/* Free the record of headers. */
static void seen_finish(struct seen_sections *seen)
{
	for (size_t i = 0; i < seen->n; i++)
		free(seen->names[i]);
	free(seen->names);
	free(seen->lines);
}

/* The line where key already appears in the current section since section_start, or 0. */
static int key_seen(const struct aws_ini *ini, size_t section_start, const char *key)
{
	for (size_t i = section_start; i < ini->n; i++)
		if (strcmp(ini->entries[i].key, key) == 0)
			return ini->entries[i].line;
	return 0;
}

/*
 * Where a "key = value" line splits: as configparser does, at the first '='
 * or ':'; a sub-key line (botocore parses those itself) splits at '=' only.
 */
static const char *delimiter(const char *s, const char *e, bool sub_key)
{
	const char *eq = memchr(s, '=', (size_t)(e - s));

	if (sub_key)
		return eq;
	const char *colon = memchr(s, ':', (size_t)(e - s));
	if (colon != NULL && (eq == NULL || colon < eq))
		return colon;
	return eq;
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

/* What the parser carries from line to line. */
struct parse_state {
	struct aws_ini ini;
	bool config_file;
	char *section; /* NULL before the first header and in ignored sections */
	bool in_ignored;
	size_t section_start; /* first entry of the current section */
	char *parent; /* key with an empty value: indented lines are its sub-keys */
	struct seen_sections seen;
	char message[128];
};

/* A "[...]" line: 0, or -EINVAL with st->message set. */
static int parse_header(struct parse_state *st, const char *s, const char *e, int line_no)
{
	const char *close = memchr(s, ']', (size_t)(e - s));

	if (close == NULL) {
		snprintf(st->message, sizeof(st->message), "section header without ']'");
		return -EINVAL;
	}
	const char *ns = s + 1;
	const char *ne = close;
	trim(&ns, &ne);
	const char *after = close + 1;
	while (after < e && (*after == ' ' || *after == '\t'))
		after++;
	if (ns == ne || (after < e && *after != '#' && *after != ';')) {
		snprintf(st->message, sizeof(st->message), "bad section header");
		return -EINVAL;
	}
	int first = seen_add(&st->seen, ns, (size_t)(ne - ns), line_no);
	if (first > 0) {
		snprintf(st->message, sizeof(st->message),
			"section [%.*s] given twice (first on line %d)",
			(int)(ne - ns > 64 ? 64 : ne - ns), ns, first);
		return -EINVAL;
	}
	free(st->section);
	st->section = section_name(ns, (size_t)(ne - ns), st->config_file);
	st->in_ignored = st->section == NULL;
	st->section_start = st->ini.n;
	free(st->parent);
	st->parent = NULL;
	return 0;
}

/* A "key = value" (or "key: value") line: 0, or -EINVAL with st->message set. */
static int parse_key(
	struct parse_state *st, const char *s, const char *e, bool indented, int line_no)
{
	bool sub_key = indented && st->parent != NULL;
	const char *eq = delimiter(s, e, sub_key);

	if (eq == NULL) {
		snprintf(st->message, sizeof(st->message), "line without '=' or ':'");
		return -EINVAL;
	}
	if (st->section == NULL && !st->in_ignored) {
		snprintf(st->message, sizeof(st->message), "key outside any section");
		return -EINVAL;
	}
	const char *ks = s, *ke = eq, *vs = eq + 1, *ve = e;
	trim(&ks, &ke);
	trim(&vs, &ve);
	if (ks == ke) {
		snprintf(st->message, sizeof(st->message), "empty key");
		return -EINVAL;
	}
	if (st->in_ignored)
		return 0;
	char *key = xstrndup(ks, (size_t)(ke - ks));
	for (char *k = key; *k != '\0'; k++)
		*k = (char)tolower((unsigned char)*k);
	if (sub_key) {
		char *sub = xasprintf("%s.%s", st->parent, key);
		free(key);
		key = sub;
	} else {
		int first = key_seen(&st->ini, st->section_start, key);
		if (first > 0) {
			/* Truncation is fine: the line number says where. */
			if (snprintf(st->message, sizeof(st->message),
				    "key %.40s given twice in [%.40s] (first on line %d)", key,
				    st->section, first) < 0)
				st->message[0] = '\0';
			free(key);
			return -EINVAL;
		}
		free(st->parent);
		st->parent = vs == ve ? xstrdup(key) : NULL;
	}
	add_entry(&st->ini, st->section, key, xstrndup(vs, (size_t)(ve - vs)), line_no);
	return 0;
}

/* See qscale/aws_ini.h. */
int aws_ini_parse(const char *text, size_t len, bool config_file, struct aws_ini *out,
	struct aws_ini_diag *diag)
{
	struct parse_state st = {.config_file = config_file};
	int line_no = 0;
	int r = 0;
	const char *p = text;
	const char *end_all = text + len;

	if (text == NULL && len > 0)
		return fail(diag, 0, "no text");
	if (memchr(text, '\0', len) != NULL)
		return fail(diag, 0, "NUL byte in file");
	while (p < end_all && r == 0) {
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
		if (*s == '[')
			r = parse_header(&st, s, e, line_no);
		else
			r = parse_key(&st, s, e, indented, line_no);
	}
	free(st.section);
	free(st.parent);
	seen_finish(&st.seen);
	if (r < 0) {
		aws_ini_finish(&st.ini);
		return fail(diag, line_no, st.message);
	}
	*out = st.ini;
	return 0;
}

/* See qscale/aws_ini.h. */
const struct aws_ini_entry *aws_ini_find(
	const struct aws_ini *ini, const char *section, const char *key)
{
	const struct aws_ini_entry *found = NULL;

	for (size_t i = 0; i < ini->n; i++)
		if (strcmp(ini->entries[i].section, section) == 0 &&
			strcmp(ini->entries[i].key, key) == 0)
			found = &ini->entries[i];
	return found;
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
	const struct aws_ini_entry *e = aws_ini_find(ini, section, key);

	return e != NULL ? e->value : NULL;
}

/* See qscale/aws_ini.h. */
bool aws_ini_has_section(const struct aws_ini *ini, const char *section)
{
	for (size_t i = 0; i < ini->n; i++)
		if (strcmp(ini->entries[i].section, section) == 0)
			return true;
	return false;
}
