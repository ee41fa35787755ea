/* crl: `declctl pki revoke` and `declctl pki crl`.  The revoked serials of
 * CA NAME live in DIR/NAME.revoked (one "HEXSERIAL UNIXTIME" line each);
 * DIR/NAME.crl.pem is regenerated from all of them, signed by the CA,
 * valid 30 days, with an authority key identifier and a CRL number. */
#ifndef DECLCTL_CRL_H
#define DECLCTL_CRL_H

#define CRL_MAX_REVOKED 100000
#define CRL_NEXT_UPDATE_DAYS 30

/* argv[0] is "revoke" / "crl"; return exit statuses. */
int crl_revoke_cmd(int argc, char **argv);
int crl_crl_cmd(int argc, char **argv);

#endif
