#include "risk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RISK_MAX_RULES 4096

enum risk_kind { RK_HS, RK_ORIGIN, RK_DECLARANT, RK_VALUE_OVER, RK_SAMPLE };

struct risk_rule {
	enum risk_kind kind;
	char arg[DECL_ID_MAX];
	double num;
	enum lane lane;
};

struct risk {
	struct risk_rule *v;
	size_t n;
};

const char *
risk_lane_name(enum lane l)
{
	switch (l) {
	case LANE_YELLOW: return "yellow";
	case LANE_RED: return "red";
	default: return "green";
	}
}

static int
risk_lane(const char *s)
{
	if (strcmp(s, "green") == 0) return LANE_GREEN;
	if (strcmp(s, "yellow") == 0) return LANE_YELLOW;
	if (strcmp(s, "red") == 0) return LANE_RED;
	return -1;
}

static int
risk_parse_line(char *line, struct risk_rule *rr)
{
	char kind[32], arg[DECL_ID_MAX], lane[16], extra[2];
	char *end;
	int l;

	if (sscanf(line, "%31s %71s %15s %1s", kind, arg, lane, extra) != 3)
		return -1;
	if ((l = risk_lane(lane)) < 0)
		return -1;
	rr->lane = (enum lane)l;
	snprintf(rr->arg, sizeof(rr->arg), "%s", arg);
	if (strcmp(kind, "hs") == 0)
		rr->kind = RK_HS;
	else if (strcmp(kind, "origin") == 0)
		rr->kind = RK_ORIGIN;
	else if (strcmp(kind, "declarant") == 0)
		rr->kind = RK_DECLARANT;
	else if (strcmp(kind, "value_over") == 0 || strcmp(kind, "sample") == 0) {
		rr->kind = kind[0] == 'v' ? RK_VALUE_OVER : RK_SAMPLE;
		rr->num = strtod(arg, &end);
		if (*end != '\0' || rr->num < 0 ||
		    (rr->kind == RK_SAMPLE && rr->num > 1))
			return -1;
	} else
		return -1;
	return 0;
}

struct risk *
risk_new(const char *path, struct errs *e)
{
	struct risk *r = calloc(1, sizeof(*r));
	FILE *f = NULL;
	char line[512];
	int lineno = 0;
	size_t l;

	if (r == NULL)
		return NULL;
	if (path == NULL || *path == '\0')
		return r;
	if ((f = fopen(path, "r")) == NULL) {
		err_add(e, "RISK_CONFIG", 0, "", "cannot read risk rules %s", path);
		goto fail;
	}
	if ((r->v = calloc(RISK_MAX_RULES, sizeof(*r->v))) == NULL)
		goto fail;
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		l = strcspn(line, "\r\n");
		line[l] = '\0';
		if (line[strspn(line, " \t")] == '\0' || line[strspn(line, " \t")] == '#')
			continue;
		if (r->n >= RISK_MAX_RULES || risk_parse_line(line, &r->v[r->n]) != 0) {
			err_add(e, "RISK_CONFIG", lineno, "", "bad risk rule in %s: %s",
			    path, line);
			goto fail;
		}
		r->n++;
	}
	fclose(f);
	return r;
fail:
	if (f != NULL)
		fclose(f);
	risk_free(r);
	return NULL;
}

void
risk_free(struct risk *r)
{
	if (r == NULL)
		return;
	free(r->v);
	free(r);
}

static int
risk_match(const struct risk_rule *rr, const struct decl *d, double u)
{
	size_t i;

	switch (rr->kind) {
	case RK_HS:
		for (i = 0; i < d->n_items; i++)
			if (strncmp(d->items[i].hs, rr->arg, strlen(rr->arg)) == 0)
				return 1;
		return 0;
	case RK_ORIGIN:
		for (i = 0; i < d->n_items; i++)
			if (strcmp(d->items[i].origin, rr->arg) == 0)
				return 1;
		return 0;
	case RK_DECLARANT:
		return strcmp(d->declarant, rr->arg) == 0;
	case RK_VALUE_OVER:
		return d->invoice_amount[0] && strtod(d->invoice_amount, NULL) > rr->num;
	case RK_SAMPLE:
		return u < rr->num;
	}
	return 0;
}

enum lane
risk_assess(const struct risk *r, const struct decl *d, double u, char *why,
    size_t cap)
{
	static const char *const kinds[] = { "hs", "origin", "declarant",
	    "value_over", "sample" };
	enum lane best = LANE_GREEN;
	size_t i;

	if (why != NULL && cap > 0)
		why[0] = '\0';
	for (i = 0; r != NULL && i < r->n; i++) {
		const struct risk_rule *rr = &r->v[i];

		if (rr->lane > best && risk_match(rr, d, u)) {
			best = rr->lane;
			if (why != NULL)
				snprintf(why, cap, "%s %s", kinds[rr->kind], rr->arg);
		}
	}
	return best;
}
