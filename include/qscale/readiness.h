/*
 * Readiness of the daemon for /readyz: the configuration is loaded and every
 * policy's last cycle succeeded, recently enough (within a few of its
 * intervals). Pure bookkeeping: time is an argument.
 */
#ifndef QSCALE_READINESS_H
#define QSCALE_READINESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/buf.h"

/* A success older than this many intervals (plus jitter slack) is stale. */
#define READINESS_STALE_INTERVALS 3
#define READINESS_SLACK_MS 1000

struct readiness;

/* Nothing loaded, no policies. Caller destroys. */
struct readiness *readiness_create(void);

/* Free; accepts NULL. */
void readiness_destroy(struct readiness *r);

/* Whether a configuration is loaded (false until the first load succeeds). */
void readiness_set_loaded(struct readiness *r, bool loaded);

/* Track a policy (name copied) or update its interval; 0 or -EINVAL. */
int readiness_track(struct readiness *r, const char *policy, uint64_t interval_ms);

/* Stop tracking a policy (removed on reload). */
void readiness_forget(struct readiness *r, const char *policy);

/* How many policies are tracked, and the i-th by name order (NULL past the end). */
size_t readiness_count(const struct readiness *r);
const char *readiness_name(const struct readiness *r, size_t i);

/* Whether policy is tracked. */
bool readiness_tracks(const struct readiness *r, const char *policy);

/* Record the outcome of a policy's cycle that ended at now_ms; unknown names are ignored. */
void readiness_cycle(struct readiness *r, const char *policy, bool ok, uint64_t now_ms);

/*
 * Whether the daemon is ready at now_ms: loaded, at least one policy, each
 * fine. When not, append a short reason
 * naming the first policy (by name order) that is not, e.g.
 * "policy orders: last cycle failed (2 of 3 policies not ready)".
 */
bool readiness_check(const struct readiness *r, uint64_t now_ms, struct buf *reason);

#endif
