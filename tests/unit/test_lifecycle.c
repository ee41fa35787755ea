#include <CUnit/Basic.h>
#include <string.h>

#include "lifecycle.h"

#include "unit_util.h"

/* The legal transitions, written out independently of the table. */
static const struct { const char *from, *action, *to; } legal[] = {
	{ "received", "accept", "accepted" },
	{ "received", "reject", "rejected" },
	{ "accepted", "release", "released" },
	{ "accepted", "require_documents", "documents_required" },
	{ "accepted", "inspect", "inspection" },
	{ "accepted", "hold", "held" },
	{ "accepted", "reject", "rejected" },
	{ "accepted", "amend", "accepted" },
	{ "accepted", "cancel", "cancelled" },
	{ "documents_required", "release", "released" },
	{ "documents_required", "reject", "rejected" },
	{ "documents_required", "hold", "held" },
	{ "documents_required", "inspect", "inspection" },
	{ "documents_required", "amend", "documents_required" },
	{ "documents_required", "cancel", "cancelled" },
	{ "inspection", "release", "released" },
	{ "inspection", "hold", "held" },
	{ "inspection", "amend", "inspection" },
	{ "inspection", "cancel", "cancelled" },
	{ "held", "release", "released" },
	{ "held", "reject", "rejected" },
	{ "held", "amend", "held" },
	{ "held", "cancel", "cancelled" },
};

static const char *
expected(const char *from, const char *action)
{
	size_t i;

	for (i = 0; i < sizeof(legal) / sizeof(legal[0]); i++)
		if (strcmp(legal[i].from, from) == 0 && strcmp(legal[i].action, action) == 0)
			return legal[i].to;
	return NULL;
}

static void
test_every_pair(void)
{
	int s, a, n, legal_seen = 0;

	for (s = 0; s < LC_STATE_COUNT; s++)
		for (a = 0; a < LC_ACTION_COUNT; a++) {
			const char *want = expected(lifecycle_state_name(s),
			    lifecycle_action_name(a));

			n = lifecycle_next(s, a);
			if (want == NULL) {
				CU_ASSERT_EQUAL(n, -1);
			} else {
				legal_seen++;
				CU_ASSERT_TRUE(n >= 0);
				if (n >= 0)
					CU_ASSERT_STRING_EQUAL(lifecycle_state_name(n), want);
			}
		}
	CU_ASSERT_EQUAL(legal_seen, (int)(sizeof(legal) / sizeof(legal[0])));
}

static void
test_names_and_codes(void)
{
	CU_ASSERT_EQUAL(lifecycle_state_by_name("held"), LC_HELD);
	CU_ASSERT_EQUAL(lifecycle_state_by_name("nope"), -1);
	CU_ASSERT_EQUAL(lifecycle_action_by_name("require_documents"), LC_REQUIRE_DOCUMENTS);
	CU_ASSERT_EQUAL(lifecycle_action_by_name(NULL), -1);
	CU_ASSERT_STRING_EQUAL(lifecycle_ack_code(LC_RELEASED, LC_RELEASE), "08");
	CU_ASSERT_STRING_EQUAL(lifecycle_ack_code(LC_REJECTED, LC_REJECT), "03");
	CU_ASSERT_STRING_EQUAL(lifecycle_ack_code(LC_HELD, LC_AMEND), "11");
	CU_ASSERT_TRUE(lifecycle_final(LC_RELEASED));
	CU_ASSERT_TRUE(lifecycle_final(LC_CANCELLED));
	CU_ASSERT_TRUE(lifecycle_final(LC_REJECTED));
	CU_ASSERT_FALSE(lifecycle_final(LC_HELD));
	CU_ASSERT_EQUAL(lifecycle_next(LC_STATE_COUNT, LC_ACCEPT), -1);
}

int
main(void)
{
	int failed;

	static const struct unit_test tests[] = {
		{ "every state x action", test_every_pair },
		{ "names and codes", test_names_and_codes },
	};

	failed = UNIT_SUITE("lifecycle", NULL, NULL, tests);
	return failed != 0;
}
