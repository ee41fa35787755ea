#include <CUnit/Basic.h>
#include <string.h>

#include "err.h"
#include "utf8.h"

#include "unit_util.h"

static void
test_basics(void)
{
	struct errs e;

	err_init(&e);
	CU_ASSERT_PTR_NULL(err_first_code(&e));
	err_add(&e, "CODE_A", 3, "/a/b", "value %d is\nbad", 7);
	CU_ASSERT_EQUAL(e.n, 1);
	CU_ASSERT_STRING_EQUAL(err_first_code(&e), "CODE_A");
	CU_ASSERT_STRING_EQUAL(e.v[0].msg, "value 7 is bad");
	CU_ASSERT_STRING_EQUAL(e.v[0].pointer, "/a/b");
	CU_ASSERT_EQUAL(e.v[0].line, 3);
	err_clear(&e);
	CU_ASSERT_EQUAL(e.n, 0);
}

static void
test_cap(void)
{
	struct errs e;
	int i;

	err_init(&e);
	for (i = 0; i < ERR_LIST_CAP + 5; i++)
		err_add(&e, "X", 0, "", "n %d", i);
	CU_ASSERT_EQUAL(e.n, ERR_LIST_CAP);
	CU_ASSERT_EQUAL(e.dropped, 5);
	err_clear(&e);
}

static void
test_utf8_truncation(void)
{
	struct errs e;
	char msg[ERR_MSG_MAX + 8];
	size_t i, n;

	/* 'a' then two-byte characters, so the cap falls inside one */
	msg[0] = 'a';
	for (i = 1; i + 2 < sizeof(msg); i += 2) {
		msg[i] = (char)0xC3;
		msg[i + 1] = (char)0xA9;
	}
	msg[i] = '\0';
	err_init(&e);
	err_add(&e, "X", 0, NULL, "%s", msg);
	n = strlen(e.v[0].msg);
	CU_ASSERT_TRUE(n < ERR_MSG_MAX);
	/* it ends on a whole character: an odd length here */
	CU_ASSERT_EQUAL(n % 2, 1);
	CU_ASSERT_NOT_EQUAL((unsigned char)e.v[0].msg[n - 1], 0xC3);
	err_clear(&e);
}

static void
test_utf8_cut(void)
{
	const char *euro = "a\xe2\x82\xac";          /* a + 3-byte character */
	const char *smile = "\xf0\x9f\x98\x80z";      /* 4-byte character + z */

	CU_ASSERT_EQUAL(utf8_cut(euro, 4), 4);
	CU_ASSERT_EQUAL(utf8_cut(euro, 3), 1);
	CU_ASSERT_EQUAL(utf8_cut(euro, 2), 1);
	CU_ASSERT_EQUAL(utf8_cut(smile, 5), 5);
	CU_ASSERT_EQUAL(utf8_cut(smile, 4), 4);
	CU_ASSERT_EQUAL(utf8_cut(smile, 3), 0);
	CU_ASSERT_EQUAL(utf8_cut(smile, 1), 0);
	CU_ASSERT_EQUAL(utf8_cut("abc", 2), 2);
	CU_ASSERT_EQUAL(utf8_cut("", 0), 0);
	/* stray continuation bytes are not a character to cut: kept */
	CU_ASSERT_EQUAL(utf8_cut("\x80\x80\x80\x80", 4), 4);
}

int
main(void)
{
	int failed;

	static const struct unit_test tests[] = {
		{ "basics", test_basics },
		{ "cap", test_cap },
		{ "utf-8 truncation", test_utf8_truncation },
		{ "utf8_cut", test_utf8_cut },
	};

	failed = UNIT_SUITE("err", NULL, NULL, tests);
	return failed != 0;
}
