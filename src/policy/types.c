/*
 * The configuration's own value types, as custom types of the schema walker
 * (util/schema.c): an ECS instance filter, compiled when it is read and its
 * errors placed inside the YAML scalar, and the metrics endpoint's listening
 * address, checked by the daemon's own parser.
 */
#include <stdlib.h>
#include <string.h>

#include "policy_priv.h"
#include "qscale/ecs_filter.h"
#include "qscale/listen_addr.h"
#include "qscale/xalloc.h"

/* Longest value quoted back in a message. */
#define VALUE_QUOTE_MAX 64

/* A filter value: compiled, its errors placed inside the YAML scalar when possible. */
static int parse_filter(struct schema_walk *w, const struct schema_field *f, const struct ynode *v,
	const char *path, void *member)
{
	struct policy_filter *pf = member;
	struct ecs_filter *compiled;
	struct ecs_filter_error err = {0};

	(void)f;
	if (ecs_filter_parse(v->value, &compiled, &err) < 0) {
		unsigned column = v->text_column != 0 ? v->text_column + err.column - 1 : v->column;

		return diag_set(w->diag, w->file, v->line, column, "'%s' is not a valid filter: %s",
			path, err.message);
	}
	free(pf->text);
	ecs_filter_destroy(pf->compiled);
	pf->text = xstrdup(v->value);
	pf->compiled = compiled;
	return 0;
}

/* Write a filter back as its text. */
static void print_filter(const void *member, FILE *out)
{
	schema_print_quoted(((const struct policy_filter *)member)->text, out);
}

/* Free a filter's text and compiled form. */
static void free_filter(const struct schema_field *f, void *base)
{
	struct policy_filter *pf = (struct policy_filter *)(void *)((char *)base + f->offset);

	free(pf->text);
	ecs_filter_destroy(pf->compiled);
	pf->text = NULL;
	pf->compiled = NULL;
}

/* Whether no filter was given. */
static bool filter_unset(const void *member)
{
	return ((const struct policy_filter *)member)->text == NULL;
}

const struct schema_custom policy_filter_type = {
	.type_text = "filter",
	.parse = parse_filter,
	.print = print_filter,
	.free = free_filter,
	.is_unset = filter_unset,
};

/* HOST:PORT as the metrics endpoint takes it, or "" for off. */
static int parse_listen(struct schema_walk *w, const struct schema_field *f, const struct ynode *v,
	const char *path, void *member)
{
	char **p = member;
	struct listen_addr addr;
	const char *s = v->value;

	(void)f;
	for (const char *c = s; *c != '\0'; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return schema_fail(w, v, "'%s' must not contain control characters", path);
	}
	if (s[0] != '\0' && listen_addr_parse(s, &addr) < 0)
		return schema_fail(w, v,
			"'%s' must be IP:PORT, localhost:PORT or [IPv6]:PORT (e.g. "
			"127.0.0.1:9464), "
			"or \"\" for off, not '%.*s'",
			path, VALUE_QUOTE_MAX, s);
	free(*p);
	*p = xstrdup(s);
	return 0;
}

const struct schema_custom policy_listen_type = {
	.type_text = "host:port",
	.parse = parse_listen,
	.print = schema_print_string,
	.free = schema_free_pointer,
	.is_unset = schema_string_unset,
};
