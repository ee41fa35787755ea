/* mrn: Movement Reference Numbers, 18 characters as in the EU and UK:
 * 2-digit year, 2-letter country, 13 alphanumerics (here the declaration id,
 * zero padded), and a check character computed as ISO 6346 does. */
#ifndef DECLARED_MRN_H
#define DECLARED_MRN_H

#include <stdint.h>

#define MRN_LEN 18

/* Writes the MRN into out[MRN_LEN + 1]; -1 if country is not two letters A-Z,
 * year not 0..99, or id not 0..9999999999999. */
int mrn_make(int year2, const char *country, int64_t id, char *out);
/* 1 if s is a well-formed MRN with a correct check character. */
int mrn_valid(const char *s);
/* The check character for the first 17 characters of s, or 0 if invalid. */
char mrn_check_char(const char *s17);

#endif
