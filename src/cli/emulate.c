/*
 * `qscale emulate --scenario FILE [--listen ADDR] [--speed X] [--tls ...]`:
 * load a scenario, build its world and serve it as a local SQS + ECS endpoint
 * (over HTTPS with --tls) until SIGINT or SIGTERM. The bound address is
 * printed on stdout as one line, "listening on http://HOST:PORT" (https://
 * with TLS), so scripts can use port 0.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "qscale/clock.h"
#include "qscale/cli.h"
#include "qscale/emulate.h"
#include "qscale/listen_addr.h"
#include "qscale/log.h"
#include "qscale/scenario.h"
#include "qscale/world.h"

/* Print the command's usage. */
static void usage(FILE *out)
{
	fprintf(out,
		"usage: qscale emulate --scenario FILE [--listen ADDR] [--speed X]\n"
		"                      [--tls --ca-out FILE | --tls --cert FILE --key FILE]\n\n"
		"Serve a local AWS endpoint (SQS GetQueueAttributes; ECS DescribeServices,\n"
		"UpdateService, ListContainerInstances, DescribeContainerInstances,\n"
		"DescribeTaskDefinition) backed by the scenario's simulated world.\n\n"
		"  --scenario FILE  the scenario (YAML)\n"
		"  --listen ADDR    host:port to bind (default 127.0.0.1:0, any free port)\n"
		"  --speed X        simulated seconds per wall-clock second (default 1, max "
		"10000)\n"
		"  --tls            serve HTTPS instead of HTTP\n"
		"  --ca-out FILE    generate a private CA and a server certificate for\n"
		"                   127.0.0.1, ::1 and localhost; write the CA (PEM) to FILE\n"
		"                   for clients' AWS_CA_BUNDLE\n"
		"  --cert FILE      serve this certificate chain (PEM) instead, with --key FILE\n"
		"  --bad-cert KIND  generate a certificate clients must refuse: expired, or\n"
		"                   wrong-host (for not-this-host.invalid)\n\n"
		"Requests must be signed (SigV4) with the scenario's credentials, by default\n"
		"access key " EMULATE_DEFAULT_KEY_ID " and secret " EMULATE_DEFAULT_SECRET ".\n\n"
		"Prints 'listening on http://HOST:PORT' (https:// with --tls) once bound.\n"
		"Admin API:\n"
		"  GET /_qscale/state, GET /_qscale/requests, GET /_qscale/updates,\n"
		"  GET /_qscale/connections, POST /_qscale/advance?ms=N\n");
}

/* Signal: leave the loop. */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;

	log_info("emulate signal=%d stopping", (int)sig);
	event_base_loopexit(base, NULL);
}

/* Parse --speed; -EINVAL unless a positive number up to EMULATE_SPEED_MAX. */
static int parse_speed(const char *text, double *out)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno != 0 || end == text || *end != '\0' || !(v > 0) || v > EMULATE_SPEED_MAX)
		return -EINVAL;
	*out = v;
	return 0;
}

/*
 * An event base whose timers use the precise monotonic clock: libevent's
 * default on Linux is the coarse one, which can fire a latency fault's
 * timer a few milliseconds before the delay the scenario asks for.
 */
static struct event_base *precise_base(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (cfg == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/* Parse --bad-cert. */
static int parse_bad_cert(const char *text, enum emulate_tls_cert *out)
{
	if (strcmp(text, "expired") == 0)
		*out = EMULATE_TLS_CERT_EXPIRED;
	else if (strcmp(text, "wrong-host") == 0)
		*out = EMULATE_TLS_CERT_WRONG_HOST;
	else
		return -EINVAL;
	return 0;
}

/* What is wrong with the TLS options, or NULL; any of them turns TLS on. */
static const char *check_tls(struct emulate_tls_config *tls)
{
	bool generate = tls->ca_out != NULL || tls->cert != EMULATE_TLS_CERT_GOOD;
	bool given = tls->cert_path != NULL || tls->key_path != NULL;

	if (!tls->enabled && !generate && !given)
		return NULL;
	tls->enabled = true;
	if (generate && given)
		return "--cert/--key serve a given certificate; --ca-out and --bad-cert generate "
		       "one";
	if (given && (tls->cert_path == NULL || tls->key_path == NULL))
		return "--cert and --key go together";
	if (!given && tls->ca_out == NULL)
		return "--tls needs --ca-out FILE (where the generated CA is written) or --cert "
		       "and --key";
	return NULL;
}

/* Serve until a signal; 0 or 1. */
static int serve(struct world *world, const struct scenario *sc, const struct emulate_config *cfg)
{
	struct event_base *base = precise_base();
	struct emulate *em = NULL;
	struct event *sigint = NULL, *sigterm = NULL;
	struct emulate_auth auth = {
		.access_key_id =
			sc->access_key_id != NULL ? sc->access_key_id : EMULATE_DEFAULT_KEY_ID,
		.secret_access_key = sc->secret_access_key != NULL ? sc->secret_access_key
								   : EMULATE_DEFAULT_SECRET,
		.region = sc->region != NULL ? sc->region : "us-east-1",
	};
	int r;

	if (base == NULL) {
		log_error("emulate error=\"cannot create the event loop\"");
		return 1;
	}
	r = emulate_create(base, world, &auth, cfg, &em);
	if (r < 0) {
		log_error("emulate listen=%s error=\"%s\"", cfg->listen,
			r == -EINVAL && cfg->tls.enabled ? "TLS setup failed (see above)"
							 : strerror(-r));
		event_base_free(base);
		return 1;
	}
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	event_add(sigint, NULL);
	event_add(sigterm, NULL);
	printf("listening on %s\n", emulate_url(em));
	fflush(stdout);
	log_info("emulate url=%s scenario=%s speed=%g region=%s access_key_id=%s", emulate_url(em),
		sc->path, cfg->speed, auth.region, auth.access_key_id);
	event_base_dispatch(base);
	emulate_destroy(em);
	event_free(sigint);
	event_free(sigterm);
	event_base_free(base);
	return 0;
}

/*
 * Apply option c (with its argument arg) to cfg and *scenario_path; 0, or
 * EXIT_USAGE after saying what is wrong with the value.
 */
static int set_option(
	int c, const char *arg, struct emulate_config *cfg, const char **scenario_path)
{
	struct listen_addr la;

	switch (c) {
	case 's':
		*scenario_path = arg;
		return 0;
	case 'l':
		if (listen_addr_parse(arg, &la) < 0 || !la.enabled) {
			fprintf(stderr,
				"qscale emulate: bad --listen '%s' (want HOST:PORT, numeric "
				"host)\n",
				arg);
			return EXIT_USAGE;
		}
		cfg->listen = arg;
		return 0;
	case 'x':
		if (parse_speed(arg, &cfg->speed) < 0) {
			fprintf(stderr, "qscale emulate: bad --speed '%s'\n", arg);
			return EXIT_USAGE;
		}
		return 0;
	case 't':
		cfg->tls.enabled = true;
		return 0;
	case 'C':
		cfg->tls.ca_out = arg;
		return 0;
	case 'c':
		cfg->tls.cert_path = arg;
		return 0;
	case 'k':
		cfg->tls.key_path = arg;
		return 0;
	case 'b':
		if (parse_bad_cert(arg, &cfg->tls.cert) < 0) {
			fprintf(stderr,
				"qscale emulate: bad --bad-cert '%s' (want expired or "
				"wrong-host)\n",
				arg);
			return EXIT_USAGE;
		}
		return 0;
	default:
		usage(stderr);
		return EXIT_USAGE;
	}
}

/* Load the scenario, build its world and serve it until a signal. */
static int emulate_scenario(const char *scenario_path, const struct emulate_config *cfg)
{
	struct scenario *sc = NULL;
	struct diag diag = {0};
	struct world *world = NULL;
	char text[600];
	int r = scenario_load(scenario_path, &sc, &diag);

	if (r < 0) {
		fprintf(stderr, "qscale emulate: %s\n", diag_format(&diag, text, sizeof(text)));
		return EXIT_USAGE;
	}
	r = world_create(sc, clock_wall_ms(&clock_system), &world);
	if (r < 0) {
		fprintf(stderr, "qscale emulate: %s: cannot build the world: %s\n", scenario_path,
			strerror(-r));
		scenario_destroy(sc);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	r = serve(world, sc, cfg);
	world_destroy(world);
	scenario_destroy(sc);
	return r;
}

int command_emulate(int argc, char **argv)
{
	static const struct option options[] = {
		{"scenario", required_argument, NULL, 's'},
		{"listen", required_argument, NULL, 'l'},
		{"speed", required_argument, NULL, 'x'},
		{"tls", no_argument, NULL, 't'},
		{"ca-out", required_argument, NULL, 'C'},
		{"cert", required_argument, NULL, 'c'},
		{"key", required_argument, NULL, 'k'},
		{"bad-cert", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct emulate_config cfg = {.listen = "127.0.0.1:0", .speed = 1.0};
	const char *scenario_path = NULL, *tls_error;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:l:x:tC:c:k:b:h", options, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (set_option(c, optarg, &cfg, &scenario_path) != 0)
			return EXIT_USAGE;
	}
	if (scenario_path == NULL || optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	tls_error = check_tls(&cfg.tls);
	if (tls_error != NULL) {
		fprintf(stderr, "qscale emulate: %s\n", tls_error);
		return EXIT_USAGE;
	}
	return emulate_scenario(scenario_path, &cfg);
}
