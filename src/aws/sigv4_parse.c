/*
 * SigV4 text forms: the X-Amz-Date timestamp in both directions and the
 * Authorization header value that a verifying server takes apart. Strict
 * parsers: anything off the exact grammar is -EINVAL.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/sigv4.h"
#include "qscale/xalloc.h"
#include "sigv4_priv.h"

#define MS_PER_DAY 86400000ULL
#define MAX_YEAR 9999

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

/* The civil date of a day count since 1970-01-01. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Write v as n decimal digits, zero-padded (v < 10^n). */
static void put_digits(char *out, unsigned v, size_t n)
{
	for (size_t i = n; i > 0; i--) {
		out[i - 1] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* See sigv4.h. */
int sigv4_format_amz_date(uint64_t time_ms, char out[17])
{
	/* The last millisecond of year 9999. */
	if (time_ms >= (uint64_t)days_from_civil(MAX_YEAR + 1, 1, 1) * MS_PER_DAY)
		return -EINVAL;

	uint64_t secs = time_ms / 1000;
	int64_t y;
	unsigned m;
	unsigned d;
	unsigned sod = (unsigned)(secs % 86400);

	civil_from_days((int64_t)(secs / 86400), &y, &m, &d);
	/* Every signature formats one: digits by hand, not through snprintf. */
	put_digits(out, (unsigned)y, 4);
	put_digits(out + 4, m, 2);
	put_digits(out + 6, d, 2);
	out[8] = 'T';
	put_digits(out + 9, sod / 3600, 2);
	put_digits(out + 11, sod / 60 % 60, 2);
	put_digits(out + 13, sod % 60, 2);
	out[15] = 'Z';
	out[16] = '\0';
	return 0;
}

/* Read n decimal digits at s; -1 if any is not a digit. */
static int digits(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* True for a leap year. */
static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Check a yyyymmdd date (1970..9999) at s. */
static bool date_valid(const char *s, int *y, int *m, int *d)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	*y = digits(s, 4);
	*m = digits(s + 4, 2);
	*d = digits(s + 6, 2);
	if (*y < 1970 || *m < 1 || *m > 12 || *d < 1)
		return false;
	return *d <= mdays[*m - 1] + (*m == 2 && is_leap(*y));
}

/* See sigv4.h. */
int sigv4_parse_amz_date(const char *text, uint64_t *out_ms)
{
	int y;
	int mo;
	int d;

	if (text == NULL || strnlen(text, 17) != 16 || text[8] != 'T' || text[15] != 'Z')
		return -EINVAL;
	/* digits() stops at the first non-digit, so all 8 date bytes are checked here. */
	if (!date_valid(text, &y, &mo, &d))
		return -EINVAL;

	int h = digits(text + 9, 2);
	int mi = digits(text + 11, 2);
	int s = digits(text + 13, 2);

	if (h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59)
		return -EINVAL;

	int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);

	*out_ms = ((uint64_t)days * 86400 + (uint64_t)h * 3600 + (uint64_t)mi * 60 + (uint64_t)s) *
		1000;
	return 0;
}

/* True for a signed header list: sorted, unique, lower-case tokens, with host. */
static bool signed_headers_valid(const char *s, size_t len)
{
	const char *prev = NULL;
	size_t prev_len = 0;
	bool host = false;
	size_t n = 0;
	size_t i = 0;

	if (len == 0)
		return false;
	while (i <= len) {
		size_t start = i;

		while (i < len && s[i] != ';') {
			char c = s[i];

			/* Any header name the signer accepts: RFC 7230 tchar, lower case. */
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
				    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL)))
				return false;
			i++;
		}
		size_t nlen = i - start;

		if (nlen == 0 || nlen > SIGV4_MAX_HEADER_NAME || ++n > SIGV4_MAX_HEADERS)
			return false;
		if (prev != NULL) {
			size_t common = prev_len < nlen ? prev_len : nlen;
			int c = memcmp(prev, s + start, common);

			if (c > 0 || (c == 0 && prev_len >= nlen))
				return false;
		}
		if (nlen == 4 && memcmp(s + start, "host", 4) == 0)
			host = true;
		prev = s + start;
		prev_len = nlen;
		i++;
	}
	return host;
}

/* Split "AKID/yyyymmdd/region/service/aws4_request" into a. */
static int parse_credential(const char *s, size_t len, struct sigv4_authorization *a)
{
	const char *parts[5];
	size_t lens[5];
	size_t n = 0;
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '/')
			continue;
		if (n == 5)
			return -EINVAL;
		parts[n] = s + start;
		lens[n] = i - start;
		n++;
		start = i + 1;
	}
	if (n != 5 || lens[1] != 8 || lens[4] != 12 || memcmp(parts[4], "aws4_request", 12) != 0)
		return -EINVAL;

	int y;
	int m;
	int d;

	if (!date_valid(parts[1], &y, &m, &d))
		return -EINVAL;

	char *key_id = xstrndup(parts[0], lens[0]);
	char *region = xstrndup(parts[2], lens[2]);
	char *service = xstrndup(parts[3], lens[3]);

	if (strlen(key_id) != lens[0] || !sigv4_key_id_valid(key_id) || strlen(region) != lens[2] ||
		!sigv4_scope_part_valid(region) || strlen(service) != lens[3] ||
		!sigv4_scope_part_valid(service)) {
		free(key_id);
		free(region);
		free(service);
		return -EINVAL;
	}
	a->access_key_id = key_id;
	a->date = xstrndup(parts[1], 8);
	a->region = region;
	a->service = service;
	return 0;
}

/* True for 64 lower-case hex digits. */
static bool signature_valid(const char *s, size_t len)
{
	if (len != 64)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

/* See sigv4.h. */
int sigv4_authorization_parse(const char *value, struct sigv4_authorization *out)
{
	static const char algorithm[] = "AWS4-HMAC-SHA256 ";

	if (value == NULL)
		return -EINVAL;

	size_t total = strnlen(value, SIGV4_MAX_AUTHORIZATION + 1);

	if (total > SIGV4_MAX_AUTHORIZATION ||
		strncmp(value, algorithm, sizeof(algorithm) - 1) != 0)
		return -EINVAL;

	struct sigv4_authorization a = {0};
	const char *p = value + sizeof(algorithm) - 1;
	const char *end = value + total;
	int r = 0;

	/* Three comma-separated "Key=value" parts, any order, each once. */
	while (r == 0) {
		while (p < end && *p == ' ')
			p++;

		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma != NULL ? comma : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));

		if (eq == NULL) {
			r = -EINVAL;
			break;
		}

		size_t klen = (size_t)(eq - p);
		const char *v = eq + 1;
		size_t vlen = (size_t)(stop - v);

		if (klen == 10 && memcmp(p, "Credential", 10) == 0 && a.access_key_id == NULL) {
			r = parse_credential(v, vlen, &a);
		} else if (klen == 13 && memcmp(p, "SignedHeaders", 13) == 0 &&
			a.signed_headers == NULL) {
			if (signed_headers_valid(v, vlen))
				a.signed_headers = xstrndup(v, vlen);
			else
				r = -EINVAL;
		} else if (klen == 9 && memcmp(p, "Signature", 9) == 0 && a.signature == NULL) {
			if (signature_valid(v, vlen))
				a.signature = xstrndup(v, vlen);
			else
				r = -EINVAL;
		} else {
			r = -EINVAL;
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	if (r == 0 && (a.access_key_id == NULL || a.signed_headers == NULL || a.signature == NULL))
		r = -EINVAL;
	if (r < 0) {
		sigv4_authorization_finish(&a);
		return r;
	}
	*out = a;
	return 0;
}

/* See sigv4.h. */
void sigv4_authorization_finish(struct sigv4_authorization *a)
{
	if (a == NULL)
		return;
	free(a->access_key_id);
	free(a->date);
	free(a->region);
	free(a->service);
	free(a->signed_headers);
	free(a->signature);
	memset(a, 0, sizeof(*a));
}
