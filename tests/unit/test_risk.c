#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "risk.h"

#include "unit_util.h"

static char path[64];

static struct risk *
load(const char *text, struct errs *e)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
	err_init(e);
	return risk_new(path, e);
}

static void
mk(struct decl *d, const char *hs, const char *origin, const char *amount)
{
	decl_init(d);
	strcpy(d->declarant, "GB000000000001");
	strcpy(d->invoice_amount, amount);
	d->items = calloc(2, sizeof(*d->items));
	d->n_items = 2;
	strcpy(d->items[0].hs, "01012100");
	strcpy(d->items[0].origin, "FR");
	strcpy(d->items[1].hs, hs);
	strcpy(d->items[1].origin, origin);
}

static void
test_lanes(void)
{
	struct errs e;
	struct decl d;
	char why[64];
	struct risk *r = load("# test rules\n"
	    "hs 8471 yellow\n"
	    "hs 93 red\n"
	    "origin KP red\n"
	    "declarant GB999 red\n"
	    "value_over 100000 yellow\n"
	    "sample 0.10 yellow\n", &e);

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	mk(&d, "62034231", "CN", "100");
	CU_ASSERT_EQUAL(risk_assess(r, &d, 0.5, why, sizeof(why)), LANE_GREEN);
	CU_ASSERT_STRING_EQUAL(why, "");
	CU_ASSERT_EQUAL(risk_assess(r, &d, 0.05, why, sizeof(why)), LANE_YELLOW);
	CU_ASSERT_STRING_EQUAL(why, "sample 0.10");
	decl_clear(&d);
	mk(&d, "84713000", "CN", "100");
	CU_ASSERT_EQUAL(risk_assess(r, &d, 0.5, why, sizeof(why)), LANE_YELLOW);
	CU_ASSERT_STRING_EQUAL(why, "hs 8471");
	decl_clear(&d);
	mk(&d, "84713000", "KP", "100");
	CU_ASSERT_EQUAL(risk_assess(r, &d, 0.5, why, sizeof(why)), LANE_RED);
	CU_ASSERT_STRING_EQUAL(why, "origin KP");
	decl_clear(&d);
	mk(&d, "93011000", "CN", "100");
	CU_ASSERT_EQUAL(risk_assess(r, &d, 0.5, NULL, 0), LANE_RED);
	decl_clear(&d);
	mk(&d, "62034231", "CN", "100000.01");
	CU_ASSERT_EQUAL(risk_assess(r, &d, 0.5, why, sizeof(why)), LANE_YELLOW);
	CU_ASSERT_STRING_EQUAL(why, "value_over 100000");
	strcpy(d.declarant, "GB999");
	CU_ASSERT_EQUAL(risk_assess(r, &d, 0.5, why, sizeof(why)), LANE_RED);
	decl_clear(&d);
	risk_free(r);
	err_clear(&e);
}

static void
test_bad_rules(void)
{
	struct errs e;
	const char *bad[] = { "hs 8471 purple\n", "weight 10 red\n",
	    "sample 1.5 red\n", "hs 8471 red extra\n", "value_over x red\n" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_PTR_NULL(load(bad[i], &e));
		CU_ASSERT_STRING_EQUAL(err_first_code(&e), "RISK_CONFIG");
		CU_ASSERT_EQUAL(e.n ? e.v[0].line : 0, 1);
		err_clear(&e);
	}
	err_init(&e);
	CU_ASSERT_PTR_NULL(risk_new("/nonexistent/rules", &e));
	err_clear(&e);
}

int
main(void)
{
	int failed, fd;

	snprintf(path, sizeof(path), "/tmp/risk-test-XXXXXX");
	if ((fd = mkstemp(path)) < 0)
		return 2;
	close(fd);
	static const struct unit_test tests[] = {
		{ "lanes", test_lanes },
		{ "bad rules", test_bad_rules },
	};

	failed = UNIT_SUITE("risk", NULL, NULL, tests);
	unlink(path);
	return failed != 0;
}
