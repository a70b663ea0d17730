# The README's two commands: `make demo` and `make test`. Each does its own set-up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test eval bench soak dovecot chromium clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Debian's dovecot-imapd for the real-server tests; installed when missing and we are root.
dovecot:
	@if command -v dovecot >/dev/null 2>&1 || test -x /usr/sbin/dovecot; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing dovecot-imapd (real IMAP server for the tests)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends dovecot-imapd openssl >/dev/null; \
	else echo "dovecot-imapd is missing and we are not root: IMAP tests will be skipped (CI=true fails them)"; fi

# Debian's chromium renders the digest's HTML in a test; installed when missing and we are root.
chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium (renders the digest in a test)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends chromium fonts-dejavu-core >/dev/null; \
	else echo "chromium is missing and we are not root: the digest rendering test will be skipped"; fi

demo: $(STAMP)
	$(BIN)/followup demo

test: $(STAMP) dovecot chromium
	$(BIN)/python -m pytest -q -m "not slow"

eval: $(STAMP)
	$(BIN)/python benchmarks/eval_classifier.py

bench: $(STAMP) dovecot
	$(BIN)/python benchmarks/run_all.py

soak: $(STAMP) dovecot
	$(BIN)/python -m pytest -q -m slow
	@$(BIN)/python -c 'import atheris' 2>/dev/null || $(BIN)/python -m pip install --quiet atheris \
		|| echo "atheris did not install: the hypothesis soak above covers the same pipeline"
	$(BIN)/python benchmarks/fuzz_atheris.py -max_total_time=120

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache
