# The two commands a newcomer needs: `make demo` and `make test`. Both do their own set-up.
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: setup test demo bench
setup:
	@bash scripts/setup.sh

test:
	@bash scripts/setup.sh --tests
	.venv/bin/python -m pytest $(PYTEST_ARGS)

demo: setup
	.venv/bin/dgm demo

bench: setup
	for script in bench/*.py; do .venv/bin/python $$script || exit 1; done
