/* fuzz_http: request handling.  An in-process evhttp server set up as
 * daemon/http.c sets up the API listener (body and header caps, timeout,
 * methods), without TLS, gets each input as the raw bytes of a connection
 * (half-closed after them) and answers every request it parses the way the
 * daemon's routes start: URI, path and query parsed, headers looked up, the
 * body taken, the party's limits applied (daemon/limit.c), a JSON reply.
 * The loop runs until the server closes the connection. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "limit.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct event_base *fz_base;
static struct evhttp *fz_http;
static struct limit *fz_limit;
static int fz_port;
static uint64_t fz_clock;

static void
fz_route(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	struct evbuffer *out = evbuffer_new();
	struct evkeyvalq q;
	struct evkeyval *kv;
	struct limit_conf lc = { 1000, 5, 2 };
	const char *party = evhttp_find_header(in, "X-Party"), *why;
	char *copy;
	size_t n = evbuffer_get_length(body), keys = 0;
	int status = 404, wait;

	if (path != NULL && strcmp(path, "/v1/declarations") == 0)
		status = evhttp_request_get_command(req) == EVHTTP_REQ_POST ? 400 : 405;
	if (query != NULL && evhttp_parse_query_str(query, &q) == 0) {
		TAILQ_FOREACH(kv, &q, next)
			keys += strlen(kv->key) + strlen(kv->value);
		evhttp_clear_headers(&q);
	}
	(void)evhttp_find_header(in, "Content-Type");
	if ((copy = malloc(n + 1)) != NULL) {
		evbuffer_remove(body, copy, n);
		copy[n] = '\0';
		free(copy);
	}
	fz_clock += 1000000;
	if ((wait = limit_admit(fz_limit, &lc, req, party ? party : "fuzz",
	    fz_clock, &why)) != 0)
		status = 429;
	if (out != NULL)
		evbuffer_add_printf(out, "{\"status\":%d,\"keys\":%zu,\"body\":%zu}\n",
		    status, keys, n);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "application/json");
	evhttp_send_reply(req, status, NULL, out);
	if (out != NULL)
		evbuffer_free(out);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct evhttp_bound_socket *bs;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	if ((fz_base = event_base_new()) == NULL || (fz_http = evhttp_new(fz_base)) == NULL ||
	    (fz_limit = limit_new()) == NULL)
		abort();
	evhttp_set_gencb(fz_http, fz_route, NULL);
	evhttp_set_max_body_size(fz_http, 65536);
	evhttp_set_max_headers_size(fz_http, 16384);
	evhttp_set_timeout(fz_http, 1);
	evhttp_set_allowed_methods(fz_http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	if ((bs = evhttp_bind_socket_with_handle(fz_http, "127.0.0.1", 0)) == NULL ||
	    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &sl) != 0)
		abort();
	fz_port = ntohs(sin.sin_port);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in sin;
	struct pollfd pf;
	char buf[4096];
	size_t off = 0;
	ssize_t r;
	int fd, i;

	if (size > 65536)
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)fz_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 && errno != EINPROGRESS) {
		close(fd);
		return 0;
	}
	pf.fd = fd;
	/* at most ~2 s of loop turns: evhttp's own timeout is 1 s */
	for (i = 0; i < 20000; i++) {
		event_base_loop(fz_base, EVLOOP_NONBLOCK);
		if (off < size) {
			r = write(fd, data + off, size - off);
			if (r > 0)
				off += (size_t)r;
			else if (r < 0 && errno != EAGAIN)
				break;
			if (off == size)
				shutdown(fd, SHUT_WR);
		} else if (size == 0 && off == 0) {
			shutdown(fd, SHUT_WR);
			off = 1;
		}
		pf.events = POLLIN;
		if (poll(&pf, 1, i < 100 ? 0 : 1) > 0) {
			r = read(fd, buf, sizeof(buf));
			if (r == 0 || (r < 0 && errno != EAGAIN))
				break;
		}
	}
	close(fd);
	/* let the server see the close and free the connection */
	for (i = 0; i < 50; i++)
		event_base_loop(fz_base, EVLOOP_NONBLOCK);
	return 0;
}
