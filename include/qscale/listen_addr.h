/*
 * Listen addresses for the metrics endpoint (`metrics.listen`) and the
 * emulator (`--listen`): "host:port" with a numeric IPv4 host or
 * "localhost", "[v6]:port" for IPv6, and "" for "turned off". Hosts are
 * numeric so starting never waits on DNS. One parser and one socket setup
 * for every listener qscale opens.
 */
#ifndef QSCALE_LISTEN_ADDR_H
#define QSCALE_LISTEN_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest text listen_addr_format writes, NUL included: "[v6]:65535". */
#define LISTEN_ADDR_TEXT_MAX 80

struct listen_addr {
	bool enabled; /* false for "" */
	struct sockaddr_storage sa;
	socklen_t sa_len;
	uint16_t port; /* 0: the kernel picks one */
};

/* The metrics endpoint's default address. */
#define LISTEN_ADDR_DEFAULT "127.0.0.1:9464"

/* Parse text into *out; 0, or -EINVAL (out untouched) for anything else. */
int listen_addr_parse(const char *text, struct listen_addr *out);

/* Write "1.2.3.4:port" or "[v6]:port" (or "off") into out (size bytes). */
void listen_addr_format(const struct listen_addr *addr, char *out, size_t size);

/*
 * A listening, non-blocking, close-on-exec TCP socket on addr (IPv6 only for
 * an IPv6 address) with backlog; its fd and the bound port (the kernel's
 * pick for port 0). 0 or a negative errno.
 */
int listen_addr_open(const struct listen_addr *addr, int backlog, int *out_fd, uint16_t *port);

#endif
