/* utf8: where a byte string may be cut without splitting a character. */
#ifndef DECLARED_UTF8_H
#define DECLARED_UTF8_H

#include <stddef.h>

/* The largest n <= len such that s[0..n) ends on a whole UTF-8 character
 * (a trailing incomplete sequence is dropped; other bytes are kept). */
size_t utf8_cut(const char *s, size_t len);

#endif
