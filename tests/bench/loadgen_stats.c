/* loadgen: the latency histogram, per-second counts, progress lines and
 * the final report. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>

#include <event2/event.h>

#include "loadgen.h"

void
loadgen_record(struct lg *lg, struct lg_conn *c, uint64_t now)
{
	uint64_t lat = now > c->t_sched ? now - c->t_sched : 0;
	uint64_t b = lat / 100000u;
	uint64_t sec = (now - lg->t_start) / 1000000000u;

	if (b < LG_HIST_BUCKETS)
		lg->hist[b]++;
	else
		lg->hist_over++;
	lg->hist_n++;
	lg->lat_sum += lat;
	if (lat > lg->lat_max)
		lg->lat_max = lat;
	if (sec < LG_PER_SEC_MAX)
		lg->per_sec[sec]++;
}

static double
loadgen_pct(struct lg *lg, double q)
{
	unsigned long want, acc = 0;
	size_t i;

	if (lg->hist_n == 0)
		return 0;
	want = (unsigned long)((double)lg->hist_n * q + 0.999999);
	if (want == 0)
		want = 1;
	for (i = 0; i < LG_HIST_BUCKETS; i++) {
		acc += lg->hist[i];
		if (acc >= want) {
			double v = (double)(i + 1) / 10.0;
			double mx = (double)lg->lat_max / 1e6;

			return v < mx ? v : mx;
		}
	}
	return (double)lg->lat_max / 1e6;
}

/* CPU time of the process so far, in seconds. */
double
loadgen_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

void
loadgen_report(struct lg *lg)
{
	double el, cpu, mn = 0, mx = 0;
	unsigned long other = 0, ok = lg->by_status[202];
	size_t s, full;
	int i;

	cpu = loadgen_cpu();
	if (lg->o.idle > 0) {
		printf("loadgen: mode=idle target=%d established=%d failed=%d "
		    "dropped=%d alive=%d timeouts=%lu resumed=%lu connect_s=%.2f "
		    "cpu_s=%.2f\n", lg->n_conns, lg->connected, lg->conn_failed,
		    lg->dropped, lg->alive, lg->timeouts, lg->resumed,
		    lg->t_established ? (double)(lg->t_established - lg->t_start) / 1e9 : 0,
		    cpu);
		return;
	}
	el = lg->t_last > lg->t_start ? (double)(lg->t_last - lg->t_start) / 1e9 : 0;
	printf("loadgen: status");
	for (i = 0; i < 600; i++)
		if (lg->by_status[i] > 0) {
			printf(" %d=%lu", i, lg->by_status[i]);
			if (i != 202)
				other += lg->by_status[i];
		}
	printf("\n");
	/* whole seconds of the issuing period, for the sustained rate */
	full = lg->t_stop > lg->t_start ? (size_t)((lg->t_stop - lg->t_start) / 1000000000u) : 0;
	if (full > LG_PER_SEC_MAX)
		full = LG_PER_SEC_MAX;
	for (s = 0; s < full; s++) {
		if (s == 0 || (double)lg->per_sec[s] < mn)
			mn = (double)lg->per_sec[s];
		if ((double)lg->per_sec[s] > mx)
			mx = (double)lg->per_sec[s];
	}
	printf("loadgen: mode=load conns=%d rate=%.0f elapsed_s=%.2f sent=%lu "
	    "completed=%lu s202=%lu other=%lu errors=%lu timeouts=%lu "
	    "decl_per_s=%.0f min_1s=%.0f max_1s=%.0f p50_ms=%.1f p90_ms=%.1f "
	    "p99_ms=%.1f max_ms=%.1f mean_ms=%.2f exhausted=%d files_used=%zu "
	    "resumed=%lu reconnects=%lu conn_failed=%d cpu_s=%.2f run_cpu_s=%.2f\n",
	    lg->n_conns, lg->o.rate, el, lg->sent, lg->done, ok, other, lg->errors,
	    lg->timeouts, el > 0 ? (double)ok / el : 0, mn, mx,
	    loadgen_pct(lg, 0.50), loadgen_pct(lg, 0.90), loadgen_pct(lg, 0.99),
	    (double)lg->lat_max / 1e6,
	    lg->hist_n ? (double)lg->lat_sum / (double)lg->hist_n / 1e6 : 0,
	    lg->exhausted, lg->next_file - (size_t)lg->o.first, lg->resumed,
	    lg->reconnects, lg->conn_failed, cpu, cpu - lg->cpu_start);
}

void
loadgen_on_progress(evutil_socket_t fd, short what, void *arg)
{
	struct lg *lg = arg;
	unsigned long ok = lg->by_status[202];

	if (lg->o.idle > 0)
		fprintf(stderr, "loadgen: opened %d held %d failed %d dropped %d\n",
		    lg->next_open, lg->held, lg->conn_failed, lg->dropped);
	else if (lg->t_start != 0)
		fprintf(stderr, "loadgen: t=%.0fs sent=%lu 202=%lu other=%lu "
		    "inflight=%d last_1s=%lu\n",
		    (double)(loadgen_now() - lg->t_start) / 1e9, lg->sent, ok,
		    lg->done - ok, lg->busy, ok - lg->prog_last);
	lg->prog_last = ok;
}
