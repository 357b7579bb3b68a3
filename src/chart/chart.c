/*
 * qscale-chart: the program `qscale simulate --report FILE` runs to draw its
 * chart. It reads the runs that sim_chart_write encodes on its standard
 * input and draws them with cairo into the file named on its command line.
 * The drawing lives in its own executable so that the qscale binary, the
 * long-running daemon included, never maps cairo, fontconfig, freetype,
 * pixman, libpng or the X11 libraries they pull in.
 *
 * Exit status: 0 drawn, 1 cannot write the file, 2 bad arguments or input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chart_priv.h"
#include "qscale/buf.h"
#include "qscale/sim_chart.h"

/* Read all of fd into b (capped by b); 0 or a negative errno. */
static int read_all(int fd, struct buf *b)
{
	char chunk[65536];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (buf_append(b, chunk, (size_t)n) < 0)
			return -E2BIG;
	}
}

int main(int argc, char **argv)
{
	char error[SIM_CHART_ERROR_MAX];
	struct sim_chart chart = {0};
	struct buf in;
	int rc;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr,
			"usage: qscale-chart FILE.svg|FILE.png < runs\n"
			"Draws what `qscale simulate --report` sends it.\n");
		return 2;
	}
	buf_init(&in, SIM_CHART_INPUT_MAX);
	rc = read_all(STDIN_FILENO, &in);
	if (rc < 0) {
		fprintf(stderr, "qscale-chart: cannot read the runs: %s\n", strerror(-rc));
		buf_finish(&in);
		return 2;
	}
	rc = sim_chart_decode(buf_cstr(&in), in.len, &chart, error);
	buf_finish(&in);
	if (rc == 0)
		rc = chart_draw(argv[1], chart.title, chart.runs, chart.n_runs, error);
	sim_chart_finish(&chart);
	chart_cleanup();
	if (rc < 0) {
		fprintf(stderr, "%s\n", error);
		return rc == -EIO ? 1 : 2;
	}
	return 0;
}
