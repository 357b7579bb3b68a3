/*
 * Drawing the simulation chart with cairo: three panels over a shared time
 * axis (backlog; on-prem and Fargate tasks stacked; wait p95 and max), axes
 * with 1-2-5 ticks, a legend per panel. The same drawing code renders to an
 * SVG or an image surface, so both formats show the same picture.
 */
#include <cairo-svg.h>
#include <cairo.h>
#include <errno.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "chart_priv.h"

#define WIDTH 1200.0
#define HEIGHT 900.0
#define LEFT 90.0
#define RIGHT 30.0
#define TOP 60.0
#define PANEL_H 220.0
#define GAP 56.0

struct rgb {
	double r, g, b;
};

static const struct rgb ink = {0.15, 0.15, 0.15};
static const struct rgb grid = {0.88, 0.88, 0.88};
static const struct rgb local_col = {0.20, 0.45, 0.75};
static const struct rgb burst_col = {0.95, 0.55, 0.15};
static const struct rgb p95_col = {0.80, 0.15, 0.15};
static const struct rgb max_col = {0.95, 0.65, 0.65};
/* Baselines: one colour each, drawn dashed. */
static const struct rgb baseline_cols[] = {{0.15, 0.60, 0.30}, {0.55, 0.30, 0.65}};

/* What a panel plots for one run at point i. */
typedef double (*value_fn)(const struct sim_point *pt);

static double v_backlog(const struct sim_point *pt)
{
	return (double)pt->backlog_max;
}

static double v_local(const struct sim_point *pt)
{
	return pt->local_tasks;
}

static double v_total_tasks(const struct sim_point *pt)
{
	return pt->local_tasks + pt->burst_tasks;
}

static double v_p95(const struct sim_point *pt)
{
	return (double)pt->wait_p95_ms / 1000.0;
}

static double v_max(const struct sim_point *pt)
{
	return (double)pt->wait_max_ms / 1000.0;
}

/* A panel's frame: where it sits and what its axes span. */
struct panel {
	double x0, y0, w, h;
	double t_max_ms;
	double y_max;
};

static void set_col(cairo_t *cr, struct rgb c)
{
	cairo_set_source_rgb(cr, c.r, c.g, c.b);
}

static double px(const struct panel *p, double t_ms)
{
	return p->x0 + (p->t_max_ms > 0 ? t_ms / p->t_max_ms : 0) * p->w;
}

static double py(const struct panel *p, double v)
{
	double f = p->y_max > 0 ? v / p->y_max : 0;

	return p->y0 + p->h - (f > 1 ? 1 : f) * p->h;
}

/* The 1-2-5 step giving about five ticks up to max. */
static double nice_step(double max)
{
	double raw = max / 5, mag, f;

	if (raw <= 0)
		return 1;
	mag = pow(10, floor(log10(raw)));
	f = raw / mag;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/* A time axis label: "14:05" within a day, "3d 06h" beyond. */
static void time_label(double t_ms, double span_ms, char out[32])
{
	unsigned long s = (unsigned long)(t_ms / 1000);

	if (span_ms <= 2 * 3600000.0)
		snprintf(out, 32, "%lu:%02lu", s / 60, s % 60);
	else if (span_ms <= 2 * 86400000.0)
		snprintf(out, 32, "%02lu:%02lu", s / 3600, s / 60 % 60);
	else
		snprintf(out, 32, "%lud %02luh", s / 86400, s / 3600 % 24);
}

static void text_at(cairo_t *cr, double x, double y, const char *s, double align)
{
	cairo_text_extents_t ext;

	cairo_text_extents(cr, s, &ext);
	cairo_move_to(cr, x - ext.width * align, y);
	cairo_show_text(cr, s);
}

/* Frame, grid, ticks and labels of a panel. */
static void draw_axes(cairo_t *cr, const struct panel *p, const char *ylabel, bool time_labels)
{
	static const double steps_ms[] = {60e3, 300e3, 600e3, 1800e3, 3600e3, 7200e3, 21600e3,
		43200e3, 86400e3, 172800e3, 604800e3};
	double ystep = nice_step(p->y_max), tstep = steps_ms[0];
	char label[32];

	for (size_t i = 0; i < sizeof(steps_ms) / sizeof(steps_ms[0]); i++) {
		tstep = steps_ms[i];
		if (p->t_max_ms / tstep <= 10)
			break;
	}
	cairo_set_font_size(cr, 11);
	cairo_set_line_width(cr, 1);
	for (double v = 0; v <= p->y_max * 1.0001; v += ystep) {
		set_col(cr, grid);
		cairo_move_to(cr, p->x0, py(p, v));
		cairo_line_to(cr, p->x0 + p->w, py(p, v));
		cairo_stroke(cr);
		set_col(cr, ink);
		snprintf(label, sizeof(label), "%g", v);
		text_at(cr, p->x0 - 6, py(p, v) + 4, label, 1.0);
	}
	for (double t = 0; t <= p->t_max_ms * 1.0001; t += tstep) {
		set_col(cr, grid);
		cairo_move_to(cr, px(p, t), p->y0);
		cairo_line_to(cr, px(p, t), p->y0 + p->h);
		cairo_stroke(cr);
		if (time_labels) {
			set_col(cr, ink);
			time_label(t, p->t_max_ms, label);
			text_at(cr, px(p, t), p->y0 + p->h + 16, label, 0.5);
		}
	}
	set_col(cr, ink);
	cairo_rectangle(cr, p->x0, p->y0, p->w, p->h);
	cairo_stroke(cr);
	cairo_set_font_size(cr, 13);
	cairo_move_to(cr, p->x0, p->y0 - 8);
	cairo_show_text(cr, ylabel);
}

/* A run's series as a line. */
static void draw_line(cairo_t *cr, const struct panel *p, const struct sim_chart_run *r,
	value_fn fn, struct rgb col, double width, bool dashed)
{
	static const double dash[] = {6, 4};

	if (r->n_series == 0)
		return;
	cairo_save(cr);
	cairo_rectangle(cr, p->x0, p->y0, p->w, p->h);
	cairo_clip(cr);
	set_col(cr, col);
	cairo_set_line_width(cr, width);
	cairo_set_dash(cr, dash, dashed ? 2 : 0, 0);
	cairo_move_to(cr, px(p, 0), py(p, fn(&r->series[0])));
	for (size_t i = 0; i < r->n_series; i++)
		cairo_line_to(cr, px(p, (double)r->series[i].t_ms), py(p, fn(&r->series[i])));
	cairo_stroke(cr);
	cairo_restore(cr);
}

/* The area between fn_lo and fn_hi of a run, filled. */
static void draw_band(cairo_t *cr, const struct panel *p, const struct sim_chart_run *r,
	value_fn lo, value_fn hi, struct rgb col)
{
	if (r->n_series == 0)
		return;
	cairo_save(cr);
	cairo_rectangle(cr, p->x0, p->y0, p->w, p->h);
	cairo_clip(cr);
	cairo_set_source_rgba(cr, col.r, col.g, col.b, 0.75);
	cairo_move_to(cr, px(p, 0), py(p, lo != NULL ? lo(&r->series[0]) : 0));
	for (size_t i = 0; i < r->n_series; i++)
		cairo_line_to(cr, px(p, (double)r->series[i].t_ms), py(p, hi(&r->series[i])));
	for (size_t i = r->n_series; i-- > 0;)
		cairo_line_to(cr, px(p, (double)r->series[i].t_ms),
			py(p, lo != NULL ? lo(&r->series[i]) : 0));
	cairo_close_path(cr);
	cairo_fill(cr);
	cairo_restore(cr);
}

/* One legend entry, right-aligned entries laid out leftwards from *x. */
static void legend(cairo_t *cr, const struct panel *p, double *x, const char *name, struct rgb col,
	bool dashed)
{
	static const double dash[] = {6, 4};
	cairo_text_extents_t ext;

	cairo_set_font_size(cr, 11);
	cairo_text_extents(cr, name, &ext);
	*x -= ext.width;
	set_col(cr, ink);
	cairo_move_to(cr, *x, p->y0 - 8);
	cairo_show_text(cr, name);
	cairo_save(cr);
	set_col(cr, col);
	cairo_set_line_width(cr, 3);
	cairo_set_dash(cr, dash, dashed ? 2 : 0, 0);
	cairo_move_to(cr, *x - 26, p->y0 - 12);
	cairo_line_to(cr, *x - 4, p->y0 - 12);
	cairo_stroke(cr);
	cairo_restore(cr);
	*x -= 44;
}

/* The largest value of fn over every run. */
static double series_max(const struct sim_chart_run *runs, size_t n_runs, value_fn fn)
{
	double m = 0;

	for (size_t k = 0; k < n_runs; k++) {
		for (size_t i = 0; i < runs[k].n_series; i++) {
			double v = fn(&runs[k].series[i]);

			if (v > m)
				m = v;
		}
	}
	return m;
}

/* Round a panel's top up to a whole tick. */
static double axis_top(double max)
{
	double step = nice_step(max > 0 ? max * 1.05 : 1);

	return ceil((max > 0 ? max * 1.05 : 1) / step) * step;
}

/* Everything, onto any surface. */
static void draw(cairo_t *cr, const char *title, const struct sim_chart_run *runs, size_t n_runs)
{
	const struct sim_chart_run *main_run = &runs[0];
	struct panel p = {
		LEFT, TOP, WIDTH - LEFT - RIGHT, PANEL_H, (double)main_run->duration_ms, 0};
	double x;

	set_col(cr, (struct rgb){1, 1, 1});
	cairo_paint(cr);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
	cairo_set_font_size(cr, 16);
	set_col(cr, ink);
	cairo_move_to(cr, LEFT, 28);
	cairo_show_text(cr, title);
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

	/* Backlog. */
	p.y_max = axis_top(series_max(runs, n_runs, v_backlog));
	draw_axes(cr, &p, "backlog (messages, most in each interval)", false);
	for (size_t k = 1; k < n_runs; k++)
		draw_line(cr, &p, &runs[k], v_backlog, baseline_cols[(k - 1) % 2], 1.5, true);
	draw_line(cr, &p, main_run, v_backlog, ink, 1.5, false);
	x = p.x0 + p.w;
	for (size_t k = n_runs; k-- > 1;)
		legend(cr, &p, &x, runs[k].name, baseline_cols[(k - 1) % 2], true);
	legend(cr, &p, &x, main_run->name, ink, false);

	/* Tasks. */
	p.y0 += PANEL_H + GAP;
	p.y_max = axis_top(series_max(runs, n_runs, v_total_tasks));
	draw_axes(cr, &p, "tasks (mean in each interval)", false);
	draw_band(cr, &p, main_run, NULL, v_local, local_col);
	draw_band(cr, &p, main_run, v_local, v_total_tasks, burst_col);
	for (size_t k = 1; k < n_runs; k++)
		draw_line(cr, &p, &runs[k], v_total_tasks, baseline_cols[(k - 1) % 2], 1.5, true);
	x = p.x0 + p.w;
	for (size_t k = n_runs; k-- > 1;)
		legend(cr, &p, &x, runs[k].name, baseline_cols[(k - 1) % 2], true);
	legend(cr, &p, &x, "Fargate (burst)", burst_col, false);
	legend(cr, &p, &x, "on-prem", local_col, false);

	/* Wait. */
	p.y0 += PANEL_H + GAP;
	p.y_max = axis_top(series_max(runs, n_runs, v_max));
	draw_axes(cr, &p, "message wait (s, of messages received in each interval)", true);
	draw_line(cr, &p, main_run, v_max, max_col, 1, false);
	for (size_t k = 1; k < n_runs; k++)
		draw_line(cr, &p, &runs[k], v_p95, baseline_cols[(k - 1) % 2], 1.5, true);
	draw_line(cr, &p, main_run, v_p95, p95_col, 1.5, false);
	x = p.x0 + p.w;
	for (size_t k = n_runs; k-- > 1;) {
		char name[64];

		snprintf(name, sizeof(name), "%s p95", runs[k].name);
		legend(cr, &p, &x, name, baseline_cols[(k - 1) % 2], true);
	}
	{
		char name[64];

		snprintf(name, sizeof(name), "%s max", main_run->name);
		legend(cr, &p, &x, name, max_col, false);
		snprintf(name, sizeof(name), "%s p95", main_run->name);
		legend(cr, &p, &x, name, p95_col, false);
	}
}

/* Whether path ends in ext (case-insensitive). */
static bool ends_with(const char *path, const char *ext)
{
	size_t n = strlen(path), m = strlen(ext);

	return n > m && strcasecmp(path + n - m, ext) == 0;
}

int chart_draw(const char *path, const char *title, const struct sim_chart_run *runs, size_t n_runs,
	char error[SIM_CHART_ERROR_MAX])
{
	bool svg = ends_with(path, ".svg");
	cairo_surface_t *surface;
	cairo_status_t status;
	cairo_t *cr;

	if (!svg && !ends_with(path, ".png")) {
		snprintf(error, SIM_CHART_ERROR_MAX, "%s: the report must be a .svg or .png file",
			path);
		return -EINVAL;
	}
	if (n_runs == 0 || runs[0].n_series == 0) {
		snprintf(error, SIM_CHART_ERROR_MAX, "%s: nothing to draw", path);
		return -EINVAL;
	}
	if (svg)
		surface = cairo_svg_surface_create(path, WIDTH, HEIGHT);
	else
		surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)WIDTH, (int)HEIGHT);
	cr = cairo_create(surface);
	draw(cr, title, runs, n_runs);
	status = cairo_status(cr);
	cairo_destroy(cr);
	if (status == CAIRO_STATUS_SUCCESS && !svg)
		status = cairo_surface_write_to_png(surface, path);
	cairo_surface_finish(surface);
	if (status == CAIRO_STATUS_SUCCESS)
		status = cairo_surface_status(surface);
	cairo_surface_destroy(surface);
	if (status != CAIRO_STATUS_SUCCESS) {
		snprintf(
			error, SIM_CHART_ERROR_MAX, "%s: %s", path, cairo_status_to_string(status));
		return -EIO;
	}
	return 0;
}

void chart_cleanup(void)
{
	cairo_debug_reset_static_data();
	FcFini();
}
