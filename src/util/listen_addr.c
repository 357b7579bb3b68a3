/*
 * Parsing of `metrics.listen`: a numeric IPv4 address or "localhost" with a
 * port, or a bracketed IPv6 address with a port. Pure: no DNS, no logging.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qscale/listen_addr.h"

/* Parse a decimal port 0..65535: digits only, at most 5 of them. */
static int parse_port(const char *text, uint16_t *out)
{
	unsigned long v = 0;
	size_t n = strlen(text);

	if (n == 0 || n > 5)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(text[i] - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* Fill an IPv4 socket address from a dotted quad (or "localhost"). */
static int parse_v4(const char *host, uint16_t port, struct listen_addr *res)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&res->sa;

	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -EINVAL;
	res->sa_len = sizeof(*sin);
	return 0;
}

/* Fill an IPv6 socket address from the text between the brackets. */
static int parse_v6(const char *host, uint16_t port, struct listen_addr *res)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&res->sa;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
		return -EINVAL;
	res->sa_len = sizeof(*sin6);
	return 0;
}

/* Parse "host:port", "[v6]:port" or "" (off). */
int listen_addr_parse(const char *text, struct listen_addr *out)
{
	struct listen_addr res;
	char host[64];
	const char *colon;
	size_t host_len;
	int r;

	if (text == NULL)
		return -EINVAL;
	memset(&res, 0, sizeof(res));
	if (text[0] == '\0') {
		*out = res;
		return 0;
	}
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		host_len = (size_t)(close - text - 1);
		if (host_len == 0 || host_len >= sizeof(host))
			return -EINVAL;
		memcpy(host, text + 1, host_len);
		host[host_len] = '\0';
		r = parse_port(close + 2, &res.port);
		if (r == 0)
			r = parse_v6(host, res.port, &res);
	} else {
		colon = strrchr(text, ':');
		if (colon == NULL)
			return -EINVAL;
		host_len = (size_t)(colon - text);
		if (host_len == 0 || host_len >= sizeof(host))
			return -EINVAL;
		memcpy(host, text, host_len);
		host[host_len] = '\0';
		r = parse_port(colon + 1, &res.port);
		if (r == 0)
			r = parse_v4(host, res.port, &res);
	}
	if (r < 0)
		return r;
	res.enabled = true;
	*out = res;
	return 0;
}

/* Format an address for logs and the status line. */
void listen_addr_format(const struct listen_addr *addr, char *out, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (size == 0)
		return;
	if (!addr->enabled) {
		snprintf(out, size, "off");
		return;
	}
	if (addr->sa.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&addr->sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(out, size, "[%s]:%u", host, (unsigned)addr->port);
	} else {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&addr->sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(out, size, "%s:%u", host, (unsigned)addr->port);
	}
}

int listen_addr_open(const struct listen_addr *addr, int backlog, int *out_fd, uint16_t *port)
{
	struct sockaddr_storage bound;
	socklen_t bound_len = sizeof(bound);
	int fd, one = 1, r;

	fd = socket(addr->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (addr->sa.ss_family == AF_INET6 &&
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&addr->sa, addr->sa_len) < 0)
		goto fail;
	if (listen(fd, backlog) < 0)
		goto fail;
	if (getsockname(fd, (struct sockaddr *)&bound, &bound_len) < 0)
		goto fail;
	if (bound.ss_family == AF_INET6)
		*port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
	else
		*port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
	*out_fd = fd;
	return 0;
fail:
	r = -errno;
	close(fd);
	return r;
}
