#include "lifecycle.h"

#include <string.h>

static const char *const lc_states[LC_STATE_COUNT] = {
	"received", "accepted", "rejected", "documents_required",
	"inspection", "held", "released", "cancelled",
};

static const char *const lc_actions[LC_ACTION_COUNT] = {
	"accept", "reject", "release", "require_documents", "inspect",
	"hold", "amend", "cancel",
};

#define X (-1)
/* next[state][action]; rows follow enum lc_state, columns enum lc_action:
 *                 accept       reject       release      require_documents     inspect        hold      amend                  cancel */
static const signed char lc_next[LC_STATE_COUNT][LC_ACTION_COUNT] = {
	[LC_RECEIVED] = { LC_ACCEPTED, LC_REJECTED, X, X, X, X, X, X },
	[LC_ACCEPTED] = { X, LC_REJECTED, LC_RELEASED, LC_DOCUMENTS_REQUIRED,
	    LC_INSPECTION, LC_HELD, LC_ACCEPTED, LC_CANCELLED },
	[LC_DOCUMENTS_REQUIRED] = { X, LC_REJECTED, LC_RELEASED, X, LC_INSPECTION,
	    LC_HELD, LC_DOCUMENTS_REQUIRED, LC_CANCELLED },
	[LC_INSPECTION] = { X, X, LC_RELEASED, X, X, LC_HELD, LC_INSPECTION,
	    LC_CANCELLED },
	[LC_HELD] = { X, LC_REJECTED, LC_RELEASED, X, X, X, LC_HELD, LC_CANCELLED },
	[LC_REJECTED] = { X, X, X, X, X, X, X, X },
	[LC_RELEASED] = { X, X, X, X, X, X, X, X },
	[LC_CANCELLED] = { X, X, X, X, X, X, X, X },
};
#undef X

const char *
lifecycle_state_name(enum lc_state s)
{
	return (unsigned)s < LC_STATE_COUNT ? lc_states[s] : "unknown";
}

const char *
lifecycle_action_name(enum lc_action a)
{
	return (unsigned)a < LC_ACTION_COUNT ? lc_actions[a] : "unknown";
}

static int
lc_find(const char *const *v, int n, const char *name)
{
	int i;

	for (i = 0; name != NULL && i < n; i++)
		if (strcmp(v[i], name) == 0)
			return i;
	return -1;
}

int
lifecycle_state_by_name(const char *name)
{
	return lc_find(lc_states, LC_STATE_COUNT, name);
}

int
lifecycle_action_by_name(const char *name)
{
	return lc_find(lc_actions, LC_ACTION_COUNT, name);
}

int
lifecycle_next(enum lc_state s, enum lc_action a)
{
	if ((unsigned)s >= LC_STATE_COUNT || (unsigned)a >= LC_ACTION_COUNT)
		return -1;
	return lc_next[s][a];
}

const char *
lifecycle_ack_code(enum lc_state s, enum lc_action a)
{
	if (a == LC_AMEND)
		return "11";
	switch (s) {
	case LC_ACCEPTED: return "01";
	case LC_REJECTED: return "03";
	case LC_INSPECTION: return "05";
	case LC_DOCUMENTS_REQUIRED: return "06";
	case LC_RELEASED: return "08";
	case LC_CANCELLED: return "10";
	case LC_HELD: return "16";
	case LC_RECEIVED: return "02";
	default: return "99";
	}
}

int
lifecycle_final(enum lc_state s)
{
	int a;

	for (a = 0; a < LC_ACTION_COUNT; a++)
		if (lifecycle_next(s, a) >= 0)
			return 0;
	return 1;
}
