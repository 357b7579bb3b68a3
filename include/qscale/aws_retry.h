/*
 * The arithmetic of the AWS client's retries and pacing, pure and testable:
 * standard-mode backoff (2026 bases), the retry quota, per-category token
 * buckets for ECS API rate limits, and clock-skew tracking from Date headers.
 */
#ifndef QSCALE_AWS_RETRY_H
#define QSCALE_AWS_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/aws_client.h"

#define AWS_RETRY_BASE_MS 50
#define AWS_RETRY_THROTTLING_BASE_MS 1000
#define AWS_RETRY_CAP_MS 20000
#define AWS_RETRY_HINT_EXTRA_MS 5000
#define AWS_RETRY_QUOTA_MAX 500
#define AWS_RETRY_COST 14
#define AWS_RETRY_COST_THROTTLING 5
#define AWS_CLOCK_SKEW_RETRY_MS 240000

/* A source of uniform doubles in [0, 1). */
typedef double (*aws_random_cb)(void *ctx);

/*
 * The delay before retry number retry_index (0 for the first retry):
 * rand01 x min(base x 2^retry_index, 20 s), base 50 ms or 1000 ms when
 * throttled; a server hint (x-amz-retry-after in ms, else Retry-After in
 * seconds; NULL or "" for none) makes it max(t, min(hint, t + 5 s)).
 */
uint64_t aws_retry_delay_ms(int retry_index, bool throttling, double rand01,
	const char *amz_retry_after, const char *retry_after);

/* The per-client retry quota (token bucket). */
struct aws_retry_quota {
	int tokens;
};

void aws_retry_quota_init(struct aws_retry_quota *q);

/* Take the cost of one retry; returns the cost taken, or 0 when the quota is exhausted. */
int aws_retry_quota_acquire(struct aws_retry_quota *q, bool throttling);

/* A call succeeded: refund cost_taken (what its retries took), or +1 when it took none. */
void aws_retry_quota_release(struct aws_retry_quota *q, int cost_taken);

/* The max attempts: configured (> 0) wins, else AWS_MAX_ATTEMPTS (1..20), else 3. */
int aws_retry_max_attempts(int configured, const char *env_value);

/* Our share of ECS's documented rates (ecs_throttle.h), leaving headroom for other callers. */
#define AWS_RATE_HEADROOM 0.8

/*
 * The clock offset implied by a response: server Date - local receive time,
 * in ms. false when it should not be used (no or bad Date, an Age header, a
 * round trip over 15 min).
 */
bool aws_clock_skew_from_response(const char *date_header, const char *age_header,
	uint64_t local_receive_ms, uint64_t round_trip_ms, int64_t *out_offset_ms);

#endif
