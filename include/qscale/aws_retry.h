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

/*
 * The delay before retry number retry_index in legacy mode (botocore's old
 * default): rand01 x 2^retry_index seconds, capped at 20 s like standard.
 */
uint64_t aws_retry_legacy_delay_ms(int retry_index, double rand01);

/*
 * The adaptive mode's client-side rate limiter, as botocore describes it: a
 * token bucket (one token per attempt, at least 0.5 per second) whose rate
 * follows CUBIC congestion control. Every response feeds it: a throttling
 * answer cuts the rate to 0.7 x the measured sending rate and switches the
 * bucket on; each success lets the rate grow back along
 * 0.4 x (t - t_fail - K)^3 + W_max, K = cbrt(W_max x 0.3 / 0.4), never past
 * twice the measured rate. The sending rate is measured in half-second
 * buckets, smoothed 0.8. Pure: time (seconds) is an argument.
 */
struct aws_adaptive {
	bool enabled; /* after the first throttling answer */
	double fill_rate; /* tokens per second */
	double max_capacity;
	double capacity;
	double last_refill_s;
	bool have_refill;
	double measured_rate; /* attempts per second, smoothed */
	double last_bucket_s;
	double count;
	double w_max;
	double k;
	double last_fail_s;
};

void aws_adaptive_init(struct aws_adaptive *a, double now_s);

/* Take a token before an attempt: 0 when taken (or not enabled), else the ms to wait. */
uint64_t aws_adaptive_acquire(struct aws_adaptive *a, double now_s);

/* An attempt was answered; throttled when its error is a throttling one. */
void aws_adaptive_on_response(struct aws_adaptive *a, double now_s, bool throttled);

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
