# Shortcuts for the scripts that do the work.
.PHONY: run test dist deb bench
run:
	scripts/run
test:
	scripts/test
dist:
	scripts/dist
deb:
	scripts/dist --deb
bench:
	bench/run
