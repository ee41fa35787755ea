/* hash: FNV-1a, 32 bits, over a NUL-terminated string: the daemon's
 * per-party tables (feed, limit, push) spread their keys with it.  Not
 * for anything an attacker could steer into collisions at will: the keys
 * are certificate-authenticated party identifiers. */
#ifndef DECLARED_HASH_H
#define DECLARED_HASH_H

#include <stdint.h>

uint32_t hash_str(const char *s);

#endif
