/* faultload: the fault suite's client.  Sends each file of a set once to
 * POST /v1/declarations over mutual TLS and logs what became of it, and
 * goes on through daemon kills and restarts (reconnecting), so that the
 * suite can compare the 202s with the database afterwards.
 *
 *   faultload --port P --cert C --key K --cacert CA --log OUT
 *             (--dir DIR | --list FILE) [--conns N] [--rate R]
 *             [--seconds S] [--timeout S] [--host H] [--path P]
 *
 * --dir: every *.xml of DIR, sorted; --list: one path a line.  Request i is
 * due at start + i/R (R = 0: as fast as answers come); a connection sends
 * one request at a time.  A request whose connection breaks before the
 * answer, or that gets no answer within --timeout seconds (default 30), is
 * logged with code 0.  Broken connections are reopened after 50 ms.
 * OUT gets one line per file: "CODE MS PATH" (MS = milliseconds from the
 * due time to the answer).  The last stdout line is
 *   faultload: sent=N s202=N s429=N s503=N s4xx=N s5xx=N noanswer=N
 *              elapsed_s=X per_s=X p50_ms=X p99_ms=X max_ms=X max503_ms=X
 * (percentiles over all answers).  SIGTERM or SIGINT: no new requests,
 * the ones in flight are finished; files not sent are logged with code 0. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define FL_CONNS_MAX 4096
#define FL_FILES_MAX 2000000
#define FL_FILE_MAX (32u << 20)
#define FL_HDR_MAX 65536
#define FL_LAT_MAX 2000000

struct fl;

struct fl_conn {
	struct fl *fl;
	struct bufferevent *bev;
	struct event *retry;
	int up, busy, hdr_done, status, closing;
	long file;               /* index in flight, -1 none */
	size_t body_left;
	int body_until_close;
	double t_due;
};

struct fl {
	struct event_base *base;
	SSL_CTX *ctx;
	const char *host, *path;
	int port, nconns;
	double rate, seconds, timeout;
	char **files;
	long nfiles, next, done;
	FILE *log;
	struct fl_conn *c;
	struct event *tick, *sigterm, *sigint;
	double t0;
	int stopping;
	long s202, s429, s503, s4xx, s5xx, noanswer;
	double *lat;
	long nlat;
	double max503;
};

static double
fl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fl_connect(struct fl_conn *c);
static void fl_pump(struct fl *fl);

static int
fl_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
fl_dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
fl_add_file(struct fl *fl, const char *path, long *cap)
{
	char **nv;

	if (fl->nfiles >= FL_FILES_MAX)
		return -1;
	if (fl->nfiles == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		if ((nv = realloc(fl->files, (size_t)*cap * sizeof(*nv))) == NULL)
			return -1;
		fl->files = nv;
	}
	if ((fl->files[fl->nfiles] = strdup(path)) == NULL)
		return -1;
	fl->nfiles++;
	return 0;
}

static int
fl_load_dir(struct fl *fl, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[4096];
	long cap = 0;
	size_t n;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".xml") != 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (fl_add_file(fl, p, &cap) != 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	if (fl->nfiles > 0)
		qsort(fl->files, (size_t)fl->nfiles, sizeof(*fl->files), fl_cmp);
	return 0;
}

static int
fl_load_list(struct fl *fl, const char *list)
{
	FILE *f = fopen(list, "r");
	char line[4096];
	long cap = 0;
	size_t n;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		if (n > 0 && fl_add_file(fl, line, &cap) != 0) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

/* The end of one request: logs it and frees the connection for the next. */
static void
fl_record(struct fl_conn *c, int status)
{
	struct fl *fl = c->fl;
	double ms = (fl_now() - c->t_due) * 1000.0;

	if (c->file < 0)
		return;
	fprintf(fl->log, "%d %.1f %s\n", status, ms, fl->files[c->file]);
	if (status == 0) {
		fl->noanswer++;
	} else {
		if (fl->nlat < FL_LAT_MAX)
			fl->lat[fl->nlat++] = ms;
		if (status == 202)
			fl->s202++;
		else if (status == 429)
			fl->s429++;
		else if (status == 503) {
			fl->s503++;
			if (ms > fl->max503)
				fl->max503 = ms;
		} else if (status >= 500)
			fl->s5xx++;
		else
			fl->s4xx++;
	}
	fl->done++;
	c->file = -1;
	c->busy = 0;
}

static void
fl_drop(struct fl_conn *c, int reconnect)
{
	struct timeval tv = { 0, 50000 };

	fl_record(c, 0);
	if (c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	c->up = c->busy = 0;
	if (reconnect && !c->fl->stopping)
		evtimer_add(c->retry, &tv);
}

/* Parses the status line and headers once complete; 1 when done. */
static int
fl_headers(struct fl_conn *c, struct evbuffer *in)
{
	struct evbuffer_ptr p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	char *h, *line, *save = NULL;
	size_t hl;
	long clen = -1;

	if (p.pos < 0)
		return evbuffer_get_length(in) > FL_HDR_MAX ? -1 : 0;
	hl = (size_t)p.pos + 4;
	if ((h = malloc(hl + 1)) == NULL)
		return -1;
	evbuffer_remove(in, h, hl);
	h[hl] = '\0';
	if (sscanf(h, "HTTP/1.%*d %d", &c->status) != 1) {
		free(h);
		return -1;
	}
	c->closing = 0;
	for (line = strtok_r(h, "\r\n", &save); line != NULL;
	    line = strtok_r(NULL, "\r\n", &save)) {
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			clen = strtol(line + 15, NULL, 10);
		else if (strncasecmp(line, "Connection:", 11) == 0 &&
		    strcasestr(line + 11, "close") != NULL)
			c->closing = 1;
	}
	free(h);
	c->hdr_done = 1;
	c->body_until_close = clen < 0;
	c->body_left = clen < 0 ? 0 : (size_t)clen;
	return 1;
}

static void
fl_on_read(struct bufferevent *bev, void *arg)
{
	struct fl_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n;
	int r;

	for (;;) {
		if (!c->busy) {
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		}
		if (!c->hdr_done) {
			if ((r = fl_headers(c, in)) < 0) {
				fl_drop(c, 1);
				return;
			}
			if (r == 0)
				return;
		}
		if (c->body_until_close) {
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		}
		n = evbuffer_get_length(in);
		if (n < c->body_left) {
			c->body_left -= n;
			evbuffer_drain(in, n);
			return;
		}
		evbuffer_drain(in, c->body_left);
		fl_record(c, c->status);
		c->hdr_done = 0;
		if (c->closing) {
			fl_drop(c, 1);
			return;
		}
		fl_pump(c->fl);
		if (!c->busy)
			return;
	}
}

static void
fl_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct fl_conn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		c->up = 1;
		fl_pump(c->fl);
		return;
	}
	/* an answer read up to the close counts as an answer */
	if (c->busy && c->hdr_done && c->body_until_close)
		fl_record(c, c->status);
	fl_drop(c, 1);
}

static void
fl_retry(evutil_socket_t fd, short what, void *arg)
{
	fl_connect(arg);
}

static void
fl_connect(struct fl_conn *c)
{
	struct fl *fl = c->fl;
	struct sockaddr_in sin;
	SSL *ssl;
	int one = 1;

	if (fl->stopping)
		return;
	if ((ssl = SSL_new(fl->ctx)) == NULL)
		goto later;
	c->bev = bufferevent_openssl_socket_new(fl->base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		SSL_free(ssl);
		goto later;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, fl_on_read, NULL, fl_on_event, c);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)fl->port);
	inet_pton(AF_INET, fl->host, &sin.sin_addr);
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&sin,
	    sizeof(sin)) != 0) {
		fl_drop(c, 1);
		return;
	}
	setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one));
	bufferevent_enable(c->bev, EV_READ);
	return;
later:
	fl_drop(c, 1);
}

static int
fl_send(struct fl_conn *c, long idx)
{
	struct fl *fl = c->fl;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct stat st;
	FILE *f;
	char *body;
	size_t n;

	if (stat(fl->files[idx], &st) != 0 || st.st_size > FL_FILE_MAX ||
	    (f = fopen(fl->files[idx], "rb")) == NULL)
		return -1;
	if ((body = malloc((size_t)st.st_size + 1)) == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(body, 1, (size_t)st.st_size, f);
	fclose(f);
	evbuffer_add_printf(out, "POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
	    "Content-Type: application/xml\r\nContent-Length: %zu\r\n\r\n",
	    fl->path, fl->host, fl->port, n);
	evbuffer_add(out, body, n);
	free(body);
	return 0;
}

/* Starts due requests on idle connections. */
static void
fl_pump(struct fl *fl)
{
	double now = fl_now(), due;
	int i;

	for (i = 0; i < fl->nconns && fl->next < fl->nfiles && !fl->stopping; i++) {
		struct fl_conn *c = &fl->c[i];

		if (!c->up || c->busy)
			continue;
		due = fl->rate > 0 ? fl->t0 + (double)fl->next / fl->rate : now;
		if (due > now)
			return;
		c->file = fl->next++;
		c->busy = 1;
		c->hdr_done = 0;
		c->t_due = due;
		if (fl_send(c, c->file) != 0) {
			fprintf(stderr, "faultload: cannot read %s\n", fl->files[c->file]);
			fl_record(c, 0);
		}
	}
}

/* SIGTERM, SIGINT: no new requests; the ones in flight finish. */
static void
fl_on_signal(evutil_socket_t fd, short what, void *arg)
{
	struct fl *fl = arg;

	fl->stopping = 1;
}

static void
fl_tick(evutil_socket_t fd, short what, void *arg)
{
	struct fl *fl = arg;
	double now = fl_now();
	int i, busy = 0;

	if (!fl->stopping && (now - fl->t0 >= fl->seconds || fl->next >= fl->nfiles))
		fl->stopping = 1;
	for (i = 0; i < fl->nconns; i++) {
		struct fl_conn *c = &fl->c[i];

		if (c->busy && now - c->t_due > fl->timeout)
			fl_drop(c, 1);  /* logged as no answer */
		busy += c->busy;
	}
	if (fl->stopping && busy == 0) {
		event_base_loopexit(fl->base, NULL);
		return;
	}
	fl_pump(fl);
}

static SSL_CTX *
fl_ctx(const char *cert, const char *key, const char *ca)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		ERR_print_errors_fp(stderr);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

static void
fl_usage(void)
{
	fprintf(stderr, "usage: faultload --port P --cert C --key K --cacert CA "
	    "--log OUT (--dir DIR | --list FILE)\n"
	    "       [--conns N] [--rate R] [--seconds S] [--timeout S] "
	    "[--host H] [--path P]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "port", 1, NULL, 'p' }, { "cert", 1, NULL, 'c' },
		{ "key", 1, NULL, 'k' }, { "cacert", 1, NULL, 'a' },
		{ "log", 1, NULL, 'l' }, { "dir", 1, NULL, 'd' },
		{ "list", 1, NULL, 'L' }, { "conns", 1, NULL, 'n' },
		{ "rate", 1, NULL, 'r' }, { "seconds", 1, NULL, 's' },
		{ "timeout", 1, NULL, 't' }, { "host", 1, NULL, 'H' },
		{ "path", 1, NULL, 'P' }, { NULL, 0, NULL, 0 }
	};
	struct fl fl;
	const char *cert = NULL, *key = NULL, *ca = NULL, *logp = NULL;
	const char *dir = NULL, *list = NULL;
	struct timeval tv = { 0, 2000 };
	double el;
	int ch, i;

	memset(&fl, 0, sizeof(fl));
	fl.host = "127.0.0.1";
	fl.path = "/v1/declarations";
	fl.nconns = 16;
	fl.seconds = 3600;
	fl.timeout = 30;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'p': fl.port = atoi(optarg); break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'a': ca = optarg; break;
		case 'l': logp = optarg; break;
		case 'd': dir = optarg; break;
		case 'L': list = optarg; break;
		case 'n': fl.nconns = atoi(optarg); break;
		case 'r': fl.rate = atof(optarg); break;
		case 's': fl.seconds = atof(optarg); break;
		case 't': fl.timeout = atof(optarg); break;
		case 'H': fl.host = optarg; break;
		case 'P': fl.path = optarg; break;
		default: fl_usage();
		}
	}
	if (fl.port <= 0 || cert == NULL || key == NULL || ca == NULL ||
	    logp == NULL || (dir == NULL) == (list == NULL) || fl.nconns < 1 ||
	    fl.nconns > FL_CONNS_MAX || fl.timeout <= 0)
		fl_usage();
	signal(SIGPIPE, SIG_IGN);
	if ((dir != NULL ? fl_load_dir(&fl, dir) : fl_load_list(&fl, list)) != 0) {
		fprintf(stderr, "faultload: cannot read the file set\n");
		return 1;
	}
	if ((fl.log = fopen(logp, "w")) == NULL ||
	    (fl.lat = calloc(FL_LAT_MAX, sizeof(double))) == NULL ||
	    (fl.ctx = fl_ctx(cert, key, ca)) == NULL ||
	    (fl.base = event_base_new()) == NULL ||
	    (fl.c = calloc((size_t)fl.nconns, sizeof(*fl.c))) == NULL) {
		fprintf(stderr, "faultload: setup failed\n");
		return 1;
	}
	fl.t0 = fl_now();
	for (i = 0; i < fl.nconns; i++) {
		fl.c[i].fl = &fl;
		fl.c[i].file = -1;
		fl.c[i].retry = evtimer_new(fl.base, fl_retry, &fl.c[i]);
		fl_connect(&fl.c[i]);
	}
	fl.tick = event_new(fl.base, -1, EV_PERSIST, fl_tick, &fl);
	event_add(fl.tick, &tv);
	fl.sigterm = evsignal_new(fl.base, SIGTERM, fl_on_signal, &fl);
	fl.sigint = evsignal_new(fl.base, SIGINT, fl_on_signal, &fl);
	event_add(fl.sigterm, NULL);
	event_add(fl.sigint, NULL);
	event_base_dispatch(fl.base);
	el = fl_now() - fl.t0;
	for (i = 0; i < fl.nconns; i++) {
		fl_drop(&fl.c[i], 0);
		event_free(fl.c[i].retry);
	}
	/* files never sent are logged as no answer too: they need a resubmit */
	for (; fl.next < fl.nfiles; fl.next++)
		fprintf(fl.log, "0 0 %s\n", fl.files[fl.next]);
	fclose(fl.log);
	qsort(fl.lat, (size_t)fl.nlat, sizeof(double), fl_dcmp);
	printf("faultload: sent=%ld s202=%ld s429=%ld s503=%ld s4xx=%ld s5xx=%ld "
	    "noanswer=%ld elapsed_s=%.2f per_s=%.1f p50_ms=%.1f p99_ms=%.1f "
	    "max_ms=%.1f max503_ms=%.1f\n", fl.done, fl.s202, fl.s429, fl.s503,
	    fl.s4xx, fl.s5xx, fl.noanswer, el, el > 0 ? (double)fl.s202 / el : 0,
	    fl.nlat ? fl.lat[fl.nlat / 2] : 0,
	    fl.nlat ? fl.lat[(long)((double)fl.nlat * 0.99)] : 0,
	    fl.nlat ? fl.lat[fl.nlat - 1] : 0, fl.max503);
	event_free(fl.tick);
	event_free(fl.sigterm);
	event_free(fl.sigint);
	event_base_free(fl.base);
	SSL_CTX_free(fl.ctx);
	for (i = 0; i < fl.nfiles; i++)
		free(fl.files[i]);
	free(fl.files);
	free(fl.lat);
	free(fl.c);
	return 0;
}
