/*
 * Retry and pacing arithmetic of the AWS client, as the SDKs' "standard"
 * retry mode does it in its 2026 form: jittered exponential backoff with a
 * larger base for throttling, server retry hints, a retry quota per client,
 * per-category token buckets for the ECS API, and clock-skew offsets. Pure:
 * time and randomness are arguments.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/aws_retry.h"
#include "qscale/http.h"

/* Parse a non-negative decimal integer that fills the whole string. */
static bool parse_uint(const char *text, uint64_t *out)
{
	char *end;

	if (text == NULL || text[0] < '0' || text[0] > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

/* See qscale/aws_retry.h. */
uint64_t aws_retry_delay_ms(int retry_index, bool throttling, double rand01,
	const char *amz_retry_after, const char *retry_after)
{
	double base = throttling ? AWS_RETRY_THROTTLING_BASE_MS : AWS_RETRY_BASE_MS;
	double ceiling = AWS_RETRY_CAP_MS;

	if (retry_index < 0)
		retry_index = 0;
	if (retry_index < 30)
		ceiling = fmin(base * (double)(1u << retry_index), AWS_RETRY_CAP_MS);
	if (!(rand01 >= 0.0) || rand01 >= 1.0)
		rand01 = 0.0;
	uint64_t t = (uint64_t)(rand01 * ceiling);

	uint64_t hint_ms;
	bool have_hint = false;
	if (amz_retry_after != NULL && amz_retry_after[0] != '\0') {
		have_hint = parse_uint(amz_retry_after, &hint_ms);
	} else if (retry_after != NULL && retry_after[0] != '\0') {
		uint64_t s;
		/* Only the seconds form: an HTTP-date hint would need a clock. */
		if (parse_uint(retry_after, &s) && s < UINT64_MAX / 1000) {
			hint_ms = s * 1000;
			have_hint = true;
		}
	}
	if (have_hint) {
		uint64_t limited = hint_ms < t + AWS_RETRY_HINT_EXTRA_MS
			? hint_ms
			: t + AWS_RETRY_HINT_EXTRA_MS;
		if (limited > t)
			t = limited;
	}
	return t;
}

/* See qscale/aws_retry.h. */
void aws_retry_quota_init(struct aws_retry_quota *q)
{
	q->tokens = AWS_RETRY_QUOTA_MAX;
}

/* See qscale/aws_retry.h. */
int aws_retry_quota_acquire(struct aws_retry_quota *q, bool throttling)
{
	int cost = throttling ? AWS_RETRY_COST_THROTTLING : AWS_RETRY_COST;

	if (q->tokens < cost)
		return 0;
	q->tokens -= cost;
	return cost;
}

/* See qscale/aws_retry.h. */
void aws_retry_quota_release(struct aws_retry_quota *q, int cost_taken)
{
	q->tokens += cost_taken > 0 ? cost_taken : 1;
	if (q->tokens > AWS_RETRY_QUOTA_MAX)
		q->tokens = AWS_RETRY_QUOTA_MAX;
}

/* See qscale/aws_retry.h. */
int aws_retry_max_attempts(int configured, const char *env_value)
{
	uint64_t v;

	if (configured > 0)
		return configured;
	if (parse_uint(env_value, &v) && v >= 1 && v <= 20)
		return (int)v;
	return 3;
}

/* See qscale/aws_retry.h. */
bool aws_clock_skew_from_response(const char *date_header, const char *age_header,
	uint64_t local_receive_ms, uint64_t round_trip_ms, int64_t *out_offset_ms)
{
	uint64_t server_ms;

	if (date_header == NULL || date_header[0] == '\0')
		return false;
	if (age_header != NULL && age_header[0] != '\0')
		return false;
	if (round_trip_ms > 15u * 60u * 1000u)
		return false;
	if (http_parse_date(date_header, &server_ms) != 0)
		return false;
	if (server_ms > (uint64_t)INT64_MAX || local_receive_ms > (uint64_t)INT64_MAX)
		return false;
	/* Date has whole seconds: offsets under a second are noise, not skew. */
	int64_t offset = (int64_t)server_ms - (int64_t)local_receive_ms;
	if (offset > -1000 && offset < 1000)
		offset = 0;
	*out_offset_ms = offset;
	return true;
}
