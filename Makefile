# Commandes du projet. « make » seul affiche l'aide.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEP    ?= 05

.DEFAULT_GOAL := aide
.PHONY: aide rapport installer reference test lint format notebooks bench nettoyer

aide: ## affiche cette aide
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

rapport: installer ## installe tout, construit le référentiel et produit le rapport de DEP (défaut 05)
	$(BIN)/analyse reference
	$(BIN)/analyse rapport --departement $(DEP)

installer: $(VENV)/.installe ## crée l'environnement virtuel et installe le projet

$(VENV)/.installe: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

reference: installer ## (re)construit le référentiel territorial en cache
	$(BIN)/analyse reference

test: installer ## lance les tests
	$(BIN)/python -m pytest

lint: installer ## vérifie le style (ruff), les notebooks sans sorties et appariés à leur .py
	$(BIN)/ruff check src tests notebooks bench scripts
	$(BIN)/ruff format --check src tests notebooks bench scripts
	$(BIN)/nbstripout --verify notebooks/*.ipynb
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_project.py -k "paired"

format: installer ## met en forme le code (ruff)
	$(BIN)/ruff check --fix src tests notebooks bench scripts
	$(BIN)/ruff format src tests notebooks bench scripts

notebooks: installer ## resynchronise les .ipynb depuis les .py appariés et retire les sorties
	$(BIN)/jupytext --sync notebooks/*.py
	$(BIN)/nbstripout notebooks/*.ipynb

bench: installer ## mesure les temps (plancher, rapports, lot, trois mois d'historique) ; HISTORIQUE=1 : tout l'historique
	$(BIN)/python bench/bench.py $(if $(HISTORIQUE),--historique)

nettoyer: ## supprime les données préparées et les rapports générés
	find data/processed reports -mindepth 1 ! -name .gitkeep ! -name README.md -delete
