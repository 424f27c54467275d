# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
# Paramètres (Papermill les remplace : « analyse rapport --departement 05 »).
departement = "05"
dossier_donnees = None  # défaut : data/processed/departements/<departement>
postes_supplementaires = 0  # analyse rapport --postes N ; 0 : pas de section scénario

# %%
import warnings

from IPython.display import HTML, Markdown, display

from analyse.analysis import bundle
from analyse.render import maps, summary, tables, territories_report
from analyse.wording import esc, situation_title

# Only the known noise of the libraries is silenced; any other warning shows.
warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)
maps.use_report_style()
d = bundle.load(departement, dossier_donnees)
n = d.counts

# %%
quand = situation_title(d.context.get("situation"))
display(
    Markdown(
        f"# Conseillers numériques France Services — {esc(d.nom)} ({d.departement})"
        + (f", {quand}" if quand else "")
    )
)
display(HTML(summary.summary_html(d)))
display(HTML(tables.changes_html(d)))

# %% [markdown]
# Les **conseillers numériques France Services** accompagnent les habitants dans leurs
# usages du numérique : démarches en ligne, santé, emploi, école. L'État finance chaque
# poste (plan France Relance ; la liste nationale donne le montant de chaque attribution,
# environ 50 000 € par poste sur deux ans). Ce rapport montre où
# ces postes ont été attribués dans le département, rapportés au nombre d'habitants de
# chaque intercommunalité (communauté de communes ou d'agglomération).

# %% [markdown]
# ## Carte : conseillers pour 10 000 habitants, par intercommunalité

# %%
maps.show_density_map(d)

# %%
display(HTML(tables.map_caption(d)))

# %% [markdown]
# ## Les intercommunalités, de la moins à la mieux couverte

# %%
# The frames behind the tables stay in the namespace, for an analyst in JupyterLab.
tableau_epci = d.indicators
display(HTML(tables.indicators_table(tableau_epci, fiches=True)))
display(HTML(tables.population_note(d)))

# %% tags=["remove_cell"]
# For the analyst who opens rapport.ipynb: the frame behind the table (cells tagged
# « remove_cell » are left out of the HTML).
display(tableau_epci.drop(columns="geometry"))

# %%
display(HTML(tables.departemental_posts_note(d)))
display(HTML(tables.spread_variant_table(d.indicators)))

# %% [markdown]
# ## Où les habitants sont-ils loin d'un conseiller ?

# %%
maps.show_distance_map(d)

# %%
display(HTML(tables.distance_html(d)))

# %%
# Which places the distances count (format of the places file, programmes kept).
display(HTML(territories_report.places_programmes_html(d)))

# %% [markdown]
# ## Fragilité numérique
#
# L'indice de fragilité numérique (IFN, La Mednum) va de 1 (risque faible) à 10 (risque
# fort) : il combine la couverture en très haut débit et en 4G, la pauvreté, la part des
# plus de 65 ans et celle des personnes sans diplôme.

# %%
maps.show_fragility_map(d)
display(HTML(tables.fragility_note(d)))

# %% [markdown]
# ## Postes manquants et priorités
#
# Combien de postes faudrait-il pour que chaque intercommunalité atteigne la densité
# moyenne du programme, ou celle du département ? Le classement combine ce déficit, la
# fragilité numérique et l'éloignement des habitants.

# %%
tableau_lacunes = d.gaps
display(HTML(tables.targets_html(d)))
display(HTML(tables.gaps_html(d)))

# %% tags=["remove_cell"]
display(tableau_lacunes)

# %%
# Section « Où placer les prochains postes ? » : seulement si des postes sont demandés.
if postes_supplementaires:
    from analyse.analysis import scenario
    from analyse.render import scenario_report

    propositions, resume = scenario.for_postes(d, postes_supplementaires)
    display(Markdown(f"## {scenario_report.TITLE}"))
    if len(propositions):
        fig, legende = scenario_report.proposals_map(d, propositions, resume)
        maps.show(
            fig,
            f"Carte des lieux existants et des postes proposés, numérotés dans l'ordre de "
            f"choix, {d.nom}",
            legende,
        )
    display(HTML(scenario_report.section_html(propositions, resume)))

# %%
# Sections on territories: each EPCI's trajectory, comparison, priority territories.
display(Markdown(f"## {territories_report.TRAJECTORY_TITLE}"))
display(
    HTML(
        territories_report.trajectory_figure(
            d.trajectory,
            f"Conseillers pour 10 000 habitants à la fin de chaque mois, {d.nom}",
            f"Graphiques de la densité de conseillers de chaque intercommunalité à la fin de "
            f"chaque mois, {d.nom}",
        )
    )
)
tableau_trajectoire = d.trajectory
display(HTML(territories_report.trajectory_html(d)))

# %% tags=["remove_cell"]
display(tableau_trajectoire)

# %%
display(Markdown(f"## {territories_report.COMPARISON_TITLE}"))
display(HTML(territories_report.comparison_html(d)))

# %%
display(Markdown(f"## {territories_report.PRIORITY_TITLE}"))
display(HTML(territories_report.priority_html(d)))

# %% [markdown]
# ## Les postes attribués, comité après comité

# %%
maps.show_timeline(d)

# %%
display(HTML(tables.selections_table(d.counted)))

# %% tags=["remove_cell"]
tableau_selections = d.counted
display(tableau_selections)

# %% [markdown]
# ## Contrôle : chaque poste est compté une fois
#
# Tous les postes comptés pour le département sont répartis ci-dessous ; aucun n'est
# écarté sans être montré. Une structure est localisée dans la commune où elle a son
# siège, donc dans l'intercommunalité de cette commune : c'est ce qui compte pour la
# carte, même quand l'ANCT compte ses postes pour un autre département.

# %%
# The control tables, then the sources of the officials' part (its footer): on paper
# the footer stays with the last table, never alone on a page.
tableau_controle = d.counts
display(HTML(tables.control_html(d)))

# %% tags=["remove_cell"]
import pandas as pd

display(pd.Series(tableau_controle, name="postes").to_frame())

# %%
display(HTML(tables.analysts_html(d)))
