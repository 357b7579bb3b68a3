/*
 * The schema walker: a table of keys (struct schema_field) read from a YAML
 * mapping into a struct, strictly. Unknown keys (with a suggestion), duplicate
 * keys, wrong types, null values, junk numbers and durations, out-of-range
 * values and bad URLs are all errors at the offending node; a loader's own
 * types (custom) and sequences of mappings (lists of structs) go through the
 * same walk. Defaults come from the same tables and go through the same value
 * parsers, so what the tables say is what the loader applies.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/duration.h"
#include "qscale/schema.h"
#include "qscale/suggest.h"
#include "qscale/xalloc.h"

/* Longest key quoted back in a message. */
#define KEY_QUOTE_MAX 64

/* The member a field describes, inside base. */
#define FIELD(base, f, type) ((type *)(void *)((char *)(base) + (f)->offset))

int schema_fail(struct schema_walk *w, const struct ynode *node, const char *fmt, ...)
{
	va_list ap;

	/* Without a node (never expected) the error concerns the whole file. */
	va_start(ap, fmt);
	diag_vfill(w->diag, w->file, node != NULL ? node->line : 0, node != NULL ? node->column : 0,
		fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Build "path.key" (or "key" at the top) into out. */
static void join_path(char *out, size_t size, const char *path, const char *key)
{
	if (path[0] == '\0')
		snprintf(out, size, "%.*s", KEY_QUOTE_MAX, key);
	else
		snprintf(out, size, "%s.%.*s", path, KEY_QUOTE_MAX, key);
}

/* Search the whole schema for key, writing the mapping it belongs to; depth-first. */
static bool find_elsewhere(const struct schema_field *fields, const char *path, const char *key,
	char *out, size_t size)
{
	for (const struct schema_field *f = fields; f->key != NULL; f++) {
		char sub[96];

		if (strcmp(f->key, key) == 0 && path[0] != '\0') {
			snprintf(out, size, "%s", path);
			return true;
		}
		if (f->type != SCHEMA_MAP && f->type != SCHEMA_LIST)
			continue;
		join_path(sub, sizeof(sub), path, f->key);
		if (f->type == SCHEMA_LIST)
			strncat(sub, "[]", sizeof(sub) - strlen(sub) - 1);
		if (find_elsewhere(f->sub, sub, key, out, size))
			return true;
	}
	return false;
}

/* The error for a key that the mapping at path does not know. */
static int unknown_key(struct schema_walk *w, const struct schema_field *fields,
	const struct ynode *key, const char *path)
{
	const char *names[SCHEMA_MAX_FIELDS + 1];
	size_t n = 0;
	const char *hint;
	char where[96];
	char known[512];
	size_t used = 0;

	for (const struct schema_field *f = fields; f->key != NULL && n < SCHEMA_MAX_FIELDS; f++)
		names[n++] = f->key;
	names[n] = NULL;
	hint = suggest_key(key->value, names);
	if (hint != NULL)
		return schema_fail(w, key, "unknown key '%.*s', did you mean '%s'?", KEY_QUOTE_MAX,
			key->value, hint);
	if (w->root != NULL && find_elsewhere(w->root, "", key->value, where, sizeof(where)))
		return schema_fail(w, key, "unknown key '%.*s' here; it belongs under '%s'",
			KEY_QUOTE_MAX, key->value, where);
	known[0] = '\0';
	for (size_t i = 0; i < n && used < sizeof(known); i++) {
		int r = snprintf(
			known + used, sizeof(known) - used, "%s%s", i > 0 ? ", " : "", names[i]);

		if (r < 0)
			break;
		used += (size_t)r;
	}
	return schema_fail(w, key, "unknown key '%.*s'%s%s (known keys: %s)", KEY_QUOTE_MAX,
		key->value, path[0] != '\0' ? " in " : "", path, known);
}

/* Parse a decimal integer written plain; -EINVAL for junk, -ERANGE past int64. */
static int parse_int(const struct ynode *v, int64_t *out)
{
	const char *s = v->value;
	char *end;
	long long x;

	if (!v->plain)
		return -EINVAL;
	/* Only an optional '-' and digits: strtoll alone would take spaces, '+', hex... */
	if (!(isdigit((unsigned char)s[0]) || (s[0] == '-' && isdigit((unsigned char)s[1]))))
		return -EINVAL;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*out = x;
	return 0;
}

/* Parse a plain decimal number; -EINVAL for junk, hex, nan, inf. */
static int parse_double(const struct ynode *v, double *out)
{
	const char *s = v->value;
	bool digit = false;
	char *end;
	double x;

	if (!v->plain)
		return -EINVAL;
	for (const char *p = s; *p != '\0'; p++) {
		if (isdigit((unsigned char)*p))
			digit = true;
		else if (strchr("+-.eE", *p) == NULL)
			return -EINVAL;
	}
	if (!digit)
		return -EINVAL;
	errno = 0;
	x = strtod(s, &end);
	if (*end != '\0' || end == s)
		return -EINVAL;
	if (errno == ERANGE || !isfinite(x))
		return -ERANGE;
	*out = x;
	return 0;
}

/* Whether every byte is printable (no control characters). */
static bool printable(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	}
	return true;
}

/* Whether s is a URL qscale can call: http(s)://host[...], no spaces. */
static bool valid_url(const char *s)
{
	const char *host;

	if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else
		return false;
	if (host[0] == '\0' || host[0] == '/' || host[0] == ':' || host[0] == '?')
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return false;
	}
	return true;
}

/* Whether s is a policy name: 1..64 of letters, digits, '.', '_', '-'. */
static bool valid_name(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 64)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && strchr("._-", s[i]) == NULL)
			return false;
	}
	return true;
}

/* Whether s looks like an AWS region: lower-case letters, digits and '-'. */
static bool valid_region(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 32)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
	}
	return true;
}

/* Replace the string at the field with a copy of value. */
static void set_string(void *base, const struct schema_field *f, const char *value)
{
	char **p = FIELD(base, f, char *);

	free(*p);
	*p = xstrdup(value);
}

/* Parse a plain unsigned decimal integer; -EINVAL for junk, -ERANGE past uint64. */
static int parse_uint(const struct ynode *v, uint64_t *out)
{
	const char *s = v->value;
	char *end;
	unsigned long long x;

	if (!v->plain || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*out = x;
	return 0;
}

/* An unsigned value in [(uint64_t)f->min, (uint64_t)f->max], stored as 16, 32 or 64 bits. */
static int set_unsigned(struct schema_walk *w, const struct schema_field *f, const struct ynode *v,
	const char *path)
{
	uint64_t x, lo = (uint64_t)f->min, hi = (uint64_t)f->max;
	int r = parse_uint(v, &x);

	/* A leading '-' is a number, only out of range. */
	if (r == -EINVAL &&
		!(v->plain && v->value[0] == '-' && isdigit((unsigned char)v->value[1])))
		return schema_fail(w, v, "'%s' must be a whole number, not '%.*s'", path,
			KEY_QUOTE_MAX, v->value);
	if (r < 0 || x < lo || x > hi)
		return schema_fail(w, v,
			"'%s' must be between %" PRIu64 " and %" PRIu64 ", got %.*s", path, lo, hi,
			KEY_QUOTE_MAX, v->value);
	if (f->type == SCHEMA_U16)
		*FIELD(w->base, f, uint16_t) = (uint16_t)x;
	else if (f->type == SCHEMA_U32)
		*FIELD(w->base, f, uint32_t) = (uint32_t)x;
	else
		*FIELD(w->base, f, uint64_t) = x;
	return 0;
}

/* An integer value in [f->min, f->max], stored as 32 or 64 bits. */
static int set_integer(struct schema_walk *w, const struct schema_field *f, const struct ynode *v,
	const char *path)
{
	int64_t x;
	int r;

	if (f->type == SCHEMA_U16 || f->type == SCHEMA_U32 || f->type == SCHEMA_U64)
		return set_unsigned(w, f, v, path);
	r = parse_int(v, &x);
	if (r == -EINVAL)
		return schema_fail(w, v, "'%s' must be a whole number, not '%.*s'", path,
			KEY_QUOTE_MAX, v->value);
	if (r < 0 || x < f->min || x > f->max)
		return schema_fail(w, v,
			"'%s' must be between %" PRId64 " and %" PRId64 ", got %.*s", path, f->min,
			f->max, KEY_QUOTE_MAX, v->value);
	if (f->type == SCHEMA_I32)
		*FIELD(w->base, f, int32_t) = (int32_t)x;
	else
		*FIELD(w->base, f, int64_t) = x;
	return 0;
}

/* A duration value in [f->min, f->max] milliseconds. */
static int set_duration(struct schema_walk *w, const struct schema_field *f, const struct ynode *v,
	const char *path)
{
	uint64_t ms;
	int r = duration_parse(v->value, &ms);
	char lo[DURATION_FORMAT_MAX], hi[DURATION_FORMAT_MAX];

	if (r == -EINVAL)
		return schema_fail(w, v,
			"'%s' is not a duration: '%.*s' (write e.g. 500ms, 15s, 5m, 1h)", path,
			KEY_QUOTE_MAX, v->value);
	/* A duration without an upper bound says only its lower one. */
	if (r == 0 && ms < (uint64_t)f->min && f->max == INT64_MAX)
		return schema_fail(w, v, "'%s' must be at least %s, got %.*s", path,
			duration_format((uint64_t)f->min, lo), KEY_QUOTE_MAX, v->value);
	if (r < 0 || ms < (uint64_t)f->min || ms > (uint64_t)f->max)
		return schema_fail(w, v, "'%s' must be between %s and %s, got %.*s", path,
			duration_format((uint64_t)f->min, lo),
			duration_format((uint64_t)f->max, hi), KEY_QUOTE_MAX, v->value);
	*FIELD(w->base, f, uint64_t) = ms;
	return 0;
}

/* A number in [f->min, f->max), or [f->min, f->max] with SCHEMA_MAX_INCLUSIVE. */
static int set_double(struct schema_walk *w, const struct schema_field *f, const struct ynode *v,
	const char *path)
{
	bool inclusive = (f->flags & SCHEMA_MAX_INCLUSIVE) != 0;
	double x;
	int r = parse_double(v, &x);

	if (r == -EINVAL)
		return schema_fail(
			w, v, "'%s' must be a number, not '%.*s'", path, KEY_QUOTE_MAX, v->value);
	if (inclusive && (r < 0 || x < (double)f->min || x > (double)f->max))
		return schema_fail(w, v,
			"'%s' must be between %" PRId64 " and %" PRId64 ", got %.*s", path, f->min,
			f->max, KEY_QUOTE_MAX, v->value);
	if (r < 0 || x < (double)f->min || (!inclusive && x >= (double)f->max))
		return schema_fail(w, v,
			"'%s' must be at least %" PRId64 " and below %" PRId64 ", got %.*s", path,
			f->min, f->max, KEY_QUOTE_MAX, v->value);
	*FIELD(w->base, f, double) = x;
	return 0;
}

int schema_parse_enum(struct schema_walk *w, const struct schema_choice *choices,
	const struct ynode *v, const char *path, int *out)
{
	char names[256];
	size_t used = 0;

	if (v->kind != YNODE_SCALAR || ynode_is_null(v))
		return schema_fail(w, v, "'%s' must be one of its names, not %s", path,
			v->kind != YNODE_SCALAR ? "a list or mapping" : "empty");
	for (const struct schema_choice *c = choices; c->name != NULL; c++) {
		if (strcmp(c->name, v->value) == 0) {
			*out = c->value;
			return 0;
		}
	}
	names[0] = '\0';
	for (const struct schema_choice *c = choices; c->name != NULL; c++) {
		int r = snprintf(names + used, sizeof(names) - used, "%s%s",
			c == choices ? "" : ", ", c->name);

		if (r < 0 || (size_t)r >= sizeof(names) - used)
			break;
		used += (size_t)r;
	}
	return schema_fail(
		w, v, "'%s' must be one of %s, not '%.*s'", path, names, KEY_QUOTE_MAX, v->value);
}

/* Check and store one string of the string types. */
static int set_text(struct schema_walk *w, const struct schema_field *f, const struct ynode *v,
	const char *path)
{
	const char *s = v->value;

	if (!printable(s))
		return schema_fail(w, v, "'%s' must not contain control characters", path);
	if (f->type == SCHEMA_STRING && s[0] == '\0')
		return schema_fail(w, v, "'%s' must not be empty", path);
	if (f->type == SCHEMA_NAME && !valid_name(s))
		return schema_fail(w, v,
			"'%s' must be 1 to 64 letters, digits, '.', '_' or '-', not '%.*s'", path,
			KEY_QUOTE_MAX, s);
	if (f->type == SCHEMA_REGION && !valid_region(s))
		return schema_fail(
			w, v, "'%s' is not a region name: '%.*s'", path, KEY_QUOTE_MAX, s);
	if (f->type == SCHEMA_URL && !valid_url(s))
		return schema_fail(w, v, "'%s' must be an http:// or https:// URL, not '%.*s'",
			path, KEY_QUOTE_MAX, s);
	set_string(w->base, f, s);
	return 0;
}

/* Check and store one scalar. */
static int set_scalar(struct schema_walk *w, const struct schema_field *f, const struct ynode *v,
	const char *path)
{
	const char *s = v->value;

	switch (f->type) {
	case SCHEMA_BOOL:
		if (v->plain && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)) {
			*FIELD(w->base, f, bool) = s[0] == 't';
			return 0;
		}
		return schema_fail(
			w, v, "'%s' must be true or false, not '%.*s'", path, KEY_QUOTE_MAX, s);
	case SCHEMA_I32:
	case SCHEMA_I64:
	case SCHEMA_U16:
	case SCHEMA_U32:
	case SCHEMA_U64:
		return set_integer(w, f, v, path);
	case SCHEMA_DOUBLE:
		return set_double(w, f, v, path);
	case SCHEMA_DURATION:
		return set_duration(w, f, v, path);
	case SCHEMA_ENUM:
		return schema_parse_enum(w, f->choices, v, path, FIELD(w->base, f, int));
	case SCHEMA_CUSTOM:
		return f->custom->parse(w, f, v, path, FIELD(w->base, f, void));
	case SCHEMA_STRING:
	case SCHEMA_NAME:
	case SCHEMA_REGION:
	case SCHEMA_URL:
		return set_text(w, f, v, path);
	case SCHEMA_MAP:
	case SCHEMA_LIST:
	case SCHEMA_NODE:
		break;
	}
	return 0;
}

/* How a node's kind reads in a message. */
static const char *kind_name(const struct ynode *v)
{
	switch (v->kind) {
	case YNODE_MAPPING:
		return "a mapping";
	case YNODE_SEQUENCE:
		return "a list";
	case YNODE_SCALAR:
		break;
	}
	return "a single value";
}

/* Read one list item as SCHEMA_EACH does: into scratch, to check, then freed. */
static int walk_each(struct schema_walk *w, const struct schema_field *f, const struct ynode *item,
	const char *path, void *scratch)
{
	int r;

	memset(scratch, 0, f->item_size);
	r = schema_walk_item(w, f->sub, scratch, f->check, item, path);
	schema_free(f->sub, scratch);
	return r;
}

/* Read a sequence of mappings into a fresh array of f->item_size structs (or each, one by one). */
static int walk_list(struct schema_walk *w, const struct schema_field *f, const struct ynode *v,
	const char *path)
{
	bool each = (f->flags & SCHEMA_EACH) != 0;
	size_t *count = (size_t *)(void *)((char *)w->base + f->count_offset);
	char *items;
	int r = 0;

	if (v->kind != YNODE_SEQUENCE)
		return schema_fail(w, v, "'%s' must be a list, not %s", path,
			ynode_is_null(v) ? "empty" : kind_name(v));
	if (v->count < (size_t)f->min || v->count > (size_t)f->max)
		return schema_fail(w, v, "'%s' must list %" PRId64 " to %" PRId64 " entries", path,
			f->min, f->max);
	items = xcalloc(each ? 1 : v->count + 1, f->item_size);
	if (!each) {
		/* Count each item as it starts, so that the owner frees a partial list. */
		*FIELD(w->base, f, void *) = items;
		*count = 0;
	}
	for (size_t i = 0; i < v->count && r == 0; i++) {
		char sub[96];

		if (snprintf(sub, sizeof(sub), "%s[%zu]", path, i) >= (int)sizeof(sub))
			r = schema_fail(w, v->items[i], "'%s' is nested too deeply", path);
		else if (each)
			r = walk_each(w, f, v->items[i], sub, items);
		else {
			*count = i + 1;
			r = schema_walk_item(
				w, f->sub, items + i * f->item_size, f->check, v->items[i], sub);
		}
	}
	if (each)
		free(items);
	return r;
}

/* Read one value of a known key. */
static int walk_value(struct schema_walk *w, const struct schema_field *f, const struct ynode *v,
	const char *path)
{
	char type[96];
	int r;

	if (f->type == SCHEMA_MAP) {
		if (f->flags & SCHEMA_PRESENCE)
			*(bool *)(void *)((char *)w->base + f->present_offset) = true;
		if ((r = schema_walk_map(w, f->sub, v, path)) < 0)
			return r;
		return f->check != NULL ? f->check(w, w->base, v, path) : 0;
	}
	if (f->type == SCHEMA_LIST)
		return walk_list(w, f, v, path);
	if (f->type == SCHEMA_NODE)
		return 0;
	if (f->type == SCHEMA_CUSTOM && f->custom->any_node)
		return f->custom->parse(w, f, v, path, FIELD(w->base, f, void));
	if (v->kind != YNODE_SCALAR)
		return schema_fail(w, v, "'%s' must be a single value (%s), not %s", path,
			schema_type_text(f, type, sizeof(type)), kind_name(v));
	if (ynode_is_null(v))
		return schema_fail(w, v, "'%s' has no value", path);
	if ((f->flags & SCHEMA_UNQUOTED) && !v->plain)
		return schema_fail(w, v, "'%s' must be written unquoted (%s)", path,
			schema_type_text(f, type, sizeof(type)));
	return set_scalar(w, f, v, path);
}

/* Remember which nodes a key and its value were. */
static void remember(
	struct schema_walk *w, const char *path, const struct ynode *key, const struct ynode *value)
{
	struct schema_seen *s;

	if (w->seen_count == SCHEMA_MAX_SEEN)
		return;
	s = &w->seen[w->seen_count++];
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->key = key;
	s->value = value;
}

/* The error for a value that should be a mapping. */
static int not_a_mapping(struct schema_walk *w, const struct ynode *map, const char *path)
{
	if (path[0] == '\0')
		return schema_fail(w, map, "expected a mapping of keys at the top level, found %s",
			ynode_is_null(map) ? "nothing" : kind_name(map));
	return schema_fail(w, map, "'%s' must be a mapping of keys, not %s", path,
		ynode_is_null(map) ? "empty" : kind_name(map));
}

/* Read the SCHEMA_LATER keys that were given, in table order. */
static int walk_later(struct schema_walk *w, const struct schema_field *fields, size_t nfields,
	const struct ynode *const *values, const char *path)
{
	for (size_t k = 0; k < nfields; k++) {
		char sub[96];
		int r;

		if (!(fields[k].flags & SCHEMA_LATER) || values[k] == NULL)
			continue;
		join_path(sub, sizeof(sub), path, fields[k].key);
		if ((r = walk_value(w, &fields[k], values[k], sub)) < 0)
			return r;
	}
	return 0;
}

int schema_walk_map(struct schema_walk *w, const struct schema_field *fields,
	const struct ynode *map, const char *path)
{
	const struct ynode *first[SCHEMA_MAX_FIELDS] = {0}, *values[SCHEMA_MAX_FIELDS] = {0};
	size_t nfields = 0;

	while (fields[nfields].key != NULL)
		nfields++;
	/* A table past the cap is a programming error, not bad input. */
	if (nfields > SCHEMA_MAX_FIELDS)
		abort();
	if (map->kind != YNODE_MAPPING)
		return not_a_mapping(w, map, path);
	for (size_t i = 0; i + 1 < map->count; i += 2) {
		const struct ynode *key = map->items[i], *value = map->items[i + 1];
		char sub[96];
		size_t k;
		int r;

		for (k = 0; k < nfields; k++) {
			if (strcmp(fields[k].key, key->value) == 0)
				break;
		}
		if (k == nfields)
			return unknown_key(w, fields, key, path);
		if (first[k] != NULL)
			return schema_fail(w, key, "duplicate key '%s' (first given at line %u)",
				fields[k].key, first[k]->line);
		first[k] = key;
		values[k] = value;
		join_path(sub, sizeof(sub), path, fields[k].key);
		remember(w, sub, key, value);
		if (!(fields[k].flags & SCHEMA_LATER) &&
			(r = walk_value(w, &fields[k], value, sub)) < 0)
			return r;
	}
	for (size_t k = 0; k < nfields; k++) {
		if ((fields[k].flags & SCHEMA_REQUIRED) && first[k] == NULL) {
			if (path[0] == '\0')
				return schema_fail(
					w, map, "missing required key '%s'", fields[k].key);
			return schema_fail(w, map, "'%s' needs the key '%s'", path, fields[k].key);
		}
	}
	return walk_later(w, fields, nfields, values, path);
}

int schema_walk_item(struct schema_walk *w, const struct schema_field *fields, void *item,
	schema_check_cb check, const struct ynode *map, const char *path)
{
	void *outer = w->base;
	int r;

	schema_apply_defaults(fields, item);
	w->base = item;
	r = schema_walk_map(w, fields, map, path);
	w->base = outer;
	if (r == 0 && check != NULL)
		r = check(w, item, map, path);
	return r;
}

const struct ynode *schema_map_value(const struct ynode *map, const char *key)
{
	if (map == NULL || map->kind != YNODE_MAPPING)
		return NULL;
	for (size_t i = 0; i + 1 < map->count; i += 2) {
		if (strcmp(map->items[i]->value, key) == 0)
			return map->items[i + 1];
	}
	return NULL;
}

/* The seen entry of a path, or NULL. */
static const struct schema_seen *find_seen(const struct schema_walk *w, const char *path)
{
	for (size_t i = 0; i < w->seen_count; i++) {
		if (strcmp(w->seen[i].path, path) == 0)
			return &w->seen[i];
	}
	return NULL;
}

const struct ynode *schema_seen_value(const struct schema_walk *w, const char *path)
{
	const struct schema_seen *s = find_seen(w, path);

	return s != NULL ? s->value : NULL;
}

const struct ynode *schema_seen_key(const struct schema_walk *w, const char *path)
{
	const struct schema_seen *s = find_seen(w, path);

	return s != NULL ? s->key : NULL;
}

void schema_apply_defaults(const struct schema_field *fields, void *base)
{
	struct schema_walk w = {.file = "<defaults>", .base = base};

	for (const struct schema_field *f = fields; f->key != NULL; f++) {
		struct ynode v = {.kind = YNODE_SCALAR, .plain = true};

		if (f->type == SCHEMA_MAP) {
			schema_apply_defaults(f->sub, base);
			continue;
		}
		if (f->def == NULL)
			continue;
		v.value = (char *)(uintptr_t)f->def;
		v.len = strlen(f->def);
		/* The tables are tested to hold only valid defaults. */
		if (set_scalar(&w, f, &v, f->key) < 0)
			abort();
	}
}

/* Free a list's items and the array. */
static void free_list(const struct schema_field *f, void *base)
{
	char *items = *FIELD(base, f, char *);
	size_t *count = (size_t *)(void *)((char *)base + f->count_offset);

	for (size_t i = 0; items != NULL && i < *count; i++)
		schema_free(f->sub, items + i * f->item_size);
	free(items);
	*FIELD(base, f, char *) = NULL;
	*count = 0;
}

void schema_free(const struct schema_field *fields, void *base)
{
	for (const struct schema_field *f = fields; f->key != NULL; f++) {
		switch (f->type) {
		case SCHEMA_MAP:
			schema_free(f->sub, base);
			break;
		case SCHEMA_LIST:
			free_list(f, base);
			break;
		case SCHEMA_STRING:
		case SCHEMA_NAME:
		case SCHEMA_REGION:
		case SCHEMA_URL:
			free(*FIELD(base, f, char *));
			*FIELD(base, f, char *) = NULL;
			break;
		case SCHEMA_CUSTOM:
			if (f->custom->free != NULL)
				f->custom->free(f, base);
			break;
		case SCHEMA_NODE:
		case SCHEMA_BOOL:
		case SCHEMA_I32:
		case SCHEMA_I64:
		case SCHEMA_U16:
		case SCHEMA_U32:
		case SCHEMA_U64:
		case SCHEMA_DOUBLE:
		case SCHEMA_DURATION:
		case SCHEMA_ENUM:
			break;
		}
	}
}

void schema_free_pointer(const struct schema_field *f, void *base)
{
	void **p = FIELD(base, f, void *);

	free(*p);
	*p = NULL;
}
