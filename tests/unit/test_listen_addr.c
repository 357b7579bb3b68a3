/*
 * Unit tests of the `metrics.listen` parser: accepted forms with their
 * canonical text, and junk that must be rejected without touching the output.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "qscale/listen_addr.h"

static const struct {
	const char *text;
	int family;
	uint16_t port;
	const char *canonical;
} good[] = {
	{LISTEN_ADDR_DEFAULT, AF_INET, 9464, "127.0.0.1:9464"},
	{"0.0.0.0:80", AF_INET, 80, "0.0.0.0:80"},
	{"127.0.0.1:0", AF_INET, 0, "127.0.0.1:0"},
	{"localhost:65535", AF_INET, 65535, "127.0.0.1:65535"},
	{"[::1]:9464", AF_INET6, 9464, "[::1]:9464"},
	{"[::]:1", AF_INET6, 1, "[::]:1"},
	{"[fe80::1:2]:00080", AF_INET6, 80, "[fe80::1:2]:80"},
	{"[::ffff:10.0.0.1]:9", AF_INET6, 9, "[::ffff:10.0.0.1]:9"},
};

static const char *const junk[] = {
	"127.0.0.1",
	"127.0.0.1:",
	":9464",
	"127.0.0.1:65536",
	"127.0.0.1:99999",
	"127.0.0.1:123456",
	"127.0.0.1:-1",
	"127.0.0.1:+80",
	"127.0.0.1: 80",
	"127.0.0.1:80 ",
	"127.0.0.1:8o",
	"127.0.0.1:0x10",
	"127.0.0.256:80",
	"127.1:80",
	" 127.0.0.1:80",
	"::1:9464",
	"[::1]9464",
	"[::1]",
	"[::1]:",
	"[]:80",
	"[::1:80",
	"[127.0.0.1]:80",
	"[::1]:80:80",
	"[zz::1]:80",
	"example.com:80",
	"*:9464",
	"http://127.0.0.1:9464",
	"127.0.0.1:9464/metrics",
	"[aaaa:bbbb:cccc:dddd:eeee:ffff:0000:1111:2222:3333:4444:5555:6666:7777]:80",
};

static void test_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct listen_addr a;
		char text[LISTEN_ADDR_TEXT_MAX];

		assert_int_equal(listen_addr_parse(good[i].text, &a), 0);
		assert_true(a.enabled);
		assert_int_equal(a.sa.ss_family, good[i].family);
		assert_int_equal(a.port, good[i].port);
		listen_addr_format(&a, text, sizeof(text));
		assert_string_equal(text, good[i].canonical);
	}
}

static void test_junk(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		struct listen_addr a;

		memset(&a, 0x5a, sizeof(a));
		if (listen_addr_parse(junk[i], &a) != -EINVAL)
			fail_msg("accepted \"%s\"", junk[i]);
		assert_int_equal(((unsigned char *)&a)[0], 0x5a);
	}
	assert_int_equal(listen_addr_parse(NULL, NULL), -EINVAL);
}

static void test_disabled(void **state)
{
	struct listen_addr a;
	char text[LISTEN_ADDR_TEXT_MAX];

	(void)state;
	memset(&a, 0x5a, sizeof(a));
	assert_int_equal(listen_addr_parse("", &a), 0);
	assert_false(a.enabled);
	listen_addr_format(&a, text, sizeof(text));
	assert_string_equal(text, "off");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_junk),
		cmocka_unit_test(test_disabled),
	};

	return cmocka_run_group_tests_name("listen_addr", tests, NULL, NULL);
}
