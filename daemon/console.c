#include "console.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "daemon.h"
#include "http.h"
#include "log.h"

#define CONSOLE_NAME_MAX 128
#define CONSOLE_FILE_MAX (4 << 20)

static const struct {
	const char *ext;
	const char *type;
} console_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
};

static const char *
console_type(const char *name)
{
	size_t n = strlen(name), i, e;

	for (i = 0; i < sizeof(console_types) / sizeof(console_types[0]); i++) {
		e = strlen(console_types[i].ext);
		if (n > e && strcmp(name + n - e, console_types[i].ext) == 0)
			return console_types[i].type;
	}
	return NULL;
}

/* 1 when name is a safe relative file name: [A-Za-z0-9._-] segments
 * joined by single '/', none empty or starting with '.'. */
static int
console_name_ok(const char *name)
{
	size_t i, n = strlen(name);
	int seg_start = 1;
	char c;

	if (n == 0 || n > CONSOLE_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		c = name[i];
		if (c == '/') {
			if (seg_start)
				return 0;   /* empty segment, or leading '/' */
			seg_start = 1;
			continue;
		}
		if (seg_start && c == '.')
			return 0;           /* ".", "..", hidden files */
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_'))
			return 0;
		seg_start = 0;
	}
	return !seg_start;
}

static void
console_headers(struct evhttp_request *req, const char *type)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-cache");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Content-Security-Policy",
	    "default-src 'self'; script-src 'self'; style-src 'self'; "
	    "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
	    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
}

void
console_serve(struct daemon *d, struct evhttp_request *req, const char *root,
    const char *path)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *name, *type;
	char full[4096];
	struct evbuffer *b = NULL;
	struct stat st;
	int fd = -1;

	if (root == NULL || *root == '\0') {
		http_error(d, req, 404, "NOT_FOUND", "the web console is not enabled "
		    "(server.web_root)", 0);
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		http_error(d, req, 405, "METHOD", "use GET", 0);
		return;
	}
	if (strcmp(path, "/") == 0 || strcmp(path, "/console") == 0 ||
	    strcmp(path, "/console/") == 0)
		name = "index.html";
	else
		name = path + strlen("/console/");
	if (!console_name_ok(name) || (type = console_type(name)) == NULL ||
	    (size_t)snprintf(full, sizeof(full), "%s/%s", root, name) >= sizeof(full))
		goto notfound;
	if ((fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) < 0)
		goto notfound;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > CONSOLE_FILE_MAX)
		goto notfound;
	if ((b = evbuffer_new()) == NULL)
		goto notfound;
	if (st.st_size == 0) {
		close(fd);
	} else if (evbuffer_add_file(b, fd, 0, st.st_size) != 0) {
		/* whether the fd was taken is unclear: leak rather than
		 * close twice */
		fd = -1;
		goto notfound;
	}
	fd = -1;    /* the buffer owns it now */
	console_headers(req, type);
	d->m.resp_by_status[2]++;
	evhttp_send_reply(req, 200, NULL, b);
	evbuffer_free(b);
	return;
notfound:
	if (fd >= 0)
		close(fd);
	if (b != NULL)
		evbuffer_free(b);
	http_error(d, req, 404, "NOT_FOUND", "no such file", 0);
}
