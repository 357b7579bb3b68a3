/*
 * Inside the credential chain: the asynchronous fetchers for the ECS
 * container endpoint and EC2 IMDSv2, used by credentials.c.
 */
#ifndef QSCALE_CREDENTIALS_PRIV_H
#define QSCALE_CREDENTIALS_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "qscale/credentials.h"

struct http_client;
struct cred_fetch;

/*
 * A fetch finished: on err == 0 set holds the credentials and the callee
 * takes them over (leaving *set zeroed); detail names the source.
 */
typedef void (*cred_fetch_cb)(int err, struct credentials_set *set, const char *detail, void *arg);

/* GET url (Authorization: auth when not NULL) and parse the credentials document. */
int cred_fetch_container(struct http_client *http, const char *url, const char *auth,
	uint64_t timeout_ms, cred_fetch_cb cb, void *arg, struct cred_fetch **out);

/*
 * IMDSv2 at endpoint ("http://169.254.169.254"): token, role name,
 * credentials; IMDSv1 (no token) when the token PUT is refused, unless
 * v1_disabled, which makes that refusal -EACCES.
 */
int cred_fetch_imds(struct http_client *http, const char *endpoint, uint64_t timeout_ms,
	bool v1_disabled, cred_fetch_cb cb, void *arg, struct cred_fetch **out);

/* Stop a fetch; its callback never runs. */
void cred_fetch_cancel(struct cred_fetch *f);

#endif
