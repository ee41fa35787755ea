/* faultrelay: a TCP relay that the fault suite can cut, to break the
 * daemon's database connections the way a network does.
 *
 *   faultrelay --listen PORT (--to-unix PATH | --to-port PORT) [--pidfile F]
 *
 * Listens on 127.0.0.1:PORT and joins each client to PATH (a unix socket,
 * e.g. PostgreSQL's .s.PGSQL.5432) or to 127.0.0.1:PORT.
 *   SIGUSR1  cut: every joined pair is closed at once, with a reset
 *   SIGUSR2  partition on/off: while on, no byte is forwarded either way
 *            and new clients are accepted but not joined (a black hole)
 *   SIGTERM  exit
 * Each event is printed on stderr.  Single-threaded, poll(2), at most
 * FR_PAIRS pairs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#define FR_PAIRS 256
#define FR_BUF 65536

struct fr_pair {
	int a, b;              /* client, server; -1 = closed */
	char ab[FR_BUF], ba[FR_BUF];
	size_t nab, nba;       /* bytes waiting to be written */
};

static volatile sig_atomic_t fr_cut, fr_part_flip, fr_quit;

static void
fr_sig(int s)
{
	if (s == SIGUSR1)
		fr_cut = 1;
	else if (s == SIGUSR2)
		fr_part_flip = 1;
	else
		fr_quit = 1;
}

static void
fr_reset_close(int fd)
{
	struct linger lg = { 1, 0 };

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static void
fr_close(struct fr_pair *p)
{
	fr_reset_close(p->a);
	fr_reset_close(p->b);
	p->a = p->b = -1;
	p->nab = p->nba = 0;
}

static int
fr_dial(const char *upath, int uport)
{
	struct sockaddr_un sun;
	struct sockaddr_in sin;
	int fd;

	if (upath != NULL) {
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return -1;
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", upath);
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
			close(fd);
			return -1;
		}
		return fd;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)uport);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Moves bytes from fd into buf (when it has room) and from buf to out. */
static int
fr_move(int from, int to, char *buf, size_t *n, short rev, short wev)
{
	ssize_t r;

	if ((rev & (POLLIN | POLLHUP | POLLERR)) && *n < FR_BUF) {
		r = read(from, buf + *n, FR_BUF - *n);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			return -1;
		if (r > 0)
			*n += (size_t)r;
	}
	if ((wev & POLLOUT) && *n > 0) {
		r = write(to, buf, *n);
		if (r < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (r > 0) {
			memmove(buf, buf + r, *n - (size_t)r);
			*n -= (size_t)r;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "listen", 1, NULL, 'l' }, { "to-unix", 1, NULL, 'u' },
		{ "to-port", 1, NULL, 't' }, { "pidfile", 1, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	static struct fr_pair pr[FR_PAIRS];
	struct pollfd pf[1 + 2 * FR_PAIRS];
	int idx[1 + 2 * FR_PAIRS];
	struct sockaddr_in sin;
	const char *upath = NULL, *pidfile = NULL;
	int lport = 0, uport = 0, ls, one = 1, partition = 0, ch, i, n, fd;
	unsigned long cuts = 0, joined = 0;
	FILE *f;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'l': lport = atoi(optarg); break;
		case 'u': upath = optarg; break;
		case 't': uport = atoi(optarg); break;
		case 'p': pidfile = optarg; break;
		default: goto usage;
		}
	}
	if (lport <= 0 || (upath == NULL) == (uport <= 0))
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, fr_sig);
	signal(SIGUSR2, fr_sig);
	signal(SIGTERM, fr_sig);
	signal(SIGINT, fr_sig);
	for (i = 0; i < FR_PAIRS; i++)
		pr[i].a = pr[i].b = -1;
	if ((ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)lport);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(ls, 64) != 0) {
		perror("faultrelay: listen");
		return 1;
	}
	if (pidfile != NULL && (f = fopen(pidfile, "w")) != NULL) {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
	fprintf(stderr, "faultrelay: listening on %d\n", lport);
	while (!fr_quit) {
		if (fr_cut) {
			fr_cut = 0;
			for (i = 0; i < FR_PAIRS; i++)
				if (pr[i].a >= 0) {
					fr_close(&pr[i]);
					cuts++;
				}
			fprintf(stderr, "faultrelay: cut (%lu pairs cut so far)\n", cuts);
		}
		if (fr_part_flip) {
			fr_part_flip = 0;
			partition = !partition;
			fprintf(stderr, "faultrelay: partition %s\n", partition ? "on" : "off");
		}
		n = 0;
		pf[n].fd = ls;
		pf[n].events = POLLIN;
		idx[n++] = -1;
		for (i = 0; i < FR_PAIRS; i++) {
			if (pr[i].a < 0)
				continue;
			pf[n].fd = pr[i].a;
			pf[n].events = (short)((partition ? 0 : POLLIN) | (pr[i].nba ? POLLOUT : 0));
			if (partition)
				pf[n].events = 0;
			idx[n++] = i;
			if (pr[i].b < 0)
				continue;
			pf[n].fd = pr[i].b;
			pf[n].events = (short)(partition ? 0 :
			    POLLIN | (pr[i].nab ? POLLOUT : 0));
			idx[n++] = i;
		}
		if (poll(pf, (nfds_t)n, 200) < 0) {
			if (errno == EINTR)
				continue;
			perror("faultrelay: poll");
			return 1;
		}
		if (pf[0].revents & POLLIN) {
			if ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
				for (i = 0; i < FR_PAIRS && pr[i].a >= 0; i++)
					;
				if (i == FR_PAIRS) {
					close(fd);
				} else {
					pr[i].a = fd;
					pr[i].b = -1;
					pr[i].nab = pr[i].nba = 0;
				}
			}
		}
		/* join clients to the server (not while partitioned) */
		for (i = 0; i < FR_PAIRS && !partition; i++)
			if (pr[i].a >= 0 && pr[i].b < 0) {
				if ((pr[i].b = fr_dial(upath, uport)) < 0) {
					fr_close(&pr[i]);
					continue;
				}
				fcntl(pr[i].b, F_SETFL, O_NONBLOCK);
				joined++;
			}
		if (partition)
			continue;
		for (i = 1; i < n; i++) {
			struct fr_pair *p = &pr[idx[i]];
			short re = pf[i].revents;

			if (p->a < 0 || p->b < 0 || re == 0)
				continue;
			if (pf[i].fd == p->a) {
				if (fr_move(p->a, p->b, p->ab, &p->nab, re, POLLOUT) != 0 ||
				    fr_move(p->b, p->a, p->ba, &p->nba, 0, re) != 0)
					fr_close(p);
			} else {
				if (fr_move(p->b, p->a, p->ba, &p->nba, re, POLLOUT) != 0 ||
				    fr_move(p->a, p->b, p->ab, &p->nab, 0, re) != 0)
					fr_close(p);
			}
		}
	}
	for (i = 0; i < FR_PAIRS; i++)
		if (pr[i].a >= 0)
			fr_close(&pr[i]);
	close(ls);
	fprintf(stderr, "faultrelay: exit, %lu joined, %lu cut\n", joined, cuts);
	return 0;
usage:
	fprintf(stderr, "usage: faultrelay --listen PORT (--to-unix PATH | "
	    "--to-port PORT) [--pidfile F]\n");
	return 2;
}
