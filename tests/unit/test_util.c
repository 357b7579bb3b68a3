/*
 * Unit tests of the core utilities: durations, the capped buffer, the
 * manual clock, the log levels and the journald prefix.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/buf.h"
#include "qscale/clock.h"
#include "qscale/diag.h"
#include "qscale/duration.h"
#include "qscale/json_tree.h"
#include "qscale/log.h"
#include "qscale/percent.h"
#include "qscale/xalloc.h"
#include "../fuzz/json_compare.h"

static const struct {
	const char *text;
	uint64_t ms;
} good_durations[] = {
	{"0", 0},
	{"0s", 0},
	{"500ms", 500},
	{"5s", 5000},
	{"2m", 120000},
	{"1h", 3600000},
	{"1m30s", 90000},
	{"1h2m3s4ms", 3723004},
	{"300s", 300000},
	{"87600h", DURATION_MAX_MS},
};

static void test_duration_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good_durations) / sizeof(good_durations[0]); i++) {
		uint64_t ms = 12345;

		assert_int_equal(duration_parse(good_durations[i].text, &ms), 0);
		assert_true(ms == good_durations[i].ms);
	}
}

static void test_duration_junk(void **state)
{
	static const char *const junk[] = {
		"",
		"5 seconds",
		"-5s",
		"+5s",
		" 5s",
		"5s ",
		"5",
		"s",
		"5x",
		"5sec",
		"1.5s",
		"5s5s",
		"1s1m",
		"5msm",
		"ms",
		"0x10s",
		"5S",
		"1h 30m",
		"\t1s",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		uint64_t ms = 777;

		assert_int_equal(duration_parse(junk[i], &ms), -EINVAL);
		assert_true(ms == 777); /* output untouched on failure */
	}
	assert_int_equal(duration_parse(NULL, &(uint64_t){0}), -EINVAL);
}

static void test_duration_overflow(void **state)
{
	uint64_t ms = 1;

	(void)state;
	assert_int_equal(duration_parse("99999999999h", &ms), -ERANGE);
	assert_int_equal(duration_parse("99999999999999999999999ms", &ms), -ERANGE);
	assert_int_equal(duration_parse("5124095576h1000000000m", &ms), -ERANGE);
	assert_int_equal(duration_parse("87600h1ms", &ms), -ERANGE);
	assert_true(ms == 1);
}

static void test_duration_format(void **state)
{
	char out[DURATION_FORMAT_MAX];
	uint64_t back;

	(void)state;
	assert_string_equal(duration_format(0, out), "0s");
	assert_string_equal(duration_format(500, out), "500ms");
	assert_string_equal(duration_format(90000, out), "1m30s");
	assert_string_equal(duration_format(3600000, out), "1h");
	assert_string_equal(duration_format(3723004, out), "1h2m3s4ms");
	for (uint64_t ms = 1; ms < DURATION_MAX_MS; ms = ms * 7 + 3) {
		duration_format(ms, out);
		assert_int_equal(duration_parse(out, &back), 0);
		assert_true(back == ms);
	}
	duration_format(UINT64_MAX, out); /* fits the buffer even at the limit */
	assert_true(strlen(out) < DURATION_FORMAT_MAX);
}

static void test_buf_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(buf_puts(&b, "abcd"), 0);
	assert_int_equal(buf_printf(&b, "%d", 123), 0);
	assert_string_equal(buf_cstr(&b), "abcd123");
	assert_int_equal(buf_puts(&b, "xy"), -E2BIG);
	assert_string_equal(buf_cstr(&b), "abcd123"); /* unchanged on failure */
	assert_int_equal(buf_putc(&b, 'z'), 0);
	assert_int_equal(b.len, 8);
	assert_int_equal(buf_putc(&b, 'z'), -E2BIG);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX), -E2BIG);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_cstr(&b), "");
	buf_finish(&b);
}

static void test_buf_steal_and_grow(void **state)
{
	struct buf b;
	char *s;

	(void)state;
	buf_init(&b, 1 << 20);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(buf_putc(&b, (char)('a' + i % 26)), 0);
	assert_int_equal(b.len, 10000);
	assert_int_equal(strlen(buf_cstr(&b)), 10000);
	s = buf_steal(&b);
	assert_int_equal(strlen(s), 10000);
	assert_null(b.data);
	free(s);
	s = buf_steal(&b);
	assert_string_equal(s, "");
	free(s);
	buf_finish_secure(&b);
}

static void test_clock_manual(void **state)
{
	struct clock_manual m;

	(void)state;
	clock_manual_init(&m, 1000, 1700000000000ull);
	assert_true(clock_mono_ms(&m.clock) == 1000);
	clock_manual_advance(&m, 250);
	assert_true(clock_mono_ms(&m.clock) == 1250);
	assert_true(clock_wall_ms(&m.clock) == 1700000000250ull);
	assert_true(clock_mono_ms(&clock_system) > 0);
	assert_true(clock_wall_ms(&clock_system) > 1600000000000ull);
}

struct captured {
	int count;
	enum log_level level;
	char line[512];
};

static void capture(enum log_level level, const char *line, void *arg)
{
	struct captured *c = arg;

	c->count++;
	c->level = level;
	strncpy(c->line, line, sizeof(c->line) - 1);
}

static void test_log_levels_and_format(void **state)
{
	struct captured c = {0};
	enum log_level level;
	enum log_format format;

	(void)state;
	assert_int_equal(log_level_parse("debug", &level), 0);
	assert_int_equal(level, LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("loud", &level), -EINVAL);
	assert_int_equal(log_format_parse("json", &format), 0);
	assert_int_equal(log_format_parse("xml", &format), -EINVAL);

	log_set_sink(capture, &c);
	log_set_level(LOG_LEVEL_INFO);
	log_set_format(LOG_FORMAT_TEXT);
	log_debug("hidden");
	assert_int_equal(c.count, 0);
	log_info("policy=%s backlog=%d", "orders", 12);
	assert_int_equal(c.count, 1);
	assert_string_equal(c.line, "qscale: info: policy=orders backlog=12");

	/* A newline in a message must not split it into two entries. */
	log_warn("a\nb");
	assert_string_equal(c.line, "qscale: warn: a b");

	setenv("JOURNAL_STREAM", "8:1234", 1);
	log_init("qscale");
	log_error("boom");
	assert_string_equal(c.line, "<3>boom");
	log_set_format(LOG_FORMAT_JSON);
	log_info("say \"hi\"");
	assert_non_null(strstr(c.line, "\"level\":\"info\""));
	assert_non_null(strstr(c.line, "\"msg\":\"say \\\"hi\\\"\""));
	assert_true(strncmp(c.line, "<6>{", 4) == 0);
	unsetenv("JOURNAL_STREAM");
	log_init("qscale");
	log_set_format(LOG_FORMAT_TEXT);
	log_set_sink(NULL, NULL);
}

/*
 * A hostile value (a response header with ESC, BEL and a fake field) cannot
 * add a field nor reach the terminal raw; plain tokens stay as they are.
 */
static void test_log_escaping(void **state)
{
	struct captured c = {0};
	char small[16];

	(void)state;
	assert_string_equal(LOG_Q("req-1"), "req-1");
	assert_string_equal(LOG_Q("https://sqs.us-east-1.amazonaws.com/1/q"),
		"https://sqs.us-east-1.amazonaws.com/1/q");
	assert_string_equal(LOG_Q(""), "\"\"");
	assert_string_equal(LOG_Q(NULL), "\"\"");
	assert_string_equal(
		LOG_Q("abc policy=orders local=1->99"), "\"abc policy=orders local=1->99\"");
	assert_string_equal(LOG_Q("a\x1b[2Jb\x07"
				  "c"),
		"\"a\\x1b[2Jb\\x07c\"");
	assert_string_equal(LOG_Q("say \"hi\" \\o/"), "\"say \\\"hi\\\" \\\\o/\"");
	assert_string_equal(LOG_Q("two\nlines\r"), "\"two lines \"");
	assert_string_equal(LOG_Q("del\x7f"), "\"del\\x7f\"");
	/* Cut to fit, still closed. */
	assert_string_equal(
		log_quote(small, sizeof(small), "0123456789 abcdef"), "\"012345678...\"");
	assert_string_equal(log_escape(small, sizeof(small), "a\"b"), "a\\\"b");

	/* Whatever a caller forgot to quote: control bytes never reach the line raw. */
	log_set_sink(capture, &c);
	log_set_level(LOG_LEVEL_DEBUG);
	log_set_format(LOG_FORMAT_TEXT);
	log_debug("http=done request_id=%s", "x\x1b]0;owned\x07");
	assert_string_equal(c.line, "qscale: debug: http=done request_id=x\\x1b]0;owned\\x07");
	log_debug("http=done request_id=%s", LOG_Q("r policy=evil"));
	assert_string_equal(c.line, "qscale: debug: http=done request_id=\"r policy=evil\"");
	log_set_level(LOG_LEVEL_INFO);
	log_set_sink(NULL, NULL);
}

static void test_xalloc(void **state)
{
	char *s = xasprintf("%s-%d", "a", 1);
	char *t = xstrndup("abcdef", 3);

	(void)state;
	assert_string_equal(s, "a-1");
	assert_string_equal(t, "abc");
	free(s);
	secure_free_str(t);
	secure_free_str(NULL);
}

/* A grown ring keeps its items in order from the start, wrapped or not, the rest zeroed. */
static void test_xring_grow(void **state)
{
	/* a ring of 4 holding 3 items from index 3: 30, then 40 and 50 wrapped to the start */
	int *ring = xcalloc(4, sizeof(*ring)), *grown;

	(void)state;
	ring[3] = 30;
	ring[0] = 40;
	ring[1] = 50;
	ring[2] = -1; /* not an item */
	grown = xring_grow(ring, sizeof(*ring), 4, 3, 3, 8);
	assert_int_equal(grown[0], 30);
	assert_int_equal(grown[1], 40);
	assert_int_equal(grown[2], 50);
	for (size_t i = 3; i < 8; i++)
		assert_int_equal(grown[i], 0);
	/* full and unwrapped */
	grown[3] = 60;
	grown = xring_grow(grown, sizeof(*grown), 8, 0, 4, 16);
	assert_int_equal(grown[0], 30);
	assert_int_equal(grown[3], 60);
	assert_int_equal(grown[4], 0);
	free(grown);
	/* the first growth of an empty ring */
	grown = xring_grow(NULL, sizeof(*grown), 0, 0, 0, 64);
	assert_int_equal(grown[63], 0);
	free(grown);
}

/* The bounded JSON tree refuses what its limits forbid, naming the reason. */
static void test_json_tree_limits(void **state)
{
	static const struct json_limits limits = {.max_bytes = 64, .max_depth = 2, .max_items = 3};
	static const struct {
		const char *text;
		size_t len;
		const char *reason; /* NULL: accepted */
	} cases[] = {
		{"{\"a\":[1,2,3]}", 13, NULL},
		{"{\"a\":[1,2,3,4]}", 15, "more than 3 items"},
		{"{\"a\":\"x,y,z,w,v\"}", 17, NULL}, /* commas inside a string are no items */
		{"{\"a\":[[1]]}", 11, "nests deeper than 2 levels"},
		{"{\"a\":\"\\\"]]]\"}", 13, NULL}, /* an escaped quote does not end the string */
		{"{\"a\":1}\0", 8, "NUL byte"},
		{"{\"a\":\"x\0y\"}", 11, "NUL byte"}, /* in a string too */
		/* An escaped backslash does not escape the quote after it. */
		{"{\"a\":\"\\\\\",\"b\":[[1]]}", 20, "nests deeper than 2 levels"},
		/* An escape passes over the byte after it, even a NUL. */
		{"{\"a\":\"\\\0\",\"b\":[1,2,3,4]}", 24, "more than 3 items"},
		{"[1]", 3, "is not a JSON object"},
		{"{\"a\":", 5, "is malformed JSON"},
		{"{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1}", 66,
			"exceeds the cap of 64"},
	};
	char error[JSON_TREE_ERROR_MAX];
	yajl_val tree;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = json_tree_parse(cases[i].text, cases[i].len, &limits, &tree, error);

		if (cases[i].reason == NULL) {
			assert_int_equal(rc, 0);
			json_tree_free(tree);
		} else {
			assert_int_equal(rc, -EPROTO);
			assert_non_null(strstr(error, cases[i].reason));
		}
	}
	/* Limits above JSON_TREE_DEPTH_MAX are held to it. */
	{
		static const struct json_limits deep = {
			.max_bytes = 4096, .max_depth = 1000, .max_items = 10};
		char text[2 * JSON_TREE_DEPTH_MAX + 16];
		size_t n = 0;

		text[n++] = '{';
		text[n++] = '"';
		text[n++] = 'a';
		text[n++] = '"';
		text[n++] = ':';
		for (int i = 0; i < JSON_TREE_DEPTH_MAX; i++)
			text[n++] = '[';
		for (int i = 0; i < JSON_TREE_DEPTH_MAX; i++)
			text[n++] = ']';
		text[n++] = '}';
		assert_int_equal(json_tree_parse(text, n, &deep, &tree, error), -EPROTO);
		assert_non_null(strstr(error, "nests deeper than 64 levels"));
	}
	assert_int_equal(json_tree_parse("{\"a\":null,\"b\":2}", 16, &limits, &tree, error), 0);
	assert_null(json_tree_get(tree, "a"));
	assert_null(json_tree_get(tree, "c"));
	assert_int_equal(json_tree_get(tree, "b")->u.number.i, 2);
	assert_null(json_tree_get(json_tree_get(tree, "b"), "x"));
	json_tree_free(tree);
}

/* Documents both JSON tree tests read, good and bad. */
static const char *const tree_docs[] = {
	"{}",
	"{\"a\":[{\"b\":1,\"c\":{\"d\":\"x\",\"z\":[1,2]},\"y\":true},{\"b\":null}],\"e\":false}",
	"{\"a\":[],\"a\":{\"b\":1},\"e\":1,\"e\":[1,[2,{\"e\":3}]]}", /* duplicates */
	"{\"a\":{\"b\":[1]},\"e\":\"wrong types\"}",
	"{\"e\":[9223372036854775807,9223372036854775808,-9223372036854775808,-0.0,1e999,"
	"1.5,12345678901234567890123]}",
	"{\"e\\u0000x\":1,\"a\":[{\"b\\u0000\":\"v\\u0000w\"}]}", /* keys read as C strings */
	"/* comment */ {\"a\": [ // another\n {\"b\": 1} ] }",
	"{\"a\":[{\"b\":\"x\"", /* truncated */
	"{\"a\":[{\"b\":\"x\"}]}}", /* trailing garbage */
	"{\"a\":[{\"b\":x}]}",
	"{\"g\":\"\xc3\x28\",\"a\":[]}", /* bad UTF-8 in a skipped string */
	"{\"a\":[{\"q\":\"\xc3\x28\"}]}",
	"[{\"a\":1}]",
	"\"a\"",
	"",
};

/* What the keep test keeps: {"a":[{"b":..,"c":{"d":..}}],"e":..}. */
static const struct json_keep_member keep_inner_members[] = {{"d", NULL}, {NULL, NULL}};
static const struct json_keep keep_inner = {.members = keep_inner_members};
static const struct json_keep_member keep_item_members[] = {
	{"b", NULL}, {"c", &keep_inner}, {NULL, NULL}};
static const struct json_keep keep_item = {.members = keep_item_members};
static const struct json_keep keep_items = {.items = &keep_item};
static const struct json_keep_member keep_top_members[] = {
	{"a", &keep_items}, {"e", NULL}, {NULL, NULL}};
static const struct json_keep keep_top = {.members = keep_top_members};

/* json_tree_parse builds yajl_tree_parse's tree, and fails with its message. */
static void test_json_tree_like_yajl(void **state)
{
	static const struct json_limits limits = {
		.max_bytes = 4096, .max_depth = 32, .max_items = 100};

	(void)state;
	for (size_t i = 0; i < sizeof(tree_docs) / sizeof(tree_docs[0]); i++) {
		const char *doc = tree_docs[i];
		char error[JSON_TREE_ERROR_MAX] = "";
		char errbuf[256] = "";
		yajl_val tree = NULL;
		yajl_val ref = yajl_tree_parse(doc, errbuf, sizeof(errbuf));
		int rc = json_tree_parse(doc, strlen(doc), &limits, &tree, error);

		print_message("# %zu: %d %s\n", i, rc, error);
		if (ref != NULL && YAJL_IS_OBJECT(ref)) {
			assert_int_equal(rc, 0);
			assert_true(json_compare_kept(ref, tree, NULL));
			json_tree_free(tree);
		} else if (ref != NULL) {
			assert_int_equal(rc, -EPROTO);
			assert_string_equal(error, "is not a JSON object");
		} else {
			char expect[JSON_TREE_ERROR_MAX];

			errbuf[strcspn(errbuf, "\r\n")] = '\0';
			snprintf(expect, sizeof(expect), "is malformed JSON: %.120s", errbuf);
			assert_int_equal(rc, -EPROTO);
			assert_string_equal(error, expect);
		}
		yajl_tree_free(ref);
	}
}

/* A body of n bytes: {"a":[{"b":1,"big":"xxx..."}],"e":"yyy..."} with the filler in a skipped or
 * kept field. */
static char *big_string_doc(size_t n, bool kept)
{
	const char *head = kept ? "{\"a\":[{\"b\":1}],\"e\":\"" : "{\"a\":[{\"b\":1,\"big\":\"";
	const char *tail = kept ? "\"}" : "\"}]}";
	size_t lh = strlen(head), lt = strlen(tail);
	char *doc = xmalloc(n + 1);

	memcpy(doc, head, lh);
	memset(doc + lh, 'x', n - lh - lt);
	memcpy(doc + n - lt, tail, lt);
	doc[n] = '\0';
	return doc;
}

/*
 * json_tree_parse_keep fails exactly as the whole parse does (truncation,
 * wrong bytes, caps, depth inside skipped parts), and otherwise builds the
 * whole tree with only the named parts: duplicates in order, wrong types
 * kept whole, unknown fields gone.
 */
static void test_json_tree_keep(void **state)
{
	static const struct json_limits limits = {
		.max_bytes = 4u << 20, .max_depth = 8, .max_items = 100};
	char error[JSON_TREE_ERROR_MAX];
	char error_keep[JSON_TREE_ERROR_MAX];
	yajl_val tree, kept, v;

	(void)state;
	for (size_t i = 0; i < sizeof(tree_docs) / sizeof(tree_docs[0]); i++) {
		const char *doc = tree_docs[i];
		int rc = json_tree_parse(doc, strlen(doc), &limits, &tree, error);
		int rk = json_tree_parse_keep(
			doc, strlen(doc), &limits, &keep_top, &kept, error_keep);

		assert_int_equal(rk, rc);
		if (rc < 0) {
			assert_string_equal(error_keep, error);
			continue;
		}
		assert_true(json_compare_kept(tree, kept, &keep_top));
		json_tree_free(tree);
		json_tree_free(kept);
	}

	/* Unknown fields are not in the tree; duplicates are, the first one read first. */
	const char *doc = "{\"x\":[1,2,{\"e\":1}],\"a\":[{\"b\":2,\"b\":3,\"q\":{\"b\":4},"
			  "\"c\":{\"d\":null,\"d\":5,\"z\":6}}],\"e\":1}";

	assert_int_equal(
		json_tree_parse_keep(doc, strlen(doc), &limits, &keep_top, &kept, error), 0);
	assert_int_equal(kept->u.object.len, 2);
	assert_null(json_tree_get(kept, "x"));
	v = json_tree_get(kept, "a")->u.array.values[0];
	assert_int_equal(v->u.object.len, 3);
	assert_int_equal(json_tree_get(v, "b")->u.number.i, 2);
	assert_null(json_tree_get(v, "q"));
	assert_int_equal(json_tree_get(v, "c")->u.object.len, 2);
	assert_null(json_tree_get(json_tree_get(v, "c"), "d")); /* the first "d" is null */
	json_tree_free(kept);

	/* A wrong type is kept whole, so that the reader sees it and says so. */
	doc = "{\"a\":{\"b\":[1],\"z\":2},\"e\":{\"f\":[{}]}}";
	assert_int_equal(
		json_tree_parse_keep(doc, strlen(doc), &limits, &keep_top, &kept, error), 0);
	assert_true(YAJL_IS_OBJECT(json_tree_get(kept, "a")));
	assert_int_equal(json_tree_get(kept, "a")->u.object.len, 2);
	assert_non_null(json_tree_get(json_tree_get(kept, "e"), "f"));
	json_tree_free(kept);

	/* The caps hold inside parts that are skipped. */
	struct buf b;

	buf_init(&b, 1 << 20);
	buf_puts(&b, "{\"x\":[");
	for (int i = 0; i < 101; i++)
		buf_printf(&b, "%s{}", i > 0 ? "," : "");
	buf_puts(&b, "],\"a\":[]}");
	assert_int_equal(
		json_tree_parse_keep(b.data, b.len, &limits, &keep_top, &kept, error), -EPROTO);
	assert_non_null(strstr(error, "more than 100 items"));
	buf_reset(&b);
	buf_puts(&b, "{\"a\":[{\"q\":");
	for (int i = 0; i < 7; i++)
		buf_putc(&b, '[');
	for (int i = 0; i < 7; i++)
		buf_putc(&b, ']');
	buf_puts(&b, "}]}");
	assert_int_equal(
		json_tree_parse_keep(b.data, b.len, &limits, &keep_top, &kept, error), -EPROTO);
	assert_non_null(strstr(error, "nests deeper than 8 levels"));
	buf_finish(&b);

	/* A huge string skipped or kept; one past the body cap is refused either way. */
	for (int k = 0; k < 2; k++) {
		char *big = big_string_doc(3u << 20, k == 1);

		assert_int_equal(
			json_tree_parse_keep(big, 3u << 20, &limits, &keep_top, &kept, error), 0);
		v = json_tree_get(kept, "e");
		if (k == 1)
			assert_int_equal(strlen(v->u.string), (3u << 20) - 22);
		else
			assert_null(
				json_tree_get(json_tree_get(kept, "a")->u.array.values[0], "big"));
		json_tree_free(kept);
		free(big);
		big = big_string_doc((4u << 20) + 1, k == 1);
		assert_int_equal(
			json_tree_parse_keep(big, (4u << 20) + 1, &limits, &keep_top, &kept, error),
			-EPROTO);
		assert_non_null(strstr(error, "exceeds the cap"));
		free(big);
	}
}

/* A diagnostic renders with or without a position, and cuts a long file name. */
static void test_diag(void **state)
{
	char name[DIAG_FILE_MAX + 10], text[DIAG_FILE_MAX + DIAG_MESSAGE_MAX + 32];
	struct diag d;

	(void)state;
	assert_int_equal(diag_fill(&d, "a.yaml", 3, 7, "bad %s", "key"), -EINVAL);
	assert_string_equal(diag_format(&d, text, sizeof(text)), "a.yaml:3:7: bad key");
	diag_fill(&d, "a.yaml", 0, 0, "unreadable");
	assert_string_equal(diag_format(&d, text, sizeof(text)), "a.yaml: unreadable");
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	diag_fill(&d, name, 1, 1, "m");
	assert_int_equal(strlen(d.file), DIAG_FILE_MAX - 1);
	assert_int_equal(diag_fill(NULL, "x", 1, 1, "ignored"), -EINVAL);
}

/* One encoder and one strict decoder for SigV4 and the Query protocol's forms. */
static void test_percent(void **state)
{
	struct buf b;
	char *out;

	(void)state;
	buf_init(&b, 64);
	assert_int_equal(percent_encode(&b, "a b/~é", strlen("a b/~é"), false), 0);
	assert_string_equal(buf_cstr(&b), "a%20b%2F~%C3%A9");
	buf_reset(&b);
	assert_int_equal(percent_encode(&b, "x/y", 3, true), 0);
	assert_string_equal(buf_cstr(&b), "x/y");
	buf_finish(&b);
	assert_int_equal(percent_decode("a%20b+c", 7, true, &out), 0);
	assert_string_equal(out, "a b c");
	free(out);
	assert_int_equal(percent_decode("a+b", 3, false, &out), 0);
	assert_string_equal(out, "a+b");
	free(out);
	assert_int_equal(percent_decode("%2f%2F", 6, false, &out), 0);
	assert_string_equal(out, "//");
	free(out);
	assert_int_equal(percent_decode("a%00b", 5, false, &out), -EINVAL);
	assert_int_equal(percent_decode("a%2", 3, false, &out), -EINVAL);
	assert_int_equal(percent_decode("%zz", 3, false, &out), -EINVAL);
	assert_int_equal(percent_hex_value('F'), 15);
	assert_int_equal(percent_hex_value('g'), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_good),
		cmocka_unit_test(test_duration_junk),
		cmocka_unit_test(test_duration_overflow),
		cmocka_unit_test(test_duration_format),
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_xring_grow),
		cmocka_unit_test(test_json_tree_limits),
		cmocka_unit_test(test_json_tree_like_yajl),
		cmocka_unit_test(test_json_tree_keep),
		cmocka_unit_test(test_diag),
		cmocka_unit_test(test_percent),
		cmocka_unit_test(test_buf_steal_and_grow),
		cmocka_unit_test(test_clock_manual),
		cmocka_unit_test(test_log_levels_and_format),
		cmocka_unit_test(test_log_escaping),
		cmocka_unit_test(test_xalloc),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
