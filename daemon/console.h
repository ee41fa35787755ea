/* console: the officers' web console, static files under [server] web_root.
 * "/" and "/console/" serve index.html; "/console/NAME" serves NAME, where
 * NAME is made of letters, digits, '-', '_', '.' and '/' with no segment
 * starting with '.', and has a known extension (html, js, css, svg, png,
 * ico, json).  Files are served read-only with a strict
 * Content-Security-Policy; anything else is 404.  The caller has checked
 * that the client is an officer. */
#ifndef DECLARED_CONSOLE_H
#define DECLARED_CONSOLE_H

struct daemon;
struct evhttp_request;

void console_serve(struct daemon *d, struct evhttp_request *req,
    const char *root, const char *path);

#endif
