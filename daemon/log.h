/* log: one line per event to stderr, key=value.  Under journald (the
 * JOURNAL_STREAM environment variable) each line starts with its syslog
 * priority "<N>"; otherwise with a UTC timestamp and the level name. */
#ifndef DECLARED_LOG_H
#define DECLARED_LOG_H

void log_init(int debug);
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends ": strerror(errno)" */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
