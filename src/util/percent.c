/*
 * Percent-encoding and decoding (percent.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/percent.h"
#include "qscale/xalloc.h"

/* RFC 3986's unreserved characters, which SigV4 and forms leave as they are. */
static bool is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		c == '-' || c == '_' || c == '.' || c == '~';
}

int percent_encode(struct buf *out, const char *s, size_t len, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int r;

		if (is_unreserved(c) || (keep_slash && c == '/')) {
			r = buf_putc(out, (char)c);
		} else {
			char enc[3] = {'%', hex[c >> 4], hex[c & 0xf]};

			r = buf_append(out, enc, sizeof(enc));
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int percent_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int percent_decode(const char *s, size_t len, bool plus_is_space, char **out)
{
	char *d = xmalloc(len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int h, l;

		if (s[i] == '+' && plus_is_space) {
			d[n++] = ' ';
			continue;
		}
		if (s[i] != '%') {
			d[n++] = s[i];
			continue;
		}
		h = len - i >= 3 ? percent_hex_value(s[i + 1]) : -1;
		l = h >= 0 ? percent_hex_value(s[i + 2]) : -1;
		if (h < 0 || l < 0 || (h == 0 && l == 0)) {
			secure_wipe(d, len + 1);
			free(d);
			return -EINVAL;
		}
		d[n++] = (char)(h << 4 | l);
		i += 2;
	}
	d[n] = '\0';
	*out = d;
	return 0;
}
