/*
 * SigV4 canonicalisation: the canonical URI (with optional dot-segment
 * removal), the canonical query, the canonical headers and the signed
 * header list. Pure functions; every input is bounded and junk is refused.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/buf.h"
#include "qscale/percent.h"
#include "qscale/xalloc.h"
#include "sigv4_priv.h"

/* One header line as it enters the canonical block. */
struct canon_header {
	char *name; /* lower case */
	char *value; /* trimmed, whitespace collapsed */
	size_t order; /* position in the request, keeps repeated headers in order */
};

/* One query parameter, both halves already encoded. */
struct canon_param {
	char *name;
	char *value;
};

static const char *const unsignable_headers[] = {
	"authorization",
	"user-agent",
	"expect",
	"connection",
	"keep-alive",
	"te",
	"trailer",
	"transfer-encoding",
	"upgrade",
	"x-amzn-trace-id",
};

/* RFC 7230 token characters, allowed in header names. */
static bool is_tchar(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		(c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Lower-case an ASCII byte. */
static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Append the canonical URI of path: normalised when asked, then encoded. */
static int canonical_uri(struct buf *out, const char *path, bool normalize)
{
	size_t len = strlen(path);

	if (len > SIGV4_MAX_PATH || (len > 0 && path[0] != '/'))
		return -EINVAL;
	if (len == 0)
		return buf_putc(out, '/');
	/*
	 * Without empty, "." or ".." segments (no "//", no "/." anywhere) dot
	 * removal keeps the path as it is: the usual case, "/" above all.
	 */
	if (!normalize || (strstr(path, "//") == NULL && strstr(path, "/.") == NULL))
		return percent_encode(out, path, len, true);

	/* Segments kept after dot removal, as (offset, length) pairs. */
	size_t *seg_off = xcalloc(len, sizeof(*seg_off));
	size_t *seg_len = xcalloc(len, sizeof(*seg_len));
	size_t n_seg = 0;
	bool trailing = false;
	size_t i = 0;

	while (i < len) {
		while (i < len && path[i] == '/')
			i++;
		size_t start = i;

		while (i < len && path[i] != '/')
			i++;
		size_t slen = i - start;

		/* A path ending in '/', '.' or '..' names a directory: keep the slash. */
		trailing = (slen == 0) || (slen == 1 && path[start] == '.') ||
			(slen == 2 && path[start] == '.' && path[start + 1] == '.');
		if (slen == 0 || (slen == 1 && path[start] == '.'))
			continue;
		if (slen == 2 && path[start] == '.' && path[start + 1] == '.') {
			if (n_seg > 0)
				n_seg--;
			continue;
		}
		seg_off[n_seg] = start;
		seg_len[n_seg] = slen;
		n_seg++;
	}

	int r = 0;

	for (size_t k = 0; k < n_seg && r == 0; k++) {
		r = buf_putc(out, '/');
		if (r == 0)
			r = percent_encode(out, path + seg_off[k], seg_len[k], false);
	}
	if (r == 0 && (n_seg == 0 || trailing))
		r = buf_putc(out, '/');
	free(seg_off);
	free(seg_len);
	return r;
}

/* Order query parameters by encoded name, then encoded value. */
static int param_cmp(const void *a, const void *b)
{
	const struct canon_param *pa = a;
	const struct canon_param *pb = b;
	int c = strcmp(pa->name, pb->name);

	return c != 0 ? c : strcmp(pa->value, pb->value);
}

/* Decode then re-encode one query component into a fresh string. */
static int encode_component(const char *s, size_t len, char **out)
{
	char *decoded;
	int r = percent_decode(s, len, false, &decoded);

	if (r < 0)
		return r;

	struct buf b;

	buf_init(&b, SIGV4_MAX_QUERY * 3);
	r = percent_encode(&b, decoded, strlen(decoded), false);
	free(decoded);
	if (r < 0) {
		buf_finish(&b);
		return r;
	}
	*out = buf_steal(&b);
	return 0;
}

/* Append the canonical query string of query (as sent, no '?'). */
static int canonical_query(struct buf *out, const char *query)
{
	if (query == NULL || query[0] == '\0')
		return 0;

	size_t len = strlen(query);

	if (len > SIGV4_MAX_QUERY)
		return -EINVAL;

	struct canon_param *params = xcalloc(SIGV4_MAX_QUERY_PARAMS, sizeof(*params));
	size_t n = 0;
	int r = 0;
	const char *p = query;
	const char *end = query + len;

	while (p < end && r == 0) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp != NULL ? amp : end;

		if (stop > p) {
			const char *eq = memchr(p, '=', (size_t)(stop - p));
			const char *name_end = eq != NULL ? eq : stop;
			const char *value = eq != NULL ? eq + 1 : stop;

			if (n == SIGV4_MAX_QUERY_PARAMS) {
				r = -EINVAL;
				break;
			}
			r = encode_component(p, (size_t)(name_end - p), &params[n].name);
			if (r == 0) {
				r = encode_component(
					value, (size_t)(stop - value), &params[n].value);
				if (r < 0)
					free(params[n].name);
			}
			if (r == 0)
				n++;
		}
		p = stop + 1;
	}
	if (r == 0) {
		qsort(params, n, sizeof(*params), param_cmp);
		for (size_t i = 0; i < n && r == 0; i++) {
			if (i > 0)
				r = buf_putc(out, '&');
			if (r == 0)
				r = buf_printf(out, "%s=%s", params[i].name, params[i].value);
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(params[i].name);
		free(params[i].value);
	}
	free(params);
	return r;
}

/* See sigv4_priv.h. */
bool sigv4_header_unsignable(const char *name)
{
	if (strncasecmp(name, "proxy-", 6) == 0)
		return true;
	for (size_t i = 0; i < sizeof(unsignable_headers) / sizeof(unsignable_headers[0]); i++) {
		if (strcasecmp(name, unsignable_headers[i]) == 0)
			return true;
	}
	return false;
}

/* Lower-cased copy of a header name; -EINVAL unless it is a 1..128 byte token. */
static int header_name(const char *name, char **out)
{
	size_t len = strnlen(name, SIGV4_MAX_HEADER_NAME + 1);

	if (len == 0 || len > SIGV4_MAX_HEADER_NAME)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!is_tchar((unsigned char)name[i]))
			return -EINVAL;
	}

	char *lower = xstrndup(name, len);

	for (size_t i = 0; i < len; i++)
		lower[i] = ascii_lower(lower[i]);
	*out = lower;
	return 0;
}

/*
 * Header value trimmed, with every run of spaces, tabs and folded line
 * breaks collapsed to one space; -EINVAL for other control bytes.
 */
static int header_value(const char *value, char **out)
{
	size_t len = strnlen(value, SIGV4_MAX_HEADER_VALUE + 1);

	if (len > SIGV4_MAX_HEADER_VALUE)
		return -EINVAL;

	char *v = xmalloc(len + 1);
	size_t n = 0;
	bool pending_space = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			pending_space = n > 0;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			free(v);
			return -EINVAL;
		}
		if (pending_space)
			v[n++] = ' ';
		pending_space = false;
		v[n++] = (char)c;
	}
	v[n] = '\0';
	*out = v;
	return 0;
}

/* Order headers by name, keeping request order among repeats. */
static int header_cmp(const void *a, const void *b)
{
	const struct canon_header *ha = a;
	const struct canon_header *hb = b;
	int c = strcmp(ha->name, hb->name);

	if (c != 0)
		return c;
	return ha->order < hb->order ? -1 : (ha->order > hb->order);
}

/* Free n collected headers and the array. */
static void headers_free(struct canon_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

/* Collect the signable headers of req plus extra into *out (sorted). */
static int collect_headers(const struct sigv4_request *req, const struct sigv4_extra_header *extra,
	size_t n_extra, struct canon_header **out, size_t *out_n)
{
	if (req->n_headers > SIGV4_MAX_HEADERS || (req->n_headers > 0 && req->headers == NULL))
		return -EINVAL;

	struct canon_header *h = xcalloc(req->n_headers + n_extra, sizeof(*h));
	size_t n = 0;
	size_t n_host = 0;
	int r = 0;

	for (size_t i = 0; i < req->n_headers && r == 0; i++) {
		const struct sigv4_header *src = &req->headers[i];
		char *name;

		if (src->name == NULL || src->value == NULL) {
			r = -EINVAL;
			break;
		}
		r = header_name(src->name, &name);
		if (r < 0)
			break;
		/* The signer's own headers must not also come from the caller. */
		for (size_t k = 0; k < n_extra; k++) {
			if (strcmp(name, extra[k].name) == 0)
				r = -EINVAL;
		}
		if (r == 0 && strcmp(name, "x-amz-date") == 0)
			r = -EINVAL;
		if (r < 0 || sigv4_header_unsignable(name)) {
			free(name);
			continue;
		}
		r = header_value(src->value, &h[n].value);
		if (r < 0) {
			free(name);
			break;
		}
		if (strcmp(name, "host") == 0) {
			n_host++;
			if (h[n].value[0] == '\0')
				r = -EINVAL;
		}
		h[n].name = name;
		h[n].order = i;
		n++;
	}
	if (r == 0 && n_host != 1)
		r = -EINVAL;
	for (size_t k = 0; k < n_extra && r == 0; k++) {
		h[n].name = xstrdup(extra[k].name);
		r = header_value(extra[k].value, &h[n].value);
		h[n].order = req->n_headers + k;
		if (r == 0)
			n++;
		else
			free(h[n].name);
	}
	if (r < 0) {
		headers_free(h, n);
		return r;
	}
	qsort(h, n, sizeof(*h), header_cmp);
	*out = h;
	*out_n = n;
	return 0;
}

/* Append the canonical header block and the signed header list. */
static int canonical_headers(
	struct buf *out, struct buf *signed_headers, const struct canon_header *h, size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		bool first = i == 0 || strcmp(h[i - 1].name, h[i].name) != 0;
		bool last = i + 1 == n || strcmp(h[i + 1].name, h[i].name) != 0;

		if (first) {
			r = buf_puts(out, h[i].name);
			if (r == 0)
				r = buf_putc(out, ':');
			if (r == 0 && signed_headers->len > 0)
				r = buf_putc(signed_headers, ';');
			if (r == 0)
				r = buf_puts(signed_headers, h[i].name);
		} else {
			r = buf_putc(out, ',');
		}
		if (r == 0)
			r = buf_puts(out, h[i].value);
		if (r == 0 && last)
			r = buf_putc(out, '\n');
	}
	return r;
}

/* Check the HTTP method: 1..16 upper-case letters. */
static bool method_valid(const char *method)
{
	size_t len = strnlen(method, SIGV4_MAX_METHOD + 1);

	if (len == 0 || len > SIGV4_MAX_METHOD)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (method[i] < 'A' || method[i] > 'Z')
			return false;
	}
	return true;
}

/* See sigv4_priv.h. */
int sigv4_canonical_request(const struct sigv4_request *req, bool normalize_path,
	const struct sigv4_extra_header *extra, size_t n_extra, const char *payload_hash,
	struct buf *out, struct buf *signed_headers)
{
	if (req->method == NULL || !method_valid(req->method))
		return -EINVAL;

	struct canon_header *h;
	size_t n;
	int r = collect_headers(req, extra, n_extra, &h, &n);

	if (r < 0)
		return r;
	r = buf_puts(out, req->method);
	if (r == 0)
		r = buf_putc(out, '\n');
	if (r == 0)
		r = canonical_uri(out, req->path != NULL ? req->path : "", normalize_path);
	if (r == 0)
		r = buf_putc(out, '\n');
	if (r == 0)
		r = canonical_query(out, req->query);
	if (r == 0)
		r = buf_putc(out, '\n');
	if (r == 0)
		r = canonical_headers(out, signed_headers, h, n);
	if (r == 0)
		r = buf_putc(out, '\n');
	if (r == 0)
		r = buf_append(out, signed_headers->data, signed_headers->len);
	if (r == 0)
		r = buf_putc(out, '\n');
	if (r == 0)
		r = buf_puts(out, payload_hash);
	headers_free(h, n);
	return r;
}

/* See sigv4_priv.h. */
bool sigv4_scope_part_valid(const char *s)
{
	size_t len = strnlen(s, SIGV4_MAX_SCOPE_PART + 1);

	if (len == 0 || len > SIGV4_MAX_SCOPE_PART)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

/* See sigv4_priv.h. */
bool sigv4_key_id_valid(const char *s)
{
	size_t len = strnlen(s, SIGV4_MAX_KEY_ID + 1);

	if (len == 0 || len > SIGV4_MAX_KEY_ID)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}
