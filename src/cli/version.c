/*
 * `qscale version`: qscale's own version and those of the libraries it runs
 * on, as the linked libraries report them at run time.
 */
#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <yajl/yajl_version.h>
#include <yaml.h>

#include "config.h"
#include "qscale/cli.h"

int command_version(int argc, char **argv)
{
	int yv = yajl_version();

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "qscale: version takes no arguments\n");
		return EXIT_USAGE;
	}
	printf("qscale %s\n", QSCALE_VERSION);
	printf("libcurl %s\n", curl_version_info(CURLVERSION_NOW)->version);
	printf("openssl %s\n", OpenSSL_version(OPENSSL_VERSION_STRING));
	printf("libevent %s\n", event_get_version());
	printf("yajl %d.%d.%d\n", yv / 10000, yv / 100 % 100, yv % 100);
	printf("libyaml %s\n", yaml_get_version_string());
	return 0;
}
