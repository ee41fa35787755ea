/*
 * notifylisten: a stand-in for systemd's notification socket, for tests.
 *
 *   notifylisten [-t SECONDS] [-x ASSIGNMENT] PATH
 *
 * Binds an AF_UNIX SOCK_DGRAM socket at PATH ("@name" for the abstract
 * namespace), as systemd does for NOTIFY_SOCKET, and prints every
 * assignment of every datagram received on its own line:
 *
 *   MS SEQ PID ASSIGNMENT
 *
 * MS is the time in milliseconds since the socket was bound, SEQ the
 * number of the datagram (from 1; the assignments of one datagram share
 * it), PID the sender's process id from the kernel (SO_PASSCRED; systemd
 * uses it for NotifyAccess=main), 0 if unknown, ASSIGNMENT e.g.
 * READY=1.  Bytes outside printable ASCII are written as '?'.  A
 * datagram longer than the buffer is printed as far as it fits, then
 * "MS SEQ PID !TRUNCATED".  Output is flushed per datagram.
 *
 * Exits 0 after SECONDS (default 30, at most 3600), on SIGTERM or
 * SIGINT, or right after printing a datagram that holds ASSIGNMENT
 * (-x, e.g. -x STOPPING=1); 1 on errors.  Unlinks PATH on exit.
 */
#define _GNU_SOURCE	/* struct ucred, SCM_CREDENTIALS */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define NL_BUF      4096	/* sd_notify messages are far smaller */
#define NL_MAX_SECS 3600

static volatile sig_atomic_t nl_stop;

static void
nl_on_signal(int sig)
{
	(void)sig;
	nl_stop = 1;
}

static uint64_t
nl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
nl_usage(void)
{
	fprintf(stderr, "usage: notifylisten [-t SECONDS] [-x ASSIGNMENT] PATH\n");
	exit(2);
}

/* Prints the assignments of one datagram; returns 1 when one is `quit'. */
static int
nl_print(const char *buf, size_t len, int truncated, uint64_t ms,
    unsigned long seq, long pid, const char *quit)
{
	char line[NL_BUF + 1];
	size_t i, n = 0;
	int hit = 0;

	for (i = 0; i <= len; i++) {
		if (i == len || buf[i] == '\n') {
			line[n] = '\0';
			if (n > 0) {
				printf("%llu %lu %ld %s\n", (unsigned long long)ms, seq,
				    pid, line);
				if (quit != NULL && strcmp(line, quit) == 0)
					hit = 1;
			}
			n = 0;
			continue;
		}
		line[n++] = (buf[i] >= 0x20 && buf[i] < 0x7f) ? buf[i] : '?';
	}
	if (truncated)
		printf("%llu %lu %ld !TRUNCATED\n", (unsigned long long)ms, seq, pid);
	fflush(stdout);
	return hit;
}

/* One datagram; its real length (MSG_TRUNC) and the sender's pid. */
static ssize_t
nl_recv(int fd, char *buf, size_t cap, long *pid)
{
	union {
		struct cmsghdr hdr;
		char space[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct iovec iov = { buf, cap };
	struct msghdr mh;
	struct cmsghdr *c;
	struct ucred uc;
	ssize_t r;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.space;
	mh.msg_controllen = sizeof(ctl.space);
	*pid = 0;
	if ((r = recvmsg(fd, &mh, MSG_TRUNC | MSG_CMSG_CLOEXEC)) == -1)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len == CMSG_LEN(sizeof(uc))) {
			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			*pid = (long)uc.pid;
		}
	}
	return r;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sa;
	struct sigaction act;
	struct pollfd pfd;
	char buf[NL_BUF];
	const char *path, *quit = NULL;
	char *end;
	socklen_t salen;
	uint64_t start, deadline, now;
	unsigned long seq = 0;
	long secs = 30, pid;
	ssize_t r;
	size_t plen;
	int fd = -1, ch, rc = 1, abstract, bound = 0, one = 1;

	while ((ch = getopt(argc, argv, "t:x:")) != -1) {
		switch (ch) {
		case 't':
			errno = 0;
			secs = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || secs < 1 || secs > NL_MAX_SECS)
				nl_usage();
			break;
		case 'x': quit = optarg; break;
		default: nl_usage();
		}
	}
	if (optind != argc - 1)
		nl_usage();
	path = argv[optind];
	plen = strlen(path);
	abstract = path[0] == '@';
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (plen < 2 || plen >= sizeof(sa.sun_path)) {
		fprintf(stderr, "notifylisten: bad socket path length: %s\n", path);
		return 1;
	}
	memcpy(sa.sun_path, path, plen);
	if (abstract)
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
	    (abstract ? 0 : 1));

	memset(&act, 0, sizeof(act));
	act.sa_handler = nl_on_signal;
	sigemptyset(&act.sa_mask);
	sigaction(SIGTERM, &act, NULL);	/* no SA_RESTART: poll returns EINTR */
	sigaction(SIGINT, &act, NULL);

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		perror("notifylisten: socket");
		goto out;
	}
	if (!abstract)
		unlink(path);
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == -1) {
		perror("notifylisten: SO_PASSCRED");
		goto out;
	}
	if (bind(fd, (struct sockaddr *)&sa, salen) == -1) {
		fprintf(stderr, "notifylisten: bind %s: %s\n", path, strerror(errno));
		goto out;
	}
	bound = !abstract;
	start = nl_now_ms();
	deadline = start + (uint64_t)secs * 1000u;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (!nl_stop && (now = nl_now_ms()) < deadline) {
		int n = poll(&pfd, 1, (int)(deadline - now));

		if (n == -1) {
			if (errno == EINTR)
				continue;
			perror("notifylisten: poll");
			goto out;
		}
		if (n == 0)
			break;
		r = nl_recv(fd, buf, sizeof(buf), &pid);
		if (r == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			perror("notifylisten: recv");
			goto out;
		}
		seq++;
		if (nl_print(buf, (size_t)r > sizeof(buf) ? sizeof(buf) : (size_t)r,
		    (size_t)r > sizeof(buf), nl_now_ms() - start, seq, pid, quit))
			break;
	}
	rc = 0;
out:
	if (bound)
		unlink(path);
	if (fd != -1)
		close(fd);
	return rc;
}
