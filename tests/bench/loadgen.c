/* loadgen: drives the daemon's POST /v1/declarations over mutual TLS.
 *
 *   loadgen --port P --cert C --key K --cacert CA --dir DIR
 *           [--host H] [--conns N] [--rate R] [--seconds S] [--count N]
 *           [--first I] [--grace S] [--progress] [--no-resume]
 *           [--preload-mb M]
 *   loadgen --idle N --port P --cert C --key K --cacert CA [--seconds S]
 *           [--handshakes H] [--ready-file F] [--idle-path PATH]
 *
 * Load mode: N keep-alive connections, one request in flight on each (no
 * pipelining), each file of DIR (sorted, *.xml, from index --first) sent at
 * most once, because the daemon stores each LRN once.  --rate 0 sends as
 * fast as the daemon answers; --rate R schedules request i at start + i/R
 * and measures its latency from that scheduled time, so a slow answer
 * cannot hide the requests it delayed.  Latency is kept for 202s in 0.1 ms
 * buckets.  The run stops after --seconds, after --count requests or when
 * the files run out, then waits up to --grace seconds for answers.  The
 * files the run may use are read into memory first (loadgen_preload).
 *
 * Idle mode: opens N connections (--handshakes at a time), sends one GET on
 * each so that it is an established HTTP keep-alive connection, holds them
 * all for --seconds, then sends one more GET on each and counts answers.
 *
 * The last stdout line is "loadgen: mode=... key=value ..." for scripts.
 *
 * Files: loadgen.c (main, options, the files, run control, timers),
 * loadgen_conn.c (TLS connections, HTTP requests and responses),
 * loadgen_stats.c (latency histogram, progress and report), loadgen.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "loadgen.h"

void
loadgen_finish(struct lg *lg)
{
	if (lg->finished)
		return;
	lg->finished = 1;
	event_base_loopbreak(lg->base);
}

void
loadgen_show(struct lg *lg, const char *what, const char *detail, size_t n)
{
	if (lg->shown >= LG_ERR_SHOW)
		return;
	lg->shown++;
	fprintf(stderr, "loadgen: %s%s%.*s\n", what, n ? ": " : "", (int)n,
	    detail ? detail : "");
}

/* ---- files ---- */

static int
loadgen_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
loadgen_list(struct lg *lg)
{
	DIR *d;
	struct dirent *de;
	size_t cap = 0, l;
	char **nv;

	if ((d = opendir(lg->o.dir)) == NULL) {
		fprintf(stderr, "loadgen: %s: %s\n", lg->o.dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l < 5 || strcmp(de->d_name + l - 4, ".xml") != 0)
			continue;
		if (lg->n_files == LG_FILES_MAX)
			break;
		if (lg->n_files == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((nv = realloc(lg->files, cap * sizeof(*nv))) == NULL)
				goto fail;
			lg->files = nv;
		}
		if ((lg->files[lg->n_files] = strdup(de->d_name)) == NULL)
			goto fail;
		lg->n_files++;
	}
	closedir(d);
	qsort(lg->files, lg->n_files, sizeof(*lg->files), loadgen_cmp);
	return 0;
fail:
	closedir(d);
	fprintf(stderr, "loadgen: out of memory listing %s\n", lg->o.dir);
	return -1;
}

/* Reads file i into lg->fbuf; returns its length or -1. */
long
loadgen_read(struct lg *lg, size_t i)
{
	char path[4096];
	struct stat st;
	size_t n = 0;
	ssize_t r;
	char *nb;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", lg->o.dir, lg->files[i]);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		goto fail;
	if (fstat(fd, &st) != 0 || st.st_size <= 0 || (size_t)st.st_size > LG_FILE_MAX) {
		close(fd);
		goto fail;
	}
	if ((size_t)st.st_size > lg->fcap) {
		if ((nb = realloc(lg->fbuf, (size_t)st.st_size)) == NULL) {
			close(fd);
			goto fail;
		}
		lg->fbuf = nb;
		lg->fcap = (size_t)st.st_size;
	}
	while (n < (size_t)st.st_size &&
	    (r = read(fd, lg->fbuf + n, (size_t)st.st_size - n)) > 0)
		n += (size_t)r;
	close(fd);
	if (n != (size_t)st.st_size)
		goto fail;
	return (long)n;
fail:
	fprintf(stderr, "loadgen: cannot read %s\n", path);
	return -1;
}

/* Reads file i and frames it as a whole request (head and body in one
 * malloc'd piece) in r; 0, or -1 when it cannot be read. */
int
loadgen_frame(struct lg *lg, size_t i, struct lg_req *r)
{
	char head[LG_REQ_HEAD_MAX];
	long len;
	int hl;

	if ((len = loadgen_read(lg, i)) < 0)
		return -1;
	hl = snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
	    "Content-Type: application/xml\r\nContent-Length: %ld\r\n\r\n",
	    lg->o.path, lg->o.host, lg->o.port, len);
	if (hl < 0 || (size_t)hl >= sizeof(head) ||
	    (r->p = malloc((size_t)hl + (size_t)len)) == NULL)
		return -1;
	memcpy(r->p, head, (size_t)hl);
	memcpy(r->p + hl, lg->fbuf, (size_t)len);
	r->n = (size_t)hl + (size_t)len;
	return 0;
}

/* Reads the files the run may send and frames each as a whole request
 * before the run: during it, a request is then one reference added to the
 * connection's output, with no open(2), read(2) or copy per request, and no
 * disk reads competing with PostgreSQL's WAL flushes when the files are not
 * all in the page cache.  At most --preload-mb; files beyond are read when
 * sent, as without it.  How many the run may use: rate x seconds at a fixed
 * rate, LG_PRELOAD_RATE x seconds at full speed. */
static int
loadgen_preload(struct lg *lg)
{
	double per_s = lg->o.rate > 0 ? lg->o.rate : LG_PRELOAD_RATE;
	size_t want = lg->end_file - lg->next_file, cap, k;
	uint64_t t0 = loadgen_now();

	if (lg->o.preload_mb == 0)
		return 0;
	cap = (size_t)lg->o.preload_mb << 20;
	if ((double)want > per_s * lg->o.seconds + lg->o.conns)
		want = (size_t)(per_s * lg->o.seconds) + (size_t)lg->o.conns;
	if ((lg->pre = calloc(want, sizeof(*lg->pre))) == NULL)
		return -1;
	lg->pre_first = lg->next_file;
	for (k = 0; k < want && lg->pre_bytes < cap; k++) {
		if (loadgen_frame(lg, lg->pre_first + k, &lg->pre[k]) != 0)
			break; /* read when sent, and counted as an error then */
		lg->pre_bytes += lg->pre[k].n;
		lg->pre_n++;
	}
	fprintf(stderr, "loadgen: %zu requests (%.0f MB) read before the run in %.1f s\n",
	    lg->pre_n, (double)lg->pre_bytes / 1048576.0,
	    (double)(loadgen_now() - t0) / 1e9);
	return 0;
}

/* ---- run control ---- */

void
loadgen_stop_issuing(struct lg *lg)
{
	if (!lg->running)
		return;
	lg->running = 0;
	lg->t_stop = loadgen_now();
	if (lg->busy == 0) {
		loadgen_finish(lg);
		return;
	}
	{
		struct timeval tv = { (time_t)lg->o.grace,
		    (suseconds_t)((lg->o.grace - (double)(time_t)lg->o.grace) * 1e6) };

		evtimer_add(lg->grace_ev, &tv);
	}
}

static unsigned long long
loadgen_due(struct lg *lg, uint64_t now)
{
	return (unsigned long long)((double)(now - lg->t_start) * lg->o.rate / 1e9) + 1;
}

static uint64_t
loadgen_sched(struct lg *lg, unsigned long long k)
{
	return lg->t_start + (uint64_t)((double)k * 1e9 / lg->o.rate);
}

/* c has nothing to do: give it work or put it on the idle stack. */
void
loadgen_ready(struct lg *lg, struct lg_conn *c)
{
	c->st = CS_IDLE;
	if (lg->running) {
		if (lg->o.rate <= 0) {
			loadgen_issue(lg, c, loadgen_now());
			return;
		}
		if (lg->issued < loadgen_due(lg, loadgen_now())) {
			if (loadgen_issue(lg, c, loadgen_sched(lg, lg->issued)) == 0)
				lg->issued++;
			return;
		}
	}
	if (!c->in_idle) {
		c->in_idle = 1;
		c->next_idle = lg->idle_head;
		lg->idle_head = c;
	}
}

static struct lg_conn *
loadgen_pop_idle(struct lg *lg)
{
	struct lg_conn *c;

	while ((c = lg->idle_head) != NULL) {
		lg->idle_head = c->next_idle;
		c->in_idle = 0;
		if (c->st == CS_IDLE)
			return c;
	}
	return NULL;
}

static void
loadgen_tick(evutil_socket_t fd, short what, void *arg)
{
	struct lg *lg = arg;
	unsigned long long due;
	struct lg_conn *c;

	if (!lg->running)
		return;
	due = loadgen_due(lg, loadgen_now());
	while (lg->running && lg->issued < due && (c = loadgen_pop_idle(lg)) != NULL)
		if (loadgen_issue(lg, c, loadgen_sched(lg, lg->issued)) == 0)
			lg->issued++;
}

static void
loadgen_all_held(struct lg *lg)
{
	struct timeval tv;
	FILE *f;

	lg->t_established = loadgen_now();
	printf("loadgen: idle: %d of %d connections established in %.2f s "
	    "(%d failed, %lu resumed)\n", lg->held, lg->n_conns,
	    (double)(lg->t_established - lg->t_start) / 1e9, lg->conn_failed,
	    lg->resumed);
	fflush(stdout);
	if (lg->o.ready_file != NULL && (f = fopen(lg->o.ready_file, "w")) != NULL) {
		fprintf(f, "%d\n", lg->held);
		fclose(f);
	}
	tv.tv_sec = (time_t)lg->o.seconds;
	tv.tv_usec = (suseconds_t)((lg->o.seconds - (double)tv.tv_sec) * 1e6);
	evtimer_add(lg->stop_ev, &tv);
}

/* Every connection has either failed or got its answer in idle mode. */
void
loadgen_idle_check(struct lg *lg)
{
	if (lg->t_established == 0 && lg->next_open == lg->n_conns &&
	    lg->opening == 0 && lg->busy == 0)
		loadgen_all_held(lg);
}

/* ---- timers ---- */

static void
loadgen_on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct lg *lg = arg;
	struct timeval tv = { 60, 0 };
	int i;

	if (lg->o.idle <= 0) {
		loadgen_stop_issuing(lg);
		return;
	}
	/* idle mode: the hold is over; probe every held connection */
	lg->probing = 1;
	lg->probe_left = 0;
	for (i = 0; i < lg->n_conns; i++) {
		struct lg_conn *c = &lg->conns[i];

		if (c->st != CS_HELD)
			continue;
		if (loadgen_send_get(lg, c, lg->o.idle_path) == 0) {
			c->is_probe = 1;
			lg->probe_left++;
		}
	}
	if (lg->probe_left == 0)
		loadgen_finish(lg);
	else
		evtimer_add(lg->grace_ev, &tv);
}

static void
loadgen_on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct lg *lg = arg;

	lg->timeouts = (unsigned long)lg->busy;
	loadgen_finish(lg);
}

/* ---- setup ---- */

static void
loadgen_usage(void)
{
	fprintf(stderr,
	    "usage: loadgen --port P --cert C --key K --cacert CA --dir DIR\n"
	    "               [--host 127.0.0.1] [--conns 64] [--rate 0] [--seconds 60]\n"
	    "               [--count N] [--first I] [--grace 30] [--progress]\n"
	    "               [--no-resume] [--path /v1/declarations] [--preload-mb 4096]\n"
	    "       loadgen --idle N --port P --cert C --key K --cacert CA\n"
	    "               [--seconds 30] [--handshakes 200] [--ready-file F]\n"
	    "               [--idle-path /v1/declarations]\n");
	exit(2);
}

static double
loadgen_num(const char *s, double lo, double hi, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "loadgen: bad %s '%s' (%g..%g)\n", what, s, lo, hi);
		exit(2);
	}
	return v;
}

static void
loadgen_args(struct lg_opts *o, int argc, char **argv)
{
	enum { OPT_PORT = 256, OPT_CERT, OPT_KEY, OPT_CA, OPT_DIR, OPT_HOST, OPT_CONNS, OPT_RATE,
		OPT_SEC, OPT_COUNT, OPT_FIRST, OPT_GRACE, OPT_PROG, OPT_NORES, OPT_PATH, OPT_IDLE,
		OPT_HS, OPT_READY, OPT_IPATH, OPT_PRE };
	static const struct option lo[] = {
		{ "port", required_argument, NULL, OPT_PORT },
		{ "cert", required_argument, NULL, OPT_CERT },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "cacert", required_argument, NULL, OPT_CA },
		{ "dir", required_argument, NULL, OPT_DIR },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "conns", required_argument, NULL, OPT_CONNS },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "seconds", required_argument, NULL, OPT_SEC },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "first", required_argument, NULL, OPT_FIRST },
		{ "grace", required_argument, NULL, OPT_GRACE },
		{ "progress", no_argument, NULL, OPT_PROG },
		{ "no-resume", no_argument, NULL, OPT_NORES },
		{ "path", required_argument, NULL, OPT_PATH },
		{ "idle", required_argument, NULL, OPT_IDLE },
		{ "handshakes", required_argument, NULL, OPT_HS },
		{ "ready-file", required_argument, NULL, OPT_READY },
		{ "idle-path", required_argument, NULL, OPT_IPATH },
		{ "preload-mb", required_argument, NULL, OPT_PRE },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	o->host = "127.0.0.1";
	o->path = "/v1/declarations";
	o->idle_path = "/v1/declarations";
	o->conns = 64;
	o->seconds = 60;
	o->grace = 30;
	o->handshakes = 200;
	o->resume = 1;
	o->count = -1;
	o->preload_mb = 4096;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case OPT_PORT: o->port = (int)loadgen_num(optarg, 1, 65535, "port"); break;
		case OPT_CERT: o->cert = optarg; break;
		case OPT_KEY: o->key = optarg; break;
		case OPT_CA: o->cacert = optarg; break;
		case OPT_DIR: o->dir = optarg; break;
		case OPT_HOST: o->host = optarg; break;
		case OPT_CONNS: o->conns = (int)loadgen_num(optarg, 1, 20000, "conns"); break;
		case OPT_RATE: o->rate = loadgen_num(optarg, 0, 1e6, "rate"); break;
		case OPT_SEC: o->seconds = loadgen_num(optarg, 0.1, LG_MAX_SECONDS, "seconds"); break;
		case OPT_COUNT: o->count = (long)loadgen_num(optarg, 1, 1e9, "count"); break;
		case OPT_FIRST: o->first = (long)loadgen_num(optarg, 0, 1e9, "first"); break;
		case OPT_GRACE: o->grace = loadgen_num(optarg, 0.1, 3600, "grace"); break;
		case OPT_PROG: o->progress = 1; break;
		case OPT_NORES: o->resume = 0; break;
		case OPT_PATH: o->path = optarg; break;
		case OPT_IDLE: o->idle = (int)loadgen_num(optarg, 1, LG_MAX_CONNS, "idle"); break;
		case OPT_HS: o->handshakes = (int)loadgen_num(optarg, 1, 10000, "handshakes"); break;
		case OPT_READY: o->ready_file = optarg; break;
		case OPT_IPATH: o->idle_path = optarg; break;
		case OPT_PRE: o->preload_mb = (long)loadgen_num(optarg, 0, 1 << 20, "preload-mb"); break;
		default: loadgen_usage();
		}
	}
	if (optind != argc || o->port == 0 || o->cert == NULL || o->key == NULL ||
	    o->cacert == NULL || (o->idle == 0 && o->dir == NULL))
		loadgen_usage();
}

/* Raises the open file limit to what n connections need. */
static int
loadgen_nofile(int n)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)n + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ?
		    want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < want) {
		fprintf(stderr, "loadgen: %d connections need %lu open files, the "
		    "limit is %lu (raise it with ulimit -n)\n", n,
		    (unsigned long)want, (unsigned long)rl.rlim_cur);
		return -1;
	}
	return 0;
}

static void
loadgen_free(struct lg *lg)
{
	size_t i;
	int k;

	for (k = 0; lg->conns != NULL && k < lg->n_conns; k++)
		if (lg->conns[k].bev != NULL)
			bufferevent_free(lg->conns[k].bev);
	free(lg->conns);
	if (lg->tick != NULL)
		event_free(lg->tick);
	if (lg->stop_ev != NULL)
		event_free(lg->stop_ev);
	if (lg->grace_ev != NULL)
		event_free(lg->grace_ev);
	if (lg->progress_ev != NULL)
		event_free(lg->progress_ev);
	if (lg->base != NULL)
		event_base_free(lg->base);
	if (lg->sess != NULL)
		SSL_SESSION_free(lg->sess);
	SSL_CTX_free(lg->ctx);
	for (i = 0; i < lg->pre_n; i++)
		free(lg->pre[i].p);
	free(lg->pre);
	for (i = 0; i < lg->n_files; i++)
		free(lg->files[i]);
	free(lg->files);
	free(lg->fbuf);
	free(lg->hist);
	free(lg);
}

int
main(int argc, char **argv)
{
	struct lg *lg;
	struct timeval one_ms = { 0, 1000 }, one_s = { 1, 0 }, tv;
	int rc = 1;

	if ((lg = calloc(1, sizeof(*lg))) == NULL)
		return 1;
	loadgen_args(&lg->o, argc, argv);
	lg->n_conns = lg->o.idle > 0 ? lg->o.idle : lg->o.conns;
	if (lg->o.idle == 0)
		lg->o.handshakes = lg->n_conns;
	if (loadgen_nofile(lg->n_conns) != 0)
		goto done;
	lg->sa.sin_family = AF_INET;
	lg->sa.sin_port = htons((uint16_t)lg->o.port);
	if (inet_pton(AF_INET, lg->o.host, &lg->sa.sin_addr) != 1) {
		fprintf(stderr, "loadgen: --host must be an IPv4 address\n");
		goto done;
	}
	if (lg->o.idle == 0) {
		if (loadgen_list(lg) != 0)
			goto done;
		lg->next_file = (size_t)lg->o.first < lg->n_files ? (size_t)lg->o.first : lg->n_files;
		lg->end_file = lg->o.count > 0 && lg->next_file + (size_t)lg->o.count < lg->n_files ?
		    lg->next_file + (size_t)lg->o.count : lg->n_files;
		if (lg->next_file == lg->end_file) {
			fprintf(stderr, "loadgen: no files to send in %s (from %ld)\n",
			    lg->o.dir, lg->o.first);
			goto done;
		}
		if ((lg->hist = calloc(LG_HIST_BUCKETS, sizeof(*lg->hist))) == NULL ||
		    loadgen_preload(lg) != 0) {
			fprintf(stderr, "loadgen: out of memory\n");
			goto done;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if ((lg->ctx = loadgen_tls(lg)) == NULL)
		goto done;
	if ((lg->base = event_base_new()) == NULL ||
	    (lg->conns = calloc((size_t)lg->n_conns, sizeof(*lg->conns))) == NULL ||
	    (lg->tick = event_new(lg->base, -1, EV_PERSIST, loadgen_tick, lg)) == NULL ||
	    (lg->stop_ev = evtimer_new(lg->base, loadgen_on_stop, lg)) == NULL ||
	    (lg->grace_ev = evtimer_new(lg->base, loadgen_on_grace, lg)) == NULL ||
	    (lg->progress_ev = event_new(lg->base, -1, EV_PERSIST,
	    loadgen_on_progress, lg)) == NULL)
		goto done;
	if (lg->o.progress)
		event_add(lg->progress_ev, &one_s);

	if (lg->o.idle > 0) {
		lg->t_start = loadgen_now();
		loadgen_open_more(lg);
		event_base_dispatch(lg->base);
		loadgen_report(lg);
		rc = lg->alive == lg->n_conns ? 0 : 3;
		goto done;
	}

	/* connect everything first (handshakes are not part of the run) */
	loadgen_open_more(lg);
	{
		uint64_t deadline = loadgen_now() + 30000000000u;

		while (lg->opening > 0 && loadgen_now() < deadline) {
			event_base_loopexit(lg->base, &one_s);
			event_base_dispatch(lg->base);
		}
	}
	if (lg->connected == 0) {
		fprintf(stderr, "loadgen: no connection could be established\n");
		loadgen_report(lg);
		goto done;
	}
	lg->t_start = loadgen_now();
	lg->cpu_start = loadgen_cpu();
	lg->running = 1;
	tv.tv_sec = (time_t)lg->o.seconds;
	tv.tv_usec = (suseconds_t)((lg->o.seconds - (double)tv.tv_sec) * 1e6);
	evtimer_add(lg->stop_ev, &tv);
	{
		struct lg_conn *c;

		if (lg->o.rate > 0) {
			event_add(lg->tick, &one_ms);
			loadgen_tick(-1, 0, lg);
		} else {
			while (lg->running && (c = loadgen_pop_idle(lg)) != NULL)
				loadgen_issue(lg, c, loadgen_now());
		}
	}
	event_base_dispatch(lg->base);
	if (lg->running)
		loadgen_stop_issuing(lg);
	loadgen_report(lg);
	rc = lg->by_status[202] > 0 ? 0 : 3;
done:
	fflush(stdout);
	loadgen_free(lg);
	return rc;
}
