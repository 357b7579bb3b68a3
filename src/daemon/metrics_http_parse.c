/*
 * The request head parser of the metrics endpoint: pure, bytes in, a verdict
 * out. It takes HTTP/1.0 and 1.1 request heads only (no bodies: the three
 * paths are read-only), finds the path, and whether the client wants the
 * connection kept. Everything else is refused with the status to answer.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "qscale/metrics_http.h"

/* Whether c may appear in a header name or a method (RFC 9110 token). */
static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		(c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The end of the head (past its blank line) in data, or 0 when not there yet. */
static size_t head_end(const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n')
			continue;
		if (i + 1 < len && data[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && data[i + 1] == '\r' && data[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* The next line of [p, end): its length without CR LF; *next past it. */
static size_t next_line(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n;

	if (nl == NULL) {
		*next = end;
		return (size_t)(end - p);
	}
	*next = nl + 1;
	n = (size_t)(nl - p);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

/* Parse "METHOD SP target SP HTTP/1.x" into out. */
static int parse_request_line(const char *p, size_t n, struct metrics_http_request *out)
{
	const char *sp1 = memchr(p, ' ', n), *sp2, *target, *end = p + n;
	size_t mlen, tlen;

	if (sp1 == NULL || sp1 == p)
		return -EINVAL;
	mlen = (size_t)(sp1 - p);
	if (mlen >= sizeof(out->method))
		return -EINVAL;
	for (size_t i = 0; i < mlen; i++)
		if (!tchar((unsigned char)p[i]))
			return -EINVAL;
	target = sp1 + 1;
	sp2 = memchr(target, ' ', (size_t)(end - target));
	if (sp2 == NULL || sp2 == target)
		return -EINVAL;
	if ((size_t)(end - sp2 - 1) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
		(sp2[8] != '0' && sp2[8] != '1'))
		return -EINVAL;
	out->http11 = sp2[8] == '1';
	memcpy(out->method, p, mlen);
	out->method[mlen] = '\0';
	/* Absolute form (a proxy's): keep what follows the authority. */
	if ((size_t)(sp2 - target) > 7 && strncasecmp(target, "http://", 7) == 0) {
		const char *slash = memchr(target + 7, '/', (size_t)(sp2 - target - 7));

		target = slash != NULL ? slash : sp2;
	}
	tlen = strcspn(target, "? ");
	if (target + tlen > sp2)
		tlen = (size_t)(sp2 - target);
	if (tlen >= sizeof(out->path))
		return -EINVAL;
	for (size_t i = 0; i < tlen; i++)
		if ((unsigned char)target[i] <= 0x20 || (unsigned char)target[i] == 0x7f)
			return -EINVAL;
	memcpy(out->path, target, tlen);
	out->path[tlen] = '\0';
	return 0;
}

/* Whether value (len bytes) lists token, comma separated, any case. */
static bool lists(const char *value, size_t len, const char *token)
{
	size_t tlen = strlen(token), i = 0;

	while (i < len) {
		while (i < len && (value[i] == ' ' || value[i] == '\t' || value[i] == ','))
			i++;
		size_t start = i;
		while (i < len && value[i] != ',' && value[i] != ' ' && value[i] != '\t')
			i++;
		if (i - start == tlen && strncasecmp(value + start, token, tlen) == 0)
			return true;
	}
	return false;
}

/* Apply one "name: value" line to out. */
static int parse_header(const char *p, size_t n, struct metrics_http_request *out)
{
	const char *colon = memchr(p, ':', n), *v, *end = p + n;
	size_t nlen;

	if (colon == NULL || colon == p)
		return -EINVAL;
	nlen = (size_t)(colon - p);
	for (size_t i = 0; i < nlen; i++)
		if (!tchar((unsigned char)p[i]))
			return -EINVAL;
	for (const char *c = colon + 1; c < end; c++)
		if (*c == '\0' || *c == '\r')
			return -EINVAL;
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (nlen == 14 && strncasecmp(p, "content-length", 14) == 0) {
		/* Any body is refused: a length of 0 is the only one taken. */
		bool body = false;

		if (end == v)
			return -EINVAL;
		for (const char *c = v; c < end; c++) {
			if (*c < '0' || *c > '9')
				return -EINVAL;
			body = body || *c != '0';
		}
		if (body)
			return -EMSGSIZE;
	} else if (nlen == 17 && strncasecmp(p, "transfer-encoding", 17) == 0) {
		return -ENOSYS;
	} else if (nlen == 10 && strncasecmp(p, "connection", 10) == 0) {
		if (lists(v, (size_t)(end - v), "close"))
			out->close = true;
		if (lists(v, (size_t)(end - v), "keep-alive"))
			out->keep_alive = true;
	}
	return 0;
}

int metrics_http_parse(const char *data, size_t len, struct metrics_http_request *out)
{
	struct metrics_http_request req = {0};
	size_t skip = 0, total;
	const char *p, *end, *next;
	size_t n;
	int r;

	/* Clients may send empty lines before a request (RFC 9112 2.2). */
	while (skip < len && (data[skip] == '\r' || data[skip] == '\n'))
		skip++;
	total = head_end(data + skip, len - skip);
	if (total == 0)
		return len >= METRICS_HTTP_HEAD_MAX ? -E2BIG : -EAGAIN;
	total += skip;
	if (total > METRICS_HTTP_HEAD_MAX)
		return -E2BIG;
	p = data + skip;
	end = data + total;
	n = next_line(p, end, &next);
	r = parse_request_line(p, n, &req);
	for (p = next; r == 0 && p < end; p = next) {
		n = next_line(p, end, &next);
		if (n == 0)
			break;
		/* Line folding is obsolete and a smuggling tool: refuse it. */
		if (p[0] == ' ' || p[0] == '\t')
			r = -EINVAL;
		else
			r = parse_header(p, n, &req);
	}
	if (r < 0)
		return r;
	if (!req.close && !req.http11 && !req.keep_alive)
		req.close = true;
	req.consumed = (size_t)(end - data);
	*out = req;
	return 0;
}
