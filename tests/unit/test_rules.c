#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

#include "unit_util.h"

static struct rules *R;
static const char *PTR[PF_COUNT];

static void
mk(struct decl *d, size_t n)
{
	size_t i;

	decl_init(d);
	strcpy(d->lrn, "LRN-1");
	strcpy(d->declarant, "GB000000000001");
	strcpy(d->importer, "GB000000000002");
	strcpy(d->exporter, "CN1234567");
	strcpy(d->issued, "2026-01-02T03:04:05Z");
	strcpy(d->invoice_currency, "EUR");
	snprintf(d->invoice_amount, sizeof(d->invoice_amount), "%zu.50", n * 10);
	d->goods_item_quantity = (int)n;
	d->items = calloc(n, sizeof(*d->items));
	d->n_items = n;
	for (i = 0; i < n; i++) {
		struct decl_item *it = &d->items[i];

		it->seq = (int)i + 1;
		strcpy(it->hs, "84713000");
		strcpy(it->origin, "CN");
		strcpy(it->gross, "2.5");
		strcpy(it->net, "2.0");
		snprintf(it->value, sizeof(it->value), "%s", i == 0 ? "10.50" : "10");
		strcpy(it->currency, "EUR");
		snprintf(it->path, sizeof(it->path),
		    "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[%zu]", i + 1);
	}
}

/* Runs the rules and returns the first error's code and pointer. */
static int
run(struct decl *d, struct errs *e)
{
	err_init(e);
	return rules_check(R, d, PTR, 1790000000, e);
}

static void
test_valid(void)
{
	struct decl d;
	struct errs e;

	mk(&d, 3);
	CU_ASSERT_EQUAL(run(&d, &e), 0);
	CU_ASSERT_EQUAL(e.n, 0);
	err_clear(&e);
	decl_clear(&d);
}

static void
expect(struct decl *d, const char *code, const char *ptr)
{
	struct errs e;

	CU_ASSERT_EQUAL(run(d, &e), 1);
	CU_ASSERT_EQUAL_FATAL(e.n, 1);
	CU_ASSERT_STRING_EQUAL(e.v[0].code, code);
	CU_ASSERT_STRING_EQUAL(e.v[0].pointer, ptr);
	err_clear(&e);
	decl_clear(d);
}

static void
test_each_rule(void)
{
	struct decl d;

	mk(&d, 3); strcpy(d.lrn, "-bad");
	expect(&d, "RULE_LRN_FORMAT", "/Declaration/FunctionalReferenceID");
	mk(&d, 3); strcpy(d.importer, "G1");
	expect(&d, "RULE_PARTY_ID", "/Declaration/Importer/ID");
	mk(&d, 3); strcpy(d.items[1].hs, "84713");
	expect(&d, "RULE_HS_CODE",
	    "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/Commodity/Classification/ID");
	mk(&d, 3); strcpy(d.items[2].origin, "XK1");
	expect(&d, "RULE_COUNTRY",
	    "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[3]/Origin/CountryCode");
	mk(&d, 3); strcpy(d.invoice_currency, "EUX");
	for (size_t i = 0; i < 3; i++) strcpy(d.items[i].currency, "");
	expect(&d, "RULE_CURRENCY", "/Declaration/InvoiceAmount/@currencyID");
	mk(&d, 3); d.goods_item_quantity = 4;
	expect(&d, "RULE_ITEM_COUNT", "/Declaration/GoodsItemQuantity");
	mk(&d, 3); d.items[2].seq = 2;
	expect(&d, "RULE_SEQUENCE",
	    "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[3]/SequenceNumeric");
	mk(&d, 3); strcpy(d.items[0].net, "2.6");
	expect(&d, "RULE_NET_MASS",
	    "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Commodity/GoodsMeasure/NetNetWeightMeasure");
	mk(&d, 3); strcpy(d.invoice_amount, "31.00");
	expect(&d, "RULE_VALUE_SUM", "/Declaration/InvoiceAmount");
	mk(&d, 3); strcpy(d.issued, "2027-01-01T00:00:00Z");
	expect(&d, "RULE_DATE_FUTURE", "/Declaration/IssueDateTime");
	mk(&d, 3); strcpy(d.issued, "2026-13-01T00:00:00Z");
	expect(&d, "RULE_DATE", "/Declaration/IssueDateTime");
	mk(&d, 3); strcpy(d.items[1].currency, "USD");
	expect(&d, "RULE_CURRENCY_MIX",
	    "/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[2]/CustomsValueAmount/@currencyID");
}

static void
test_tolerance_and_dates(void)
{
	struct decl d;
	struct errs e;
	time_t t;

	mk(&d, 2); strcpy(d.invoice_amount, "20.505"); /* within 0.01 */
	CU_ASSERT_EQUAL(run(&d, &e), 0);
	err_clear(&e);
	decl_clear(&d);
	CU_ASSERT_EQUAL(rules_parse_datetime("2026-01-02T03:04:05+01:00", &t), 0);
	CU_ASSERT_EQUAL(t, 1767323045 - 3600);
	CU_ASSERT_EQUAL(rules_parse_datetime("2026-01-02T03:04:05.123Z", &t), 0);
	CU_ASSERT_EQUAL(t, 1767323045);
	CU_ASSERT_EQUAL(rules_parse_datetime("2026-01-02 03:04:05Z", &t), -1);
	CU_ASSERT_EQUAL(rules_parse_datetime("2026-01-02T03:04:05Zjunk", &t), -1);
}

static void
test_bad_codelist(void)
{
	struct rules_opts o = { "tests/data/INDEX.tsv", "data/currencies.txt", 0.01, 300 };
	struct errs e;

	err_init(&e);
	CU_ASSERT_PTR_NULL(rules_new(&o, &e));
	CU_ASSERT_STRING_EQUAL(err_first_code(&e), "RULES_CONFIG");
	err_clear(&e);
	o.countries = "/nonexistent";
	err_init(&e);
	CU_ASSERT_PTR_NULL(rules_new(&o, &e));
	err_clear(&e);
}

int
main(void)
{
	struct rules_opts o = { "data/countries.txt", "data/currencies.txt", 0.01, 300 };
	struct errs e;
	int failed;

	PTR[PF_LRN] = "/Declaration/FunctionalReferenceID";
	PTR[PF_DECLARANT] = "/Declaration/Declarant/ID";
	PTR[PF_IMPORTER] = "/Declaration/Importer/ID";
	PTR[PF_EXPORTER] = "/Declaration/Exporter/ID";
	PTR[PF_INVOICE_AMOUNT] = "/Declaration/InvoiceAmount";
	PTR[PF_INVOICE_CURRENCY] = "/Declaration/InvoiceAmount/@currencyID";
	PTR[PF_ITEM_QUANTITY] = "/Declaration/GoodsItemQuantity";
	PTR[PF_ISSUED] = "/Declaration/IssueDateTime";
	PTR[PF_ITEM_SEQ] = "SequenceNumeric";
	PTR[PF_ITEM_HS] = "Commodity/Classification/ID";
	PTR[PF_ITEM_ORIGIN] = "Origin/CountryCode";
	PTR[PF_ITEM_NET] = "Commodity/GoodsMeasure/NetNetWeightMeasure";
	PTR[PF_ITEM_CURRENCY] = "CustomsValueAmount/@currencyID";
	err_init(&e);
	if ((R = rules_new(&o, &e)) == NULL) {
		fprintf(stderr, "rules_new: %s\n", e.n ? e.v[0].msg : "?");
		return 1;
	}
	static const struct unit_test tests[] = {
		{ "valid declaration passes", test_valid },
		{ "each rule fails with its pointer", test_each_rule },
		{ "tolerance and dates", test_tolerance_and_dates },
		{ "bad code lists", test_bad_codelist },
	};

	failed = UNIT_SUITE("rules", NULL, NULL, tests);
	rules_free(R);
	return failed != 0;
}
