# Shortcuts for the scripts that do the work.
.PHONY: run test dist bench
run:
	scripts/run
test:
	scripts/test
dist:
	scripts/dist
bench:
	bench/run
