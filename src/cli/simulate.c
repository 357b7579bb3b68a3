/*
 * `qscale simulate`: load the configuration and the scenario (and a trace),
 * run qscale's control cycle over the world model on a virtual clock, and
 * print what happened; with --compare also the baselines, with --sweep one
 * run per value, with --report a chart. `--generate-trace KIND` writes an
 * example trace instead.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "qscale/cli.h"
#include "qscale/duration.h"
#include "qscale/log.h"
#include "qscale/policy.h"
#include "qscale/scenario.h"
#include "qscale/sim_chart.h"
#include "qscale/sim_report.h"
#include "qscale/sim_sweep.h"
#include "qscale/simulate.h"
#include "qscale/trace_gen.h"
#include "qscale/xalloc.h"

struct sim_opts {
	const char *config;
	const char *scenario;
	const char *trace;
	const char *report;
	uint64_t duration_ms;
	bool has_seed;
	uint64_t seed;
	bool json;
	bool compare;
	bool progress;
	bool verbose;
	bool updates;
	bool has_sweep;
	struct sim_sweep sweep;
	struct sim_prices prices;
	/* --generate-trace */
	bool generate;
	struct trace_gen_params gen;
	const char *output;
};

/* The progress bar's state for one run, and the world whose time -v prints. */
struct progress {
	const char *label;
	double last_s;
	bool shown;
	const struct world *w;
};

static void simulate_usage(FILE *out)
{
	fprintf(out,
		"usage: qscale simulate -c FILE --scenario FILE [--trace FILE] [--duration D]\n"
		"                       [--seed N] [--report FILE.svg|FILE.png] [--json]\n"
		"                       [--compare] [--sweep KEY=FROM:TO:STEP]\n"
		"                       [--price-vcpu-hour USD] [--price-gb-hour USD]\n"
		"       qscale simulate --generate-trace KIND [--seed N] [--duration D]\n"
		"                       [--trace-row D] [--trace-rate R] [-o FILE]\n\n"
		"Replay traffic through qscale's own control cycle against the world model\n"
		"of the scenario, on a virtual clock, and report message waits, backlog,\n"
		"on-prem and Fargate task-hours, cost, scaling actions and AWS calls.\n\n"
		"  -c, --config FILE      the main configuration (default: $QSCALE_CONFIG, else "
		"%s)\n"
		"  --scenario FILE        fleet, task definitions, start-up delays, arrivals\n"
		"  --trace FILE           arrivals from a CSV trace (timestamp_seconds,count) "
		"into\n"
		"                         the first policy's queue\n"
		"  --duration D           how much traffic to replay (default: the scenario's\n"
		"                         duration, else the trace's span)\n"
		"  --seed N               the scenario's seed (fault draws), or the generator's\n"
		"  --report FILE          write a chart (.svg or .png)\n"
		"  --json                 print the results as JSON\n"
		"  --compare              also run target tracking and a static fleet at the "
		"maximum\n"
		"  --sweep KEY=FROM:TO:STEP  one run per value; keys:\n",
		qscale_config_path(NULL));
	sim_sweep_print_keys(out);
	fprintf(out,
		"  --price-vcpu-hour USD  Fargate price per vCPU-hour (default %.5f)\n"
		"  --price-gb-hour USD    Fargate price per GB-hour (default %.6f)\n"
		"  --no-progress          no progress bar (shown only on a terminal anyway)\n"
		"  -v, --verbose          log every decision, prefixed with the virtual time\n"
		"  --updates              list every UpdateService (time, service, from, to)\n"
		"  --generate-trace KIND  write an example trace: diurnal-flash-sale, quiet-week\n"
		"  --trace-row D          the generated trace's row length (default 60s / 300s)\n"
		"  --trace-rate R         its mean rate in messages per second (default 20 / 2)\n"
		"  -o, --output FILE      where the trace goes (default: standard output)\n"
		"  -h, --help             show this help\n\n"
		"Exit status: 0 done, 1 runtime failure, 2 usage, configuration or scenario "
		"error.\n",
		SIM_PRICE_VCPU_HOUR, SIM_PRICE_GB_HOUR);
}

/* A price: a finite number >= 0. */
static int parse_price(const char *text, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno != 0 || end == text || *end != '\0' || !(v >= 0) || v > 1e6)
		return -EINVAL;
	*out = v;
	return 0;
}

/* A whole number. */
static int parse_u64(const char *text, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

enum {
	OPT_SCENARIO = 256,
	OPT_TRACE,
	OPT_DURATION,
	OPT_SEED,
	OPT_REPORT,
	OPT_JSON,
	OPT_COMPARE,
	OPT_SWEEP,
	OPT_PRICE_VCPU,
	OPT_PRICE_GB,
	OPT_NO_PROGRESS,
	OPT_GENERATE,
	OPT_TRACE_ROW,
	OPT_TRACE_RATE,
	OPT_UPDATES,
};

/* Whether a report's file name has an extension the chart can write. */
static bool report_name_ok(const char *path)
{
	size_t n = strlen(path);

	return n > 4 &&
		(strcasecmp(path + n - 4, ".svg") == 0 || strcasecmp(path + n - 4, ".png") == 0);
}

/*
 * Apply option c (with its argument arg) to o. NULL when it is good, else what is wrong
 * with its value (error holds a --sweep message).
 */
static const char *set_option(
	struct sim_opts *o, int c, const char *arg, char error[SIM_SWEEP_ERROR_MAX])
{
	const char *bad = NULL;

	switch (c) {
	case 'c':
		o->config = arg;
		return bad;
	case OPT_SCENARIO:
		o->scenario = arg;
		return bad;
	case OPT_TRACE:
		o->trace = arg;
		return bad;
	case OPT_DURATION:
		if (duration_parse(arg, &o->duration_ms) < 0 || o->duration_ms == 0)
			bad = "--duration wants a duration above zero (30d is 720h)";
		o->gen.duration_ms = o->duration_ms;
		return bad;
	case OPT_SEED:
		if (parse_u64(arg, &o->seed) < 0)
			bad = "--seed wants a whole number";
		o->has_seed = true;
		o->gen.seed = o->seed;
		return bad;
	case OPT_REPORT:
		o->report = arg;
		return bad;
	case OPT_JSON:
		o->json = true;
		return bad;
	case OPT_COMPARE:
		o->compare = true;
		return bad;
	case OPT_SWEEP:
		o->has_sweep = true;
		return sim_sweep_parse(arg, &o->sweep, error) < 0 ? error : NULL;
	case OPT_PRICE_VCPU:
		if (parse_price(arg, &o->prices.vcpu_hour) < 0)
			bad = "--price-vcpu-hour wants a number of dollars";
		return bad;
	case OPT_PRICE_GB:
		if (parse_price(arg, &o->prices.gb_hour) < 0)
			bad = "--price-gb-hour wants a number of dollars";
		return bad;
	case OPT_NO_PROGRESS:
		o->progress = false;
		return bad;
	case OPT_GENERATE:
		if (trace_gen_kind_parse(arg, &o->gen.kind) < 0)
			bad = "--generate-trace wants diurnal-flash-sale or quiet-week";
		o->generate = true;
		return bad;
	case OPT_TRACE_ROW:
		if (duration_parse(arg, &o->gen.row_ms) < 0 || o->gen.row_ms < 1000 ||
			o->gen.row_ms % 1000 != 0)
			bad = "--trace-row wants whole seconds, at least 1s";
		return bad;
	case OPT_TRACE_RATE:
		if (parse_price(arg, &o->gen.mean_rate_per_s) < 0)
			bad = "--trace-rate wants messages per second";
		return bad;
	case 'o':
		o->output = arg;
		return bad;
	case 'v':
		o->verbose = true;
		return bad;
	case OPT_UPDATES:
		o->updates = true;
		return bad;
	default:
		return bad;
	}
}

/* The checks across options; NULL when they fit together. */
static const char *check_options(const struct sim_opts *o, int argc)
{
	if (optind < argc)
		return "unexpected argument";
	if (!o->generate && o->scenario == NULL)
		return "--scenario FILE is required";
	if (o->report != NULL && o->has_sweep)
		return "--report draws one run; it cannot be combined with --sweep";
	if (o->report != NULL && !report_name_ok(o->report))
		return "--report wants a file name ending in .svg or .png";
	return NULL;
}

/* Parse argv into o; returns 0, 1 for --help (done), or -EINVAL (message printed). */
static int parse_args(int argc, char **argv, struct sim_opts *o)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"scenario", required_argument, NULL, OPT_SCENARIO},
		{"trace", required_argument, NULL, OPT_TRACE},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"seed", required_argument, NULL, OPT_SEED},
		{"report", required_argument, NULL, OPT_REPORT},
		{"json", no_argument, NULL, OPT_JSON},
		{"compare", no_argument, NULL, OPT_COMPARE},
		{"sweep", required_argument, NULL, OPT_SWEEP},
		{"price-vcpu-hour", required_argument, NULL, OPT_PRICE_VCPU},
		{"price-gb-hour", required_argument, NULL, OPT_PRICE_GB},
		{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
		{"generate-trace", required_argument, NULL, OPT_GENERATE},
		{"trace-row", required_argument, NULL, OPT_TRACE_ROW},
		{"trace-rate", required_argument, NULL, OPT_TRACE_RATE},
		{"output", required_argument, NULL, 'o'},
		{"verbose", no_argument, NULL, 'v'},
		{"updates", no_argument, NULL, OPT_UPDATES},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char error[SIM_SWEEP_ERROR_MAX];
	const char *bad;
	int c;

	o->progress = true;
	o->prices.vcpu_hour = SIM_PRICE_VCPU_HOUR;
	o->prices.gb_hour = SIM_PRICE_GB_HOUR;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:o:vh", options, NULL)) != -1) {
		if (c == 'h') {
			simulate_usage(stdout);
			return 1;
		}
		if (c == '?' || c == ':') {
			simulate_usage(stderr);
			return -EINVAL;
		}
		bad = set_option(o, c, optarg, error);
		if (bad == error) {
			fprintf(stderr, "qscale simulate: %s\n", error);
			return -EINVAL;
		}
		if (bad != NULL) {
			fprintf(stderr, "qscale simulate: %s, not '%s'\n", bad, optarg);
			return -EINVAL;
		}
	}
	bad = check_options(o, argc);
	if (bad != NULL) {
		fprintf(stderr, "qscale simulate: %s\n", bad);
		simulate_usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* --generate-trace: write the trace. */
static int generate(const struct sim_opts *o)
{
	FILE *out = stdout;
	int rc;

	if (o->output != NULL && (out = fopen(o->output, "w")) == NULL) {
		fprintf(stderr, "qscale simulate: %s: %s\n", o->output, strerror(errno));
		return 1;
	}
	rc = trace_gen_write(&o->gen, out);
	if (out != stdout && fclose(out) != 0)
		rc = -EIO;
	if (rc < 0) {
		fprintf(stderr, "qscale simulate: cannot write the trace\n");
		return 1;
	}
	return 0;
}

/* The last segment of a queue URL: its name. */
static const char *queue_name(const char *url)
{
	const char *slash = strrchr(url, '/');

	return slash != NULL ? slash + 1 : url;
}

/*
 * Load a fresh configuration and scenario for one run, the trace and seed
 * applied, and a sweep value when sweeping. Returns 0, or 2 (printed).
 */
static int load_inputs(const struct sim_opts *o, const uint64_t *sweep_value,
	struct qscale_config **config, struct scenario **sc)
{
	struct diag sdiag;
	char text[512], error[SIM_SWEEP_ERROR_MAX];

	*config = NULL;
	*sc = NULL;
	if (cli_load_config(o->config, config) != 0)
		return EXIT_USAGE;
	if ((*config)->policy_count == 0) {
		fprintf(stderr, "qscale simulate: %s has no policy\n", (*config)->file);
		goto fail;
	}
	if (scenario_load(o->scenario, sc, &sdiag) < 0) {
		fprintf(stderr, "%s\n", diag_format(&sdiag, text, sizeof(text)));
		goto fail;
	}
	if (o->trace != NULL) {
		const char *name = queue_name((*config)->policies[0].queue.url);
		int q = scenario_find_queue(*sc, name);

		if (q < 0) {
			fprintf(stderr,
				"qscale simulate: the scenario has no queue %s for the trace\n",
				name);
			goto fail;
		}
		if (scenario_trace_load(o->trace, &(*sc)->queues[q].arrivals, &sdiag) < 0) {
			fprintf(stderr, "%s\n", diag_format(&sdiag, text, sizeof(text)));
			goto fail;
		}
	}
	if (o->has_seed)
		(*sc)->seed = o->seed;
	if (sweep_value != NULL &&
		sim_sweep_apply(&o->sweep, *sweep_value, *config, *sc, error) < 0) {
		fprintf(stderr, "qscale simulate: --sweep %s\n", error);
		goto fail;
	}
	return 0;
fail:
	qscale_config_destroy(*config);
	scenario_destroy(*sc);
	*config = NULL;
	*sc = NULL;
	return EXIT_USAGE;
}

/* How long to run: --duration, the scenario's, else the trace's span. */
static uint64_t run_duration(const struct sim_opts *o, const struct scenario *sc)
{
	if (o->duration_ms > 0)
		return o->duration_ms;
	if (o->trace == NULL && sc->duration_ms > 0)
		return sc->duration_ms;
	for (size_t i = 0; i < sc->queue_count; i++) {
		const struct scenario_arrivals *a = &sc->queues[i].arrivals;

		if (a->trace_count > 0)
			return a->trace[a->trace_count - 1].at_ms + a->trace_last_span_ms;
	}
	return sc->duration_ms;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Draw the progress bar on stderr, at most ten times a second. */
static void on_progress(uint64_t t_ms, uint64_t duration_ms, void *arg)
{
	struct progress *pr = arg;
	double now = now_s(), f = (double)t_ms / (double)duration_ms;
	char done[DURATION_FORMAT_MAX], total[DURATION_FORMAT_MAX];
	char bar[41];
	size_t fill = (size_t)(f * 40);

	if (t_ms < duration_ms && now - pr->last_s < 0.1)
		return;
	pr->last_s = now;
	pr->shown = true;
	for (size_t i = 0; i < 40; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[40] = '\0';
	fprintf(stderr, "\r%-24s [%s] %3.0f%%  %s / %s\033[K", pr->label, bar, f * 100,
		duration_format(t_ms / 1000 * 1000, done), duration_format(duration_ms, total));
	fflush(stderr);
}

/* Remember the world after each step, for the time on -v's lines. */
static void on_step(const struct world *w, void *arg)
{
	struct progress *pr = arg;

	pr->w = w;
}

/* -v: the controller's lines on stderr, each with the virtual time of its decision. */
static void verbose_sink(enum log_level level, const char *line, void *arg)
{
	const struct progress *pr = arg;

	(void)level;
	fprintf(stderr, "t=%.3fs %s\n", pr->w != NULL ? (double)world_now_ms(pr->w) / 1000.0 : 0,
		line);
}

/* One run of one scaler; *out filled on success. Returns 0, 1 or 2 (printed). */
static int one_run(const struct sim_opts *o, const uint64_t *sweep_value, enum sim_mode mode,
	const char *label, struct sim_result *out)
{
	struct qscale_config *config;
	struct scenario *sc;
	struct sim_params p;
	struct progress pr = {label, 0, false, NULL};
	char error[SIM_ERROR_MAX];
	int rc = load_inputs(o, sweep_value, &config, &sc);

	if (rc != 0)
		return rc;
	memset(&p, 0, sizeof(p));
	p.scenario = sc;
	p.mode = mode;
	p.duration_ms = run_duration(o, sc);
	p.start_wall_ms = 1767225600000ULL; /* 2026-01-01T00:00:00Z: runs do not depend on today */
	p.prices = o->prices;
	p.record_updates = o->updates;
	p.arg = &pr;
	if (o->progress && !o->verbose && isatty(STDERR_FILENO))
		p.progress = on_progress;
	if (o->verbose) {
		p.step = on_step;
		log_set_level(LOG_LEVEL_DEBUG);
		log_set_sink(verbose_sink, &pr);
		fprintf(stderr, "== %s\n", label);
	}
	if (p.duration_ms == 0) {
		fprintf(stderr,
			"qscale simulate: nothing says how long to run: give --duration, a "
			"scenario duration or a trace\n");
		qscale_config_destroy(config);
		scenario_destroy(sc);
		return EXIT_USAGE;
	}
	rc = sim_run(&p, config, out, error);
	if (o->verbose)
		log_set_sink(NULL, NULL);
	if (pr.shown)
		fprintf(stderr, "\r\033[K");
	scenario_destroy(sc);
	if (rc < 0) {
		fprintf(stderr, "qscale simulate: %s\n", error);
		return EXIT_USAGE;
	}
	return 0;
}

/* Print (and draw) what the runs found. Returns 0 or 1. */
static int output(const struct sim_opts *o, const struct sim_report_info *info,
	struct sim_result *results, size_t n_values, size_t per_value)
{
	const struct sim_result **ptrs = xcalloc(n_values * per_value + 1, sizeof(*ptrs));
	int rc = 0;

	for (size_t i = 0; i < n_values * per_value; i++)
		ptrs[i] = &results[i];
	if (o->has_sweep) {
		struct sim_sweep_row *rows = xcalloc(n_values + 1, sizeof(*rows));
		char(*values)[32] = xcalloc(n_values + 1, sizeof(*values));

		for (size_t i = 0; i < n_values; i++) {
			rows[i].value = sim_sweep_format(&o->sweep, i, values[i]);
			rows[i].runs = ptrs + i * per_value;
			rows[i].n_runs = per_value;
		}
		if (o->json)
			rc = sim_report_sweep_json(
				stdout, info, sim_sweep_key_name(&o->sweep), rows, n_values);
		else
			sim_report_sweep_table(
				stdout, info, sim_sweep_key_name(&o->sweep), rows, n_values);
		free(values);
		free(rows);
	} else if (o->json) {
		rc = sim_report_json(stdout, info, ptrs, per_value);
	} else {
		sim_report_table(stdout, info, ptrs, per_value);
	}
	if (rc == 0 && o->report != NULL) {
		char title[256], error[SIM_CHART_ERROR_MAX], d[DURATION_FORMAT_MAX];
		const char *base = strrchr(o->scenario, '/');

		snprintf(title, sizeof(title), "qscale simulate: %s%s%s, %s, seed %" PRIu64,
			base != NULL ? base + 1 : o->scenario, o->trace != NULL ? " + " : "",
			o->trace != NULL ? o->trace : "",
			duration_format(results[0].duration_ms, d), info->seed);
		if (sim_chart_write(o->report, title, ptrs, per_value, error) < 0) {
			fprintf(stderr, "qscale simulate: %s\n", error);
			rc = -EIO;
		}
	}
	free(ptrs);
	return rc < 0 ? 1 : 0;
}

int command_simulate(int argc, char **argv)
{
	static const enum sim_mode modes[] = {SIM_QSCALE, SIM_TARGET_TRACKING, SIM_STATIC_MAX};
	struct sim_opts o;
	struct sim_report_info info;
	struct sim_result *results;
	struct qscale_config *config;
	struct scenario *sc;
	size_t n_values, per_value, done = 0;
	double started;
	int rc;

	memset(&o, 0, sizeof(o));
	rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc > 0 ? 0 : EXIT_USAGE;
	if (o.generate)
		return generate(&o);
	/* Check the inputs once up front so a bad file fails before any run. */
	rc = load_inputs(&o, NULL, &config, &sc);
	if (rc != 0)
		return rc;
	memset(&info, 0, sizeof(info));
	info.config = config->file;
	info.scenario = o.scenario;
	info.trace = o.trace;
	info.seed = sc->seed;
	n_values = o.has_sweep ? sim_sweep_count(&o.sweep) : 1;
	per_value = o.compare ? 3 : 1;
	results = xcalloc(n_values * per_value + 1, sizeof(*results));
	started = now_s();
	for (size_t i = 0; i < n_values && rc == 0; i++) {
		uint64_t value = o.has_sweep ? sim_sweep_value(&o.sweep, i) : 0;

		for (size_t k = 0; k < per_value && rc == 0; k++) {
			char label[64], v[32];

			if (o.has_sweep)
				snprintf(label, sizeof(label), "%s=%s %s",
					sim_sweep_key_name(&o.sweep),
					sim_sweep_format(&o.sweep, i, v), sim_mode_name(modes[k]));
			else
				snprintf(label, sizeof(label), "%s", sim_mode_name(modes[k]));
			rc = one_run(
				&o, o.has_sweep ? &value : NULL, modes[k], label, &results[done]);
			if (rc == 0)
				done++;
		}
	}
	info.elapsed_s = now_s() - started;
	if (rc == 0)
		rc = output(&o, &info, results, n_values, per_value);
	for (size_t i = 0; i < done; i++)
		sim_result_finish(&results[i]);
	free(results);
	qscale_config_destroy(config);
	scenario_destroy(sc);
	return rc;
}
