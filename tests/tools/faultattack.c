/* faultattack: hostile clients for the fault suite.  Every mode talks only
 * to 127.0.0.1 and stops by itself.
 *
 *   faultattack halfopen --port P --n N --seconds S [--partial]
 *       N TCP connections that start a TLS handshake and never finish it
 *       (nothing sent, or with --partial half a ClientHello).  Prints how
 *       many the server closed, and when the last one was closed.
 *   faultattack slow --port P --cert C --key K --cacert CA --n N
 *       --mode headers|body --interval S --seconds S
 *       N authenticated TLS connections that send a request slowly: one
 *       header line (headers) or one body byte (body) every S seconds.
 *   faultattack raw --port P --cert C --key K --cacert CA [--wait S] FILE...
 *       Sends each FILE's bytes as they are on a new TLS connection and
 *       prints "STATUS FILE" (the first status line's code), "closed FILE"
 *       (closed without an answer) or "timeout FILE".
 *   faultattack bridge --listen L --port P --cert C --key K --cacert CA
 *       --seconds S
 *       Plain TCP on 127.0.0.1:L to TLS with the client certificate on P,
 *       byte for byte as they come, so that plain-HTTP tools (slowhttptest)
 *       can attack the authenticated HTTP layer.
 * The last stdout line of halfopen and slow is "faultattack: key=value ...". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define FA_MAX_CONNS 60000
#define FA_RAW_MAX (1u << 20)

struct fa_opts {
	const char *cert, *key, *ca, *mode;
	int port, listen, n, partial;
	double seconds, interval, wait;
};

static double
fa_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
fa_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static struct sockaddr_in
fa_addr(int port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

static SSL_CTX *
fa_ctx(const struct fa_opts *o)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		return NULL;
	if (o->cert != NULL &&
	    (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1)) {
		ERR_print_errors_fp(stderr);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (o->ca != NULL && SSL_CTX_load_verify_locations(ctx, o->ca, NULL) == 1)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

/* ---- halfopen ---------------------------------------------------------- */

/* The first bytes of a real ClientHello, made with memory BIOs. */
static size_t
fa_client_hello(unsigned char *out, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	int n = 0;

	if (ssl != NULL && rb != NULL && wb != NULL) {
		SSL_set_bio(ssl, rb, wb);
		rb = wb = NULL;
		SSL_set_connect_state(ssl);
		SSL_do_handshake(ssl);
		n = BIO_read(SSL_get_wbio(ssl), out, (int)cap);
	}
	BIO_free(rb);
	BIO_free(wb);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return n > 0 ? (size_t)n : 0;
}

static int
fa_halfopen(const struct fa_opts *o)
{
	struct sockaddr_in sin = fa_addr(o->port);
	struct pollfd *pf;
	unsigned char hello[2048], buf[512];
	size_t hl = fa_client_hello(hello, sizeof(hello));
	double t0 = fa_now(), last_close = 0;
	int i, opened = 0, failed = 0, closed = 0, left;

	if ((pf = calloc((size_t)o->n, sizeof(*pf))) == NULL)
		return 1;
	for (i = 0; i < o->n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		pf[i].fd = -1;
		if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
			if (fd >= 0)
				close(fd);
			failed++;
			continue;
		}
		if (o->partial && hl > 0 && write(fd, hello, hl / 2) < 0) {
			close(fd);
			failed++;
			continue;
		}
		fcntl(fd, F_SETFL, O_NONBLOCK);
		pf[i].fd = fd;
		pf[i].events = POLLIN;
		opened++;
	}
	left = opened;
	while (left > 0 && fa_now() - t0 < o->seconds) {
		if (poll(pf, (nfds_t)o->n, 200) <= 0)
			continue;
		for (i = 0; i < o->n; i++) {
			ssize_t r;

			if (pf[i].fd < 0 || pf[i].revents == 0)
				continue;
			r = read(pf[i].fd, buf, sizeof(buf));
			if (r > 0)
				continue; /* an alert or ServerHello bytes: keep waiting */
			if (r < 0 && errno == EAGAIN)
				continue;
			close(pf[i].fd);
			pf[i].fd = -1;
			closed++;
			left--;
			last_close = fa_now() - t0;
		}
	}
	for (i = 0; i < o->n; i++)
		if (pf[i].fd >= 0)
			close(pf[i].fd);
	free(pf);
	printf("faultattack: mode=halfopen partial=%d opened=%d connect_failed=%d "
	    "closed_by_server=%d still_open=%d last_close_s=%.1f\n", o->partial,
	    opened, failed, closed, left, last_close);
	return 0;
}

/* ---- slow ---------------------------------------------------------------- */

struct fa_slow;

struct fa_sconn {
	struct fa_slow *s;
	struct bufferevent *bev;
	int up, closed, answered;
	double closed_at;
};

struct fa_slow {
	const struct fa_opts *o;
	struct event_base *base;
	struct fa_sconn *c;
	double t0;
	int opened, closed, answered, ticks;
};

static void
fa_slow_read(struct bufferevent *bev, void *arg)
{
	struct fa_sconn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	if (!c->answered && evbuffer_get_length(in) > 0) {
		c->answered = 1;
		c->s->answered++;
	}
	evbuffer_drain(in, evbuffer_get_length(in));
}

static void
fa_slow_event(struct bufferevent *bev, short what, void *arg)
{
	struct fa_sconn *c = arg;
	struct fa_slow *s = c->s;

	if (what & BEV_EVENT_CONNECTED) {
		c->up = 1;
		s->opened++;
		if (strcmp(s->o->mode, "body") == 0)
			evbuffer_add_printf(bufferevent_get_output(bev),
			    "POST /v1/declarations HTTP/1.1\r\nHost: x\r\n"
			    "Content-Type: application/xml\r\n"
			    "Content-Length: 1000000\r\n\r\n<");
		else
			evbuffer_add_printf(bufferevent_get_output(bev),
			    "POST /v1/declarations HTTP/1.1\r\nHost: x\r\n");
		return;
	}
	if (!c->closed) {
		c->closed = 1;
		c->closed_at = fa_now() - s->t0;
		if (c->up)
			s->closed++;
	}
	bufferevent_free(c->bev);
	c->bev = NULL;
}

static void
fa_slow_tick(evutil_socket_t fd, short what, void *arg)
{
	struct fa_slow *s = arg;
	int i;

	for (i = 0; i < s->o->n; i++) {
		struct fa_sconn *c = &s->c[i];

		if (c->bev == NULL || !c->up)
			continue;
		if (strcmp(s->o->mode, "body") == 0)
			evbuffer_add(bufferevent_get_output(c->bev), "x", 1);
		else
			evbuffer_add_printf(bufferevent_get_output(c->bev),
			    "X-Slow-%d: %d\r\n", s->ticks, i);
	}
	s->ticks++;
	if (fa_now() - s->t0 >= s->o->seconds)
		event_base_loopexit(s->base, NULL);
}

static int
fa_slow(const struct fa_opts *o)
{
	struct fa_slow s;
	struct sockaddr_in sin = fa_addr(o->port);
	struct timeval iv;
	struct event *tick;
	SSL_CTX *ctx = fa_ctx(o);
	double last = 0;
	int i, still = 0;

	if (ctx == NULL || o->mode == NULL)
		return 1;
	memset(&s, 0, sizeof(s));
	s.o = o;
	s.base = event_base_new();
	s.c = calloc((size_t)o->n, sizeof(*s.c));
	if (s.base == NULL || s.c == NULL)
		return 1;
	s.t0 = fa_now();
	for (i = 0; i < o->n; i++) {
		SSL *ssl = SSL_new(ctx);

		s.c[i].s = &s;
		s.c[i].bev = bufferevent_openssl_socket_new(s.base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
		if (s.c[i].bev == NULL)
			continue;
		bufferevent_openssl_set_allow_dirty_shutdown(s.c[i].bev, 1);
		bufferevent_setcb(s.c[i].bev, fa_slow_read, NULL, fa_slow_event, &s.c[i]);
		bufferevent_enable(s.c[i].bev, EV_READ);
		if (bufferevent_socket_connect(s.c[i].bev, (struct sockaddr *)&sin,
		    sizeof(sin)) != 0) {
			bufferevent_free(s.c[i].bev);
			s.c[i].bev = NULL;
		}
	}
	iv.tv_sec = (time_t)o->interval;
	iv.tv_usec = (suseconds_t)((o->interval - (double)iv.tv_sec) * 1e6);
	tick = event_new(s.base, -1, EV_PERSIST, fa_slow_tick, &s);
	event_add(tick, &iv);
	event_base_dispatch(s.base);
	for (i = 0; i < o->n; i++) {
		if (s.c[i].closed && s.c[i].up && s.c[i].closed_at > last)
			last = s.c[i].closed_at;
		if (s.c[i].bev != NULL) {
			still += s.c[i].up;
			bufferevent_free(s.c[i].bev);
		}
	}
	printf("faultattack: mode=slow-%s opened=%d closed_by_server=%d "
	    "answered=%d still_open=%d last_close_s=%.1f\n", o->mode, s.opened,
	    s.closed, s.answered, still, last);
	event_free(tick);
	event_base_free(s.base);
	SSL_CTX_free(ctx);
	free(s.c);
	return 0;
}

/* ---- raw ----------------------------------------------------------------- */

static int
fa_raw_one(SSL_CTX *ctx, const struct fa_opts *o, const char *path)
{
	struct sockaddr_in sin = fa_addr(o->port);
	static char data[FA_RAW_MAX];
	char resp[256];
	struct pollfd pf;
	FILE *f;
	SSL *ssl = NULL;
	size_t n, got = 0;
	double t0;
	int fd, r, code = -1;
	const char *what = "closed";

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	n = fread(data, 1, sizeof(data), f);
	fclose(f);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    (ssl = SSL_new(ctx)) == NULL || !SSL_set_fd(ssl, fd) ||
	    SSL_connect(ssl) != 1) {
		printf("tls-failed %s\n", path);
		goto done;
	}
	if (n > 0 && SSL_write(ssl, data, (int)n) <= 0) {
		printf("write-failed %s\n", path);
		goto done;
	}
	t0 = fa_now();
	pf.fd = fd;
	pf.events = POLLIN;
	while (got < sizeof(resp) - 1) {
		if (SSL_pending(ssl) == 0) {
			double left = o->wait - (fa_now() - t0);

			if (left <= 0) {
				what = "timeout";
				break;
			}
			if (poll(&pf, 1, (int)(left * 1000) + 1) <= 0)
				continue;
		}
		r = SSL_read(ssl, resp + got, (int)(sizeof(resp) - 1 - got));
		if (r <= 0)
			break;
		got += (size_t)r;
		resp[got] = '\0';
		if (strstr(resp, "\r\n") != NULL)
			break;
	}
	resp[got] = '\0';
	if (got > 0 && sscanf(resp, "HTTP/1.%*d %d", &code) == 1)
		printf("%d %s\n", code, path);
	else if (got > 0)
		printf("garbage %s\n", path);
	else
		printf("%s %s\n", what, path);
done:
	SSL_free(ssl);
	close(fd);
	return 0;
}

static int
fa_raw(const struct fa_opts *o, int argc, char **argv)
{
	SSL_CTX *ctx = fa_ctx(o);
	int i;

	if (ctx == NULL)
		return 1;
	for (i = 0; i < argc; i++)
		if (fa_raw_one(ctx, o, argv[i]) != 0)
			printf("unreadable %s\n", argv[i]);
	SSL_CTX_free(ctx);
	return 0;
}

/* ---- bridge -------------------------------------------------------------- */

struct fa_bridge {
	struct event_base *base;
	SSL_CTX *ctx;
	const struct fa_opts *o;
	unsigned long pairs;
};

struct fa_pair {
	struct bufferevent *plain, *tls;
};

static void
fa_pair_free(struct fa_pair *p)
{
	if (p->plain != NULL)
		bufferevent_free(p->plain);
	if (p->tls != NULL)
		bufferevent_free(p->tls);
	free(p);
}

static void
fa_pair_read(struct bufferevent *bev, void *arg)
{
	struct fa_pair *p = arg;
	struct bufferevent *other = bev == p->plain ? p->tls : p->plain;

	bufferevent_write_buffer(other, bufferevent_get_input(bev));
}

static void
fa_pair_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & BEV_EVENT_CONNECTED)
		return;
	fa_pair_free(arg);
}

static void
fa_bridge_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct fa_bridge *b = arg;
	struct sockaddr_in sin = fa_addr(b->o->port);
	struct fa_pair *p = calloc(1, sizeof(*p));
	SSL *ssl;

	if (p == NULL || (ssl = SSL_new(b->ctx)) == NULL) {
		free(p);
		close(fd);
		return;
	}
	p->plain = bufferevent_socket_new(b->base, fd, BEV_OPT_CLOSE_ON_FREE);
	p->tls = bufferevent_openssl_socket_new(b->base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (p->plain == NULL || p->tls == NULL) {
		fa_pair_free(p);
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(p->tls, 1);
	bufferevent_setcb(p->plain, fa_pair_read, NULL, fa_pair_event, p);
	bufferevent_setcb(p->tls, fa_pair_read, NULL, fa_pair_event, p);
	bufferevent_enable(p->plain, EV_READ);
	bufferevent_enable(p->tls, EV_READ);
	if (bufferevent_socket_connect(p->tls, (struct sockaddr *)&sin,
	    sizeof(sin)) != 0) {
		fa_pair_free(p);
		return;
	}
	b->pairs++;
}

static int
fa_bridge(const struct fa_opts *o)
{
	struct fa_bridge b;
	struct sockaddr_in sin = fa_addr(o->listen);
	struct evconnlistener *l;
	struct timeval tv;

	memset(&b, 0, sizeof(b));
	b.o = o;
	if ((b.ctx = fa_ctx(o)) == NULL || (b.base = event_base_new()) == NULL)
		return 1;
	l = evconnlistener_new_bind(b.base, fa_bridge_accept, &b,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024,
	    (struct sockaddr *)&sin, sizeof(sin));
	if (l == NULL) {
		fprintf(stderr, "faultattack: cannot listen on %d\n", o->listen);
		return 1;
	}
	tv.tv_sec = (time_t)o->seconds;
	tv.tv_usec = 0;
	event_base_loopexit(b.base, &tv);
	event_base_dispatch(b.base);
	printf("faultattack: mode=bridge pairs=%lu\n", b.pairs);
	evconnlistener_free(l);
	event_base_free(b.base);
	SSL_CTX_free(b.ctx);
	return 0;
}

static void
fa_usage(void)
{
	fprintf(stderr, "usage: faultattack halfopen|slow|raw|bridge --port P "
	    "[options] (see the source)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "port", 1, NULL, 'p' }, { "cert", 1, NULL, 'c' },
		{ "key", 1, NULL, 'k' }, { "cacert", 1, NULL, 'a' },
		{ "n", 1, NULL, 'n' }, { "seconds", 1, NULL, 's' },
		{ "interval", 1, NULL, 'i' }, { "mode", 1, NULL, 'm' },
		{ "wait", 1, NULL, 'w' }, { "listen", 1, NULL, 'l' },
		{ "partial", 0, NULL, 'P' }, { NULL, 0, NULL, 0 }
	};
	struct fa_opts o;
	const char *cmd;
	int ch;

	if (argc < 2)
		fa_usage();
	cmd = argv[1];
	memset(&o, 0, sizeof(o));
	o.n = 100;
	o.seconds = 10;
	o.interval = 1;
	o.wait = 5;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'p': o.port = atoi(optarg); break;
		case 'c': o.cert = optarg; break;
		case 'k': o.key = optarg; break;
		case 'a': o.ca = optarg; break;
		case 'n': o.n = atoi(optarg); break;
		case 's': o.seconds = atof(optarg); break;
		case 'i': o.interval = atof(optarg); break;
		case 'm': o.mode = optarg; break;
		case 'w': o.wait = atof(optarg); break;
		case 'l': o.listen = atoi(optarg); break;
		case 'P': o.partial = 1; break;
		default: fa_usage();
		}
	}
	if (o.port <= 0 || o.n < 1 || o.n > FA_MAX_CONNS || o.seconds <= 0 ||
	    o.interval <= 0)
		fa_usage();
	signal(SIGPIPE, SIG_IGN);
	fa_nofile();
	if (strcmp(cmd, "halfopen") == 0)
		return fa_halfopen(&o);
	if (strcmp(cmd, "slow") == 0)
		return fa_slow(&o);
	if (strcmp(cmd, "raw") == 0)
		return fa_raw(&o, argc - optind, argv + optind);
	if (strcmp(cmd, "bridge") == 0 && o.listen > 0)
		return fa_bridge(&o);
	fa_usage();
	return 2;
}
