# SPDX-License-Identifier: MIT
# `make bench-peers`: ukcov against libFuzzer and AFL++ on SQLite and zlib
# (see bench/peers/run.sh).  Not part of `make check`; `make bench-peers-build`
# only builds (what CI runs).  Everything goes to build-peers/.
.PHONY: bench-peers bench-peers-build
bench-peers:
	bench/peers/run.sh
bench-peers-build:
	PEERS_BUILD_ONLY=1 bench/peers/run.sh
