/* rules: business rules over an extracted declaration.  Pure functions:
 * code lists come from data files (data/countries.txt, data/currencies.txt),
 * the clock is a parameter.  Each failure is one error with a RULE_* code,
 * a description and a pointer to the offending element. */
#ifndef DECLARED_RULES_H
#define DECLARED_RULES_H

#include <time.h>

#include "decl.h"
#include "err.h"
#include "profile.h"

struct rules;

struct rules_opts {
	const char *countries;   /* file: one ISO 3166-1 alpha-2 code a line */
	const char *currencies;  /* file: one ISO 4217 code a line */
	double value_tolerance;  /* |sum(items) - invoice| allowed, e.g. 0.01 */
	int future_skew_s;       /* IssueDateTime may be this far ahead, e.g. 300 */
};

struct rules *rules_new(const struct rules_opts *o, struct errs *e);
void rules_free(struct rules *r); /* NULL ok */

/* ptr[f]: the readable location of field f (absolute for document fields,
 * relative to the item for item fields), as profile_pointer() gives.
 * Returns the number of rules that failed (0: all passed). */
int rules_check(const struct rules *r, const struct decl *d,
    const char *const ptr[PF_COUNT], time_t now, struct errs *e);

/* Parses xs:dateTime ("2026-11-22T10:00:00Z", fractions and +hh:mm
 * offsets allowed; no zone = UTC) into *out; -1 if malformed. */
int rules_parse_datetime(const char *s, time_t *out);

#endif
