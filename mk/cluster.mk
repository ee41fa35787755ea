# make check-cluster (issue #9): a PostgreSQL primary and a streaming
# replica, two daemons, HAProxy in TCP mode in front, a load while one
# daemon is SIGKILLed and restarted; the throughput with one and two
# daemons and the replica's lag.  Needs haproxy (installed with apt-get
# when run as root).  See tests/cluster/run.sh and docs/scaling.md.
.PHONY: check-cluster

check-cluster: deps
	@$(MAKE) --no-print-directory WERROR=1 all
	@sh tests/cluster/run.sh $(B)
