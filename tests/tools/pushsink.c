/* pushsink: a small HTTPS receiver for the push delivery test.
 *
 *   pushsink --listen 127.0.0.1:PORT --cert FILE --key FILE [--ca FILE]
 *            --log FILE [--mode-file FILE] [--out DIR]
 *
 * Answers every POST as the mode file says (its first word, read at each
 * request; "ok" when absent): ok -> 200 (the body is kept as
 * DIR/PARTY-SEQ.xml), 400 / 500 / any 3-digit status -> that status,
 * timeout -> no answer (the request is dropped after 120 s).  With --ca the client must
 * present a certificate that chains to it (any key usage).  Each request is
 * logged, flushed, as one line: "PARTY SEQ MODE CLIENT_CN UNIX_MS" (the
 * CN must have no spaces).  SIGTERM or
 * SIGINT ends it. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define SINK_HELD_MAX 1024

struct sink {
	struct event_base *base;
	SSL_CTX *ctx;
	FILE *log;
	const char *mode_file;
	const char *out;
	unsigned long n;
};

struct held {
	struct evhttp_request *req;
	struct event *ev;
};

static void
sink_usage(void)
{
	fprintf(stderr, "usage: pushsink --listen HOST:PORT --cert FILE --key FILE "
	    "[--ca FILE] --log FILE [--mode-file FILE] [--out DIR]\n");
	exit(2);
}

static void
sink_mode(const struct sink *s, char *mode, size_t cap)
{
	FILE *f = s->mode_file ? fopen(s->mode_file, "r") : NULL;

	snprintf(mode, cap, "ok");
	if (f == NULL)
		return;
	if (fscanf(f, "%15s", mode) != 1)
		snprintf(mode, cap, "ok");
	fclose(f);
}

/* The verified client's CN, or "-". */
static void
sink_peer(struct evhttp_request *req, char *cn, size_t cap)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	struct bufferevent *bev = c ? evhttp_connection_get_bufferevent(c) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	X509 *x = ssl ? SSL_get_peer_certificate(ssl) : NULL;

	snprintf(cn, cap, "-");
	if (x != NULL) {
		if (X509_NAME_get_text_by_NID(X509_get_subject_name(x),
		    NID_commonName, cn, (int)cap) < 0)
			snprintf(cn, cap, "-");
		X509_free(x);
	}
}

/* Only digits, letters, '-' and '_' go into a file name. */
static int
sink_safe(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= 'a' && *s <= 'z') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

static void
sink_keep(const struct sink *s, struct evhttp_request *req, const char *party,
    const char *seq)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	char path[4096];
	unsigned char *buf;
	FILE *f;

	if (s->out == NULL || !sink_safe(party) || !sink_safe(seq))
		return;
	snprintf(path, sizeof(path), "%s/%s-%s.xml", s->out, party, seq);
	if ((buf = malloc(len + 1)) == NULL)
		return;
	evbuffer_copyout(in, buf, len);
	if ((f = fopen(path, "wb")) != NULL) {
		fwrite(buf, 1, len, f);
		fclose(f);
	}
	free(buf);
}

static void
sink_release(evutil_socket_t fd, short what, void *arg)
{
	struct held *h = arg;

	evhttp_send_reply(h->req, 503, "Gave up", NULL);
	event_free(h->ev);
	free(h);
}

static void
sink_request(struct evhttp_request *req, void *arg)
{
	struct sink *s = arg;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *party = evhttp_find_header(in, "Declared-Party");
	const char *seq = evhttp_find_header(in, "Declared-Ack-Seq");
	char mode[16], cn[256];
	struct timeval tv = { 120, 0 }, now;
	struct held *h;
	int code;

	sink_mode(s, mode, sizeof(mode));
	sink_peer(req, cn, sizeof(cn));
	gettimeofday(&now, NULL);
	fprintf(s->log, "%s %s %s %s %lld\n", party ? party : "-", seq ? seq : "-",
	    mode, cn, (long long)now.tv_sec * 1000 + now.tv_usec / 1000);
	fflush(s->log);
	s->n++;
	if (strcmp(mode, "timeout") == 0) {
		if ((h = calloc(1, sizeof(*h))) == NULL)
			return;
		h->req = req;
		h->ev = evtimer_new(s->base, sink_release, h);
		if (h->ev != NULL)
			evtimer_add(h->ev, &tv);
		return;
	}
	if (strcmp(mode, "ok") == 0) {
		sink_keep(s, req, party ? party : "-", seq ? seq : "-");
		code = 200;
	} else {
		code = atoi(mode);
		if (code < 100 || code > 599)
			code = 500;
	}
	evhttp_send_reply(req, code, NULL, NULL);
}

static struct bufferevent *
sink_bev(struct event_base *base, void *arg)
{
	struct sink *s = arg;
	SSL *ssl = SSL_new(s->ctx);

	if (ssl == NULL)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

static void
sink_stop(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopexit(arg, NULL);
}

int
main(int argc, char **argv)
{
	struct sink s;
	const char *listen = NULL, *cert = NULL, *key = NULL, *ca = NULL,
	    *logp = NULL;
	char host[256], *colon;
	struct evhttp *http = NULL;
	struct event *t = NULL, *i = NULL;
	int k, port, rc = 1;

	memset(&s, 0, sizeof(s));
	for (k = 1; k < argc; k++) {
		const char *v = k + 1 < argc ? argv[k + 1] : NULL;

		if (v == NULL)
			sink_usage();
		if (strcmp(argv[k], "--listen") == 0) listen = v;
		else if (strcmp(argv[k], "--cert") == 0) cert = v;
		else if (strcmp(argv[k], "--key") == 0) key = v;
		else if (strcmp(argv[k], "--ca") == 0) ca = v;
		else if (strcmp(argv[k], "--log") == 0) logp = v;
		else if (strcmp(argv[k], "--mode-file") == 0) s.mode_file = v;
		else if (strcmp(argv[k], "--out") == 0) s.out = v;
		else sink_usage();
		k++;
	}
	if (listen == NULL || cert == NULL || key == NULL || logp == NULL ||
	    strlen(listen) >= sizeof(host))
		sink_usage();
	snprintf(host, sizeof(host), "%s", listen);
	if ((colon = strrchr(host, ':')) == NULL)
		sink_usage();
	*colon = '\0';
	port = atoi(colon + 1);
	signal(SIGPIPE, SIG_IGN);
	if ((s.log = fopen(logp, "a")) == NULL) {
		fprintf(stderr, "pushsink: %s: %s\n", logp, strerror(errno));
		return 1;
	}
	s.ctx = SSL_CTX_new(TLS_server_method());
	if (s.ctx == NULL || SSL_CTX_use_certificate_chain_file(s.ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(s.ctx, key, SSL_FILETYPE_PEM) != 1) {
		fprintf(stderr, "pushsink: cannot load %s / %s\n", cert, key);
		goto out;
	}
	if (ca != NULL) {
		if (SSL_CTX_load_verify_locations(s.ctx, ca, NULL) != 1) {
			fprintf(stderr, "pushsink: cannot load %s\n", ca);
			goto out;
		}
		SSL_CTX_set_verify(s.ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		/* the daemon's certificate may be a server certificate */
		SSL_CTX_set_purpose(s.ctx, X509_PURPOSE_ANY);
	}
	if ((s.base = event_base_new()) == NULL || (http = evhttp_new(s.base)) == NULL)
		goto out;
	evhttp_set_bevcb(http, sink_bev, &s);
	evhttp_set_gencb(http, sink_request, &s);
	evhttp_set_max_body_size(http, 4 << 20);
	if (evhttp_bind_socket(http, host, (ev_uint16_t)port) != 0) {
		fprintf(stderr, "pushsink: cannot listen on %s\n", listen);
		goto out;
	}
	t = evsignal_new(s.base, SIGTERM, sink_stop, s.base);
	i = evsignal_new(s.base, SIGINT, sink_stop, s.base);
	if (t == NULL || i == NULL || event_add(t, NULL) != 0 ||
	    event_add(i, NULL) != 0)
		goto out;
	fprintf(stderr, "pushsink: listening on %s\n", listen);
	event_base_dispatch(s.base);
	rc = 0;
out:
	if (t != NULL)
		event_free(t);
	if (i != NULL)
		event_free(i);
	if (http != NULL)
		evhttp_free(http);
	if (s.base != NULL)
		event_base_free(s.base);
	SSL_CTX_free(s.ctx);
	fclose(s.log);
	return rc;
}
