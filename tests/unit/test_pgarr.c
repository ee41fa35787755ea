#include <CUnit/Basic.h>
#include <string.h>

#include "pgarr.h"

#include "unit_util.h"

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* int8 {7, NULL} and text {"ab", ""}: the bytes PostgreSQL's array_recv
 * reads, header first. */
static void
test_layout(void)
{
	struct pgarr a = { 0 };

	CU_ASSERT_EQUAL_FATAL(pgarr_init(&a, PGARR_OID_INT8, 2, 0), 0);
	CU_ASSERT_EQUAL(pgarr_int(&a, 7, 8), 0);
	CU_ASSERT_EQUAL(be32(a.p + 4), 0);          /* no NULL yet */
	CU_ASSERT_EQUAL(pgarr_put(&a, NULL, 0), 0);
	CU_ASSERT_EQUAL(a.len, 20 + 4 + 8 + 4);
	CU_ASSERT_EQUAL(be32(a.p), 1);              /* ndim */
	CU_ASSERT_EQUAL(be32(a.p + 4), 1);          /* has a NULL */
	CU_ASSERT_EQUAL(be32(a.p + 8), PGARR_OID_INT8);
	CU_ASSERT_EQUAL(be32(a.p + 12), 2);         /* length */
	CU_ASSERT_EQUAL(be32(a.p + 16), 1);         /* lower bound */
	CU_ASSERT_EQUAL(be32(a.p + 20), 8);
	CU_ASSERT_EQUAL(be32(a.p + 24), 0);
	CU_ASSERT_EQUAL(be32(a.p + 28), 7);
	CU_ASSERT_EQUAL(be32(a.p + 32), 0xffffffffu);

	/* the buffer is reused by the next array */
	CU_ASSERT_EQUAL_FATAL(pgarr_init(&a, PGARR_OID_TEXT, 2, 0), 0);
	CU_ASSERT_EQUAL(pgarr_str(&a, "ab"), 0);
	CU_ASSERT_EQUAL(pgarr_str(&a, ""), 0);
	CU_ASSERT_EQUAL(a.len, 20 + 4 + 2 + 4);
	CU_ASSERT_EQUAL(be32(a.p + 4), 0);
	CU_ASSERT_EQUAL(be32(a.p + 20), 2);
	CU_ASSERT_EQUAL(memcmp(a.p + 24, "ab", 2), 0);
	CU_ASSERT_EQUAL(be32(a.p + 26), 0);          /* empty, not NULL */
	pgarr_free(&a);
	CU_ASSERT_PTR_NULL(a.p);
}

static void
test_int4_negative(void)
{
	struct pgarr a = { 0 };

	CU_ASSERT_EQUAL_FATAL(pgarr_init(&a, PGARR_OID_INT4, 1, 0), 0);
	CU_ASSERT_EQUAL(pgarr_int(&a, -2, 4), 0);
	CU_ASSERT_EQUAL(be32(a.p + 24), 0xfffffffeu);
	CU_ASSERT_EQUAL(pgarr_int(&a, 1, 3), -1);    /* only 4 or 8 bytes */
	pgarr_free(&a);
}

/* The cap holds: an element that would cross it is refused and the array
 * stays as it was. */
static void
test_cap(void)
{
	static char big[1000];
	struct pgarr a = { 0 };
	size_t before;

	a.max = 512;
	CU_ASSERT_EQUAL_FATAL(pgarr_init(&a, PGARR_OID_BYTEA, 2, 0), 0);
	CU_ASSERT_EQUAL(pgarr_put(&a, big, 400), 0);
	before = a.len;
	CU_ASSERT_EQUAL(pgarr_put(&a, big, 400), -1);
	CU_ASSERT_EQUAL(a.len, before);
	CU_ASSERT_EQUAL(pgarr_put(&a, big, (size_t)1 << 40), -1);
	pgarr_free(&a);
	/* an element before init is refused */
	CU_ASSERT_EQUAL(pgarr_put(&a, big, 1), -1);
}

int
main(void)
{
	static const struct unit_test tests[] = {
		{ "layout", test_layout },
		{ "int4 negative", test_int4_negative },
		{ "cap", test_cap },
	};

	return UNIT_SUITE("pgarr", NULL, NULL, tests) != 0;
}
