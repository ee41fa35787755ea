/* lifecycle: the one state machine of a declaration.  Every transition the
 * daemon makes (acceptance, rejection, automatic release, officer decisions,
 * amendments, cancellations) asks it first. */
#ifndef DECLARED_LIFECYCLE_H
#define DECLARED_LIFECYCLE_H

enum lc_state {
	LC_RECEIVED, LC_ACCEPTED, LC_REJECTED, LC_DOCUMENTS_REQUIRED,
	LC_INSPECTION, LC_HELD, LC_RELEASED, LC_CANCELLED,
	LC_STATE_COUNT
};

enum lc_action {
	LC_ACCEPT, LC_REJECT, LC_RELEASE, LC_REQUIRE_DOCUMENTS, LC_INSPECT,
	LC_HOLD, LC_AMEND, LC_CANCEL,
	LC_ACTION_COUNT
};

const char *lifecycle_state_name(enum lc_state s);
int lifecycle_state_by_name(const char *name);    /* -1 if unknown */
const char *lifecycle_action_name(enum lc_action a);
int lifecycle_action_by_name(const char *name);   /* -1 if unknown */

/* The state after applying a to s, or -1 when the transition is illegal.
 * An amendment keeps the state (a new version is stored). */
int lifecycle_next(enum lc_state s, enum lc_action a);

/* The Response FunctionCode that announces entering state s ("01" accepted,
 * "03" rejected, "05" inspection, "06" documents required, "08" released,
 * "10" cancelled, "16" held), or for an amendment "11". */
const char *lifecycle_ack_code(enum lc_state s, enum lc_action a);

/* 1 when no further transition is possible. */
int lifecycle_final(enum lc_state s);

#endif
