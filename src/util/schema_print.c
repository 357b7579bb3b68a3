/*
 * The schema tables read the other way: values written back as YAML (what
 * `qscale check` prints, and what loads back to the same values), and each
 * field's type as the documentation names it.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/duration.h"
#include "qscale/schema.h"

/* The member a field describes, inside base. */
#define FIELD(base, f, type) ((type const *)(const void *)((const char *)(base) + (f)->offset))

const char *schema_type_text(const struct schema_field *f, char *buf, size_t size)
{
	char lo[DURATION_FORMAT_MAX], hi[DURATION_FORMAT_MAX];
	size_t used = 0;

	switch (f->type) {
	case SCHEMA_MAP:
		snprintf(buf, size, "mapping");
		break;
	case SCHEMA_NODE:
	case SCHEMA_LIST:
		snprintf(buf, size, "list");
		break;
	case SCHEMA_STRING:
		snprintf(buf, size, "string");
		break;
	case SCHEMA_NAME:
		snprintf(buf, size, "name");
		break;
	case SCHEMA_REGION:
		snprintf(buf, size, "region");
		break;
	case SCHEMA_URL:
		snprintf(buf, size, "URL");
		break;
	case SCHEMA_CUSTOM:
		snprintf(buf, size, "%s", f->custom->type_text);
		break;
	case SCHEMA_BOOL:
		snprintf(buf, size, "boolean");
		break;
	case SCHEMA_I32:
	case SCHEMA_I64:
		snprintf(buf, size, "integer %" PRId64 "..%" PRId64, f->min, f->max);
		break;
	case SCHEMA_U16:
	case SCHEMA_U32:
	case SCHEMA_U64:
		snprintf(buf, size, "integer %" PRIu64 "..%" PRIu64, (uint64_t)f->min,
			(uint64_t)f->max);
		break;
	case SCHEMA_DOUBLE:
		snprintf(buf, size, "number [%" PRId64 ", %" PRId64 "%c", f->min, f->max,
			(f->flags & SCHEMA_MAX_INCLUSIVE) ? ']' : ')');
		break;
	case SCHEMA_DURATION:
		/* INT64_MAX is no upper bound, only the type's. */
		if (f->max == INT64_MAX)
			snprintf(buf, size, "duration from %s",
				duration_format((uint64_t)f->min, lo));
		else
			snprintf(buf, size, "duration %s..%s",
				duration_format((uint64_t)f->min, lo),
				duration_format((uint64_t)f->max, hi));
		break;
	case SCHEMA_ENUM:
		buf[0] = '\0';
		for (const struct schema_choice *c = f->choices; c->name != NULL; c++) {
			int r = snprintf(buf + used, size - used, "%s%s",
				c == f->choices ? "" : ", ", c->name);

			if (r < 0 || (size_t)r >= size - used)
				break;
			used += (size_t)r;
		}
		break;
	}
	return buf;
}

/* Write a string as a double-quoted YAML scalar. */
void schema_print_quoted(const char *s, FILE *out)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* Write a number so that it reads back exactly, as short as possible. */
static void print_double(double x, FILE *out)
{
	char text[40];

	for (int digits = 1; digits <= 17; digits++) {
		snprintf(text, sizeof(text), "%.*g", digits, x);
		if (strtod(text, NULL) == x)
			break;
	}
	fputs(text, out);
}

/* Write a leaf value after "key: ". */
static void print_leaf(const struct schema_field *f, const void *base, FILE *out)
{
	char text[DURATION_FORMAT_MAX];

	switch (f->type) {
	case SCHEMA_STRING:
	case SCHEMA_NAME:
	case SCHEMA_REGION:
	case SCHEMA_URL:
		schema_print_quoted(*FIELD(base, f, char *), out);
		break;
	case SCHEMA_CUSTOM:
		if (f->custom->print != NULL)
			f->custom->print(FIELD(base, f, void), out);
		break;
	case SCHEMA_BOOL:
		fputs(*FIELD(base, f, bool) ? "true" : "false", out);
		break;
	case SCHEMA_I32:
		fprintf(out, "%" PRId32, *FIELD(base, f, int32_t));
		break;
	case SCHEMA_I64:
		fprintf(out, "%" PRId64, *FIELD(base, f, int64_t));
		break;
	case SCHEMA_U16:
		fprintf(out, "%u", (unsigned)*FIELD(base, f, uint16_t));
		break;
	case SCHEMA_U32:
		fprintf(out, "%" PRIu32, *FIELD(base, f, uint32_t));
		break;
	case SCHEMA_U64:
		fprintf(out, "%" PRIu64, *FIELD(base, f, uint64_t));
		break;
	case SCHEMA_DOUBLE:
		print_double(*FIELD(base, f, double), out);
		break;
	case SCHEMA_DURATION:
		fputs(duration_format(*FIELD(base, f, uint64_t), text), out);
		break;
	case SCHEMA_ENUM:
		for (const struct schema_choice *c = f->choices; c->name != NULL; c++) {
			if (c->value == *FIELD(base, f, int)) {
				fputs(c->name, out);
				break;
			}
		}
		break;
	case SCHEMA_MAP:
	case SCHEMA_LIST:
	case SCHEMA_NODE:
		break;
	}
}

/* Whether a field has nothing to print (an unset optional string or map). */
static bool is_unset(const struct schema_field *f, const void *base)
{
	switch (f->type) {
	case SCHEMA_STRING:
	case SCHEMA_NAME:
	case SCHEMA_REGION:
	case SCHEMA_URL:
		return *FIELD(base, f, char *) == NULL;
	case SCHEMA_CUSTOM:
		return f->custom->is_unset != NULL && f->custom->is_unset(FIELD(base, f, void));
	case SCHEMA_MAP:
		return (f->flags & SCHEMA_PRESENCE) &&
			!*(const bool *)(const void *)((const char *)base + f->present_offset);
	case SCHEMA_NODE:
	case SCHEMA_LIST:
		return true;
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
	return false;
}

/* Whether a mapping would print at least one key: value line. */
static bool has_values(const struct schema_field *fields, const void *base)
{
	for (const struct schema_field *f = fields; f->key != NULL; f++) {
		if (f->type == SCHEMA_NODE || f->type == SCHEMA_LIST || is_unset(f, base))
			continue;
		if (f->type != SCHEMA_MAP || has_values(f->sub, base))
			return true;
	}
	return false;
}

/* Start a line: the first line's prefix once, else indent spaces. */
static void start_line(unsigned indent, const char **first_prefix, FILE *out)
{
	if (*first_prefix != NULL) {
		fputs(*first_prefix, out);
		*first_prefix = NULL;
		return;
	}
	fprintf(out, "%*s", (int)indent, "");
}

void schema_print(const struct schema_field *fields, const void *base, unsigned indent,
	const char *first_prefix, FILE *out)
{
	for (const struct schema_field *f = fields; f->key != NULL; f++) {
		/* Lists are their owner's to print, item by item. */
		if (f->type == SCHEMA_NODE || f->type == SCHEMA_LIST)
			continue;
		start_line(indent, &first_prefix, out);
		if (is_unset(f, base)) {
			fprintf(out, "# %s: not set%s%s\n", f->key, f->def_doc != NULL ? ", " : "",
				f->def_doc != NULL ? f->def_doc : "");
			continue;
		}
		if (f->type == SCHEMA_MAP) {
			/* "key:" with only comments below would read back as null. */
			fprintf(out, "%s:%s\n", f->key, has_values(f->sub, base) ? "" : " {}");
			schema_print(f->sub, base, indent + 2, NULL, out);
			continue;
		}
		fprintf(out, "%s: ", f->key);
		print_leaf(f, base, out);
		fputc('\n', out);
	}
}

void schema_print_string(const void *member, FILE *out)
{
	schema_print_quoted(*(char *const *)member, out);
}

bool schema_string_unset(const void *member)
{
	return *(char *const *)member == NULL;
}
