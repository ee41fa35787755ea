/* loadgen: drives the daemon's POST /v1/declarations over mutual TLS.
 *
 *   loadgen --port P --cert C --key K --cacert CA --dir DIR
 *           [--host H] [--conns N] [--rate R] [--seconds S] [--count N]
 *           [--first I] [--grace S] [--progress] [--no-resume]
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
 * the files run out, then waits up to --grace seconds for answers.
 *
 * Idle mode: opens N connections (--handshakes at a time), sends one GET on
 * each so that it is an established HTTP keep-alive connection, holds them
 * all for --seconds, then sends one more GET on each and counts answers.
 *
 * The last stdout line is "loadgen: mode=... key=value ..." for scripts. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define LG_HIST_BUCKETS 600000   /* 0.1 ms each: up to 60 s, then overflow */
#define LG_MAX_CONNS 100000
#define LG_MAX_SECONDS 86400
#define LG_PER_SEC_MAX 3600      /* per-second counts kept for the first hour */
#define LG_HDR_MAX 65536
#define LG_FILE_MAX (64u << 20)
#define LG_FILES_MAX 10000000
#define LG_ERR_SHOW 3            /* non-202 answers and errors printed */

enum lg_state { CS_NEW, CS_CONNECTING, CS_IDLE, CS_BUSY, CS_HELD, CS_CLOSED };

struct lg;

struct lg_conn {
	struct lg *lg;
	struct bufferevent *bev;
	enum lg_state st;
	int in_idle;            /* on the idle stack */
	int hdr_done, status, close_after, is_probe;
	size_t body_left;
	uint64_t t_sched, t_sent;
	char body[200];          /* start of a non-202 body, for the report */
	size_t body_n;
	struct lg_conn *next_idle;
};

struct lg_opts {
	const char *host, *cert, *key, *cacert, *dir, *path, *idle_path;
	const char *ready_file;
	int port, conns, idle, handshakes, resume, progress;
	double rate, seconds, grace;
	long count, first;
};

struct lg {
	struct lg_opts o;
	struct event_base *base;
	SSL_CTX *ctx;
	SSL_SESSION *sess;
	struct sockaddr_in sa;
	char **files;
	size_t n_files, next_file, end_file;
	char *fbuf;
	size_t fcap;
	struct lg_conn *conns;
	int n_conns, next_open, opening, connected, conn_failed;
	struct lg_conn *idle_head;
	int running, finished, exhausted, busy;
	uint64_t t_start, t_stop, t_last;
	unsigned long long issued;
	unsigned long sent, done, errors, timeouts, reconnects, resumed, shown;
	unsigned long by_status[600];
	unsigned long per_sec[LG_PER_SEC_MAX];
	uint32_t *hist;
	unsigned long hist_n, hist_over;
	uint64_t lat_max, lat_sum;
	/* idle mode */
	int held, dropped, alive, probe_left, probing;
	uint64_t t_established;
	struct event *tick, *stop_ev, *grace_ev, *progress_ev;
	unsigned long prog_last;
};

static uint64_t
loadgen_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void loadgen_open(struct lg *lg, struct lg_conn *c);
static void loadgen_ready(struct lg *lg, struct lg_conn *c);

static void
loadgen_finish(struct lg *lg)
{
	if (lg->finished)
		return;
	lg->finished = 1;
	event_base_loopbreak(lg->base);
}

static void
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
static long
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

/* ---- requests ---- */

static void
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

static int
loadgen_send_get(struct lg *lg, struct lg_conn *c, const char *path)
{
	if (evbuffer_add_printf(bufferevent_get_output(c->bev),
	    "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path, lg->o.host,
	    lg->o.port) < 0)
		return -1;
	c->st = CS_BUSY;
	c->hdr_done = 0;
	c->t_sched = c->t_sent = loadgen_now();
	lg->busy++;
	return 0;
}

/* Sends the next file on c, scheduled at sched; -1 when none is left. */
static int
loadgen_issue(struct lg *lg, struct lg_conn *c, uint64_t sched)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	long len;
	size_t i;

	for (len = -1; len < 0; lg->errors++) {
		if (lg->next_file >= lg->end_file) {
			lg->exhausted = 1;
			loadgen_stop_issuing(lg);
			return -1;
		}
		i = lg->next_file++;
		if ((len = loadgen_read(lg, i)) >= 0)
			break;
	}
	if (evbuffer_add_printf(out, "POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
	    "Content-Type: application/xml\r\nContent-Length: %ld\r\n\r\n",
	    lg->o.path, lg->o.host, lg->o.port, len) < 0 ||
	    evbuffer_add(out, lg->fbuf, (size_t)len) != 0) {
		fprintf(stderr, "loadgen: out of memory\n");
		exit(1);
	}
	c->st = CS_BUSY;
	c->hdr_done = 0;
	c->is_probe = 0;
	c->t_sched = sched;
	c->t_sent = loadgen_now();
	lg->sent++;
	lg->busy++;
	return 0;
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
static void
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

/* ---- connections ---- */

static void
loadgen_close(struct lg *lg, struct lg_conn *c)
{
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	c->bev = NULL;
	if (c->st == CS_BUSY)
		lg->busy--;
	c->st = CS_CLOSED;
}

static void
loadgen_open_more(struct lg *lg)
{
	while (lg->next_open < lg->n_conns && lg->opening < lg->o.handshakes)
		loadgen_open(lg, &lg->conns[lg->next_open++]);
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
static void
loadgen_idle_check(struct lg *lg)
{
	if (lg->t_established == 0 && lg->next_open == lg->n_conns &&
	    lg->opening == 0 && lg->busy == 0)
		loadgen_all_held(lg);
}

static void
loadgen_complete(struct lg *lg, struct lg_conn *c)
{
	uint64_t now = loadgen_now();
	int st = c->status;

	lg->busy--;
	c->st = CS_IDLE;
	if (lg->o.idle > 0) {
		if (c->is_probe) {
			lg->alive++;
			if (--lg->probe_left == 0)
				loadgen_finish(lg);
		} else {
			lg->held++;
		}
		c->st = CS_HELD;
		if (c->close_after) {
			loadgen_close(lg, c);
			lg->held--;
			lg->dropped++;
		}
		loadgen_idle_check(lg);
		return;
	}
	lg->done++;
	lg->t_last = now;
	lg->by_status[st >= 100 && st < 600 ? st : 0]++;
	if (st == 202)
		loadgen_record(lg, c, now);
	else {
		char what[32];

		snprintf(what, sizeof(what), "HTTP %d", st);
		loadgen_show(lg, what, c->body, c->body_n);
	}
	if (c->close_after) {
		loadgen_close(lg, c);
		if (lg->running) {
			lg->reconnects++;
			loadgen_open(lg, c);
		}
	} else {
		loadgen_ready(lg, c);
	}
	if (!lg->running && lg->busy == 0)
		loadgen_finish(lg);
}

/* Parses a response head; 0 or -1. */
static int
loadgen_head(struct lg_conn *c, const char *h, size_t n)
{
	const char *p = h, *end = h + n, *eol;
	int have_len = 0, st = 0;

	c->close_after = 0;
	c->body_left = 0;
	if (n < 12 || strncmp(h, "HTTP/1.", 7) != 0)
		return -1;
	for (p = h + 9; p < h + 12; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		st = st * 10 + (*p - '0');
	}
	c->status = st;
	for (p = h; p < end; p = eol + 2) {
		if ((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL)
			break;
		if ((size_t)(eol - p) > 15 && strncasecmp(p, "Content-Length:", 15) == 0) {
			c->body_left = strtoul(p + 15, NULL, 10);
			have_len = 1;
		} else if ((size_t)(eol - p) > 11 && strncasecmp(p, "Connection:", 11) == 0 &&
		    memmem(p, (size_t)(eol - p), "close", 5) != NULL) {
			c->close_after = 1;
		} else if ((size_t)(eol - p) > 18 &&
		    strncasecmp(p, "Transfer-Encoding:", 18) == 0) {
			return -1; /* not produced by the daemon; not supported */
		}
	}
	if (!have_len && st != 204 && st != 304 && st >= 200)
		return -1;
	return 0;
}

static void
loadgen_lost(struct lg *lg, struct lg_conn *c, const char *why)
{
	enum lg_state was = c->st;

	if (was == CS_CONNECTING) {
		lg->opening--;
		lg->conn_failed++;
		loadgen_show(lg, "connect failed", why, strlen(why));
	} else if (was == CS_BUSY) {
		lg->errors++;
		loadgen_show(lg, "connection lost with a request in flight", why,
		    strlen(why));
		if (c->is_probe && --lg->probe_left == 0)
			loadgen_finish(lg);
	} else if (was == CS_HELD) {
		lg->dropped++;
		lg->held--;
	}
	loadgen_close(lg, c);
	if (lg->o.idle > 0) {
		loadgen_open_more(lg);
		loadgen_idle_check(lg);
		return;
	}
	if (was != CS_CONNECTING && lg->running) {
		lg->reconnects++;
		loadgen_open(lg, c);
	} else {
		loadgen_open_more(lg);
	}
	if (!lg->running && lg->t_start != 0 && lg->busy == 0)
		loadgen_finish(lg);
}

static void
loadgen_on_read(struct bufferevent *bev, void *arg)
{
	struct lg_conn *c = arg;
	struct lg *lg = c->lg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr p;
	size_t hl, take, avail;

	while (c->st == CS_BUSY && (avail = evbuffer_get_length(in)) > 0) {
		if (!c->hdr_done) {
			p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
			if (p.pos < 0) {
				if (avail > LG_HDR_MAX)
					loadgen_lost(lg, c, "response head too long");
				return;
			}
			hl = (size_t)p.pos + 4;
			if (loadgen_head(c, (const char *)evbuffer_pullup(in,
			    (ev_ssize_t)hl), hl) != 0) {
				loadgen_lost(lg, c, "bad response head");
				return;
			}
			evbuffer_drain(in, hl);
			c->hdr_done = 1;
			c->body_n = 0;
			continue;
		}
		take = avail < c->body_left ? avail : c->body_left;
		if (take > 0) {
			if (c->status != 202 && c->body_n < sizeof(c->body))
				c->body_n += (size_t)evbuffer_copyout(in, c->body + c->body_n,
				    sizeof(c->body) - c->body_n < take ?
				    sizeof(c->body) - c->body_n : take);
			evbuffer_drain(in, take);
			c->body_left -= take;
		}
		if (c->body_left > 0)
			return;
		loadgen_complete(lg, c);
		if (c->bev != bev)
			return; /* closed */
	}
	if (c->st == CS_BUSY && c->hdr_done && c->body_left == 0)
		loadgen_complete(lg, c);
}

static void
loadgen_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct lg_conn *c = arg;
	struct lg *lg = c->lg;
	char why[256];
	unsigned long se;
	socklen_t sl;
	int soerr;

	if (what & BEV_EVENT_CONNECTED) {
		SSL *ssl = bufferevent_openssl_get_ssl(bev);
		int one = 1;

		setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
		if (ssl != NULL && SSL_session_reused(ssl))
			lg->resumed++;
		lg->opening--;
		lg->connected++;
		c->st = CS_IDLE;
		if (lg->o.idle > 0) {
			if (loadgen_send_get(lg, c, lg->o.idle_path) != 0)
				loadgen_lost(lg, c, "cannot send");
		} else {
			loadgen_ready(lg, c);
		}
		loadgen_open_more(lg);
		return;
	}
	se = bufferevent_get_openssl_error(bev);
	soerr = 0;
	sl = sizeof(soerr);
	getsockopt(bufferevent_getfd(bev), SOL_SOCKET, SO_ERROR, &soerr, &sl);
	if (se != 0 && ERR_GET_LIB(se) != 0)
		ERR_error_string_n(se, why, sizeof(why));
	else if (soerr != 0)
		snprintf(why, sizeof(why), "%s", strerror(soerr));
	else if (c->st == CS_CONNECTING)
		snprintf(why, sizeof(why), "refused, or closed during the handshake");
	else
		snprintf(why, sizeof(why), "closed by the server");
	loadgen_lost(lg, c, why);
}

static int
loadgen_new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct lg *lg = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

	if (!lg->o.resume)
		return 0;
	if (lg->sess != NULL)
		SSL_SESSION_free(lg->sess);
	lg->sess = sess;
	return 1; /* we keep the reference */
}

static void
loadgen_open(struct lg *lg, struct lg_conn *c)
{
	SSL *ssl;

	c->lg = lg;
	c->hdr_done = 0;
	if ((ssl = SSL_new(lg->ctx)) == NULL)
		goto fail;
	if (lg->sess != NULL)
		SSL_set_session(ssl, lg->sess);
	c->bev = bufferevent_openssl_socket_new(lg->base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		SSL_free(ssl);
		goto fail;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, loadgen_on_read, NULL, loadgen_on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->st = CS_CONNECTING;
	lg->opening++;
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&lg->sa,
	    sizeof(lg->sa)) != 0) {
		loadgen_lost(lg, c, "connect() failed");
		return;
	}
	return;
fail:
	lg->conn_failed++;
	c->st = CS_CLOSED;
	loadgen_show(lg, "cannot create a connection", "", 0);
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

static void
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

/* ---- report ---- */

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

static void
loadgen_report(struct lg *lg)
{
	struct rusage ru;
	double el, cpu, mn = 0, mx = 0;
	unsigned long other = 0, ok = lg->by_status[202];
	size_t s, full;
	int i;

	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
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
	    "resumed=%lu reconnects=%lu conn_failed=%d cpu_s=%.2f\n",
	    lg->n_conns, lg->o.rate, el, lg->sent, lg->done, ok, other, lg->errors,
	    lg->timeouts, el > 0 ? (double)ok / el : 0, mn, mx,
	    loadgen_pct(lg, 0.50), loadgen_pct(lg, 0.90), loadgen_pct(lg, 0.99),
	    (double)lg->lat_max / 1e6,
	    lg->hist_n ? (double)lg->lat_sum / (double)lg->hist_n / 1e6 : 0,
	    lg->exhausted, lg->next_file - (size_t)lg->o.first, lg->resumed,
	    lg->reconnects, lg->conn_failed, cpu);
}

/* ---- setup ---- */

static void
loadgen_usage(void)
{
	fprintf(stderr,
	    "usage: loadgen --port P --cert C --key K --cacert CA --dir DIR\n"
	    "               [--host 127.0.0.1] [--conns 64] [--rate 0] [--seconds 60]\n"
	    "               [--count N] [--first I] [--grace 30] [--progress]\n"
	    "               [--no-resume] [--path /v1/declarations]\n"
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
		OPT_HS, OPT_READY, OPT_IPATH };
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
		default: loadgen_usage();
		}
	}
	if (optind != argc || o->port == 0 || o->cert == NULL || o->key == NULL ||
	    o->cacert == NULL || (o->idle == 0 && o->dir == NULL))
		loadgen_usage();
}

static SSL_CTX *
loadgen_tls(struct lg *lg)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL ||
	    SSL_CTX_use_certificate_chain_file(ctx, lg->o.cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, lg->o.key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, lg->o.cacert, NULL) != 1) {
		fprintf(stderr, "loadgen: TLS setup: ");
		ERR_print_errors_fp(stderr);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_app_data(ctx, lg);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, loadgen_new_session);
	return ctx;
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
		if ((lg->hist = calloc(LG_HIST_BUCKETS, sizeof(*lg->hist))) == NULL)
			goto done;
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
