/* risk: the lane of an accepted declaration from risk rules (data) plus
 * random sampling.  Rules file, one rule a line, '#' comments:
 *   hs PREFIX LANE          an item's HS code starts with PREFIX
 *   origin CC LANE          an item's origin is CC
 *   declarant ID LANE       the declarant is ID
 *   value_over AMOUNT LANE  the invoice amount is above AMOUNT
 *   sample RATE LANE        a random share RATE (0..1) gets at least LANE
 * LANE is green, yellow or red; the strictest match wins; no match: green. */
#ifndef DECLARED_RISK_H
#define DECLARED_RISK_H

#include "decl.h"
#include "err.h"

enum lane { LANE_GREEN, LANE_YELLOW, LANE_RED };

struct risk;

/* path NULL or "": no rules (everything green unless sampled: no sampling). */
struct risk *risk_new(const char *path, struct errs *e);
void risk_free(struct risk *r); /* NULL ok */
/* u: a uniform random number in [0, 1) drawn by the caller.  why (may be
 * NULL) receives the rule that decided, e.g. "hs 8471". */
enum lane risk_assess(const struct risk *r, const struct decl *d, double u,
    char *why, size_t cap);
const char *risk_lane_name(enum lane l);

#endif
