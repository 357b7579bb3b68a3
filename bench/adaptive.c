/*
 * bench-adaptive: what the adaptive retry mode's client-side rate limiter
 * does against a throttling server, on a virtual clock (deterministic, no
 * network). A client wants to send OFFER attempts per second; the server
 * admits CAPACITY per second (a token bucket holding one second's worth)
 * and throttles the rest. Without the limiter (standard mode) every attempt
 * is sent; with it (adaptive mode) attempts wait for the limiter's tokens.
 * Printed per mode: attempts sent and throttled, the sending rate over the
 * last half of the run, and the time until the first throttling answer.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "qscale/aws_retry.h"

/* The server's admission: a token bucket of capacity per second. */
struct server {
	double tokens;
	double capacity;
	double last_s;
};

/* Whether the server admits an attempt at now_s (else it throttles it). */
static bool server_admit(struct server *s, double now_s)
{
	s->tokens += (now_s - s->last_s) * s->capacity;
	if (s->tokens > s->capacity)
		s->tokens = s->capacity;
	s->last_s = now_s;
	if (s->tokens >= 1.0) {
		s->tokens -= 1.0;
		return true;
	}
	return false;
}

/* One run of seconds virtual seconds; adaptive says whether the limiter paces. */
static void run(bool adaptive, double offer, double capacity, double seconds)
{
	struct aws_adaptive a;
	struct server srv = {capacity, capacity, 0.0};
	double t = 0.0, next_ready = 0.0, gap = 1.0 / offer;
	long sent = 0, throttled = 0, late_sent = 0, late_throttled = 0;
	double first_throttle = -1.0;

	aws_adaptive_init(&a, 0.0);
	while (t < seconds) {
		if (t + 1e-12 >= next_ready) {
			uint64_t wait_ms = adaptive ? aws_adaptive_acquire(&a, t) : 0;
			if (wait_ms > 0) {
				/* The attempt waits: the client's demand piles up meanwhile. */
				next_ready = t + (double)wait_ms / 1000.0;
			} else {
				bool ok = server_admit(&srv, t);
				sent++;
				throttled += ok ? 0 : 1;
				if (t >= seconds / 2) {
					late_sent++;
					late_throttled += ok ? 0 : 1;
				}
				if (!ok && first_throttle < 0)
					first_throttle = t;
				aws_adaptive_on_response(&a, t, !ok);
				next_ready += gap;
				if (next_ready < t)
					next_ready = t; /* catch up no faster than one per step */
			}
		}
		t += 0.001;
	}
	printf("| %s | %.0f/s | %.0f/s | %ld | %ld (%.1f%%) | %.1f/s | %.1f%% | %.2f s |\n",
		adaptive ? "adaptive" : "standard", offer, capacity, sent, throttled,
		sent > 0 ? 100.0 * (double)throttled / (double)sent : 0.0,
		(double)late_sent / (seconds / 2),
		late_sent > 0 ? 100.0 * (double)late_throttled / (double)late_sent : 0.0,
		first_throttle);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? strtod(argv[1], NULL) : 300.0;

	if (!(seconds > 1.0))
		seconds = 300.0;
	printf("| mode | offered | server admits | attempts sent | throttled | sent, 2nd half "
	       "| throttled, 2nd half | first throttle |\n");
	printf("|---|---|---|---|---|---|---|---|\n");
	for (int pass = 0; pass < 2; pass++) {
		run(pass == 1, 200.0, 50.0, seconds);
		run(pass == 1, 20.0, 5.0, seconds);
	}
	return 0;
}
