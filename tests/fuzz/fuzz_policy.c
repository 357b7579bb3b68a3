/*
 * libFuzzer target for the configuration loader: any bytes, read as a main
 * file (with inline policies) and as a policy file, must be accepted or
 * rejected with a diagnostic, never crash, leak or hang. What is accepted is
 * printed the way `qscale check` prints it, and that text must load again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Print an accepted config and insist that the printout loads too. */
static void reload_printed(const struct qscale_config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct qscale_config *again = NULL;
	struct diag diag;

	if (f == NULL)
		abort();
	qscale_config_print(cfg, f);
	fclose(f);
	/* The printout of a file near the size cap may itself exceed it. */
	if (len <= POLICY_MAX_FILE_BYTES) {
		if (qscale_config_parse("fuzz.yaml", text, len, QSCALE_CONFIG_NO_POLICIES_DIR,
			    &again, &diag) < 0) {
			fprintf(stderr, "printout rejected: %u:%u: %s\n%s\n", diag.line,
				diag.column, diag.message, text);
			abort();
		}
		qscale_config_destroy(again);
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qscale_config *cfg = NULL;
	struct policy p;
	struct diag diag;

	diag.message[0] = '\0';
	if (qscale_config_parse("fuzz.yaml", (const char *)data, size,
		    QSCALE_CONFIG_NO_POLICIES_DIR, &cfg, &diag) == 0) {
		reload_printed(cfg);
		qscale_config_destroy(cfg);
	} else if (diag.message[0] == '\0') {
		abort();
	}
	if (policy_parse("fuzz.yaml", (const char *)data, size, NULL, &p, &diag) == 0)
		policy_finish(&p);
	return 0;
}
