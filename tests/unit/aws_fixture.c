/*
 * Fixture loading and hostile-body generation shared by the SQS and ECS
 * parser tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/buf.h"
#include "qscale/xalloc.h"
#include "aws_fixture.h"

/* See aws_fixture.h. */
char *fixture_load(const char *name, size_t *len)
{
	const char *dir = getenv("QSCALE_TEST_DATA");
	char *path;
	struct buf b;
	char chunk[4096];
	size_t n;

	assert_non_null(dir);
	path = xasprintf("%s/aws/%s", dir, name);
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		fail_msg("cannot open fixture %s", path);
	buf_init(&b, 1 << 24);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_append(&b, chunk, n), 0);
	fclose(f);
	free(path);
	*len = b.len;
	return buf_steal(&b);
}

/* See aws_fixture.h. */
char *fixture_deep(size_t depth, size_t *len)
{
	size_t n = 6 + 2 * depth + 1;
	char *s = xmalloc(n + 1);
	size_t k = 0;

	memcpy(s, "{\"a\":", 5);
	k = 5;
	for (size_t i = 0; i < depth; i++)
		s[k++] = '[';
	for (size_t i = 0; i < depth; i++)
		s[k++] = ']';
	s[k++] = '}';
	s[k] = '\0';
	*len = k;
	return s;
}

/* See aws_fixture.h. */
char *fixture_huge_array(const char *key, size_t min_len, size_t *len)
{
	struct buf b;

	buf_init(&b, min_len + 4096);
	assert_int_equal(buf_printf(&b, "{\"%s\":[\"x\"", key), 0);
	while (b.len < min_len)
		assert_int_equal(buf_puts(&b, ",\"x\""), 0);
	assert_int_equal(buf_puts(&b, "]}"), 0);
	*len = b.len;
	return buf_steal(&b);
}
