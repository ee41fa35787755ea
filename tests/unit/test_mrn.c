#include <CUnit/Basic.h>
#include <string.h>

#include "mrn.h"

#include "unit_util.h"

static void
test_make_and_check(void)
{
	char m[MRN_LEN + 1];

	CU_ASSERT_EQUAL(mrn_make(26, "GB", 123456, m), 0);
	CU_ASSERT_EQUAL(strlen(m), MRN_LEN);
	CU_ASSERT_EQUAL(strncmp(m, "26GB0000000123456", 17), 0);
	CU_ASSERT_TRUE(mrn_valid(m));
	/* every single-character change of the body is caught */
	for (int i = 4; i < MRN_LEN - 1; i++) {
		char t[MRN_LEN + 1];
		memcpy(t, m, sizeof(t));
		t[i] = t[i] == '9' ? '8' : (char)(t[i] + 1);
		CU_ASSERT_FALSE(mrn_valid(t));
	}
}

static void
test_iso6346_reference(void)
{
	/* ISO 6346 letter values: A=10, K=21 (11 skipped), V=34 (22, 33 skipped) */
	char s[18] = "00AK0000000000000";
	long sum = 10L * 4 + 21L * 8; /* positions 2 and 3 */
	CU_ASSERT_EQUAL(mrn_check_char(s), (char)('0' + (sum % 11) % 10));
	memcpy(s, "00VZ", 4);
	sum = 34L * 4 + 38L * 8;
	CU_ASSERT_EQUAL(mrn_check_char(s), (char)('0' + (sum % 11) % 10));
}

static void
test_bad_input(void)
{
	char m[MRN_LEN + 1];

	CU_ASSERT_EQUAL(mrn_make(26, "gb", 1, m), -1);
	CU_ASSERT_EQUAL(mrn_make(26, "GBR", 1, m), -1);
	CU_ASSERT_EQUAL(mrn_make(100, "GB", 1, m), -1);
	CU_ASSERT_EQUAL(mrn_make(26, "GB", 10000000000000LL, m), -1);
	CU_ASSERT_EQUAL(mrn_make(26, "GB", -1, m), -1);
	CU_ASSERT_FALSE(mrn_valid("26GB000000012345"));
	CU_ASSERT_FALSE(mrn_valid("2XGB00000001234567"));
	CU_ASSERT_FALSE(mrn_valid(NULL));
}

int
main(void)
{
	int failed;

	static const struct unit_test tests[] = {
		{ "make and check", test_make_and_check },
		{ "ISO 6346 values", test_iso6346_reference },
		{ "bad input", test_bad_input },
	};

	failed = UNIT_SUITE("mrn", NULL, NULL, tests);
	return failed != 0;
}
