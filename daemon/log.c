#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int log_journal;
static int log_verbose;

void
log_init(int debug)
{
	log_journal = getenv("JOURNAL_STREAM") != NULL;
	log_verbose = debug;
}

static void
log_emit(int prio, const char *name, const char *fmt, va_list ap, int with_errno)
{
	char line[2048];
	char ts[32];
	int saved = errno;
	int off;
	struct timespec now;
	struct tm tm;

	if (log_journal) {
		off = snprintf(line, sizeof(line), "<%d>", prio);
	} else {
		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		off = snprintf(line, sizeof(line), "%s.%03ldZ %s ", ts,
		    now.tv_nsec / 1000000, name);
	}
	if (off < 0 || (size_t)off >= sizeof(line))
		off = 0;
	vsnprintf(line + off, sizeof(line) - off, fmt, ap);
	if (with_errno) {
		size_t l = strlen(line);
		snprintf(line + l, sizeof(line) - l, " error=\"%s\"", strerror(saved));
	}
	/* one write per line keeps lines whole across threads */
	fprintf(stderr, "%s\n", line);
	errno = saved;
}

#define LOG_FN(fn, prio, name, cond, with_errno)          \
	void fn(const char *fmt, ...)                     \
	{                                                 \
		va_list ap;                               \
		if (!(cond))                              \
			return;                           \
		va_start(ap, fmt);                        \
		log_emit(prio, name, fmt, ap, with_errno); \
		va_end(ap);                               \
	}

LOG_FN(log_debug, 7, "debug", log_verbose, 0)
LOG_FN(log_info, 6, "info", 1, 0)
LOG_FN(log_notice, 5, "notice", 1, 0)
LOG_FN(log_warnx, 4, "warning", 1, 0)
LOG_FN(log_warn, 4, "warning", 1, 1)
LOG_FN(log_errx, 3, "err", 1, 0)
