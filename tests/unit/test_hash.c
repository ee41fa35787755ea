#include <CUnit/Basic.h>

#include "hash.h"

#include "unit_util.h"

/* FNV-1a's published values (offset basis 2166136261, prime 16777619). */
static void
test_vectors(void)
{
	CU_ASSERT_EQUAL(hash_str(""), 0x811c9dc5u);
	CU_ASSERT_EQUAL(hash_str("a"), 0xe40c292cu);
	CU_ASSERT_EQUAL(hash_str("foobar"), 0xbf9cf968u);
}

/* Bytes above 0x7f count as unsigned; one changed character changes the
 * hash of a party identifier. */
static void
test_bytes(void)
{
	CU_ASSERT_EQUAL(hash_str("\xff"), (0x811c9dc5u ^ 0xffu) * 16777619u);
	CU_ASSERT_NOT_EQUAL(hash_str("GB000000000001"), hash_str("GB000000000002"));
}

int
main(void)
{
	static const struct unit_test tests[] = {
		{ "vectors", test_vectors },
		{ "bytes", test_bytes },
	};

	return UNIT_SUITE("hash", NULL, NULL, tests) != 0;
}
